#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: node_maintenance
short_description: Put one OpenShift node into maintenance and back, VM-aware and Portworx-aware
version_added: 0.1.0
author:
  - ocpvirt.portworx maintainers (@ocpvirt)
description:
  - O(state=present) takes the node out of service. With the Node Maintenance Operator it creates
    (or finds) the C(NodeMaintenance) for the node; without it, it cordons the node, creates a
    C(VirtualMachineInstanceMigration) for each live-migratable VMI and evicts the remaining pods,
    retrying HTTP 429 as C(kubectl drain) does and skipping DaemonSet and mirror pods.
  - Before any write a preflight reports every finding and refuses (unless O(force=true)) when a
    VMI on the node would be shut down or would block the drain, when other nodes are already
    cordoned or in maintenance beyond O(max_unavailable), when another Portworx storage node is not
    Online, or when the remaining workers lack memory or CPU for the VMs. It warns when the
    remaining workers have another CPU vendor (VMs cannot live-migrate between vendors), names the
    pods a PodDisruptionBudget keeps from being evicted, and names the VMIs with
    C(evictionStrategy=External). This applies on every run, also when the node is already cordoned
    or in maintenance (by hand or by an earlier run).
  - A VMI with C(evictionStrategy=External) is never migrated by this module. KubeVirt refuses the
    eviction of its launcher pod, sets C(status.evacuationNodeName) and leaves the move to an external
    controller; the module waits for it within O(wait_timeout).
  - Finished pods (phase C(Succeeded) or C(Failed)), such as the source virt-launcher pod KubeVirt
    leaves on the node after a migration, are neither evicted nor waited for.
  - Waits until the node is drained (NodeMaintenance phase C(Succeeded), no VMI and no evictable pod
    left). On timeout the node stays cordoned; the failure says what is pending and why.
  - O(state=absent) ends whichever maintenance is in place (it deletes the node's NodeMaintenance if
    there is one, else uncordons), whatever O(method) says, then waits until the node is schedulable,
    its Portworx StorageNode is Online and the StorageCluster is Online again, so that the next node
    can follow.
options:
  node:
    description:
      - Name of the Node, a DNS-1123 subdomain of at most 241 characters (the NodeMaintenance is named
        C(<node>-maintenance), which must fit in 253).
    type: str
    required: true
  state:
    description: V(present) puts the node into maintenance, V(absent) puts it back in service.
    type: str
    choices: [present, absent]
    default: present
  reason:
    description: Reason recorded in the NodeMaintenance C(spec.reason).
    type: str
    default: Maintenance by ocpvirt.portworx
  method:
    description:
      - V(auto) uses the Node Maintenance Operator when its API is served and its operator is
        installed, else V(drain).
      - V(node_maintenance) requires the operator; V(drain) cordons and drains directly.
      - Used by O(state=present) only.
    type: str
    choices: [auto, node_maintenance, drain]
    default: auto
  max_unavailable:
    description: How many nodes may be out of service at the same time, this one included; at least 1.
    type: int
    default: 1
  force:
    description:
      - Skip the preflight refusals (the findings are still reported). The API's own rules (for
        example the NodeMaintenance webhook) still apply.
    type: bool
    default: false
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ocpvirt.portworx.common.WAIT
notes:
  - Maintain one worker at a time; Portworx keeps a volume's replicas on up to three nodes.
  - Re-running after a timeout continues where the previous run stopped.
"""

EXAMPLES = r"""
- name: Put worker-1 into maintenance, live-migrating its VMs
  ocpvirt.portworx.node_maintenance:
    node: worker-1
    reason: BIOS update
    wait_timeout: 1800

- name: Bring worker-1 back and wait for its Portworx node to be Online
  ocpvirt.portworx.node_maintenance:
    node: worker-1
    state: absent
    wait_timeout: 900
"""

RETURN = r"""
method:
  description:
    - The method used, V(node_maintenance) or V(drain). With O(state=absent), V(node_maintenance) when a
      NodeMaintenance was ended, else V(drain).
  returned: always
  type: str
  sample: node_maintenance
findings:
  description: Every preflight finding (severity refusal, warning or info; subject; rule; fix).
  returned: always
  type: list
  elements: dict
