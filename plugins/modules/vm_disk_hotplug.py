#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm_disk_hotplug
short_description: Hot-plug or unplug a disk on a KubeVirt virtual machine
version_added: 0.1.0
author:
  - ocpvirt.portworx maintainers (@ocpvirt)
description:
  - Adds a disk to a running VM without a restart through the KubeVirt C(addvolume) subresource, or
    removes a hot-plugged disk through C(removevolume). The volume is persisted in the VM spec, so
    it survives a restart. A stopped VM gets the disk in its spec only.
  - The disk is an existing claim (O(claim_name), a PVC or a DataVolume) or a new blank DataVolume
    of O(size). New DataVolumes carry C(portworx.io/app=kubevirt) and
    C(cdi.kubevirt.io/storage.usePopulator=false), never C(cdi.kubevirt.io/storage.bind.immediate.requested),
    and the mark C(ocpvirt.portworx/hotplug-for=<vm>/<name>).
  - A run stopped between creating the DataVolume and attaching it leaves the DataVolume unattached; the next run
    says so first (a warning and RV(previous_run)) and then attaches it, without creating a second one.
  - Refuses, before writing anything, a SATA disk (it cannot be hot-plugged), a claim that is not
    ReadWriteMany (the VM could no longer live-migrate) unless O(allow_rwo=true), a claim whose
    Portworx replication factor differs from the VM's other volumes unless
    O(allow_replication_mismatch=true), and a SCSI reservation on a Portworx volume (no SCSI-3 PR).
  - Waits until the VMI reports the volume C(Ready) in C(status.volumeStatus), or gone for O(state=absent).
options:
  vm:
    description: Name of the VirtualMachine, a DNS-1123 label.
    type: str
    required: true
  namespace:
    description: Namespace of the VirtualMachine (and of the claim), a DNS-1123 label.
    type: str
    required: true
  name:
    description: Name of the disk and of its volume in the VM, a DNS-1123 label.
    type: str
    required: true
  state:
    description:
      - V(present) attaches the disk, V(absent) detaches a hot-plugged disk (the claim is kept).
    type: str
    choices: [present, absent]
    default: present
  claim_name:
    description:
      - An existing PVC or DataVolume in O(namespace) to attach, a DNS-1123 subdomain.
      - Mutually exclusive with O(size).
    type: str
  size:
    description:
      - Size of a new blank DataVolume named C(<vm>-<name>), for example V(20Gi). A Kubernetes quantity, a whole
        number of bytes of at least 1Mi; V(abc), V(-1Gi), V(0), V(10GB) and V(20) (20 bytes) are refused before anything is written.
    type: str
  storage_class:
    description:
      - StorageClass of the new DataVolume. Defaults to the default virtualization class, else the
        cluster default class. A DNS-1123 subdomain.
    type: str
  access_mode:
    description: Access mode of the new DataVolume; V(ReadWriteOnce) requires O(allow_rwo=true).
    type: str
    choices: [ReadWriteMany, ReadWriteOnce]
    default: ReadWriteMany
  volume_mode:
    description: Volume mode of the new DataVolume.
    type: str
    choices: [Block, Filesystem]
    default: Block
  bus:
    description:
      - Disk bus. V(scsi) is recommended by Portworx; V(virtio) needs drivers in Windows guests.
      - V(sata) is refused; a SATA disk can only be added to a stopped VM's spec.
    type: str
    choices: [scsi, virtio, sata]
    default: scsi
  serial:
    description: Serial number shown to the guest, to find the disk inside it; not empty.
    type: str
  shareable:
    description: Mark the disk shareable between VMs.
    type: bool
    default: false
  scsi_reservation:
    description:
      - Attach the disk as a SCSI LUN with persistent reservation (Windows failover clusters).
        Refused on Portworx volumes.
    type: bool
    default: false
  allow_rwo:
    description: Accept a claim that is not ReadWriteMany, knowing the VM can no longer live-migrate.
    type: bool
    default: false
  allow_replication_mismatch:
    description: Accept a claim whose Portworx replication factor differs from the VM's other volumes.
    type: bool
    default: false
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ocpvirt.portworx.common.WAIT
notes:
  - Check mode sends the DataVolume creation and the C(addvolume)/C(removevolume) request as dry runs.
  - Verify inside the guest that the disk is visible (for example by its O(serial)).
"""

EXAMPLES = r"""
- name: Add a new 20Gi RWX block disk to a running VM
  ocpvirt.portworx.vm_disk_hotplug:
    vm: db01
    namespace: vms
    name: data
    size: 20Gi
    serial: DATA01

- name: Attach an existing DataVolume on the virtio bus
  ocpvirt.portworx.vm_disk_hotplug:
    vm: db01
    namespace: vms
    name: logs
    claim_name: db01-logs
    bus: virtio

- name: Detach the data disk again (the DataVolume is kept)
  ocpvirt.portworx.vm_disk_hotplug:
    vm: db01
    namespace: vms
    name: data
    state: absent
"""

RETURN = r"""
disks:
  description: The VM's disks after the change (name, bus, claim, hotpluggable).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "data", "bus": "scsi", "claim": "db01-data", "hotpluggable": true}]
