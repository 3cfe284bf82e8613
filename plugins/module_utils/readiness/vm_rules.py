# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VM fleet rules, evaluated per VirtualMachine and per VM template.

R3 no bind.immediate, R4 usePopulator "false" (OCP >= 4.14), R7 live-migrate on eviction, R8 RWX
disks, R9 no bridge on the pod network, R12 no SCSI reservation / shareable disk on Portworx, R13
no hot-plugged SATA disk, R15 one repl per VM, R16 portworx.io/app on pre-created claims, R24 no
BIOS on a 4096-byte logical root disk. The fixes for R3, R4, R7 and R16 are in ``vm_fixes``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.objects import (
    annotations_of,
    dig,
    labels_of,
    name_of,
    namespace_of,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage import is_portworx, replication_factor

USE_POPULATOR = "cdi.kubevirt.io/storage.usePopulator"
BIND_IMMEDIATE = "cdi.kubevirt.io/storage.bind.immediate.requested"
PORTWORX_APP = "portworx.io/app"
ACCEPTED_EVICTION = ("LiveMigrate", "LiveMigrateIfPossible", "External")
WANTED_EVICTION = "LiveMigrateIfPossible"
PORTWORX_LOGICAL_BLOCK = 4096
# Common templates are reconciled by the SSP operator, which would undo an edit (not verified
# against a live cluster: the label is the one the SSP operator documents for its objects).
SSP_MANAGED = ("app.kubernetes.io/managed-by", "ssp-operator")


class FleetPolicy(object):
    """What the rules depend on beyond the VM: the OpenShift version and the cluster default eviction."""

    def __init__(self, populator_rule=True, cluster_eviction=None):
        self.populator_rule = populator_rule
        self.cluster_eviction = cluster_eviction


def spec_violations(vm_spec, policy):
    """``[(rule id, detail)]`` of a VM spec alone (for VMs and templates)."""
    found = []
    for template in vm_spec.get("dataVolumeTemplates") or []:
        notes = annotations_of(template)
        if policy.populator_rule and str(notes.get(USE_POPULATOR)) != "false":
            found.append(("R4", "dataVolumeTemplate {0} lacks {1}: \"false\"".format(name_of(template), USE_POPULATOR)))
        if BIND_IMMEDIATE in notes:
            found.append(("R3", "dataVolumeTemplate {0} has {1}".format(name_of(template), BIND_IMMEDIATE)))
    strategy = dig(vm_spec, "template", "spec", "evictionStrategy") or policy.cluster_eviction
    if strategy not in ACCEPTED_EVICTION:
        found.append(("R7", "evictionStrategy is {0}".format(strategy or "unset")))
    found.extend(_network_violations(vm_spec))
    found.extend(_disk_bus_violations(vm_spec))
    return found


def _network_violations(vm_spec):
    spec = dig(vm_spec, "template", "spec") or {}
    pod_networks = set(n.get("name") for n in spec.get("networks") or [] if "pod" in n)
    return [("R9", "interface {0} uses bridge binding on the pod network".format(i.get("name")))
            for i in dig(spec, "domain", "devices", "interfaces") or [] if "bridge" in i and i.get("name") in pod_networks]


def _disk_bus_violations(vm_spec):
    spec = dig(vm_spec, "template", "spec") or {}
    hotplugged = set(v.get("name") for v in spec.get("volumes") or []
                     if dig(v, "dataVolume", "hotpluggable") or dig(v, "persistentVolumeClaim", "hotpluggable"))
    found = []
    for disk in dig(spec, "domain", "devices", "disks") or []:
        bus = dig(disk, "disk", "bus") or dig(disk, "lun", "bus")
        if disk.get("name") in hotplugged and bus == "sata":
            found.append(("R13", "hot-plugged disk {0} uses bus sata".format(disk.get("name"))))
    return found


def root_disk(vm_spec):
    disks = dig(vm_spec, "template", "spec", "domain", "devices", "disks") or []
    ordered = sorted((d for d in disks if d.get("bootOrder") is not None), key=lambda d: d["bootOrder"])
    return ordered[0] if ordered else (disks[0] if disks else None)


def boots_bios(vm_spec):
    """KubeVirt boots BIOS unless the firmware's bootloader says EFI."""
    return dig(vm_spec, "template", "spec", "domain", "firmware", "bootloader", "efi") is None


def vm_violations(vm, index, policy):
    """``[(rule id, detail)]`` for one VirtualMachine, its volumes and claims."""
    spec = vm.get("spec") or {}
    found = spec_violations(spec, policy)
    volumes = index.vm_volumes(vm)
    disks = dict((d.get("name"), d) for d in dig(spec, "template", "spec", "domain", "devices", "disks") or [])
    repls = set()
    for volume, claim_name, claim, class_name in volumes:
        storage_class = index.classes.get(class_name)
        found.extend(_claim_violations(volume, claim_name, claim, storage_class, disks.get(volume.get("name"))))
        if is_portworx(storage_class):
            repls.add(replication_factor(storage_class) or 1)
    if len(repls) > 1:
        found.append(("R15", "its Portworx volumes have repl {0}".format(", ".join(str(r) for r in sorted(repls)))))
    found.extend(_root_disk_violations(spec, volumes, index))
    return found


def _claim_violations(volume, claim_name, claim, storage_class, disk):
    found = []
    modes = dig(claim, "spec", "accessModes")
    if modes is not None and "ReadWriteMany" not in modes:
        found.append(("R8", "claim {0} is {1}".format(claim_name, "/".join(modes))))
    if claim is not None and BIND_IMMEDIATE in annotations_of(claim):
        found.append(("R3", "claim {0} has {1}".format(claim_name, BIND_IMMEDIATE)))
    if is_portworx(storage_class) and disk is not None:
        if dig(disk, "lun", "reservation") or disk.get("shareable"):
            found.append(("R12", "disk {0} is shareable or uses SCSI reservation on Portworx".format(disk.get("name"))))
    if is_pre_created(volume, claim) and is_portworx(storage_class) \
            and annotations_of(claim).get(PORTWORX_APP) != "kubevirt":
        found.append(("R16", "claim {0} lacks {1}: kubevirt".format(claim_name, PORTWORX_APP)))
    return found


def is_pre_created(volume, claim):
    """A claim the VM uses directly, not one a DataVolume made for it."""
    if claim is None or not volume.get("persistentVolumeClaim"):
        return False
    return not any(ref.get("kind") == "DataVolume" for ref in dig(claim, "metadata", "ownerReferences") or [])


def _root_disk_violations(spec, volumes, index):
    disk = root_disk(spec)
    if disk is None or not boots_bios(spec):
        return []
    logical = dig(disk, "blockSize", "custom", "logical")
    if logical is None and dig(disk, "blockSize", "matchVolume", "enabled"):
        for volume, dummy, claim, class_name in volumes:
            if volume.get("name") == disk.get("name") and is_portworx(index.classes.get(class_name)) \
                    and dig(claim, "spec", "volumeMode") == "Block":
                logical = PORTWORX_LOGICAL_BLOCK
    if logical is not None and int(logical) == PORTWORX_LOGICAL_BLOCK:
        return [("R24", "BIOS VM whose root disk {0} has 4096-byte logical blocks".format(disk.get("name")))]
    return []


def template_virtual_machines(template):
    """The VirtualMachine objects an OpenShift Template would create, with their positions."""
    return [(position, obj) for position, obj in enumerate(template.get("objects") or [])
            if obj.get("kind") == "VirtualMachine"]


def is_ssp_managed(template):
    key, value = SSP_MANAGED
    return labels_of(template).get(key) == value


def template_violations(template, policy):
    found = []
    for dummy, vm in template_virtual_machines(template):
        found.extend(spec_violations(vm.get("spec") or {}, policy))
    return found


def describe_vm(vm):
    return namespace_of(vm), name_of(vm)
