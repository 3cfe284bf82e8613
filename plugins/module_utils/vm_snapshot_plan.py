# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Taking a KubeVirt VirtualMachineSnapshot: what must hold before the write, and when it is done.

KubeVirt (v1.6 ``pkg/storage/snapshot/snapshot.go``) snapshots only the claims whose StorageClass
has a VolumeSnapshotClass for its provisioner and leaves the others out **silently** (they only
show in ``status.snapshotVolumes.excludedVolumes``). A snapshot that misses a disk is worse than
none, so the plan refuses when any disk of the VM has no class, naming the claim, its class and
the driver. The class is chosen as KubeVirt chooses it: the StorageProfile's
``status.snapshotClass``, else the only VolumeSnapshotClass of the driver, else the
default-annotated one among several.

An online snapshot (the VM runs) freezes the guest filesystems through the guest agent when one
is connected (indication ``GuestAgent``); without an agent it is only crash-consistent
(``NoGuestAgent``), which ``require_guest_agent`` refuses.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.cluster import describe
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure, Refusal
from ansible_collections.ocpvirt.portworx.plugins.module_utils.waiting import condition_is

SNAPSHOT_API = "snapshot.kubevirt.io/v1beta1"
VOLUME_SNAPSHOT_API = "snapshot.storage.k8s.io/v1"
DEFAULT_SNAPSHOT_CLASS_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class"


def _meta(obj):
    return (obj or {}).get("metadata") or {}


def claim_volumes(vm):
    """``[(volume name, claim name)]`` of the VM's PVC and DataVolume volumes (a DataVolume's claim has its name)."""
    found = []
    for volume in (((vm.get("spec") or {}).get("template") or {}).get("spec") or {}).get("volumes") or []:
        source = volume.get("persistentVolumeClaim") or {}
        claim = source.get("claimName") or (volume.get("dataVolume") or {}).get("name")
        if claim:
            found.append((volume["name"], claim))
    return found


def snapshot_class_for(storage_class, profile, snapshot_classes):
    """The VolumeSnapshotClass KubeVirt would use for a claim of ``storage_class``; None when there is none.

    Raises ``ValueError`` when several match and none is the default (KubeVirt's error too).
    """
    names = set(_meta(c).get("name") for c in snapshot_classes)
    from_profile = ((profile or {}).get("status") or {}).get("snapshotClass")
    if from_profile:
        return from_profile if from_profile in names else None
    driver = (storage_class or {}).get("provisioner")
    matches = [c for c in snapshot_classes if c.get("driver") == driver]
    if len(matches) == 1:
        return _meta(matches[0]).get("name")
    for candidate in matches:
        if DEFAULT_SNAPSHOT_CLASS_ANNOTATION in (_meta(candidate).get("annotations") or {}):
            return _meta(candidate).get("name")
    if matches:
        raise ValueError("{0} VolumeSnapshotClasses for driver {1} and none is the default".format(len(matches), driver))
    return None


def guest_agent_connected(vmi):
    return condition_is(vmi, "AgentConnected", "True")


class SnapshotPlan(object):
    def __init__(self, name, namespace, vm_name, volumes, online, agent, existing):
        self.name = name
        self.namespace = namespace
        self.vm_name = vm_name
        self.volumes = volumes
        self.online = online
        self.guest_agent = agent
        self.existing = existing

    @property
    def needs_create(self):
        return self.existing is None

    def definition(self, deletion_policy=None):
        spec = {"source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": self.vm_name}}
        if deletion_policy:
            spec["deletionPolicy"] = deletion_policy
        return {"apiVersion": SNAPSHOT_API, "kind": "VirtualMachineSnapshot",
                "metadata": {"name": self.name, "namespace": self.namespace}, "spec": spec}

    def consistency(self):
        if not self.online:
            return "offline"
        return "guest-agent-frozen" if self.guest_agent else "crash-consistent"