volume_status:
  description: The VMI's C(status.volumeStatus) after the change; empty when the VM is not running.
  returned: always
  type: list
  elements: dict
claim_name:
  description: The PVC or DataVolume attached (or detached).
  returned: when a volume is involved
  type: str
  sample: db01-data
data_volume_created:
  description: Whether a new DataVolume was created.
  returned: always
  type: bool
running:
  description:
    - Whether the VM had a live VirtualMachineInstance, so the disk was hot-plugged into it and not
      only added to the VM spec.
  returned: always
  type: bool
previous_run:
  description:
    - What an earlier run that was stopped (for example killed) between creating the DataVolume and attaching it
      left behind; this run attaches that DataVolume and creates no second one.
  returned: when such a DataVolume exists
  type: dict
  sample: {"data_volume": "vms/db01-data", "created": "2026-12-02T09:00:00Z", "vm": "db01", "disk": "data",
           "step": "created, not attached", "summary": "DataVolume vms/db01-data created at 2026-12-02T09:00:00Z but not attached ..."}
warnings_found:
  description: Things worth fixing that did not stop the change (for example a claim without C(portworx.io/app)).
  returned: always
  type: list
  elements: str
retries:
  description: Number of transient API errors that were retried.
  returned: when there were any
  type: int
  sample: 1
half_done:
  description: True when the C(addvolume) call failed after this run had created the DataVolume.
  returned: when that happened
  type: bool
done:
  description: The DataVolume created and not attached when the C(addvolume) call failed.
  returned: when that happened
  type: list
  elements: str
  sample: ["DataVolume vms/db01-data created but not attached to VM db01"]
