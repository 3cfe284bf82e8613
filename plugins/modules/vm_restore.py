#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm_restore
short_description: Restore a KubeVirt VirtualMachineSnapshot onto its VM or onto a new VM
version_added: 0.3.0
author:
  - ocpvirt.portworx maintainers (@ocpvirt)
description:
  - Creates a C(snapshot.kubevirt.io/v1beta1) VirtualMachineRestore of a VirtualMachineSnapshot and waits until it is
    C(complete). KubeVirt restores each disk into a new claim from its volume snapshot and points the VM at it.
  - The target is the VM the snapshot was taken of, or a VM that does not exist yet (created stopped). A target that
    exists and is another VM is refused, as KubeVirt refuses it.
  - KubeVirt restores only a stopped VM. A running target is refused unless O(stop_target) lets the restore stop it
    (C(targetReadinessPolicy=StopTarget)); otherwise the restore asks for C(FailImmediate), so a VM started in the
    meantime fails the restore instead of being stopped.
  - With O(start) the restored VM is started afterwards.
  - An existing restore of the same snapshot onto the same target is no change; it is only waited for.
  - When starting the restored VM fails after the restore completed, the failure says so, with RV(half_done) and
    RV(done).
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ocpvirt.portworx.common.WAIT
options:
  name:
    description: Name of the VirtualMachineRestore.
    type: str
    required: true
  namespace:
    description: Namespace of the snapshot, the restore and the target VM.
    type: str
    required: true
  snapshot:
    description: Name of the VirtualMachineSnapshot to restore.
    type: str
    required: true
  target:
    description: Name of the target VM. Default the VM the snapshot was taken of.
    type: str
  stop_target:
    description: Let the restore stop a running target VM (its guest goes down).
    type: bool
    default: false
  start:
    description: Start the target VM once the restore is complete (needs O(wait)).
    type: bool
    default: false
notes:
  - Supports check mode (the restore is sent as a server-side dry run; nothing is stopped, started or waited for).
"""

EXAMPLES = r"""
- name: Roll a VM back to its snapshot and start it again
  ocpvirt.portworx.vm_restore:
    name: rhel9-web-rollback
    namespace: vms
    snapshot: rhel9-web-before-patch
    stop_target: true
    start: true

- name: Restore the snapshot as a new VM for inspection
  ocpvirt.portworx.vm_restore:
    name: rhel9-web-inspect
    namespace: vms
    snapshot: rhel9-web-before-patch
    target: rhel9-web-inspect
"""

RETURN = r"""
restore:
  description: The restore as KubeVirt reports it.
  returned: success
  type: dict
  contains:
    name:
      description: Name of the restore.
      type: str
    namespace:
      description: Namespace.
      type: str
    snapshot:
      description: The snapshot restored.
      type: str
    target:
      description: The target VM.
      type: str
    target_readiness_policy:
      description: C(StopTarget) or C(FailImmediate).
      type: str
    complete:
      description: Whether KubeVirt finished the restore.
      type: bool
    restore_time:
      description: When it finished.
      type: str
    restores:
      description: Each volume with its restored claim and the volume snapshot it came from.
      type: list
      elements: dict
      sample: [{"volume": "rootdisk", "claim": "restore-6b8c...-rootdisk", "volume_snapshot": "vmsnapshot-1f2e...-volume-rootdisk"}]
started:
  description: Whether the module started the target VM.
  returned: success
  type: bool
half_done:
  description: True when a write failed after earlier writes of the same task had succeeded.
  returned: when a later write failed
  type: bool
done:
  description: The restore that completed when starting the restored VM failed.
  returned: when a later write failed
  type: list
  elements: str
  sample: ["VirtualMachineRestore vms/rollback complete, VirtualMachine vms/vm-1 restored and not started"]
"""

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import KUBEVIRT_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.cluster import describe
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure, half_done
from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import OcpVirtModule
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import describe_name, dns_label, dns_subdomain
from ansible_collections.ocpvirt.portworx.plugins.module_utils.vm_restore_plan import (
    SNAPSHOT_API,
    needs_start,
    plan_restore,
    restore_facts,
    restore_progress,
)

START_PATH = "/apis/subresources.kubevirt.io/v1/namespaces/{0}/virtualmachines/{1}/start"

# VirtualMachineRestore and VirtualMachineSnapshot are custom resources (DNS-1123 subdomain names);
# the target is a VirtualMachine (a DNS-1123 label, as KubeVirt's VM webhook requires).
OPTION_RULES = (
    ("namespace", dns_label("Namespace")),
    ("name", dns_subdomain("VirtualMachineRestore")),
    ("snapshot", dns_subdomain("VirtualMachineSnapshot")),
    ("target", dns_label("VirtualMachine")),
)


class VmRestoreModule(OcpVirtModule):
    option_rules = OPTION_RULES

    def option_subject(self):
        return "VirtualMachineRestore {0}/{1}".format(describe_name(self.params["namespace"]), describe_name(self.params["name"]))

    def __init__(self):
        super(VmRestoreModule, self).__init__(
            argument_spec=dict(
                name=dict(type="str", required=True),
                namespace=dict(type="str", required=True),
                snapshot=dict(type="str", required=True),
                target=dict(type="str"),
                stop_target=dict(type="bool", default=False),
                start=dict(type="bool", default=False),
            ),
        )

    def execute_module(self):
        name, namespace = self.params["name"], self.params["namespace"]
        snapshot = self.cluster.get(SNAPSHOT_API, "VirtualMachineSnapshot", self.params["snapshot"], namespace)
        existing = self.cluster.get(SNAPSHOT_API, "VirtualMachineRestore", name, namespace)
        target_name = self.params["target"] or ((snapshot or {}).get("spec") or {}).get("source", {}).get("name")
        target_vm = self.cluster.get(KUBEVIRT_API, "VirtualMachine", target_name, namespace) if target_name else None
        target_vmi = self.cluster.get(KUBEVIRT_API, "VirtualMachineInstance", target_name, namespace) if target_vm else None
        plan = plan_restore(self.params, snapshot, existing, target_vm, target_vmi)
        current = existing
        if plan.needs_create:
            current = self.cluster.create(plan.definition())
            self.changed()
            self.set_diff({}, {"restore": name, "snapshot": plan.snapshot, "target": plan.target})
        self.result["started"] = False
        if self.wait_enabled:
            current = self.waiter().until("{0} to complete".format(describe("VirtualMachineRestore", name, namespace)), self._progress)
            if self.params["start"]:
                self._start(plan.target)
        self.result["restore"] = restore_facts(current, plan)

    def _progress(self):
        restore = self.cluster.get(SNAPSHOT_API, "VirtualMachineRestore", self.params["name"], self.params["namespace"])
        done, state = restore_progress(restore)
        return (True, restore) if done else (False, state)

    def _start(self, target):
        namespace = self.params["namespace"]
        vm = self.cluster.get(KUBEVIRT_API, "VirtualMachine", target, namespace)
        if vm is None or not needs_start(vm):
            return
        try:
            self.cluster.subresource("put", START_PATH.format(namespace, target), body={},
                                     subject=describe("VirtualMachine", target, namespace), action="start")
        except ModuleFailure as failure:
            restored = "{0} complete, {1} restored and not started".format(
                describe("VirtualMachineRestore", self.params["name"], namespace), describe("VirtualMachine", target, namespace))
            raise half_done(failure, [restored], "Run the task again (or start the VM) to start it")
        self.changed()
        self.result["started"] = True


def main():
    VmRestoreModule().run()


if __name__ == "__main__":
    main()
