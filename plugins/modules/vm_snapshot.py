#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm_snapshot
short_description: Take or delete a KubeVirt VirtualMachineSnapshot of a VM on Portworx
version_added: 0.3.0
author:
  - ocpvirt.portworx maintainers (@ocpvirt)
description:
  - Creates a C(snapshot.kubevirt.io/v1beta1) VirtualMachineSnapshot of a VirtualMachine and waits until it is
    C(readyToUse), or deletes one (its content and volume snapshots go with it).
  - A running VM gets an online snapshot; when its guest agent is connected KubeVirt freezes the guest filesystems
    for the cut (RV(snapshot.consistency) is V(guest-agent-frozen)), otherwise the snapshot is only crash-consistent.
  - Refuses, before writing anything, when a disk of the VM has no VolumeSnapshotClass for the driver of its
    StorageClass (KubeVirt would silently leave that disk out), when several classes match and none is the default,
    when a disk's claim is not Bound, and when a snapshot of that name exists for another VM.
  - With O(space_check), reports the space a snapshot schedule needs by the document's formula (disk size times
    hourly change rate times snapshots kept, 30Gi x 10% x 7 = 21Gi) against the Portworx pools' free space.
  - An existing snapshot of the same VM is no change; it is only waited for.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ocpvirt.portworx.common.WAIT
options:
  name:
    description: Name of the VirtualMachineSnapshot.
    type: str
    required: true
  namespace:
    description: Namespace of the VM and the snapshot.
    type: str
    required: true
  vm:
    description: Name of the VirtualMachine to snapshot. Required with O(state=present).
    type: str
  state:
    description: V(present) takes the snapshot, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  deletion_policy:
    description:
      - C(spec.deletionPolicy) of a new snapshot; V(Retain) keeps the VirtualMachineSnapshotContent when the snapshot is
        deleted. Default is KubeVirt's (V(Delete)).
    type: str
    choices: [Delete, Retain]
  require_guest_agent:
    description:
      - Refuse to snapshot a running VM whose guest agent is not connected (the snapshot would only be
        crash-consistent).
    type: bool
    default: false
  space_check:
    description:
      - Inputs of the snapshot space formula for a planned schedule; when given, RV(space) reports the reserve.
    type: dict
    suboptions:
      hourly_change_rate:
        description: Share of a disk that changes between two hourly snapshots (0.1 is 10 percent).
        type: float
        default: 0.1
      snapshots_retained:
        description: Snapshots kept.
        type: int
        default: 7
      enforce:
        description: Refuse, before any write, when the Portworx pools lack the space; otherwise only warn.
        type: bool
        default: false
notes:
  - Supports check mode (the create or delete is sent as a server-side dry run; nothing is waited for).
  - Needs KubeVirt's C(snapshot.kubevirt.io/v1beta1) API (OpenShift Virtualization 4.14 and later) and the CSI
    snapshot controller.
"""

EXAMPLES = r"""
- name: Snapshot a VM before patching its guest
  ocpvirt.portworx.vm_snapshot:
    name: rhel9-web-before-patch
    namespace: vms
    vm: rhel9-web
    require_guest_agent: true
  register: snap

- name: Check the space a schedule keeping 24 hourly snapshots needs
  ocpvirt.portworx.vm_snapshot:
    name: rhel9-web-hourly-0
    namespace: vms
    vm: rhel9-web
    space_check:
      hourly_change_rate: 0.05
      snapshots_retained: 24
      enforce: true

- name: Delete the snapshot
  ocpvirt.portworx.vm_snapshot:
    name: rhel9-web-before-patch
    namespace: vms
    state: absent
"""

RETURN = r"""
snapshot:
  description: The snapshot as KubeVirt reports it (empty after a delete).
  returned: success
  type: dict
  contains:
    name:
      description: Name of the snapshot.
      type: str
    namespace:
      description: Namespace.
      type: str
    vm:
      description: The VM it is a snapshot of.
      type: str
    phase:
      description: C(InProgress), C(Succeeded), C(Failed) or C(Deleting).
      type: str
      sample: Succeeded
    ready_to_use:
      description: Whether it can be restored.
      type: bool
    indications:
      description: KubeVirt's indications (C(Online), C(GuestAgent), C(NoGuestAgent), C(Paused), C(QuiesceTimeout)).
      type: list
      elements: str
      sample: [GuestAgent, Online]
    content:
      description: Name of the VirtualMachineSnapshotContent.
      type: str
    creation_time:
      description: When the volumes were cut.
      type: str
    included_volumes:
      description: VM volumes in the snapshot.
      type: list
      elements: str
    excluded_volumes:
      description: VM volumes KubeVirt left out.
      type: list
      elements: str
    volumes:
      description: Each disk with its claim, StorageClass, driver and the VolumeSnapshotClass used.
      type: list
      elements: dict
    consistency:
      description: V(offline), V(guest-agent-frozen) or V(crash-consistent).
      type: str
space:
  description: The snapshot reserve against the Portworx pools; only with O(space_check).
  returned: when O(space_check) is given
  type: dict
  sample: {"disk_gib": 30.0, "change_rate": 0.1, "snapshots_retained": 7, "reserve_gib": 21.0, "reserve_raw_gib": 63.0,
           "pool_total_gib": 9216.0, "pool_free_gib": 8856.0, "pools_reported": true, "fits": true}
