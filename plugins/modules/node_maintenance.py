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
  - Every refusal happens before any write. It first judges read-only; the campaign lock, a C(coordination.k8s.io/v1)
    Lease (O(lock_namespace)/C(ocpvirt-portworx-maintenance), annotated with campaign, run and node), is only read then,
    and while another run holds it unexpired the module refuses and names the holder, when it renewed last and when it
    expires. The holder is one run of a campaign (C(holderIdentity) C(<campaign> (run <run id>))), so two jobs started
    with the same O(campaign) cannot both hold it; the second is refused. The run id is O(run_id), else the AAP job
    (C(JOB_ID) with C(AWX_HOST) in the environment), else the ansible-playbook process that ran the module (host, pid,
    start time), else this module process; C(this_run) and C(run_source) in RV(lock) say which.
  - When that first look passes it takes the lock and judges again under it (the race-safe check, which sees what another
    run or a person changed meanwhile); a refusal there releases the lock this run took, or, when this run already held
    it before this task, puts it back exactly as it was, and says which (RV(refused_under_lock)). It renews the lock while
    it waits and releases it at the end unless O(release_lock=false).
  - A lock is taken over (an update carrying the Lease's C(resourceVersion), so of two takers only one wins; reported in
    C(taken_over) in RV(lock) with why) when it was released, when it expired (its holder crashed or was killed), when a run of
    the same campaign stopped on a failure or an interruption and left it to its campaign, or, from a live holder that is
    certainly dead, with the named override O(take_over_lock) (reported in RV(overrides_used)). A run that fails or is
    interrupted after taking the lock leaves it to its campaign; another campaign still waits until it expires, a re-run
    of the same campaign takes it over at once.
  - The preflight reports every finding and refuses when a VMI on the node would be shut down
    (override O(allow_vm_shutdown)) or would block the drain (O(allow_drain_blockers)), when the remaining
    workers lack memory or CPU for the VMs (O(allow_insufficient_room)), when the node is a control-plane
    node (O(allow_control_plane)), when its NodeMaintenance or cordon was not created by this campaign
    (O(adopt)), and, with no override, when other nodes are already cordoned or in maintenance beyond
    O(max_unavailable), when another Portworx storage node is not Online, or when the control plane would
    drop below etcd quorum. Every override used is reported in RV(overrides_used). It warns when the
    remaining workers have another CPU vendor (VMs cannot live-migrate between vendors), names the
    pods a PodDisruptionBudget keeps from being evicted, and names the VMIs with
    C(evictionStrategy=External). This applies on every run, also when the node is already cordoned
    or in maintenance (by hand or by an earlier run).
  - What it creates is marked as its own. The NodeMaintenance carries the annotation
    C(ocpvirt.portworx/campaign), the node the annotation C(ocpvirt.portworx/maintenance-progress)
    (campaign, step V(entering), V(entered), V(node-tasks-done), V(leaving) or V(left), since when), written
    in the same patch as the cordon. O(state=absent) undoes only its own; someone else's NodeMaintenance or
    cordon is refused unless O(adopt=true), and reported in RV(adopted) when adopted.
  - Each run first reports what the previous run left on the node (RV(previous_run) with campaign, step, since,
    and what stopped it if something did, a signal or its job ending). SIGTERM or SIGINT to the module during
    a wait stops it, records the interruption on the node and fails with a one-line report of what is left
    behind (step, cordon, lock and until when it is held). When ansible-playbook itself is stopped, its output ends before that report. A
    cancelled AAP job sends the module no signal it could handle (ansible-runner kills ansible-playbook's process
    group with SIGKILL; the module runs in its worker's own session and is not in that group). Instead, before
    each poll the module checks (on Linux, through C(/proc)) that the ansible-playbook process that ran it is
    still there; once it is gone, the wait stops as on SIGTERM, with no further eviction, migration or lock
    renewal, and the interruption is recorded on the node ("the job that ran this module ended") and on the lock,
    which is left to the campaign. The relaunch with the same O(campaign) (a new run) reports what was left as
    RV(previous_run) and resumes; it takes the lock of the cancelled run over at once (C(taken_over) in RV(lock)); another
    campaign waits until it expired.
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
    can follow. It needs no lock and leaves another campaign's lock alone (with a warning), but refuses, before any
    write, while another live run of the same O(campaign) holds the lock (that run may be working on this node).
options:
  node:
    description:
      - Name of the Node, a DNS-1123 subdomain of at most 241 characters (the NodeMaintenance is named
        C(<node>-maintenance), which must fit in 253).
    type: str
    required: true
  state:
    description:
      - V(present) puts the node into maintenance, V(absent) puts it back in service.
      - V(released) only releases the campaign lock held by O(campaign).
    type: str
    choices: [present, absent, released]
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
  campaign:
    description:
      - Names the maintenance campaign; holds the campaign lock and marks what this module creates.
      - Use the same value for entering and leaving a node. Defaults to C(node <node>).
    type: str
  lock_namespace:
    description: Namespace of the campaign lock Lease C(ocpvirt-portworx-maintenance).
    type: str
    default: kube-system
  lock_duration:
    description: Seconds the campaign lock stays valid without a renewal (C(spec.leaseDurationSeconds)).
    type: int
    default: 300
  release_lock:
    description:
      - Release the campaign lock when the run succeeds (or is refused before any write).
      - The node_maintenance role sets V(false) and releases it once at the end of the campaign with O(state=released).
    type: bool
    default: true
  run_id:
    description:
      - Names this run in the campaign lock holder (C(<campaign> (run <run_id>))). Every task of one run that keeps the
        lock across tasks (O(release_lock=false), O(state=released)) must pass the same value; two runs never the same.
      - Default, in this order, the AAP job (C(aap-job-<JOB_ID>), when C(JOB_ID) and C(AWX_HOST) are set, as automation
        controller sets them for ansible-playbook), the ansible-playbook process that ran the module (C(<host>-<pid>-<start
        time>)), or this module process (one run per task).
      - The node_maintenance role passes one per run (C(node_maintenance_run_id)).
    type: str
  take_over_lock:
    description:
      - Take the campaign lock from another run although it has not expired, because that run is certainly dead (its job
        was cancelled or killed, its host is gone). Reported in RV(overrides_used) when it lifted a refusal.
      - It takes the lock only from the holder this task read at its first look; a run that took the lock since (another
        campaign, or the winner of a race between two runs both given the override) is a live run and is refused.
      - Never set it while the holder may still run; a free, expired or left lock needs no override.
    type: bool
    default: false
  migration_attempts:
    description:
      - With the drain method, how many migrations of one VMI may fail in this run; a new one is created only
        after the previous one failed. Then the run fails naming the last migration and its failure reason.
    type: int
    default: 3
  allow_vm_shutdown:
    description: Accept that VMs which cannot live-migrate are shut down.
    type: bool
    default: false
  allow_drain_blockers:
    description: Start although a VM would block the drain (the drain then waits until O(wait_timeout), the node cordoned).
    type: bool
    default: false
  allow_insufficient_room:
    description: Start although the remaining schedulable workers lack memory or CPU for the node's VMs.
    type: bool
    default: false
  allow_control_plane:
    description: Allow a control-plane node. Never below etcd quorum (a majority of control-plane nodes Ready and schedulable).
    type: bool
    default: false
  adopt:
    description: Take over a NodeMaintenance or a cordon of the node that this campaign did not create; reported in RV(adopted).
    type: bool
    default: false
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ocpvirt.portworx.common.WAIT
notes:
  - Maintain one worker at a time; Portworx keeps a volume's replicas on up to three nodes.
  - Re-running after a timeout continues where the previous run stopped.
  - The one-node rule, the Portworx rule and the etcd quorum have no override.
  - The lock is renewed only while the module runs. Keep O(lock_duration) above the longest gap between two tasks of
    a run that keeps it (the role's node tasks); once it expired, another run may take it over.
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

- name: Take over a NodeMaintenance someone created by hand for worker-2, accepting a VM shutdown
  ocpvirt.portworx.node_maintenance:
    node: worker-2
    campaign: 2026-12-dimm
    adopt: true
    allow_vm_shutdown: true
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
overrides_used:
  description: The overrides that lifted a refusal in this run.
  returned: always
  type: list
  elements: str
  sample: [allow_vm_shutdown]
adopted:
  description: Someone else's NodeMaintenance or cordon this run took over (O(adopt=true)).
  returned: always
  type: list
  elements: str
previous_run:
  description: What the previous run left on the node (node, campaign, step, since, method, interrupted), when unfinished.
  returned: when a previous run left the node in maintenance or was interrupted
  type: dict
  sample: {"node": "worker-1", "campaign": "2026-11-firmware", "step": "entering", "since": "2026-12-02T07:00:00.000000Z"}
progress:
  description: The node's progress record at the end of the run (campaign, step, method, node).
  returned: when this run wrote or resumed one
  type: dict
lock:
  description:
    - The campaign lock after the run (lease, holder, campaign, run, node, since, renewed, expires, stopped, released,
      action), with this run's id (this_run) and where it came from (run_source).
    - C(taken_over) describes the holder this run took the lock from and why (V(released), V(expired), V(stopped) for a
      run of this campaign that stopped and left it, V(forced) with O(take_over_lock)).
  returned: when the lock was read
  type: dict
  sample: {"lease": "kube-system/ocpvirt-portworx-maintenance", "holder": "2026-12-firmware (run aap-job-118)",
           "campaign": "2026-12-firmware", "run": "aap-job-118", "node": "worker-1", "action": "take over",
           "this_run": "aap-job-118", "run_source": "the AAP job (JOB_ID)",
           "taken_over": {"holder": "2026-12-firmware (run aap-job-117)", "why": "stopped",
                          "stopped": "run aap-job-117 interrupted (...) at 2026-12-02T07:10:00.000000Z"}}
failed_migrations:
  description: With the drain method, the VMIs whose migrations failed O(migration_attempts) times; VMI, last migration, failure reason.
  returned: when live migration kept failing
  type: list
  elements: dict
refused_under_lock:
  description:
    - True when the first, read-only look passed but the look under the campaign lock refused (the cluster changed
      in between); the message says whether the lock was released or, held by this run before the task, put back as it was.
  returned: when that refusal happened
  type: bool
left_behind:
  description: After a stop signal, what the run leaves behind (step, cordon, lock).
  returned: when SIGTERM or SIGINT stopped the run
  type: list
  elements: str
retries:
  description: Number of transient API errors that were retried.
  returned: when there were any
  type: int
  sample: 1
"""

import datetime
import os
import signal
import socket
import time

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import HCO_API, KUBEVIRT_API, NMO_API, OLM_API, PORTWORX_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.drain import (
    describe_pending,
    failure_reason,
    migration_manifest,
    next_drain_step,
    pod_key,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Interrupted, ModuleFailure, NotFound, Refusal, WaitTimeout
from ansible_collections.ocpvirt.portworx.plugins.module_utils.maintenance_lock import (
    LOCK_API,
    LOCK_KIND,
    LOCK_NAME,
    RENEW,
    RENEW_EXPIRED,
    TAKE,
    TAKE_OVER_OVERRIDE,
    LockHeld,
    describe_holder,
    format_time,
    holder_identity,
    holder_of,
    holds,
    plan_hand_over,
    plan_lock,
    plan_release,
    plan_restore,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.maintenance_overrides import (
    OVERRIDES,
    apply_overrides,
    control_plane_findings,
    ownership_findings,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.maintenance_preflight import (
    MaintenanceFacts,
    is_cordoned,
    portworx_health_problems,
    preflight,
    refusal_rule,
    storage_node_for,
    storage_node_phase,
    vmi_key,
    vmi_node,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.maintenance_progress import (
    ENTERED,
    ENTERING,
    LEAVING,
    LEFT,
    OWNER_ANNOTATION,
    describe_previous_run,
    previous_run,
    progress_patch,
    read_progress,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import OcpVirtModule
from ansible_collections.ocpvirt.portworx.plugins.module_utils.run_identity import run_identity
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import (
    count,
    describe_name,
    dns_label,
    dns_subdomain,
    non_empty_text,
)

NM_KIND = "NodeMaintenance"
POLICY_API = "policy/v1"
#: KubeVirt labels each VMI with the node it runs on, so a poll lists only this node's VMIs.
VMI_NODE_LABEL = "kubevirt.io/nodeName"
NM_CSV_PREFIX = "node-maintenance-operator"
#: SIGTERM (kill, systemd, a shell's job control) and Ctrl-C (SIGINT). Not how AAP cancels a job: ansible-runner
#: kills ansible-playbook's process group with SIGKILL (ansible_runner/runner.py handle_termination, 2.4.3), which
#: the module (in its worker's own session) never receives; its waits stop instead when they find that
#: ansible-playbook gone (module_utils/controller_watch.py, through the Waiter). See docs/aap.md.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignal(Interrupted):
    """A stop signal arrived; raised from the signal handler, so it ends whatever wait was running."""

    def __init__(self, signum):
        name = signal.Signals(signum).name
        super(StopSignal, self).__init__("stopped by {0}".format(name), cause=name)


def utc_now():
    return datetime.datetime.utcnow()


OPTION_RULES = (
    # The NodeMaintenance CR is named "<node>-maintenance", so the node name leaves room for the suffix.
    ("node", dns_subdomain("Node", reserve=len("-maintenance"))),
    ("max_unavailable", count(minimum=1)),
    ("campaign", non_empty_text("a campaign names the lock holder and the node marks")),
    ("run_id", non_empty_text("a run id names this run in the lock holder")),
    ("lock_namespace", dns_label("Namespace")),
    # coordination.k8s.io Lease validation: leaseDurationSeconds must be greater than 0.
    ("lock_duration", count(minimum=1)),
    ("migration_attempts", count(minimum=1)),
)


class NodeMaintenance(OcpVirtModule):
    option_rules = OPTION_RULES

    def option_subject(self):
        return "Node {0}".format(describe_name(self.params["node"]))

    def __init__(self):
        overrides = dict((name, dict(type="bool", default=False)) for name in OVERRIDES)
        argument_spec = dict(
            node=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent", "released"], default="present"),
            reason=dict(type="str", default="Maintenance by ocpvirt.portworx"),
            method=dict(type="str", choices=["auto", "node_maintenance", "drain"], default="auto"),
            max_unavailable=dict(type="int", default=1),
            campaign=dict(type="str"),
            lock_namespace=dict(type="str", default="kube-system"),
            lock_duration=dict(type="int", default=300),
            release_lock=dict(type="bool", default=True),
            migration_attempts=dict(type="int", default=3),
            run_id=dict(type="str"),
        )
        overrides[TAKE_OVER_OVERRIDE] = dict(type="bool", default=False)
        argument_spec.update(overrides)
        super(NodeMaintenance, self).__init__(argument_spec=argument_spec)
        self.started = time.monotonic()
        self.durations = {}
        self.node_name = self.params["node"]
        self.campaign = self.params["campaign"] or "node {0}".format(self.node_name)
        self.record = None
        self.lock_renewed = None
        #: The Lease as read just before this run last wrote it, and what that write was (plan_lock's action).
        self.lock_before = None
        self.lock_action = None
        #: True once a refusal under the lock released or restored the Lease: nothing more to do with it.
        self.lock_settled = False
        self.lock_overrides = []
        self.lock_taken_over = None
        #: The holderIdentity take_over_lock may take the lock from: the holder seen at this task's read-only look.
        self.take_over_from = None
        controller = self.controller_watch.controller
        self.this_run = run_identity(self.params["run_id"], os.environ, controller, socket.gethostname(), os.getpid())
        self.holder = holder_identity(self.campaign, self.this_run.run_id)
        self.step = None

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

    # the campaign lock -----------------------------------------------------------------------
    def lock_name(self):
        return "{0}/{1}".format(self.params["lock_namespace"], LOCK_NAME)

    def read_lock(self):
        return self.cluster.get(LOCK_API, LOCK_KIND, LOCK_NAME, self.params["lock_namespace"])

    def lock_report(self, lease, action):
        report = dict(holder_of(lease), action=action, lease=self.lock_name(), this_run=self.this_run.run_id,
                      run_source=self.this_run.source)
        if self.lock_taken_over is not None:
            report["taken_over"] = self.lock_taken_over  # kept through later renewals and the release
        return report

    def plan_lock(self, lease, take_over_from=None):
        return plan_lock(lease, self.campaign, self.node_name, utc_now(), self.params["lock_duration"],
                         run=self.this_run.run_id, take_over_from=take_over_from)

    def look_at_lock(self):
        """Read the Lease and, with take_over_lock, remember its holder: the one run the override may take it from."""
        lease = self.read_lock()
        if self.params[TAKE_OVER_OVERRIDE]:
            self.take_over_from = ((lease or {}).get("spec") or {}).get("holderIdentity")
        return lease

    def take_lock(self, take_over_from=None):
        """Hold the campaign lock (create, renew, or take over a free one); raise LockHeld if another run holds it."""
        for dummy in range(5):
            lease = self.read_lock()
            plan = self.plan_lock(lease, take_over_from)
            plan.lease["metadata"]["namespace"] = self.params["lock_namespace"]
            try:
                written = self.cluster.create(plan.lease) if plan.action == TAKE else self.cluster.replace(plan.lease)
            except ModuleFailure as failure:
                if failure.status != 409:
                    raise
                written = None
            if written is None or (not self.check_mode and not holds(written, self.campaign, self.this_run.run_id)):
                # 409, or a retried create answered with the Lease another run created: that run won the race.
                # Read again without the override: the winner is a live run, not the holder the override named.
                take_over_from = None
                continue
            self.lock_renewed = time.monotonic()
            if self.lock_action is None:  # the first write of this module run: what it found
                self.lock_before, self.lock_action = lease, plan.action
            # What this module run did first (create, renew, take over) stays the action; later renewals only refresh the times.
            self.result["lock"] = self.lock_report(written if not self.check_mode else plan.lease, self.lock_action)
            if plan.previous is not None:
                self.took_over(plan.previous, plan.forced)
            return plan.action
        raise ModuleFailure("could not take the maintenance lock Lease {0}: it kept changing under us".format(self.lock_name()),
                            status=409, reason="Conflict")

    def took_over(self, previous, forced):
        self.lock_taken_over = self.result["lock"]["taken_over"] = previous
        if forced and TAKE_OVER_OVERRIDE not in self.lock_overrides:
            self.lock_overrides.append(TAKE_OVER_OVERRIDE)
            self.result["overrides_used"] = sorted(set(self.result["overrides_used"]) | set(self.lock_overrides))
        if previous.get("holder"):
            self.warn("took over the maintenance lock Lease {0} ({1}): {2}".format(self.lock_name(), previous["why"],
                                                                                   describe_holder(previous)))

    def renew_lock(self):
        """Called from every poll: renew once a third of the lease duration has passed (never with take_over_lock)."""
        if self.lock_renewed is None or time.monotonic() - self.lock_renewed < self.params["lock_duration"] / 3.0:
            return
        try:
            self.take_lock()
        except LockHeld as held:
            raise ModuleFailure("lost the maintenance lock while working on node {0}: {1}".format(self.node_name, held),
                                reason="LockLost")

    def release_lock(self, why="released at the end of the run"):
        lease = self.read_lock()
        wanted = plan_release(lease, self.campaign, self.this_run.run_id, utc_now(), why)
        if wanted is None:
            self.result["lock"] = self.lock_report(lease, "not held by this run ({0})".format(self.holder))
            return
        self.cluster.replace(wanted)
        self.lock_renewed = None
        self.result["lock"] = self.lock_report(wanted, "released")

    def leave_lock_to_campaign(self, why):
        """After a failure or an interruption: the lock this run holds stays held, left to a re-run of its campaign.

        Returns a note for the failure message, or None when this run holds no lock (nothing written).
        """
        if self.lock_action is None or self.lock_settled or self.check_mode:
            return None
        try:
            lease = self.read_lock()
            wanted = plan_hand_over(lease, self.campaign, self.this_run.run_id, utc_now(), why)
            if wanted is None:
                return None
            self.result["lock"] = self.lock_report(self.cluster.replace(wanted), "left to campaign '{0}'".format(self.campaign))
        except ModuleFailure as failure:
            return "the maintenance lock Lease {0} could not be marked as left to campaign '{1}' ({2}); it expires at {3}".format(
                self.lock_name(), self.campaign, failure.msg, (self.result.get("lock") or {}).get("expires"))
        return ("maintenance lock Lease {0} held by '{1}' until {2}, left to a re-run of that campaign (which takes it over at once; "
                "another campaign waits until it expires)").format(self.lock_name(), self.campaign, self.result["lock"]["expires"])

    def lock_refusal(self, held):
        holder = held.holder
        if held.same_campaign:
            rule = "one run of a campaign at a time: another run of this campaign is at work: {0}".format(describe_holder(holder))
        else:
            rule = "one maintenance campaign at a time: {0}".format(describe_holder(holder))
        return Refusal(
            "Lease {0}".format(self.lock_name()), rule,
            "Wait for that run to finish, or for its lock to expire at {0} if it crashed, then run again (the lock is then "
            "taken over and reported); only if that run is certainly dead (its job cancelled, its host gone), take the lock "
            "over now with {1}=true (reported in overrides_used).".format(holder.get("expires"), TAKE_OVER_OVERRIDE),
            lock_holder=holder, lock=self.result.get("lock"),
        )

    # entry -----------------------------------------------------------------------------------
    def execute_module(self):
        self.result.update(findings=[], vms_migrated=[], vms_stopped=[], pods_evicted=[], overrides_used=[], adopted=[])
        if self.params["state"] == "released":
            self.release_lock()
            return
        node = self.read_node()
        self.note_previous_run(node)
        previous = dict((s, signal.signal(s, self.on_stop_signal)) for s in STOP_SIGNALS)
        try:
            self.run_under_lock(node)
        except Interrupted as stop:
            raise self.interrupted(stop)
        except Refusal:
            raise  # before any write, or settled under the lock (released or put back)
        except ModuleFailure as failure:
            note = self.leave_lock_to_campaign("run {0} failed on node {1} ({2})".format(
                self.this_run.run_id, self.node_name, failure.reason or failure.status or "error"))
            if note:
                failure.msg = "{0}; {1}".format(failure.msg.rstrip("."), note)
                failure.details["lock"] = self.result.get("lock")
            raise
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self.durations["total"] = round(time.monotonic() - self.started, 2)
            self.result["durations"] = self.durations

    def run_under_lock(self, node):
        """Judge read-only first (a refusal then writes nothing), then take the lock and judge again under it."""
        if self.params["state"] == "present":
            self.refuse_if_lock_held()
            method = self.resolve_method()
            self.result["method"] = method
            mark = time.monotonic()
            self.preflight_for_entry(node, self.gather(), warn=False)
            acquired = self.take_lock_or_refuse()
            node, facts, nm, vm_plan = self.judge_under_lock(acquired, lambda node: self.preflight_for_entry(node, self.gather()))
            self.enter(node, method, facts, nm, vm_plan, self.lap("preflight", mark))
        else:
            # Leaving ends whichever maintenance is in place, so it needs no method (and no operator) to resolve.
            nm = self.judge_leaving(node, warn=False)[1]
            acquired = None
            try:
                self.look_at_lock()
                acquired = self.take_lock(self.take_over_from)
            except LockHeld as held:
                if held.same_campaign:
                    # A live run of this campaign may be working on this very node: bringing it back under that run is unsafe.
                    raise self.lock_refusal(held)
                # Leaving only gives a node back: it needs no lock, and must not take one from its holder.
                self.warn("not holding the maintenance lock: {0}".format(held))
            if acquired is not None:
                node, dummy, nm, dummy = self.judge_under_lock(acquired, self.judge_leaving)
            else:
                self.judge(self.result["findings"], [])  # the warnings of the one look there was
            self.leave(node, nm)
        if self.params["release_lock"] and acquired is not None:
            self.release_lock()

    def judge_under_lock(self, acquired, judge):
        """The race-safe check: read the node and judge again now that no other campaign can act.

        ``judge(node)`` returns ``(facts, nm, vm_plan)`` or raises Refusal; a refusal here releases a lock this
        run took (one held from before stays with its campaign) and says so.
        """
        try:
            node = self.read_node()
            self.record = read_progress(node)
            return (node,) + tuple(judge(node))
        except Refusal as refusal:
            raise self.refused_under_lock(refusal, acquired)

    def refused_under_lock(self, refusal, acquired):
        """Settle the lock after a refusal under it: a lock this run already held goes back as it was, one it took is released."""
        self.lock_settled = True
        try:
            if acquired == RENEW:
                note = self.restore_lock()
            else:
                self.release_lock("refused under the lock on node {0}".format(self.node_name))
                note = "the maintenance lock Lease {0} {1} was released".format(
                    self.lock_name(), "this run renewed after it had expired" if acquired == RENEW_EXPIRED else "this run took")
        except ModuleFailure as failure:
            note = "the maintenance lock Lease {0} could not be released or put back ({1}); it expires by itself at {2}".format(
                self.lock_name(), failure.msg, (self.result.get("lock") or {}).get("expires"))
        refusal.msg = "{0} (found under the maintenance lock after the first check had passed: the cluster changed meanwhile; {1})".format(
            refusal.msg.rstrip("."), note)
        refusal.details["refused_under_lock"] = True
        refusal.details["lock"] = self.result.get("lock")
        return refusal

    def restore_lock(self):
        """Put the Lease this run held before this task (and renewed for the look under the lock) back as it was."""
        current = self.read_lock()
        if not holds(current, self.campaign, self.this_run.run_id) or self.lock_before is None:
            self.result["lock"] = self.lock_report(current, "not held by this run ({0})".format(self.holder))
            return "the maintenance lock Lease {0} is no longer held by this run".format(self.lock_name())
        written = self.cluster.replace(plan_restore(current, self.lock_before))
        self.lock_renewed = None
        self.result["lock"] = self.lock_report(written if not self.check_mode else self.lock_before, "put back as it was")
        lock = self.result["lock"]
        return ("the maintenance lock Lease {0} stays with this run ({1}), which held it before this task: put back as it was "
                "(renewed {2}, until {3})").format(self.lock_name(), self.holder, lock["renewed"], lock["expires"])

    def refuse_if_lock_held(self):
        """Read-only: refuse, naming the holder, when another run holds an unexpired lock (unless take_over_lock)."""
        lease = self.look_at_lock()
        self.result["lock"] = self.lock_report(lease, "read")
        try:
            self.plan_lock(lease, self.take_over_from)
        except LockHeld as held:
            raise self.lock_refusal(held)

    def take_lock_or_refuse(self):
        try:
            return self.take_lock(self.take_over_from)
        except LockHeld as held:
            # Another run took the lock between our read-only check and our write: its Lease answered 409.
            raise self.lock_refusal(held)

    def note_previous_run(self, node):
        self.record = read_progress(node)
        report = previous_run(self.node_name, self.record)
        if report is not None:
            self.result["previous_run"] = report
            self.warn(describe_previous_run(report))

    # interruption ----------------------------------------------------------------------------
    def on_stop_signal(self, signum, frame):
        for stop_signal in STOP_SIGNALS:
            signal.signal(stop_signal, signal.SIG_IGN)  # one report, however many signals follow
        raise StopSignal(signum)

    def interrupted(self, stop):
        """The one-line report of what this run leaves behind, also written to the node for the next run."""
        stamp = format_time(utc_now())
        left = ["nothing changed on node {0}".format(self.node_name)]
        if self.step is not None:
            left = ["node {0} at step '{1}' of campaign '{2}'".format(self.node_name, self.step, self.campaign)]
            try:
                self.cluster.patch("v1", "Node", self.node_name, progress_patch(
                    self.campaign, self.step, (self.record or {}).get("since") or stamp, self.result.get("method"),
                    interrupted="{0} at {1}".format(stop.cause, stamp)))
            except ModuleFailure as failure:
                left.append("(could not record the interruption on the node: {0})".format(failure.msg))
            if self.step in (ENTERING, ENTERED):
                left.append("cordoned" if self.result.get("method") != "node_maintenance" else
                            "in maintenance (NodeMaintenance {0})".format(self.result.get("node_maintenance")))
        note = self.leave_lock_to_campaign("run {0} interrupted ({1})".format(self.this_run.run_id, stop.cause))
        if note:
            left.append(note)
        stop.msg = "Node {0}: {1}; left behind: {2}. Re-run with campaign '{3}' to resume, or state=absent to end maintenance".format(
            self.node_name, stop.msg, ", ".join(left), self.campaign)
        stop.details["left_behind"] = left
        return stop

    def set_step(self, node, step, extra_patch=None):
        """Record ``step`` in the node's progress annotation (merged into ``extra_patch``, e.g. the cordon); no write if unchanged."""
        self.step = step
        current = self.record or {}
        if current.get("campaign") == self.campaign and current.get("step") == step and not current.get("interrupted") \
                and not extra_patch:
            return
        patch = progress_patch(self.campaign, step, format_time(utc_now()), self.result.get("method"))
        if extra_patch:
            patch.update(extra_patch)
        self.cluster.patch("v1", "Node", self.node_name, patch)
        self.record = {"campaign": self.campaign, "step": step, "method": self.result.get("method")}
        self.changed()

    def judge(self, findings, vm_plan, warn=True):
        """Refuse on every refusal no set override lifts; report (and with ``warn``, warn about) the overrides used."""
        blocking, used = apply_overrides(findings, self.params)
        used = sorted(set(used) | set(self.lock_overrides))
        self.result["overrides_used"] = used
        if blocking:
            raise Refusal(
                "Node {0}".format(self.node_name), refusal_rule(blocking),
                "Fix them (each finding has a fix; some name the override that accepts the risk).",
                findings=findings, vms=vm_plan, overrides_used=used,
            )
        if not warn:
            return  # the read-only first look: the look under the lock warns
        for name in used:
            self.warn("override {0}=true used on node {1}".format(name, self.node_name))
        for entry in findings:
            if entry["severity"] == "warning":
                self.warn("{0}: {1}".format(entry["subject"], entry["rule"]))

    # present ---------------------------------------------------------------------------------
    def preflight_for_entry(self, node, facts, warn=True):
        findings, vm_plan = preflight(facts, self.params["max_unavailable"])
        nm = self.own_node_maintenance()
        findings = (ownership_findings(node, nm, self.record, self.campaign)
                    + control_plane_findings(self.node_name, facts.nodes, facts.node_maintenances) + findings)
        findings.sort(key=lambda f: {"refusal": 0, "warning": 1, "info": 2}[f["severity"]])
        self.result.update(findings=findings, vms=vm_plan)
        # Every run judges again, also on a node already cordoned or in maintenance (by a previous run
        # or by hand): VMIs that already left are no longer findings, and this node is excluded from
        # the unavailable count and from the room check.
        self.judge(findings, vm_plan, warn)
        return facts, nm, vm_plan

    def judge_leaving(self, node, warn=True):
        """Refuse to end someone else's NodeMaintenance or cordon (override ``adopt``); reads only."""
        nm = self.own_node_maintenance()
        findings = ownership_findings(node, nm, self.record, self.campaign)
        self.result["findings"] = findings
        self.judge(findings, [], warn)
        return None, nm, []

    def enter(self, node, method, facts, nm, vm_plan, mark):
        """Take the node out of service; ``facts``, ``nm`` and ``vm_plan`` come from the preflight under the lock."""
        starting_vmis = dict((vmi_key(v), (vmi_node(v), v["metadata"].get("uid"))) for v in facts.vmis_on_node())
        outcomes = dict(("{0}/{1}".format(e["namespace"], e["vm"]), e["outcome"]) for e in vm_plan)

        before = {"unschedulable": is_cordoned(node), "node_maintenance": bool(nm)}
        if nm is not None and self.params["adopt"] and (nm["metadata"].get("annotations") or {}).get(OWNER_ANNOTATION) != self.campaign:
            self.adopt_node_maintenance(nm)
        elif nm is None and is_cordoned(node) and (self.record or {}).get("campaign") != self.campaign:
            self.result["adopted"].append("cordon of Node {0}".format(self.node_name))
        resumed = (self.record or {}).get("campaign") == self.campaign and (self.record or {}).get("step") != LEFT
        step = self.record["step"] if resumed and self.record["step"] != LEAVING else ENTERING
        if method == "node_maintenance":
            self.result["node_maintenance"] = self.start_node_maintenance(nm)
            self.set_step(node, step)
        else:
            self.set_step(node, step, None if is_cordoned(node) else {"spec": {"unschedulable": True}})
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
            if step == ENTERING:
                self.set_step(node, ENTERED)
        self.result["progress"] = dict(self.record or {}, node=self.node_name)
        self.result["cordoned"] = is_cordoned(node) if self.check_mode else True

    def adopt_node_maintenance(self, nm):
        name = nm["metadata"]["name"]
        self.cluster.patch(NMO_API, NM_KIND, name, {"metadata": {"annotations": {OWNER_ANNOTATION: self.campaign}}})
        self.changed()
        self.result["adopted"].append("NodeMaintenance {0} (reason: {1})".format(name, (nm.get("spec") or {}).get("reason")))
        self.warn("adopted NodeMaintenance {0} of node {1} for campaign '{2}'".format(name, self.node_name, self.campaign))

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
                "metadata": {"name": name, "annotations": {OWNER_ANNOTATION: self.campaign}},
                "spec": {"nodeName": self.node_name, "reason": self.params["reason"]},
            }
        )
        self.changed()
        return name

    def wait_node_maintenance(self):
        name = self.result["node_maintenance"]
        seen = {}

        def probe():
            self.renew_lock()
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

    def still_cordoned(self, failure, **details):
        failure.msg = "{0}. Node {1} stays cordoned: run again to continue, or state=absent to end maintenance".format(
            failure.msg.rstrip("."), self.node_name
        )
        failure.details.update(details)
        failure.details["cordoned"] = True
        return failure

    def drain(self, outcomes):
        blocked = {}
        last_step = {}
        created = set()

        def probe():
            self.renew_lock()
            # Read in the order a migration progresses (migration, then its VMI, then the source pod), so a
            # migration finishing between two reads is never taken for a VMI without one or a running launcher.
            migrations = self.cluster.list(KUBEVIRT_API, "VirtualMachineInstanceMigration") if self.cluster.served(
                KUBEVIRT_API, "VirtualMachineInstanceMigration") else []
            vmis = self.vmis(on_node=True)
            pods = self.cluster.list("v1", "Pod", field_selector="spec.nodeName={0}".format(self.node_name))
            step = next_drain_step(self.node_name, vmis, pods, migrations, outcomes,
                                   max_attempts=self.params["migration_attempts"], created=created)
            last_step["step"] = step
            if step.exhausted:
                raise self.migrations_failed(step.exhausted, migrations, vmis, created)
            for vmi in step.migrate:
                answer = self.cluster.create(migration_manifest(vmi["metadata"]["name"], vmi["metadata"]["namespace"], self.node_name))
                created.add(((answer or {}).get("metadata") or {}).get("name"))
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

    def migrations_failed(self, exhausted, migrations, vmis, created):
        by_name = dict((m["metadata"]["name"], m) for m in migrations)
        by_key = dict((vmi_key(v), v) for v in vmis)
        failed = []
        for key, name in sorted(exhausted.items()):
            reason = failure_reason(by_name.get(name), by_key.get(key))
            failed.append({"vmi": key, "migration": name, "reason": reason})
        text = "; ".join("VMI {0}: VirtualMachineInstanceMigration {1} failed ({2})".format(f["vmi"], f["migration"], f["reason"])
                         for f in failed)
        return self.still_cordoned(ModuleFailure(
            "Live migration failed {0} time(s) in a row, no further attempt: {1}".format(self.params["migration_attempts"], text),
            reason="MigrationFailed", failed_migrations=failed, migrations_created=sorted(n for n in created if n)))

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
    def leave(self, node, nm):
        """End the maintenance this campaign put in place (judged by ``judge_leaving``): delete its NodeMaintenance, else uncordon."""
        mark = time.monotonic()
        findings = self.result["findings"]
        self.result["method"] = "node_maintenance" if nm is not None else "drain"
        if findings:
            self.result["adopted"].append(findings[0]["subject"])
        before = {"unschedulable": is_cordoned(node), "node_maintenance": bool(nm)}
        ours = (self.record or {}).get("campaign") == self.campaign
        if nm is not None:
            self.result["node_maintenance"] = nm["metadata"]["name"]
            if not nm["metadata"].get("deletionTimestamp"):
                self.set_step(node, LEAVING)
                self.cluster.delete(NMO_API, NM_KIND, nm["metadata"]["name"])
                self.changed()
        elif is_cordoned(node):
            self.set_step(node, LEAVING, {"spec": {"unschedulable": None}})
        elif ours and self.record["step"] != LEFT:
            self.step = LEAVING
        self.set_diff(before, {"unschedulable": False, "node_maintenance": False})
        storage_nodes = self.storage_nodes()
        has_storage_node = storage_nodes is not None and storage_node_for(storage_nodes, self.node_name) is not None
        if self.wait_enabled:
            self.wait_back_in_service(nm, has_storage_node)
            if self.step == LEAVING:
                self.set_step(node, LEFT)
        self.lap("uncordon", mark)
        final = self.read_node()
        self.result["cordoned"] = is_cordoned(final)
        if self.record:
            self.result["progress"] = dict(self.record, node=self.node_name)
        if has_storage_node:
            self.result["storage_node_phase"] = storage_node_phase(storage_node_for(self.storage_nodes(), self.node_name))

    def wait_back_in_service(self, nm, has_storage_node):
        def probe():
            self.renew_lock()
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