vms:
  description: What eviction does to each VMI that was on the node (migrate, shut down, block) and why.
  returned: when O(state=present)
  type: list
  elements: dict
vms_migrated:
  description: VMs that left the node during this run, with their old and new node.
  returned: always
  type: list
  elements: dict
  sample: [{"vm": "db01", "namespace": "vms", "from": "worker-1", "to": "worker-2"}]
vms_stopped:
  description:
    - VMs whose VMI was shut down instead of migrated during this run (a VM that should keep running
      is then started again on another node, with a new VMI).
  returned: always
  type: list
  elements: str
pods_evicted:
  description: Pods (C(namespace/name)) evicted by this run with the drain method.
  returned: always
  type: list
  elements: str
node_maintenance:
  description: Name of the NodeMaintenance object of the node, when that method is used.
  returned: when O(method) resolves to V(node_maintenance)
  type: str
cordoned:
  description:
    - Whether the node is unschedulable at the end of the run.
    - In check mode nothing is changed, so this is the node's state before the change (read from the
      cluster), not the predicted one; run with C(--diff) to see the predicted state.
  returned: always
  type: bool
storage_node_phase:
  description: Phase of the node's Portworx StorageNode at the end of the run.
  returned: when Portworx is installed and has a StorageNode for the node
  type: str
durations:
  description: Seconds spent in each step (preflight, drain or uncordon, total).
  returned: always
  type: dict
retries:
  description: Number of transient API errors that were retried.
  returned: when there were any
  type: int
  sample: 1
