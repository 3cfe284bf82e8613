# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide what hot-plugging (or unplugging) one disk on a KubeVirt VM takes, and what to refuse.

Pure logic: the module gathers the VM, its VMI, the claim and the StorageClasses, and this planner
says which refusals apply, which DataVolume to create, and which ``addvolume``/``removevolume``
request to send. KubeVirt hot-plugs only DataVolumes and PVCs, only on the ``scsi`` and ``virtio``
buses; a disk must keep the VM live-migratable (RWX) and the VM's Portworx replication factor.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import CDI_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Refusal
from ansible_collections.ocpvirt.portworx.plugins.module_utils.quantity import compare_quantities
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage import (
    CLUSTER_DEFAULT_ANNOTATION,
    VIRT_DEFAULT_ANNOTATION,
    annotations,
    is_annotated_default,
    is_portworx,
    replication_factor,
)

HOTPLUG_BUSES = ("scsi", "virtio")
PORTWORX_APP_ANNOTATION = "portworx.io/app"
PORTWORX_APP_KUBEVIRT = "kubevirt"
USE_POPULATOR_ANNOTATION = "cdi.kubevirt.io/storage.usePopulator"
BIND_IMMEDIATE_ANNOTATION = "cdi.kubevirt.io/storage.bind.immediate.requested"
#: On a DataVolume this module created: ``<vm>/<disk>``, the VM (same namespace) and disk it was created for.
#: A DataVolume with the mark but no volume in the VM was left by a run stopped between create and addvolume.
CREATED_FOR_ANNOTATION = "ocpvirt.portworx/hotplug-for"
READY_PHASE = "Ready"


def template_spec(vm):
    return (((vm or {}).get("spec") or {}).get("template") or {}).get("spec") or {}


def vm_volumes(vm):
    return template_spec(vm).get("volumes") or []


def vm_disks(vm):
    return ((template_spec(vm).get("domain") or {}).get("devices") or {}).get("disks") or []


def find_named(items, name):
    for item in items:
        if item.get("name") == name:
            return item
    return None


def claim_name_of(volume):
    """The PVC or DataVolume a VM volume uses, or None for other sources (containerDisk, ...)."""
    volume = volume or {}
    if volume.get("persistentVolumeClaim"):
        return volume["persistentVolumeClaim"].get("claimName")
    if volume.get("dataVolume"):
        return volume["dataVolume"].get("name")
    return None


def is_hotpluggable(volume):
    volume = volume or {}
    source = volume.get("persistentVolumeClaim") or volume.get("dataVolume") or {}
    return bool(source.get("hotpluggable"))


VMI_FINAL_PHASES = ("Succeeded", "Failed")


def is_running(vmi):
    """Whether the VM has a live instance: a hot-plugged disk then has to reach it, whatever the
    run strategy says (``Manual`` VMs run without ``spec.running``, a stopping VM is still live)."""
    if not vmi or (vmi.get("metadata") or {}).get("deletionTimestamp"):
        return False
    return ((vmi.get("status") or {}).get("phase")) not in VMI_FINAL_PHASES


def volume_attached(vm, name, claim_name):
    """Whether the VM spec has volume ``name`` on ``claim_name`` (the state an add leaves)."""
    volume = find_named(vm_volumes(vm), name)
    return volume is not None and claim_name_of(volume) == claim_name


def volume_detached(vm, name):
    return find_named(vm_volumes(vm), name) is None


def volume_status(vmi, name):
    for entry in ((vmi or {}).get("status") or {}).get("volumeStatus") or []:
        if entry.get("name") == name:
            return entry
    return None


def default_virt_class(storage_classes):
    """The class VM disks get by default: the virt default, else the cluster default."""
    for annotation in (VIRT_DEFAULT_ANNOTATION, CLUSTER_DEFAULT_ANNOTATION):
        defaults = sorted(sc["metadata"]["name"] for sc in storage_classes if is_annotated_default(sc, annotation))
        if defaults:
            return defaults[0]
    return None


def data_volume_name(vm_name, disk_name):
    return "{0}-{1}".format(vm_name, disk_name)


def created_for(vm_name, disk_name):
    return "{0}/{1}".format(vm_name, disk_name)