"""

import copy

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import CDI_API, KUBEVIRT_API, STORAGE_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure, NotFound, half_done
from ansible_collections.ocpvirt.portworx.plugins.module_utils.hotplug_plan import (
    HotplugFacts,
    HotplugRequest,
    add_volume_options,
    claim_class_name,
    claim_name_of,
    describe_disks,
    hotplug_progress,
    is_running,
    plan_hotplug,
    remove_volume_options,
    subresource_path,
    vm_volumes,
    volume_attached,
    volume_detached,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import OcpVirtModule
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import MEBIBYTE, check_text, describe_name, dns_label, dns_subdomain, quantity


OPTION_RULES = (
    ("namespace", dns_label("Namespace")),
    ("vm", dns_label("VirtualMachine")),
    # The disk name is also the volume name in the VM spec and the suffix of the DataVolume "<vm>-<name>".
    ("name", dns_label("disk")),
    ("claim_name", dns_subdomain("PersistentVolumeClaim")),
    ("size", quantity(example="10Gi", at_least=MEBIBYTE)),
    ("storage_class", dns_subdomain("StorageClass")),
    ("serial", check_text(lambda text: bool(text.strip()), "is empty", "Give a serial number or leave the option out.")),
)


class VmDiskHotplug(OcpVirtModule):
    option_rules = OPTION_RULES

    def option_subject(self):
        return "VirtualMachine {0}/{1}".format(describe_name(self.params["namespace"]), describe_name(self.params["vm"]))

    def __init__(self):
        super(VmDiskHotplug, self).__init__(
            argument_spec=dict(
                vm=dict(type="str", required=True),
                namespace=dict(type="str", required=True),
                name=dict(type="str", required=True),
                state=dict(type="str", choices=["present", "absent"], default="present"),
                claim_name=dict(type="str"),
                size=dict(type="str"),
                storage_class=dict(type="str"),
                access_mode=dict(type="str", choices=["ReadWriteMany", "ReadWriteOnce"], default="ReadWriteMany"),
                volume_mode=dict(type="str", choices=["Block", "Filesystem"], default="Block"),
                bus=dict(type="str", choices=["scsi", "virtio", "sata"], default="scsi"),
                serial=dict(type="str"),
                shareable=dict(type="bool", default=False),
                scsi_reservation=dict(type="bool", default=False),
                allow_rwo=dict(type="bool", default=False),
                allow_replication_mismatch=dict(type="bool", default=False),
            ),
            mutually_exclusive=[("claim_name", "size")],
            required_if=[("state", "present", ("claim_name", "size"), True)],
        )

    def request(self):
        keys = ("vm", "namespace", "name", "state", "claim_name", "size", "storage_class", "access_mode", "volume_mode", "bus",
                "serial", "shareable", "scsi_reservation", "allow_rwo", "allow_replication_mismatch")
        return HotplugRequest(**dict((key, self.params[key]) for key in keys))

    def read_vm(self, request):
        vm = self.cluster.get(KUBEVIRT_API, "VirtualMachine", request.vm, request.namespace)
        if vm is None:
            raise NotFound("VirtualMachine {0}/{1}".format(request.namespace, request.vm), "check the name and namespace")
        return vm

    def read_vmi(self, request):
        return self.cluster.get(KUBEVIRT_API, "VirtualMachineInstance", request.vm, request.namespace)

    def gather(self, request, vm):
        claim_name = request.wanted_claim
        claim = self.cluster.get("v1", "PersistentVolumeClaim", claim_name, request.namespace)
        data_volume = None
        if self.cluster.served(CDI_API, "DataVolume"):
            data_volume = self.cluster.get(CDI_API, "DataVolume", claim_name, request.namespace)
        storage_classes = self.cluster.list(STORAGE_API, "StorageClass")
        facts = HotplugFacts(vm, claim, data_volume, storage_classes)
        vm_claims = []
        for volume in vm_volumes(vm):
            name = claim_name_of(volume)
            if name and name != claim_name:
                other = self.cluster.get("v1", "PersistentVolumeClaim", name, request.namespace)
                if other is not None and claim_class_name(other):
                    vm_claims.append(other)
        return facts.with_vm_claims(vm_claims)

    def execute_module(self):
        request = self.request()
        vm = self.read_vm(request)
        running = is_running(self.read_vmi(request))
        facts = self.gather(request, vm) if request.state == "present" else HotplugFacts(vm)
        plan = plan_hotplug(request, facts)
        self.result.update(warnings_found=plan.warnings, running=running, data_volume_created=False)
        if plan.claim_name:
            self.result["claim_name"] = plan.claim_name
        for warning in plan.warnings:
            self.warn(warning)
        if plan.previous_run is not None:
            self.result["previous_run"] = plan.previous_run
            self.warn("previous run: " + plan.previous_run["summary"])

        before = {"disks": describe_disks(vm)}
        after_vm = vm
        if plan.action == "add":
            if plan.create_data_volume is not None:
                self.cluster.create(plan.create_data_volume)
                self.result["data_volume_created"] = True
                self.changed()  # also when the addvolume call then fails: the DataVolume exists
            options = add_volume_options(request.name, plan.claim_name, plan.is_data_volume, plan.disk, dry_run=self.check_mode)
            try:
                self.call_volume_subresource(
                    request, "addvolume", options, lambda current: volume_attached(current, request.name, plan.claim_name)
                )
            except ModuleFailure as failure:
                if not self.result["data_volume_created"] or self.check_mode:
                    raise
                raise half_done(failure, ["DataVolume {0}/{1} created but not attached to VM {2}".format(
                    request.namespace, plan.claim_name, request.vm)], "Run the task again to attach it (no second DataVolume is created)")
            self.changed()
            after_vm = self.expected_after_add(vm, options)
        elif plan.action == "remove":
            self.call_volume_subresource(
                request, "removevolume", remove_volume_options(request.name, dry_run=self.check_mode),
                lambda current: volume_detached(current, request.name),
            )
            self.changed()
            after_vm = self.expected_after_remove(vm, request.name)

        if self.wait_enabled:
            self.wait_for(request, running, present=request.state == "present")
            after_vm = self.read_vm(request)
        vmi = self.read_vmi(request) if not self.check_mode or plan.action == "none" else None
        self.result["disks"] = describe_disks(after_vm)
        self.result["volume_status"] = ((vmi or {}).get("status") or {}).get("volumeStatus") or []
        self.set_diff(before, {"disks": self.result["disks"]})

    def call_volume_subresource(self, request, action, body, already_done):
        try:
            self.cluster.subresource(
                "PUT", subresource_path(request.namespace, request.vm, action), body=body,
                subject="VirtualMachine {0}/{1}".format(request.namespace, request.vm), action=action,
            )
        except ModuleFailure as failure:
            # A call whose answer was lost (a 5xx or reset after KubeVirt applied it) is replayed by
            # the retry, and KubeVirt answers the replay with 409. When the VM already shows the
            # change, the first call did it; any other 409 is a real conflict.
            if failure.status != 409 or self.check_mode or not already_done(self.read_vm(request)):
                raise

    @staticmethod
    def expected_after_add(vm, options):
        """The VM as KubeVirt will persist it, for check mode and ``wait: false``."""
        expected = copy.deepcopy(vm)
        spec = expected.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})
        volume = dict(options["volumeSource"])
        volume["name"] = options["name"]
        spec.setdefault("volumes", []).append(volume)
        spec.setdefault("domain", {}).setdefault("devices", {}).setdefault("disks", []).append(options["disk"])
        return expected

    @staticmethod
    def expected_after_remove(vm, name):
        expected = copy.deepcopy(vm)
        spec = ((expected.get("spec") or {}).get("template") or {}).get("spec") or {}
        spec["volumes"] = [v for v in spec.get("volumes") or [] if v.get("name") != name]
        devices = (spec.get("domain") or {}).get("devices") or {}
        devices["disks"] = [d for d in devices.get("disks") or [] if d.get("name") != name]
        return expected

    def wait_for(self, request, running, present):
        def probe():
            vm = self.read_vm(request)
            vmi = self.read_vmi(request) if running else None
            return hotplug_progress(vm, vmi, request.name, running, present)

        what = "disk {0} of VirtualMachine {1}/{2} to be {3}".format(
            request.name, request.namespace, request.vm, "Ready" if present else "detached"
        )
        self.waiter().until(what, probe)


def main():
    VmDiskHotplug().run()


if __name__ == "__main__":
    main()