def _volume_fact(vm_subject, volume, claim_name, claim, storage_classes, profiles, snapshot_classes):
    subject = describe("PersistentVolumeClaim", claim_name, _meta(claim).get("namespace"))
    if claim is None or (claim.get("status") or {}).get("phase") != "Bound":
        raise Refusal("{0} disk {1}".format(vm_subject, volume), "its claim {0} is {1}; KubeVirt leaves an unbound disk out of the snapshot".format(
            claim_name, "missing" if claim is None else (claim.get("status") or {}).get("phase") or "not bound"),
            "Wait until the claim is Bound (start the VM once for a WaitForFirstConsumer class), then run again.")
    class_name = (claim.get("spec") or {}).get("storageClassName")
    storage_class = storage_classes.get(class_name)
    try:
        snapshot_class = snapshot_class_for(storage_class, profiles.get(class_name), snapshot_classes)
    except ValueError as exc:
        raise Refusal(subject, str(exc), "Mark exactly one of them with the annotation {0}: \"true\".".format(DEFAULT_SNAPSHOT_CLASS_ANNOTATION))
    driver = (storage_class or {}).get("provisioner")
    if snapshot_class is None:
        raise Refusal(
            subject,
            "StorageClass {0} (driver {1}) has no VolumeSnapshotClass, so KubeVirt would silently leave disk {2} out of the snapshot".format(
                class_name or "(none)", driver or "unknown", volume),
            "Create a VolumeSnapshotClass with driver {0} (day 0's portworx_storage role creates px-csi-snapclass), then run again.".format(
                driver or "<the class's provisioner>"),
            storage_class=class_name)
    return {"volume": volume, "claim": claim_name, "storage_class": class_name, "driver": driver, "snapshot_class": snapshot_class,
            "size": ((claim.get("status") or {}).get("capacity") or {}).get("storage")}


def plan_snapshot(request, vm, vmi, claims, storage_classes, profiles, snapshot_classes, existing):
    """Check a snapshot request and say whether it needs creating.

    ``request`` has ``name``, ``namespace``, ``vm`` and ``require_guest_agent``; ``claims``,
    ``storage_classes`` and ``profiles`` are dicts by name.
    """
    namespace = request["namespace"]
    vm_subject = describe("VirtualMachine", request["vm"], namespace)
    if existing is not None:
        source = (existing.get("spec") or {}).get("source") or {}
        if source.get("kind") != "VirtualMachine" or source.get("name") != request["vm"]:
            raise Refusal(describe("VirtualMachineSnapshot", request["name"], namespace),
                          "it already exists as a snapshot of {0} {1}, not of VirtualMachine {2}".format(
                              source.get("kind"), source.get("name"), request["vm"]),
                          "Choose another snapshot name, or delete the existing snapshot first.")
    if vm is None:
        if existing is not None:
            return SnapshotPlan(request["name"], namespace, request["vm"], [], False, False, existing)
        raise Refusal(vm_subject, "it does not exist", "Check the name and namespace.")
    volumes = [_volume_fact(vm_subject, volume, claim, claims.get(claim), storage_classes, profiles, snapshot_classes)
               for volume, claim in claim_volumes(vm)]
    online = ((vmi or {}).get("status") or {}).get("phase") == "Running"
    agent = online and guest_agent_connected(vmi)
    if existing is None and online and not agent and request.get("require_guest_agent"):
        raise Refusal(vm_subject, "it runs without a connected guest agent, so its filesystems cannot be frozen for the snapshot",
                      "Install and start qemu-guest-agent in the guest, stop the VM for an offline snapshot, "
                      "or set require_guest_agent: false to accept a crash-consistent snapshot.")
    return SnapshotPlan(request["name"], namespace, request["vm"], volumes, online, agent, existing)


def snapshot_progress(snapshot):
    """Probe of the wait: ``(done, state)``; raises ``ModuleFailure`` when KubeVirt reports an error."""
    status = (snapshot or {}).get("status") or {}
    error = (status.get("error") or {}).get("message")
    if status.get("phase") == "Failed" or error:
        raise ModuleFailure("VirtualMachineSnapshot {0}/{1} failed: {2}".format(
            _meta(snapshot).get("namespace"), _meta(snapshot).get("name"), error or "phase Failed"), reason="SnapshotFailed")
    state = "phase {0}, readyToUse {1}".format(status.get("phase") or "(none)", status.get("readyToUse"))
    return bool(status.get("readyToUse")), state


def snapshot_facts(snapshot, plan=None):
    """What the module returns about a snapshot."""
    status = (snapshot or {}).get("status") or {}
    facts = {
        "name": _meta(snapshot).get("name"),
        "namespace": _meta(snapshot).get("namespace"),
        "vm": ((snapshot or {}).get("spec") or {}).get("source", {}).get("name"),
        "phase": status.get("phase"),
        "ready_to_use": bool(status.get("readyToUse")),
        "indications": status.get("indications") or [],
        "content": status.get("virtualMachineSnapshotContentName"),
        "creation_time": status.get("creationTime"),
        "included_volumes": (status.get("snapshotVolumes") or {}).get("includedVolumes") or [],
        "excluded_volumes": (status.get("snapshotVolumes") or {}).get("excludedVolumes") or [],
    }
    if plan is not None:
        facts["volumes"] = plan.volumes
        facts["consistency"] = plan.consistency()
    return facts