def blank_data_volume(name, namespace, size, storage_class, access_mode, volume_mode, owner=None):
    """A blank DataVolume for a new VM disk, annotated as Portworx and CDI want VM disks (and marked with ``owner``)."""
    manifest = {
        "apiVersion": CDI_API,
        "kind": "DataVolume",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": {
                PORTWORX_APP_ANNOTATION: PORTWORX_APP_KUBEVIRT,
                USE_POPULATOR_ANNOTATION: "false",
            },
        },
        "spec": {
            "source": {"blank": {}},
            "storage": {
                "accessModes": [access_mode],
                "volumeMode": volume_mode,
                "storageClassName": storage_class,
                "resources": {"requests": {"storage": size}},
            },
        },
    }
    if owner:
        manifest["metadata"]["annotations"][CREATED_FOR_ANNOTATION] = owner
    return manifest


def disk_device(name, bus, serial=None, shareable=False, scsi_reservation=False):
    """The ``Disk`` of an AddVolumeOptions: a plain disk, or a SCSI LUN when reservation is asked."""
    disk = {"name": name}
    if scsi_reservation:
        disk["lun"] = {"bus": "scsi", "reservation": True}
    else:
        disk["disk"] = {"bus": bus}
    if serial:
        disk["serial"] = serial
    if shareable:
        disk["shareable"] = True
    return disk


def add_volume_options(name, claim_name, is_data_volume, disk, dry_run=False):
    if is_data_volume:
        source = {"dataVolume": {"name": claim_name, "hotpluggable": True}}
    else:
        source = {"persistentVolumeClaim": {"claimName": claim_name, "hotpluggable": True}}
    options = {"name": name, "disk": disk, "volumeSource": source}
    if dry_run:
        options["dryRun"] = ["All"]
    return options


def remove_volume_options(name, dry_run=False):
    options = {"name": name}
    if dry_run:
        options["dryRun"] = ["All"]
    return options


def subresource_path(namespace, vm_name, action):
    return "/apis/subresources.kubevirt.io/v1/namespaces/{0}/virtualmachines/{1}/{2}".format(namespace, vm_name, action)


def claim_access_modes(claim, data_volume=None):
    """Access modes of a claim; for a DataVolume whose PVC does not exist yet, those it asks for."""
    modes = ((claim or {}).get("spec") or {}).get("accessModes")
    if modes:
        return list(modes)
    spec = (data_volume or {}).get("spec") or {}
    return list(((spec.get("storage") or spec.get("pvc") or {}).get("accessModes")) or [])


def claim_class_name(claim, data_volume=None):
    name = ((claim or {}).get("spec") or {}).get("storageClassName")
    if name:
        return name
    spec = (data_volume or {}).get("spec") or {}
    return (spec.get("storage") or spec.get("pvc") or {}).get("storageClassName")


class HotplugRequest(object):
    """The user's request, normalised (the module's parameters)."""

    def __init__(self, vm, namespace, name, state="present", claim_name=None, size=None, storage_class=None,
                 access_mode="ReadWriteMany", volume_mode="Block", bus="scsi", serial=None, shareable=False,
                 scsi_reservation=False, allow_rwo=False, allow_replication_mismatch=False):
        self.vm = vm
        self.namespace = namespace
        self.name = name
        self.state = state
        self.claim_name = claim_name
        self.size = size
        self.storage_class = storage_class
        self.access_mode = access_mode
        self.volume_mode = volume_mode
        self.bus = bus
        self.serial = serial
        self.shareable = shareable
        self.scsi_reservation = scsi_reservation
        self.allow_rwo = allow_rwo
        self.allow_replication_mismatch = allow_replication_mismatch

    @property
    def wanted_claim(self):
        return self.claim_name or data_volume_name(self.vm, self.name)


class HotplugPlan(object):
    """What to do: ``action`` is ``add``, ``remove`` or ``none``; ``create_data_volume`` a manifest or None."""

    def __init__(self, action, claim_name=None, is_data_volume=False, create_data_volume=None, disk=None, warnings=None,
                 previous_run=None):
        self.action = action
        self.claim_name = claim_name
        self.is_data_volume = is_data_volume
        self.create_data_volume = create_data_volume
        self.disk = disk
        self.warnings = warnings or []
        #: What an earlier, interrupted run left (see :func:`left_behind`), or None.
        self.previous_run = previous_run