"""

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import CDI_API, KUBEVIRT_API, PORTWORX_API, STORAGE_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.cluster import describe
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Refusal
from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import OcpVirtModule
from ansible_collections.ocpvirt.portworx.plugins.module_utils.snapshot_space import snapshot_space, space_warning
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage import replication_factor
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import count, describe_name, dns_label, dns_subdomain
from ansible_collections.ocpvirt.portworx.plugins.module_utils.vm_snapshot_plan import (
    SNAPSHOT_API,
    VOLUME_SNAPSHOT_API,
    claim_volumes,
    plan_snapshot,
    snapshot_facts,
    snapshot_progress,
)


# Namespaces and VirtualMachines are DNS-1123 labels; VirtualMachineSnapshot is a custom resource,
# whose names the apiserver validates as DNS-1123 subdomains (apiextensions-apiserver).
OPTION_RULES = (
    ("namespace", dns_label("Namespace")),
    ("name", dns_subdomain("VirtualMachineSnapshot")),
    ("vm", dns_label("VirtualMachine")),
    ("space_check.hourly_change_rate", count(minimum=0, maximum=1, kind="float")),
    ("space_check.snapshots_retained", count(minimum=1)),
)


class VmSnapshotModule(OcpVirtModule):
    option_rules = OPTION_RULES

    def option_subject(self):
        return "VirtualMachineSnapshot {0}/{1}".format(describe_name(self.params["namespace"]), describe_name(self.params["name"]))

    def __init__(self):
        super(VmSnapshotModule, self).__init__(
            argument_spec=dict(
                name=dict(type="str", required=True),
                namespace=dict(type="str", required=True),
                vm=dict(type="str"),
                state=dict(type="str", choices=["present", "absent"], default="present"),
                deletion_policy=dict(type="str", choices=["Delete", "Retain"]),
                require_guest_agent=dict(type="bool", default=False),
                space_check=dict(type="dict", options=dict(
                    hourly_change_rate=dict(type="float", default=0.1),
                    snapshots_retained=dict(type="int", default=7),
                    enforce=dict(type="bool", default=False),
                )),
            ),
            required_if=[("state", "present", ["vm"])],
        )

    def execute_module(self):
        name, namespace = self.params["name"], self.params["namespace"]
        existing = self.cluster.get(SNAPSHOT_API, "VirtualMachineSnapshot", name, namespace)
        if self.params["state"] == "absent":
            self._delete(existing)
            return
        vm = self.cluster.get(KUBEVIRT_API, "VirtualMachine", self.params["vm"], namespace)
        vmi = self.cluster.get(KUBEVIRT_API, "VirtualMachineInstance", self.params["vm"], namespace) if vm else None
        claims, classes, profiles = self._storage_of(vm, namespace)
        snapshot_classes = self.cluster.list(VOLUME_SNAPSHOT_API, "VolumeSnapshotClass")
        plan = plan_snapshot(self.params, vm, vmi, claims, classes, profiles, snapshot_classes, existing)
        if self.params["space_check"]:
            self._check_space(plan, classes)
        current = existing
        if plan.needs_create:
            current = self.cluster.create(plan.definition(self.params["deletion_policy"]))
            self.changed()
            self.set_diff({}, {"snapshot": name, "vm": plan.vm_name})
        if self.wait_enabled:
            current = self.waiter().until(
                "{0} to be readyToUse".format(describe("VirtualMachineSnapshot", name, namespace)), self._progress)
        self.result["snapshot"] = snapshot_facts(current, plan)

    def _storage_of(self, vm, namespace):
        claims, classes, profiles = {}, {}, {}
        cdi = self.cluster.served(CDI_API, "StorageProfile")
        for dummy, claim_name in claim_volumes(vm or {}):
            claim = self.cluster.get("v1", "PersistentVolumeClaim", claim_name, namespace)
            claims[claim_name] = claim
            class_name = ((claim or {}).get("spec") or {}).get("storageClassName")
            if class_name and class_name not in classes:
                classes[class_name] = self.cluster.get(STORAGE_API, "StorageClass", class_name)
                profiles[class_name] = self.cluster.get(CDI_API, "StorageProfile", class_name) if cdi else None
        return claims, classes, profiles

    def _check_space(self, plan, classes):
        options = self.params["space_check"]
        disks = [{"size": v["size"], "repl": replication_factor(classes.get(v["storage_class"]))} for v in plan.volumes]
        nodes = self.cluster.list(PORTWORX_API, "StorageNode") if self.cluster.served(PORTWORX_API, "StorageNode") else []
        report = snapshot_space(disks, options["hourly_change_rate"], options["snapshots_retained"], nodes)
        self.result["space"] = report
        warning = space_warning(report)
        if warning and options["enforce"]:
            raise Refusal(describe("VirtualMachine", plan.vm_name, plan.namespace), "the snapshot schedule does not fit", warning, space=report)
        if warning:
            self.warn(warning)

    def _progress(self):
        snapshot = self.cluster.get(SNAPSHOT_API, "VirtualMachineSnapshot", self.params["name"], self.params["namespace"])
        done, state = snapshot_progress(snapshot)
        return (True, snapshot) if done else (False, state)

    def _delete(self, existing):
        name, namespace = self.params["name"], self.params["namespace"]
        self.result["snapshot"] = {}
        if existing is None:
            return
        self.cluster.delete(SNAPSHOT_API, "VirtualMachineSnapshot", name, namespace)
        self.changed()
        self.set_diff({"snapshot": name}, {})
        if self.wait_enabled:
            self.waiter().until("{0} to be deleted".format(describe("VirtualMachineSnapshot", name, namespace)),
                                lambda: (self.cluster.get(SNAPSHOT_API, "VirtualMachineSnapshot", name, namespace) is None, "still there"))


def main():
    VmSnapshotModule().run()


if __name__ == "__main__":
    main()
