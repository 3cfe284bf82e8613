# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What would happen to a node's VMs, storage and neighbours if it went into maintenance now.

Pure logic over objects the module read: every finding is reported, and those of severity
``refusal`` stop the module before any write, unless the finding names an ``override`` and the
user set it (see ``maintenance_overrides``). The rules come from the
OpenShift Virtualization and Portworx guidance: VMs need a live-migrate eviction strategy and
``LiveMigratable=True`` or they are shut down or block the drain; a VM with the ``External``
strategy is moved by an external controller, never by KubeVirt or by us; one node (one Portworx
storage node) at a time; the remaining nodes must have room for the VMs' memory and CPU; VMs
cannot live-migrate between CPU vendors (R14); a PodDisruptionBudget that allows no disruption
holds its pods on the node.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.disruption_budgets import blocking_budgets
from ansible_collections.ocpvirt.portworx.plugins.module_utils.node_room import (
    describe_room,
    format_cpu,
    free_room,
    place_first_fit,
    vm_needs,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.quantity import format_bytes
from ansible_collections.ocpvirt.portworx.plugins.module_utils.waiting import condition

LIVE_MIGRATE = "LiveMigrate"
LIVE_MIGRATE_IF_POSSIBLE = "LiveMigrateIfPossible"
EXTERNAL = "External"
MIGRATING_STRATEGIES = (LIVE_MIGRATE, LIVE_MIGRATE_IF_POSSIBLE)
STORAGE_NODE_ONLINE = "Online"
WORKER_ROLE_LABEL = "node-role.kubernetes.io/worker"
CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/master", "node-role.kubernetes.io/control-plane")
#: KubeVirt's node labeller marks each schedulable node with its CPU vendor.
CPU_VENDOR_LABEL_PREFIX = "cpu-vendor.node.kubevirt.io/"

# What eviction does to a VMI, per the KubeVirt eviction webhook.
MIGRATE = "migrate"
SHUT_DOWN = "shut down"
BLOCK = "block"
#: evictionStrategy External: KubeVirt refuses the eviction, sets status.evacuationNodeName and
#: leaves the move to an external controller (kubevirt/kubevirt pkg/virt-api/webhooks, eviction
#: admitter); it creates no migration, and neither may we.
EXTERNAL_MOVE = "external"

REFUSAL = "refusal"
WARNING = "warning"
INFO = "info"


def finding(severity, subject, rule, fix=None, **details):
    entry = {"severity": severity, "subject": subject, "rule": rule}
    if fix:
        entry["fix"] = fix
    entry.update(details)
    return entry


def refusals(findings):
    return [f for f in findings if f["severity"] == REFUSAL]


def meta(obj, key):
    return ((obj or {}).get("metadata") or {}).get(key)


def vmi_key(vmi):
    return "{0}/{1}".format(meta(vmi, "namespace"), meta(vmi, "name"))


def vmi_node(vmi):
    return ((vmi or {}).get("status") or {}).get("nodeName")


def is_migratable(vmi):
    return str(condition(vmi, "LiveMigratable").get("status")) == "True"


def effective_eviction_strategy(vmi, cluster_default=None):
    """The VMI's own strategy, else the cluster-wide one (KubeVirt CR / HyperConverged), else None."""
    return ((vmi or {}).get("spec") or {}).get("evictionStrategy") or cluster_default or None


def eviction_outcome(vmi, cluster_default=None):
    """``(outcome, why)``: what evicting the VMI's launcher pod does, following KubeVirt's webhook."""
    strategy = effective_eviction_strategy(vmi, cluster_default)
    migratable = is_migratable(vmi)
    not_migratable_why = condition(vmi, "LiveMigratable").get("reason") or "LiveMigratable is not True"
    message = condition(vmi, "LiveMigratable").get("message")
    if message:
        not_migratable_why = "{0}: {1}".format(not_migratable_why, message)
    if strategy == EXTERNAL:
        return EXTERNAL_MOVE, (
            "evictionStrategy External: KubeVirt blocks the eviction, sets status.evacuationNodeName and leaves the move "
            "to an external controller; it is waited for, never migrated by this module"
        )
    if strategy in MIGRATING_STRATEGIES and migratable:
        return MIGRATE, "evictionStrategy {0} and LiveMigratable=True".format(strategy)
    if strategy == LIVE_MIGRATE:
        return BLOCK, "evictionStrategy {0} but not live-migratable ({1}): the eviction is refused and the drain never ends".format(
            strategy, not_migratable_why
        )
    if strategy == LIVE_MIGRATE_IF_POSSIBLE:
        return SHUT_DOWN, "evictionStrategy {0} but not live-migratable ({1}): the VM is shut down".format(strategy, not_migratable_why)
    return SHUT_DOWN, "no evictionStrategy (VMI or cluster-wide): the VM is shut down instead of migrated"


def is_ready(node):
    return str(condition(node, "Ready").get("status")) == "True"


def is_worker(node):
    labels = meta(node, "labels") or {}
    if WORKER_ROLE_LABEL in labels:
        return True
    return not any(label in labels for label in CONTROL_PLANE_LABELS)


def is_cordoned(node):
    return bool(((node or {}).get("spec") or {}).get("unschedulable"))


def is_room(node, excluded):
    """Whether a node can take VMs from ``excluded``: a schedulable, Ready worker other than it."""
    return meta(node, "name") != excluded and not is_cordoned(node) and is_ready(node) and is_worker(node)


def free_memory(nodes, pods, excluded):
    """Allocatable minus requested memory on each schedulable, Ready worker other than ``excluded``."""
    return dict((name, room["memory"]) for name, room in free_room(nodes, pods, lambda n: is_room(n, excluded)).items())


def cpu_vendors(node):
    labels = meta(node, "labels") or {}
    return sorted(key[len(CPU_VENDOR_LABEL_PREFIX):] for key, value in labels.items()
                  if key.startswith(CPU_VENDOR_LABEL_PREFIX) and str(value).lower() == "true")


class MaintenanceFacts(object):
    """What the module read; lists are plain dicts as the API returned them."""

    def __init__(self, node_name, nodes, vmis, pods, node_maintenances=None, storage_nodes=None,
                 cluster_eviction_strategy=None, portworx_served=False, disruption_budgets=None):
        self.node_name = node_name
        self.nodes = nodes
        self.vmis = vmis
        self.pods = pods
        self.node_maintenances = node_maintenances or []
        self.storage_nodes = storage_nodes or []
        self.cluster_eviction_strategy = cluster_eviction_strategy
        self.portworx_served = portworx_served
        self.disruption_budgets = disruption_budgets or []

    def vmis_on_node(self):
        return [v for v in self.vmis if vmi_node(v) == self.node_name]

    def launcher_pod(self, vmi):
        for pod in self.pods:
            labels = meta(pod, "labels") or {}
            if (
                labels.get("kubevirt.io") == "virt-launcher"
                and labels.get("kubevirt.io/created-by") == meta(vmi, "uid")
                and (pod.get("spec") or {}).get("nodeName") == vmi_node(vmi)
            ):
                return pod
        return None


def classify_vms(facts):
    """One entry per VMI on the node: what eviction would do to it, and why."""
    plan = []
    for vmi in sorted(facts.vmis_on_node(), key=vmi_key):
        outcome, why = eviction_outcome(vmi, facts.cluster_eviction_strategy)
        needs = vm_needs(vmi, facts.launcher_pod(vmi))
        plan.append(
            {
                "vm": meta(vmi, "name"),
                "namespace": meta(vmi, "namespace"),
                "outcome": outcome,
                "why": why,
                "memory": format_bytes(needs["memory"]),
                "cpu": format_cpu(needs["cpu"]),
            }
        )
    return plan


def unavailable_nodes(facts):
    """Other nodes already out of service: cordoned, or with a NodeMaintenance."""
    names = set(meta(n, "name") for n in facts.nodes if is_cordoned(n))
    names.update(((nm.get("spec") or {}).get("nodeName")) for nm in facts.node_maintenances)
    names.discard(facts.node_name)
    names.discard(None)
    return sorted(names)


def storage_node_phase(storage_node):
    status = (storage_node or {}).get("status") or {}
    return status.get("phase") or condition(storage_node, "NodeState").get("status") or "Unknown"


#: StorageCluster phases of a healthy Portworx cluster (libopenstorage/operator reports Online; newer
#: operators also Running).
STORAGE_CLUSTER_HEALTHY = ("Online", "Running")


def portworx_health_problems(storage_clusters, storage_node):
    """Why Portworx is not healthy enough for the next node: the cluster's phase and the node's own state."""
    problems = []
    for storage_cluster in storage_clusters or []:
        phase = ((storage_cluster.get("status") or {}).get("phase")) or "Unknown"
        if phase not in STORAGE_CLUSTER_HEALTHY:
            problems.append("StorageCluster {0}/{1} is {2}".format(meta(storage_cluster, "namespace"), meta(storage_cluster, "name"), phase))
    if storage_node is not None:
        phase = storage_node_phase(storage_node)
        node_state = condition(storage_node, "NodeState")
        if phase != STORAGE_NODE_ONLINE:
            problems.append("Portworx StorageNode is {0}".format(phase))
        elif node_state and node_state.get("status") not in (None, STORAGE_NODE_ONLINE):
            problems.append("Portworx StorageNode condition NodeState is {0}".format(node_state.get("status")))
    return problems


def storage_node_for(storage_nodes, node_name):
    for storage_node in storage_nodes:
        if meta(storage_node, "name") == node_name:
            return storage_node
    return None


def vm_findings(vm_plan):
    findings = []
    for entry in vm_plan:
        subject = "VirtualMachineInstance {0}/{1}".format(entry["namespace"], entry["vm"])
        if entry["outcome"] == MIGRATE:
            findings.append(finding(INFO, subject, "will live-migrate ({0})".format(entry["why"])))
        elif entry["outcome"] == EXTERNAL_MOVE:
            findings.append(finding(
                WARNING, subject, entry["why"],
                "Make sure the external controller is running; maintenance waits for it until wait_timeout.",
            ))
        elif entry["outcome"] == BLOCK:
            findings.append(finding(
                REFUSAL, subject, "would block the drain: " + entry["why"],
                "Make its disks ReadWriteMany (and its pod network masquerade), or stop the VM before maintenance; "
                "allow_drain_blockers=true starts anyway and the drain waits until wait_timeout.",
                override="allow_drain_blockers",
            ))
        else:
            findings.append(finding(
                REFUSAL, subject, "would be shut down: " + entry["why"],
                "Set spec.template.spec.evictionStrategy: LiveMigrateIfPossible on a live-migratable VM, or stop it "
                "first; allow_vm_shutdown=true accepts the outage.",
                override="allow_vm_shutdown",
            ))
    return findings


def availability_findings(facts, max_unavailable):
    findings = []
    others = unavailable_nodes(facts)
    if len(others) + 1 > max_unavailable:
        findings.append(finding(
            REFUSAL, "Node {0}".format(facts.node_name),
            "{0} other node(s) already cordoned or in maintenance ({1}) and max_unavailable is {2}".format(
                len(others), ", ".join(others), max_unavailable
            ),
            "Finish maintenance on those nodes first: Portworx keeps replicas on up to three nodes, so take one "
            "worker at a time.",
            nodes=others,
        ))
    if not facts.portworx_served:
        return findings
    for storage_node in sorted(facts.storage_nodes, key=lambda s: meta(s, "name")):
        name = meta(storage_node, "name")
        phase = storage_node_phase(storage_node)
        if name != facts.node_name and phase != STORAGE_NODE_ONLINE:
            findings.append(finding(
                REFUSAL, "StorageNode {0}/{1}".format(meta(storage_node, "namespace"), name),
                "Portworx storage node is {0}, not Online: taking another node down could leave volumes "
                "without a quorum of replicas".format(phase),
                "Wait until every other Portworx node is Online (one storage node at a time).",
            ))
    return findings


def room_findings(facts, vm_plan):
    """Refuse when the VMs that must land elsewhere do not fit the remaining workers' memory and CPU."""
    by_key = dict((vmi_key(v), v) for v in facts.vmis_on_node())
    needs = {}
    for entry in vm_plan:
        if entry["outcome"] in (MIGRATE, EXTERNAL_MOVE):
            key = "{0}/{1}".format(entry["namespace"], entry["vm"])
            needs[key] = vm_needs(by_key.get(key), facts.launcher_pod(by_key.get(key)))
    free = free_room(facts.nodes, facts.pods, lambda n: is_room(n, facts.node_name))
    unplaced = place_first_fit(needs, free)
    if not unplaced:
        return []
    return [finding(
        REFUSAL, "Node {0}".format(facts.node_name),
        "the remaining schedulable workers lack memory or CPU for VM(s) {0} (free: {1})".format(
            ", ".join(sorted(unplaced)), describe_room(free)
        ),
        "Add capacity or stop less important VMs before maintenance; allow_insufficient_room=true accepts VMs left pending.",
        vms=sorted(unplaced), override="allow_insufficient_room",
    )]


def vendor_findings(facts):
    """R14: a VM cannot live-migrate to a node of another CPU vendor; warn when the remaining workers mix them."""
    this = next((n for n in facts.nodes if meta(n, "name") == facts.node_name), None)
    own = set(cpu_vendors(this))
    if not own or not facts.vmis_on_node():
        return []
    others = {}
    for node in facts.nodes:
        if is_room(node, facts.node_name):
            for vendor in set(cpu_vendors(node)) - own:
                others.setdefault(vendor, []).append(meta(node, "name"))
    if not others:
        return []
    return [finding(
        WARNING, "Node {0}".format(facts.node_name),
        "its CPU vendor is {0} but remaining workers have another one ({1}): live migration between CPU vendors fails, "
        "so its VMs can only move to {0} nodes".format(
            "/".join(sorted(own)), "; ".join("{0}: {1}".format(v, ", ".join(sorted(n))) for v, n in sorted(others.items()))
        ),
        "Keep one MachineSet (one node pool) per CPU vendor, or make sure the {0} nodes have room.".format("/".join(sorted(own))),
    )]


def disruption_budget_findings(facts):
    """Name the pods on the node that a PodDisruptionBudget keeps from being evicted now."""
    findings = []
    for pod in sorted(facts.pods, key=lambda p: (meta(p, "namespace"), meta(p, "name"))):
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        labels = meta(pod, "labels") or {}
        if spec.get("nodeName") != facts.node_name or status.get("phase") in ("Succeeded", "Failed"):
            continue
        if labels.get("kubevirt.io") == "virt-launcher":
            continue  # KubeVirt's own budgets guard VMs during their migration; its webhook decides those evictions
        budgets = blocking_budgets(pod, facts.disruption_budgets)
        if budgets:
            findings.append(finding(
                WARNING, "Pod {0}/{1}".format(meta(pod, "namespace"), meta(pod, "name")),
                "PodDisruptionBudget {0} allows no disruption now: its eviction is refused and the drain waits".format(", ".join(budgets)),
                "Scale the workload up or relax the budget, or the drain waits until wait_timeout.",
                budgets=budgets,
            ))
    return findings


def preflight(facts, max_unavailable=1):
    """Every finding about taking ``facts.node_name`` out of service, refusals first."""
    vm_plan = classify_vms(facts)
    findings = vm_findings(vm_plan)
    findings.extend(availability_findings(facts, max_unavailable))
    findings.extend(room_findings(facts, vm_plan))
    findings.extend(vendor_findings(facts))
    findings.extend(disruption_budget_findings(facts))
    findings.sort(key=lambda f: {REFUSAL: 0, WARNING: 1, INFO: 2}[f["severity"]])
    return findings, vm_plan


def refusal_rule(blocking):
    """The rule text of the one refusal that sums up every blocking finding."""
    return "preflight found {0} blocking finding(s): {1}".format(
        len(blocking), "; ".join("{0}: {1}{2}".format(
            f["subject"], f["rule"], " (override: {0}=true)".format(f["override"]) if f.get("override") else "") for f in blocking)
    )