class HotplugFacts(object):
    """What the module read from the cluster for one request."""

    def __init__(self, vm, claim=None, data_volume=None, storage_classes=None):
        self.vm = vm
        self.claim = claim
        self.data_volume = data_volume
        self.storage_classes = storage_classes or []
        self.classes_by_name = dict((sc["metadata"]["name"], sc) for sc in self.storage_classes)
        self.claims_by_name = {}

    def with_vm_claims(self, claims):
        """The PVCs of the VM's other volumes, to compare replication factors."""
        self.claims_by_name = dict((c["metadata"]["name"], c) for c in claims)
        return self


def plan_hotplug(request, facts):
    """Return a :class:`HotplugPlan`, or raise :class:`Refusal` before anything is written."""
    subject = "VirtualMachine {0}/{1}".format(request.namespace, request.vm)
    volume = find_named(vm_volumes(facts.vm), request.name)
    disk = find_named(vm_disks(facts.vm), request.name)
    if request.state == "absent":
        return _plan_removal(subject, request, volume)

    if request.bus == "sata" and not request.scsi_reservation:
        raise Refusal(
            subject,
            "disk {0!r} asks for the sata bus, and a SATA disk cannot be hot-plugged (KubeVirt accepts scsi or virtio)".format(request.name),
            "Use bus scsi (recommended by Portworx) or virtio; for a SATA disk, stop the VM and add it to spec.template.spec.",
        )
    if volume is not None:
        return _plan_existing(subject, request, volume, disk)
    _refuse_source_in_use(subject, request, facts.vm)

    creates_data_volume = not request.claim_name
    claim_name = request.wanted_claim
    class_name = claim_class_name(facts.claim, facts.data_volume)
    if creates_data_volume and facts.data_volume is None and facts.claim is None:
        class_name = request.storage_class or default_virt_class(facts.storage_classes)
        if not class_name:
            raise Refusal(
                subject,
                "no storage_class was given and the cluster has no default virtualization or default StorageClass",
                "Pass storage_class, or mark the Portworx RWX block class as the virt default first.",
            )
        if class_name not in facts.classes_by_name:
            raise Refusal(
                "StorageClass {0}".format(class_name), "it does not exist", "Pass the name of an existing StorageClass."
            )
    elif not creates_data_volume and facts.claim is None and facts.data_volume is None:
        raise Refusal(
            "PersistentVolumeClaim {0}/{1}".format(request.namespace, claim_name),
            "neither a PVC nor a DataVolume of that name exists",
            "Create the claim first, or pass size (without claim_name) to create a blank DataVolume.",
        )

    storage_class = facts.classes_by_name.get(class_name)
    warnings = []
    _refuse_scsi_reservation(subject, request, storage_class)
    if creates_data_volume and facts.data_volume is None and facts.claim is None:
        access_modes = [request.access_mode]
    else:
        access_modes = claim_access_modes(facts.claim, facts.data_volume)
    _refuse_rwo(subject, request, claim_name, access_modes)
    _refuse_replication_mismatch(subject, request, claim_name, storage_class, facts)
    if facts.claim is not None and is_portworx(storage_class):
        if annotations(facts.claim).get(PORTWORX_APP_ANNOTATION) != PORTWORX_APP_KUBEVIRT:
            warnings.append(
                "PVC {0}/{1} has no annotation {2}: {3}; Portworx applies its KubeVirt volume settings only to annotated "
                "volumes".format(request.namespace, claim_name, PORTWORX_APP_ANNOTATION, PORTWORX_APP_KUBEVIRT)
            )
    if BIND_IMMEDIATE_ANNOTATION in annotations(facts.claim) or BIND_IMMEDIATE_ANNOTATION in annotations(facts.data_volume):
        warnings.append(
            "claim {0}/{1} carries {2}, which overrides WaitForFirstConsumer; VM disks should not".format(
                request.namespace, claim_name, BIND_IMMEDIATE_ANNOTATION
            )
        )

    manifest = None
    if creates_data_volume and facts.data_volume is None and facts.claim is None:
        manifest = blank_data_volume(claim_name, request.namespace, request.size, class_name, request.access_mode, request.volume_mode,
                                     owner=created_for(request.vm, request.name))
    is_dv = facts.data_volume is not None or manifest is not None
    wanted_disk = disk_device(request.name, request.bus, request.serial, request.shareable, request.scsi_reservation)
    previous = left_behind(request, facts.data_volume) if creates_data_volume else None
    if creates_data_volume:
        _refuse_data_volume_of_another_disk(subject, request, facts.data_volume, previous)
    return HotplugPlan("add", claim_name, is_dv, manifest, wanted_disk, warnings, previous)