"""

import time

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import HCO_API, KUBEVIRT_API, NMO_API, OLM_API, PORTWORX_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.drain import (
    describe_pending,
    migration_manifest,
    next_drain_step,
    pod_key,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure, NotFound, Refusal, WaitTimeout
from ansible_collections.ocpvirt.portworx.plugins.module_utils.maintenance_preflight import (
    MaintenanceFacts,
    is_cordoned,
    portworx_health_problems,
    preflight,
    refusal_rule,
    refusals,
    storage_node_for,
    storage_node_phase,
    vmi_key,
    vmi_node,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import OcpVirtModule
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import count, describe_name, dns_subdomain

NM_KIND = "NodeMaintenance"
POLICY_API = "policy/v1"
#: KubeVirt labels each VMI with the node it runs on, so a poll lists only this node's VMIs.
VMI_NODE_LABEL = "kubevirt.io/nodeName"
NM_CSV_PREFIX = "node-maintenance-operator"


OPTION_RULES = (
    # The NodeMaintenance CR is named "<node>-maintenance", so the node name leaves room for the suffix.
    ("node", dns_subdomain("Node", reserve=len("-maintenance"))),
    ("max_unavailable", count(minimum=1)),
)


class NodeMaintenance(OcpVirtModule):
    option_rules = OPTION_RULES

    def option_subject(self):
        return "Node {0}".format(describe_name(self.params["node"]))

    def __init__(self):
        super(NodeMaintenance, self).__init__(
            argument_spec=dict(
                node=dict(type="str", required=True),
                state=dict(type="str", choices=["present", "absent"], default="present"),
                reason=dict(type="str", default="Maintenance by ocpvirt.portworx"),
                method=dict(type="str", choices=["auto", "node_maintenance", "drain"], default="auto"),
                max_unavailable=dict(type="int", default=1),
                force=dict(type="bool", default=False),
            ),
        )
        self.started = time.monotonic()
        self.durations = {}
        self.node_name = self.params["node"]

    # facts -----------------------------------------------------------------------------------
    def read_node(self):
        node = self.cluster.get("v1", "Node", self.node_name)
        if node is None:
            raise NotFound("Node {0}".format(self.node_name), "check the name (oc get nodes)")
        return node

    def nmo_installed(self):
        if not self.cluster.served(NMO_API, NM_KIND) or not self.cluster.served(OLM_API, "ClusterServiceVersion"):
            return False
        return any(
            csv["metadata"]["name"].startswith(NM_CSV_PREFIX) and (csv.get("status") or {}).get("phase") == "Succeeded"
            for csv in self.cluster.list(OLM_API, "ClusterServiceVersion")
        )

    def resolve_method(self):
        wanted = self.params["method"]
        if wanted == "drain":
            return "drain"
        installed = self.nmo_installed()
        if wanted == "node_maintenance" and not installed:
            raise ModuleFailure(
                "method=node_maintenance but the Node Maintenance Operator is not installed ({0} NodeMaintenance is not served or "
                "its ClusterServiceVersion is not Succeeded); install it or use method=drain".format(NMO_API),
                reason="NotInstalled",
            )
        return "node_maintenance" if installed else "drain"

    def node_maintenances(self):
        if not self.cluster.served(NMO_API, NM_KIND):
            return []
        return self.cluster.list(NMO_API, NM_KIND)

    def own_node_maintenance(self):
        for nm in self.node_maintenances():
            if (nm.get("spec") or {}).get("nodeName") == self.node_name:
                return nm
        return None

    def storage_nodes(self):
        if not self.cluster.served(PORTWORX_API, "StorageNode"):
            return None
        return self.cluster.list(PORTWORX_API, "StorageNode")

    def vmis(self, on_node=False):
        """Every VMI, or (``on_node``, for the polls) only those KubeVirt labels as running on this node."""
        if not self.cluster.served(KUBEVIRT_API, "VirtualMachineInstance"):
            return []
        if on_node:
            return self.cluster.list(KUBEVIRT_API, "VirtualMachineInstance", label_selector="{0}={1}".format(VMI_NODE_LABEL, self.node_name))
        return self.cluster.list(KUBEVIRT_API, "VirtualMachineInstance")

    def storage_clusters(self):
        if not self.cluster.served(PORTWORX_API, "StorageCluster"):
            return []
        return self.cluster.list(PORTWORX_API, "StorageCluster")

    def disruption_budgets(self):
        if not self.cluster.served(POLICY_API, "PodDisruptionBudget"):
            return []
        return self.cluster.list(POLICY_API, "PodDisruptionBudget")

    def cluster_eviction_strategy(self):
        """The cluster-wide default: KubeVirt CR ``spec.configuration.evictionStrategy``, else the HyperConverged's."""
        if self.cluster.served(KUBEVIRT_API, "KubeVirt"):
            for kv in self.cluster.list(KUBEVIRT_API, "KubeVirt"):
                strategy = ((kv.get("spec") or {}).get("configuration") or {}).get("evictionStrategy")
                if strategy:
                    return strategy
        if self.cluster.served(HCO_API, "HyperConverged"):
            for hco in self.cluster.list(HCO_API, "HyperConverged"):
                strategy = (hco.get("spec") or {}).get("evictionStrategy")
                if strategy:
                    return strategy
        return None

    def gather(self):
        storage_nodes = self.storage_nodes()
        return MaintenanceFacts(
            self.node_name,
            self.cluster.list("v1", "Node"),
            self.vmis(),
            self.cluster.list("v1", "Pod"),
            self.node_maintenances(),
            storage_nodes or [],
            self.cluster_eviction_strategy(),
            portworx_served=storage_nodes is not None,
            disruption_budgets=self.disruption_budgets(),
        )

    def lap(self, step, since):
        self.durations[step] = round(time.monotonic() - since, 2)
        return time.monotonic()

    # entry -----------------------------------------------------------------------------------
    def execute_module(self):
        node = self.read_node()
        self.result.update(findings=[], vms_migrated=[], vms_stopped=[], pods_evicted=[])
        try:
            if self.params["state"] == "present":
                method = self.resolve_method()
                self.result["method"] = method
                self.enter(node, method)
            else:
                # Leaving ends whichever maintenance is in place, so it needs no method (and no operator) to resolve.
                self.leave(node)
        finally:
            self.durations["total"] = round(time.monotonic() - self.started, 2)
            self.result["durations"] = self.durations

    # present ---------------------------------------------------------------------------------
    def enter(self, node, method):
        mark = time.monotonic()
        facts = self.gather()
        findings, vm_plan = preflight(facts, self.params["max_unavailable"])
        self.result.update(findings=findings, vms=vm_plan)
        nm = self.own_node_maintenance() if method == "node_maintenance" else None
        # Only force skips the refusals, even on a node that is already cordoned or in maintenance
        # (by a previous run or by hand). A re-run does not need leniency: VMIs that already left
        # are no longer findings, and this node is excluded from the unavailable count and from
        # the memory room check.
        blocking = refusals(findings)
        if blocking and not self.params["force"]:
            raise Refusal(
                "Node {0}".format(self.node_name),
                refusal_rule(blocking),
                "Fix them (each finding has a fix), or set force=true to accept the outage or risk.",
                findings=findings, vms=vm_plan,
            )
        for entry in findings:
            if entry["severity"] != "info":
                self.warn("{0}: {1}".format(entry["subject"], entry["rule"]))
        mark = self.lap("preflight", mark)
        starting_vmis = dict((vmi_key(v), (vmi_node(v), v["metadata"].get("uid"))) for v in facts.vmis_on_node())
        outcomes = dict(("{0}/{1}".format(e["namespace"], e["vm"]), e["outcome"]) for e in vm_plan)

        before = {"unschedulable": is_cordoned(node), "node_maintenance": bool(nm)}
        if method == "node_maintenance":
            self.result["node_maintenance"] = self.start_node_maintenance(nm)
        else:
            self.cordon(node, True)
        self.set_diff(before, {"unschedulable": True, "node_maintenance": method == "node_maintenance"})

        if self.wait_enabled:
            try:
                if method == "node_maintenance":
                    self.wait_node_maintenance()
                else:
                    self.drain(outcomes)
            finally:
                self.report_vm_moves(starting_vmis)
                self.lap("drain", mark)
        self.result["cordoned"] = is_cordoned(node) if self.check_mode else True

    def start_node_maintenance(self, existing):
        if existing is not None:
            return existing["metadata"]["name"]
        name = self.node_name
        if self.cluster.get(NMO_API, NM_KIND, name) is not None:
            name = "{0}-maintenance".format(self.node_name)
        self.cluster.create(
            {
                "apiVersion": NMO_API,
                "kind": NM_KIND,
                "metadata": {"name": name},
                "spec": {"nodeName": self.node_name, "reason": self.params["reason"]},
            }
        )
        self.changed()
        return name

    def wait_node_maintenance(self):
        name = self.result["node_maintenance"]
        seen = {}

        def probe():
            nm = self.cluster.get(NMO_API, NM_KIND, name) or {}
            status = nm.get("status") or {}
            seen.update(status)
            left = [vmi_key(v) for v in self.vmis(on_node=True) if vmi_node(v) == self.node_name]
            done = status.get("phase") == "Succeeded" and not left
            state = "phase {0}, drainProgress {1}%, pendingPods {2}, VMIs on node {3}{4}".format(
                status.get("phase") or "(none)", status.get("drainProgress", 0), status.get("pendingPods") or [], left or [],
                ", lastError: {0}".format(status.get("lastError")) if status.get("lastError") else "",
            )
            return done, state

        try:
            self.waiter().until("NodeMaintenance {0} of node {1} to succeed".format(name, self.node_name), probe)
        except WaitTimeout as timeout:
            raise self.still_cordoned(timeout, last_error=seen.get("lastError"), pending_pods=seen.get("pendingPods") or [])

    def still_cordoned(self, timeout, **details):
        timeout.msg = "{0}. Node {1} stays cordoned: run again to continue, or state=absent to end maintenance".format(
            timeout.msg, self.node_name
        )
        timeout.details.update(details)
        timeout.details["cordoned"] = True
        return timeout

    def cordon(self, node, unschedulable):
        if is_cordoned(node) == unschedulable:
            return
        self.cluster.patch("v1", "Node", self.node_name, {"spec": {"unschedulable": True if unschedulable else None}})
        self.changed()

    def drain(self, outcomes):
        blocked = {}
        last_step = {}

        def probe():
            pods = self.cluster.list("v1", "Pod", field_selector="spec.nodeName={0}".format(self.node_name))
            migrations = self.cluster.list(KUBEVIRT_API, "VirtualMachineInstanceMigration") if self.cluster.served(
                KUBEVIRT_API, "VirtualMachineInstanceMigration") else []
            step = next_drain_step(self.node_name, self.vmis(on_node=True), pods, migrations, outcomes)
            last_step["step"] = step
            for vmi in step.migrate:
                self.cluster.create(migration_manifest(vmi["metadata"]["name"], vmi["metadata"]["namespace"], self.node_name))
                self.changed()
            blocked.clear()
            for pod in step.evict:
                self.evict(pod, blocked)
            if step.done:
                return True, "drained"
            return False, describe_pending(step, blocked)

        try:
            self.waiter().until("node {0} to be drained".format(self.node_name), probe)
        except WaitTimeout as timeout:
            step = last_step.get("step")
            raise self.still_cordoned(timeout, pending=describe_pending(step, blocked) if step else None, blocked_pods=dict(blocked))

    def evict(self, pod, blocked):
        key = pod_key(pod)
        try:
            self.cluster.evict(pod["metadata"]["name"], pod["metadata"]["namespace"])
        except ModuleFailure as failure:
            if failure.status == 404:
                return
            if failure.status == 429 or (failure.status or 0) >= 500:
                blocked[key] = failure.msg.split(": ", 1)[-1]
                return
            raise
        self.changed()
        if key not in self.result["pods_evicted"]:
            self.result["pods_evicted"].append(key)

    def report_vm_moves(self, starting_vmis):
        """Compare with the VMIs the node had at the start: ``starting_vmis`` maps key -> (node, uid)."""
        if not starting_vmis:
            return
        now = dict((vmi_key(v), (vmi_node(v), v["metadata"].get("uid"))) for v in self.vmis())
        for key, (origin, uid) in sorted(starting_vmis.items()):
            namespace, name = key.split("/", 1)
            target, current_uid = now.get(key, (None, None))
            # A VMI with a new uid is a restart after a shutdown (runStrategy Always), not a migration.
            if target is None or current_uid != uid:
                self.result["vms_stopped"].append(key)
            elif target != origin:
                self.result["vms_migrated"].append({"vm": name, "namespace": namespace, "from": origin, "to": target})

    # absent ----------------------------------------------------------------------------------
    def leave(self, node):
        """End the maintenance in place: delete the node's NodeMaintenance if there is one, else uncordon."""
        mark = time.monotonic()
        nm = self.own_node_maintenance()
        self.result["method"] = "node_maintenance" if nm is not None else "drain"
        before = {"unschedulable": is_cordoned(node), "node_maintenance": bool(nm)}
        if nm is not None:
            self.result["node_maintenance"] = nm["metadata"]["name"]
            if not nm["metadata"].get("deletionTimestamp"):
                self.cluster.delete(NMO_API, NM_KIND, nm["metadata"]["name"])
                self.changed()
        else:
            self.cordon(node, False)
        self.set_diff(before, {"unschedulable": False, "node_maintenance": False})
        storage_nodes = self.storage_nodes()
        has_storage_node = storage_nodes is not None and storage_node_for(storage_nodes, self.node_name) is not None
        if self.wait_enabled:
            self.wait_back_in_service(nm, has_storage_node)
        self.lap("uncordon", mark)
        final = self.read_node()
        self.result["cordoned"] = is_cordoned(final)
        if has_storage_node:
            self.result["storage_node_phase"] = storage_node_phase(storage_node_for(self.storage_nodes(), self.node_name))

    def wait_back_in_service(self, nm, has_storage_node):
        def probe():
            problems = []
            if nm is not None and self.cluster.get(NMO_API, NM_KIND, nm["metadata"]["name"]) is not None:
                problems.append("NodeMaintenance {0} still being deleted".format(nm["metadata"]["name"]))
            if is_cordoned(self.read_node()):
                problems.append("node still unschedulable")
            if has_storage_node:
                # The next node may only go down once Portworx is whole again: the cluster and this node's StorageNode.
                problems.extend(portworx_health_problems(self.storage_clusters(), storage_node_for(self.storage_nodes(), self.node_name)))
            return not problems, "; ".join(problems) or "back in service"

        self.waiter().until("node {0} to be schedulable with Portworx healthy (StorageCluster and its StorageNode Online)".format(
            self.node_name), probe)


def main():
    NodeMaintenance().run()


if __name__ == "__main__":
    main()
