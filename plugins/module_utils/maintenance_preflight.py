# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What would happen to a node's VMs, storage and neighbours if it went into maintenance now.

Pure logic over objects the module read: every finding is reported, and those of severity
``refusal`` stop the module before any write (unless ``force``). The rules come from the
OpenShift Virtualization and Portworx guidance: VMs need a live-migrate eviction strategy and
``LiveMigratable=True`` or they are shut down or block the drain; one node (one Portworx storage
node) at a time; the remaining nodes must have room for the VMs' memory.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.quantity import format_bytes, parse_quantity
from ansible_collections.ocpvirt.portworx.plugins.module_utils.waiting import condition

LIVE_MIGRATE = "LiveMigrate"
LIVE_MIGRATE_IF_POSSIBLE = "LiveMigrateIfPossible"
EXTERNAL = "External"
MIGRATING_STRATEGIES = (LIVE_MIGRATE, LIVE_MIGRATE_IF_POSSIBLE, EXTERNAL)
STORAGE_NODE_ONLINE = "Online"
WORKER_ROLE_LABEL = "node-role.kubernetes.io/worker"
CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/master", "node-role.kubernetes.io/control-plane")

# What eviction does to a VMI, per the KubeVirt eviction webhook.
MIGRATE = "migrate"
SHUT_DOWN = "shut down"
BLOCK = "block"

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
    if strategy in MIGRATING_STRATEGIES and migratable:
        return MIGRATE, "evictionStrategy {0} and LiveMigratable=True".format(strategy)
    if strategy == LIVE_MIGRATE or strategy == EXTERNAL:
        return BLOCK, "evictionStrategy {0} but not live-migratable ({1}): the eviction is refused and the drain never ends".format(
            strategy, not_migratable_why
        )
    if strategy == LIVE_MIGRATE_IF_POSSIBLE:
        return SHUT_DOWN, "evictionStrategy {0} but not live-migratable ({1}): the VM is shut down".format(strategy, not_migratable_why)
    return SHUT_DOWN, "no evictionStrategy (VMI or cluster-wide): the VM is shut down instead of migrated"


def memory_request(vmi, launcher_pod=None):
    """Bytes of memory the VM needs on a node: the launcher pod's requests, else the VMI's."""
    total = 0
    for container in ((launcher_pod or {}).get("spec") or {}).get("containers") or []:
        value = ((container.get("resources") or {}).get("requests") or {}).get("memory")
        if value:
            total += parse_quantity(value)
    if total:
        return total
    domain = ((vmi or {}).get("spec") or {}).get("domain") or {}
    value = ((domain.get("resources") or {}).get("requests") or {}).get("memory") or (domain.get("memory") or {}).get("guest")
    return parse_quantity(value) if value else 0


def is_ready(node):
    return str(condition(node, "Ready").get("status")) == "True"


def is_worker(node):
    labels = meta(node, "labels") or {}
    if WORKER_ROLE_LABEL in labels:
        return True
    return not any(label in labels for label in CONTROL_PLANE_LABELS)


def is_cordoned(node):
    return bool(((node or {}).get("spec") or {}).get("unschedulable"))


def pod_memory_requests_by_node(pods):
    used = {}
    for pod in pods:
        node = ((pod.get("spec") or {}).get("nodeName"))
        phase = (pod.get("status") or {}).get("phase")
        if not node or phase in ("Succeeded", "Failed"):
            continue
        for container in (pod.get("spec") or {}).get("containers") or []:
            value = ((container.get("resources") or {}).get("requests") or {}).get("memory")
            if value:
                used[node] = used.get(node, 0) + parse_quantity(value)
    return used


def free_memory(nodes, pods, excluded):
    """Allocatable minus requested memory on each schedulable, Ready worker other than ``excluded``."""
    used = pod_memory_requests_by_node(pods)
    free = {}
    for node in nodes:
        name = meta(node, "name")
        if name == excluded or is_cordoned(node) or not is_ready(node) or not is_worker(node):
            continue
        allocatable = ((node.get("status") or {}).get("allocatable") or {}).get("memory")
        if not allocatable:
            continue
        free[name] = parse_quantity(allocatable) - used.get(name, 0)
    return free


def place_first_fit(needs, free):
    """First-fit decreasing: which VMs (``{key: bytes}``) do not fit in ``free`` (``{node: bytes}``)."""
    room = dict(free)
    unplaced = []
    for key, need in sorted(needs.items(), key=lambda item: (-item[1], item[0])):
        target = None
        for node in sorted(room, key=lambda n: (-room[n], n)):
            if room[node] >= need:
                target = node
                break
        if target is None:
            unplaced.append(key)
        else:
            room[target] -= need
    return unplaced