def _refuse_data_volume_of_another_disk(subject, request, data_volume, previous):
    """A DataVolume of the derived name that this collection created for another VM or disk (``web`` +
    ``1-data`` and ``web-1`` + ``data`` both give ``web-1-data``) is not this disk's, and one left by an
    earlier run of this disk is this disk's only when it is of the requested size."""
    owner = annotations(data_volume).get(CREATED_FOR_ANNOTATION)
    name = "{0}/{1}".format(request.namespace, ((data_volume or {}).get("metadata") or {}).get("name"))
    if owner and owner != created_for(request.vm, request.name):
        raise Refusal(
            subject,
            "DataVolume {0} was created by this collection for {1}, not for disk {2!r} of VM {3}".format(name, owner, request.name, request.vm),
            "Give the disk another name, or name the claim to attach with claim_name if it is really meant to be shared.",
        )
    requested = ((((data_volume or {}).get("spec") or {}).get("storage") or {}).get("resources") or {}).get("requests", {}).get("storage")
    if previous is not None and request.size and requested and compare_quantities(requested, request.size) != 0:
        raise Refusal(
            subject,
            "DataVolume {0}, left by an earlier run for this disk, asks for {1}, not the {2} requested now".format(name, requested, request.size),
            "Run again with size {0} to attach it, or delete the DataVolume {1} first to create one of {2}.".format(requested, name, request.size),
        )


def left_behind(request, data_volume):
    """The DataVolume an earlier run created for this VM and disk but did not attach (the caller knows the
    volume is not in the VM), as ``{data_volume, created, vm, disk, step, summary}``; None when there is none."""
    if annotations(data_volume).get(CREATED_FOR_ANNOTATION) != created_for(request.vm, request.name):
        return None
    name = "{0}/{1}".format(request.namespace, (data_volume.get("metadata") or {}).get("name"))
    created = (data_volume.get("metadata") or {}).get("creationTimestamp")
    return {
        "data_volume": name, "created": created, "vm": request.vm, "disk": request.name, "step": "created, not attached",
        "summary": "DataVolume {0} created at {1} but not attached to VM {2} as disk {3!r} (an earlier run stopped in "
                   "between); attaching it, no second DataVolume".format(name, created, request.vm, request.name),
    }


def _plan_removal(subject, request, volume):
    if volume is None:
        return HotplugPlan("none")
    if not is_hotpluggable(volume):
        raise Refusal(
            subject,
            "volume {0!r} is part of the VM definition, not a hot-plugged volume, so it cannot be unplugged".format(request.name),
            "Stop the VM and edit spec.template.spec to remove it.",
        )
    return HotplugPlan("remove", claim_name_of(volume))


def _plan_existing(subject, request, volume, disk):
    """The volume name is taken: no change when it is what was asked for, a refusal otherwise."""
    current_claim = claim_name_of(volume)
    if current_claim != request.wanted_claim:
        raise Refusal(
            subject,
            "volume {0!r} already exists and uses claim {1!r}, not {2!r}".format(request.name, current_claim, request.wanted_claim),
            "Choose another name, or remove the existing volume first (state: absent).",
        )
    current_bus = ((disk or {}).get("disk") or (disk or {}).get("lun") or {}).get("bus")
    if disk is not None and current_bus and current_bus != ("scsi" if request.scsi_reservation else request.bus):
        raise Refusal(
            subject,
            "disk {0!r} is attached on bus {1}, not {2}; a hot-plugged disk cannot change bus".format(request.name, current_bus, request.bus),
            "Remove it (state: absent) and add it again with the wanted bus.",
        )
    return HotplugPlan("none", current_claim, is_data_volume=bool(volume.get("dataVolume")))


def _refuse_source_in_use(subject, request, vm):
    """KubeVirt's addvolume refuses a claim or DataVolume that another volume of the VM already uses
    (409 "Unable to add volume source [...] because it already exists")."""
    wanted = request.wanted_claim
    other = next((v for v in vm_volumes(vm) if wanted and claim_name_of(v) == wanted), None)
    if other is not None:
        raise Refusal(
            subject,
            "claim {0!r} is already used by volume {1!r} of this VM, and KubeVirt attaches a volume source only once".format(
                wanted, other.get("name")
            ),
            "Use name {0!r} to manage that volume, or pass another claim_name.".format(other.get("name")),
        )


def _refuse_scsi_reservation(subject, request, storage_class):
    if request.scsi_reservation and is_portworx(storage_class):
        raise Refusal(
            subject,
            "disk {0!r} asks for SCSI persistent reservation (shared disks for Windows failover clusters), and Portworx "
            "volumes do not support SCSI-3 persistent reservations".format(request.name),
            "Drop scsi_reservation, or put clustered shared disks on storage that supports SCSI-3 PR.",
        )


def _refuse_rwo(subject, request, claim_name, access_modes):
    if "ReadWriteMany" in access_modes or request.allow_rwo:
        return
    raise Refusal(
        subject,
        "claim {0!r} is {1}, not ReadWriteMany: with it the VM can no longer live-migrate, so node maintenance would "
        "shut it down or block".format(claim_name, "/".join(access_modes) or "without access modes"),
        "Use a ReadWriteMany claim (Portworx RWX block class), or set allow_rwo=true to accept a non-migratable VM.",
    )


def vm_replication_factors(vm, facts):
    """Portworx replication factor per claim of the VM's existing volumes (claims we could read)."""
    factors = {}
    for volume in vm_volumes(vm):
        name = claim_name_of(volume)
        claim = facts.claims_by_name.get(name)
        sc = facts.classes_by_name.get(claim_class_name(claim))
        if claim is not None and is_portworx(sc):
            factors[name] = replication_factor(sc) or 1
    return factors


def _refuse_replication_mismatch(subject, request, claim_name, storage_class, facts):
    if request.allow_replication_mismatch or not is_portworx(storage_class):
        return
    wanted = replication_factor(storage_class) or 1
    others = vm_replication_factors(facts.vm, facts)
    different = sorted("{0} (repl {1})".format(name, repl) for name, repl in others.items() if repl != wanted)
    if different:
        raise Refusal(
            subject,
            "claim {0!r} would have Portworx replication factor {1}, but the VM's other volumes have {2}".format(
                claim_name, wanted, ", ".join(different)
            ),
            "Use a StorageClass with the same repl as the VM's other disks, or set allow_replication_mismatch=true.",
        )


def describe_disks(vm):
    """The VM's disks as a compact, comparable list for diff and return values."""
    volumes = dict((v.get("name"), v) for v in vm_volumes(vm))
    described = []
    for disk in vm_disks(vm):
        volume = volumes.get(disk.get("name")) or {}
        device = disk.get("disk") or disk.get("lun") or disk.get("cdrom") or {}
        described.append(
            {
                "name": disk.get("name"),
                "bus": device.get("bus"),
                "claim": claim_name_of(volume),
                "hotpluggable": is_hotpluggable(volume),
            }
        )
    return described


def hotplug_progress(vm, vmi, name, running, present=True):
    """``(done, state)`` for the waiter: is the disk in (or out of) the VM spec and the VMI volume status?"""
    in_spec = find_named(vm_volumes(vm), name) is not None
    if not present:
        if in_spec:
            return False, "volume still in the VM spec"
        if running and vmi is not None:
            status = volume_status(vmi, name)
            in_vmi = find_named(((vmi.get("spec") or {}).get("volumes") or []), name) is not None
            if status is not None or in_vmi:
                return False, "volume still on the VMI (phase {0})".format((status or {}).get("phase"))
        return True, "volume removed"
    if not in_spec:
        return False, "volume not yet in the VM spec"
    if not running:
        return True, "volume in the VM spec (VM not running)"
    if vmi is None:
        return False, "the VM has no VMI yet"
    status = volume_status(vmi, name)
    if status is None:
        return False, "no volumeStatus entry for the volume yet"
    if status.get("phase") == READY_PHASE:
        return True, "volume Ready"
    return False, "volume phase {0}{1}".format(
        status.get("phase"), ": {0}".format(status.get("message")) if status.get("message") else ""
    )