class MaintenanceFacts(object):
    """What the module read; lists are plain dicts as the API returned them."""

    def __init__(self, node_name, nodes, vmis, pods, node_maintenances=None, storage_nodes=None,
                 cluster_eviction_strategy=None, portworx_served=False):
        self.node_name = node_name
        self.nodes = nodes
        self.vmis = vmis
        self.pods = pods
        self.node_maintenances = node_maintenances or []
        self.storage_nodes = storage_nodes or []
        self.cluster_eviction_strategy = cluster_eviction_strategy
        self.portworx_served = portworx_served

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
        plan.append(
            {
                "vm": meta(vmi, "name"),
                "namespace": meta(vmi, "namespace"),
                "outcome": outcome,
                "why": why,
                "memory": format_bytes(memory_request(vmi, facts.launcher_pod(vmi))),
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


def storage_node_for(storage_nodes, node_name):
    for storage_node in storage_nodes:
        if meta(storage_node, "name") == node_name:
            return storage_node
    return None


def preflight(facts, max_unavailable=1):
    """Every finding about taking ``facts.node_name`` out of service, refusals first."""
    findings = []
    vm_plan = classify_vms(facts)
    for entry in vm_plan:
        subject = "VirtualMachineInstance {0}/{1}".format(entry["namespace"], entry["vm"])
        if entry["outcome"] == MIGRATE:
            findings.append(finding(INFO, subject, "will live-migrate ({0})".format(entry["why"])))
        elif entry["outcome"] == BLOCK:
            findings.append(
                finding(
                    REFUSAL, subject, "would block the drain: " + entry["why"],
                    "Make its disks ReadWriteMany (and its pod network masquerade), or stop the VM before maintenance.",
                )
            )
        else:
            findings.append(
                finding(
                    REFUSAL, subject, "would be shut down: " + entry["why"],
                    "Set spec.template.spec.evictionStrategy: LiveMigrateIfPossible on a live-migratable VM, or stop it "
                    "first; force=true accepts the outage.",
                )
            )

    others = unavailable_nodes(facts)
    if len(others) + 1 > max_unavailable:
        findings.append(
            finding(
                REFUSAL, "Node {0}".format(facts.node_name),
                "{0} other node(s) already cordoned or in maintenance ({1}) and max_unavailable is {2}".format(
                    len(others), ", ".join(others), max_unavailable
                ),
                "Finish maintenance on those nodes first: Portworx keeps replicas on up to three nodes, so take one "
                "worker at a time.",
                nodes=others,
            )
        )

    if facts.portworx_served:
        for storage_node in sorted(facts.storage_nodes, key=lambda s: meta(s, "name")):
            name = meta(storage_node, "name")
            phase = storage_node_phase(storage_node)
            if name != facts.node_name and phase != STORAGE_NODE_ONLINE:
                findings.append(
                    finding(
                        REFUSAL, "StorageNode {0}/{1}".format(meta(storage_node, "namespace"), name),
                        "Portworx storage node is {0}, not Online: taking another node down could leave volumes "
                        "without a quorum of replicas".format(phase),
                        "Wait until every other Portworx node is Online (one storage node at a time).",
                    )
                )

    needs = {}
    for entry in vm_plan:
        if entry["outcome"] == MIGRATE:
            needs["{0}/{1}".format(entry["namespace"], entry["vm"])] = parse_quantity(entry["memory"])
    free = free_memory(facts.nodes, facts.pods, facts.node_name)
    unplaced = place_first_fit(needs, free)
    if unplaced:
        findings.append(
            finding(
                REFUSAL, "Node {0}".format(facts.node_name),
                "the remaining schedulable workers lack memory for VM(s) {0} (free: {1})".format(
                    ", ".join(sorted(unplaced)),
                    ", ".join("{0}={1}".format(n, format_bytes(max(v, 0))) for n, v in sorted(free.items())) or "no schedulable worker",
                ),
                "Add capacity or stop less important VMs before maintenance.",
                vms=sorted(unplaced),
            )
        )
    findings.sort(key=lambda f: {REFUSAL: 0, WARNING: 1, INFO: 2}[f["severity"]])
    return findings, vm_plan


def refusal_rule(blocking):
    """The rule text of the one refusal that sums up every blocking finding."""
    return "preflight found {0} blocking finding(s): {1}".format(
        len(blocking), "; ".join("{0}: {1}".format(f["subject"], f["rule"]) for f in blocking)
    )
