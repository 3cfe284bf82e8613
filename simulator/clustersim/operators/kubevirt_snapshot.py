"""KubeVirt's VirtualMachineSnapshot controller (``snapshot.kubevirt.io/v1beta1``).

Checked against kubevirt/kubevirt **v1.6.6** ``pkg/storage/snapshot/snapshot.go``,
``snapshot_base.go``, ``source.go`` and ``staging/src/kubevirt.io/api/snapshot/v1beta1/types.go``.

* A new snapshot of a VirtualMachine gets the finalizer ``snapshot.kubevirt.io/vmsnapshot-protection``,
  ``status.sourceUID``, ``phase: InProgress``, ``readyToUse: false``, conditions Progressing True
  "Source locked and operation in progress" and Ready False "Not ready", and ``indications``:
  ``Online`` when the VM's VMI runs, plus ``GuestAgent`` when the guest agent is connected (the
  filesystems are frozen, ``status.fsFreezeStatus: frozen`` on the VMI, until the volume snapshots
  are cut) or ``NoGuestAgent``. The VM is locked: ``status.snapshotInProgress``. A missing source
  gives Progressing False "Source does not exist".
* The content ``vmsnapshot-content-<snapshot uid>`` (finalizer
  ``snapshot.kubevirt.io/vmsnapshotcontent-protection``) keeps the VM's metadata and spec and one
  ``volumeBackups`` entry per claim (PVC or DataVolume volume) that is Bound and whose class has a
  VolumeSnapshotClass (``getVolumeSnapshotClassName``: the StorageProfile's
  ``status.snapshotClass``, else the only class whose ``driver`` is the StorageClass's provisioner,
  else the default-annotated one among several; several without a default is an error). A volume
  without one is left out **silently** (upstream only logs "No VolumeSnapshotClass for ..."): it
  shows in ``status.snapshotVolumes.excludedVolumes``. Each backup gets a VolumeSnapshot
  ``vmsnapshot-<snapshot uid>-volume-<volume>`` owned by the content, labelled
  ``snapshot.kubevirt.io/source-vm-name`` / ``-namespace``.
* When every VolumeSnapshot is ``readyToUse`` the VMI is thawed, the VM unlocked, the content gets
  ``creationTime``, ``readyToUse: true`` and ``volumeSnapshotStatus``, and the snapshot
  ``phase: Succeeded``, ``readyToUse: true``, ``creationTime``, ``virtualMachineSnapshotContentName``,
  ``snapshotVolumes``, Progressing False "Operation complete", Ready True "Ready". A VolumeSnapshot
  error is copied to ``status.error`` of content and snapshot (Progressing False "In error state");
  the failure deadline (default 5 minutes, then ``Failed``) is not simulated.
* Deleting a snapshot deletes its content (``deletionPolicy`` Delete, the default; ``Retain``
  keeps it), whose VolumeSnapshots go with it through their ownerReference; the VM is unlocked and
  thawed if the snapshot had not finished.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from ..controller import Controller, watches
from ..errors import ApiError
from ..util import add_finalizer, clone, dig, now_rfc3339, set_condition

VMS = "kubevirt.io/virtualmachines"
VMIS = "kubevirt.io/virtualmachineinstances"
VM_SNAPSHOTS = "snapshot.kubevirt.io/virtualmachinesnapshots"
VM_SNAPSHOT_CONTENTS = "snapshot.kubevirt.io/virtualmachinesnapshotcontents"
VOLUME_SNAPSHOTS = "snapshot.storage.k8s.io/volumesnapshots"
VOLUME_SNAPSHOT_CLASSES = "snapshot.storage.k8s.io/volumesnapshotclasses"
STORAGE_CLASSES = "storage.k8s.io/storageclasses"
PROFILES = "cdi.kubevirt.io/storageprofiles"
CLAIMS = "persistentvolumeclaims"
API_VERSION = "snapshot.kubevirt.io/v1beta1"
SNAPSHOT_FINALIZER = "snapshot.kubevirt.io/vmsnapshot-protection"
CONTENT_FINALIZER = "snapshot.kubevirt.io/vmsnapshotcontent-protection"
SOURCE_NAME_LABEL = "snapshot.kubevirt.io/source-vm-name"
SOURCE_NAMESPACE_LABEL = "snapshot.kubevirt.io/source-vm-namespace"
DEFAULT_CLASS_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class"
LOCKED = "Source locked and operation in progress"


def claim_name_of(volume: Dict[str, Any]) -> Optional[str]:
    if volume.get("persistentVolumeClaim"):
        return volume["persistentVolumeClaim"].get("claimName")
    if volume.get("dataVolume"):
        return volume["dataVolume"].get("name")
    return None


def volume_snapshot_class_for(storage_class: Optional[Dict[str, Any]], profile: Optional[Dict[str, Any]],
                              classes: List[Dict[str, Any]]) -> str:
    """KubeVirt's ``getVolumeSnapshotClassName``: "" when the class has none; ``ValueError`` when ambiguous."""
    if storage_class is None:
        return ""
    names = {c["metadata"]["name"] for c in classes}
    from_profile = dig(profile, "status", "snapshotClass")
    if from_profile:
        return from_profile if from_profile in names else ""
    matches = [c for c in classes if c.get("driver") == storage_class.get("provisioner")]
    if len(matches) == 1:
        return matches[0]["metadata"]["name"]
    for candidate in matches:
        if DEFAULT_CLASS_ANNOTATION in (candidate["metadata"].get("annotations") or {}):
            return candidate["metadata"]["name"]
    if matches:
        raise ValueError(f"{len(matches)} matching VolumeSnapshotClasses for {storage_class['metadata']['name']}")
    return ""


def dispatch_added_or_deleting(cluster: Any, event: str, new: Optional[Dict[str, Any]],
                               on_added: Callable[[str, str], None], on_deleting: Callable[[str, str], None]) -> None:
    """Both snapshot controllers act on a new object and on one marked for deletion (its
    finalizer is theirs to release); other updates are their own status writes."""
    if new is None:
        return
    namespace, name = new["metadata"]["namespace"], new["metadata"]["name"]
    if new["metadata"].get("deletionTimestamp"):
        cluster.after(0, on_deleting, namespace, name)
    elif event == "ADDED":
        cluster.after(0, on_added, namespace, name)


def snapshot_condition(status: Dict[str, Any], type_: str, value: str, reason: str) -> None:
    set_condition(status.setdefault("conditions", []), type_, value, reason, lastProbeTime=None)


class VmSnapshots(Controller):
    """virt-controller's VMSnapshotController for VirtualMachine sources."""

    name = "kubevirt-snapshot"

    @watches(VM_SNAPSHOTS)
    def on_vm_snapshot(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        dispatch_added_or_deleting(self.cluster, event, new, self.start, self.delete)

    @watches(VOLUME_SNAPSHOTS)
    def on_volume_snapshot(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        current = new or old
        for owner in current["metadata"].get("ownerReferences") or []:
            if owner.get("kind") == "VirtualMachineSnapshotContent" and event != "DELETED":
                self.cluster.after(0, self.check_content, current["metadata"]["namespace"], owner["name"])

    # --- start: lock, freeze, content, volume snapshots -----------------------------------------
    def start(self, namespace: str, name: str) -> None:
        snapshot = self.store.peek(VM_SNAPSHOTS, name, namespace)
        if snapshot is None or dig(snapshot, "status", "phase") or snapshot["metadata"].get("deletionTimestamp"):
            return
        vm = self.store.peek(VMS, dig(snapshot, "spec", "source", "name") or "", namespace)
        if vm is None or dig(snapshot, "spec", "source", "kind") != "VirtualMachine":
            self.write_status(namespace, name, "InProgress", progressing=("False", "Source does not exist"))
            return
        vmi = self.store.peek(VMIS, vm["metadata"]["name"], namespace)
        online = dig(vmi, "status", "phase") == "Running"
        agent = online and any(c.get("type") == "AgentConnected" and c.get("status") == "True"
                               for c in dig(vmi, "status", "conditions") or [])
        self.store.mutate(VM_SNAPSHOTS, name, lambda o: add_finalizer(o, SNAPSHOT_FINALIZER), namespace)
        self.store.mutate(VMS, vm["metadata"]["name"],
                          lambda o: o.setdefault("status", {}).__setitem__("snapshotInProgress", name), namespace)
        if agent:
            self.set_frozen(namespace, vm["metadata"]["name"], True)
        indications = (["GuestAgent", "Online"] if agent else ["NoGuestAgent", "Online"]) if online else []
        self.write_status(namespace, name, "InProgress", progressing=("True", LOCKED), indications=indications,
                          sourceUID=vm["metadata"]["uid"])
        try:
            backups = self.volume_backups(snapshot, vm)
        except ValueError as problem:
            self.write_status(namespace, name, "InProgress", progressing=("False", "In error state"),
                              error={"message": str(problem), "time": now_rfc3339()})
            return
        content = self.create_content(snapshot, vm, backups)
        for backup in backups:
            self.create_volume_snapshot(content, backup)
        self.check_content(namespace, content["metadata"]["name"])

    def volume_backups(self, snapshot: Dict[str, Any], vm: Dict[str, Any]) -> List[Dict[str, Any]]:
        namespace = vm["metadata"]["namespace"]
        classes = self.store.list(VOLUME_SNAPSHOT_CLASSES, copy=False)
        backups = []
        for volume in dig(vm, "spec", "template", "spec", "volumes") or []:
            claim = self.store.peek(CLAIMS, claim_name_of(volume) or "", namespace)
            if claim is None or dig(claim, "status", "phase") != "Bound":
                continue
            class_name = dig(claim, "spec", "storageClassName") or ""
            snapshot_class = volume_snapshot_class_for(self.store.peek(STORAGE_CLASSES, class_name),
                                                       self.store.peek(PROFILES, class_name), classes)
            if not snapshot_class:
                continue
            meta = claim["metadata"]
            backups.append({
                "volumeName": volume["name"],
                "persistentVolumeClaim": {"metadata": {k: clone(meta[k]) for k in ("name", "namespace", "labels", "annotations")
                                                       if meta.get(k) is not None},
                                          "spec": clone(claim["spec"])},
                "volumeSnapshotName": f"vmsnapshot-{snapshot['metadata']['uid']}-volume-{volume['name']}",
                "_class": snapshot_class,
            })
        return backups

    def create_content(self, snapshot: Dict[str, Any], vm: Dict[str, Any], backups: List[Dict[str, Any]]) -> Dict[str, Any]:
        name = f"vmsnapshot-content-{snapshot['metadata']['uid']}"
        namespace = snapshot["metadata"]["namespace"]
        existing = self.store.peek(VM_SNAPSHOT_CONTENTS, name, namespace)
        if existing is not None:
            return existing
        meta = vm["metadata"]
        source_meta = {k: clone(meta[k]) for k in ("name", "namespace", "uid", "generation", "labels", "annotations")
                       if meta.get(k) is not None}
        return self.store.create(VM_SNAPSHOT_CONTENTS, {
            "apiVersion": API_VERSION, "kind": "VirtualMachineSnapshotContent",
            "metadata": {"name": name, "namespace": namespace, "finalizers": [CONTENT_FINALIZER]},
            "spec": {"virtualMachineSnapshotName": snapshot["metadata"]["name"],
                     "source": {"virtualMachine": {"metadata": source_meta, "spec": clone(vm["spec"])}},
                     "volumeBackups": [{k: v for k, v in b.items() if not k.startswith("_")} for b in backups]},
        })

    def create_volume_snapshot(self, content: Dict[str, Any], backup: Dict[str, Any]) -> None:
        namespace = content["metadata"]["namespace"]
        if self.store.peek(VOLUME_SNAPSHOTS, backup["volumeSnapshotName"], namespace) is not None:
            return
        source = dig(content, "spec", "source", "virtualMachine", "metadata") or {}
        self.store.create(VOLUME_SNAPSHOTS, {
            "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
            "metadata": {"name": backup["volumeSnapshotName"], "namespace": namespace,
                         "labels": {SOURCE_NAME_LABEL: source.get("name"), SOURCE_NAMESPACE_LABEL: source.get("namespace")},
                         "ownerReferences": [{"apiVersion": API_VERSION, "kind": "VirtualMachineSnapshotContent",
                                              "name": content["metadata"]["name"], "uid": content["metadata"]["uid"],
                                              "controller": True, "blockOwnerDeletion": True}]},
            "spec": {"source": {"persistentVolumeClaimName": backup["persistentVolumeClaim"]["metadata"]["name"]},
                     "volumeSnapshotClassName": backup["_class"]},
        })

    # --- completion -------------------------------------------------------------------------------
    def check_content(self, namespace: str, content_name: str) -> None:
        content = self.store.peek(VM_SNAPSHOT_CONTENTS, content_name, namespace)
        if content is None or dig(content, "status", "readyToUse"):
            return
        snapshot_name = dig(content, "spec", "virtualMachineSnapshotName")
        statuses, error = self.volume_snapshot_states(content)
        if error is not None:
            self.store.mutate(VM_SNAPSHOT_CONTENTS, content_name,
                              lambda o: o.setdefault("status", {}).update(readyToUse=False, error=error), namespace)
            self.write_status(namespace, snapshot_name, "InProgress", progressing=("False", "In error state"), error=error)
            return
        if any(not s["readyToUse"] for s in statuses):
            return
        created = min([s["creationTime"] for s in statuses if s.get("creationTime")] or [now_rfc3339()])
        self.store.mutate(VM_SNAPSHOT_CONTENTS, content_name, lambda o: o.__setitem__("status", {
            "creationTime": created, "readyToUse": True, "volumeSnapshotStatus": statuses}), namespace)
        vm_name = dig(content, "spec", "source", "virtualMachine", "metadata", "name")
        self.release_source(namespace, vm_name, snapshot_name)
        self.write_status(namespace, snapshot_name, "Succeeded", progressing=("False", "Operation complete"),
                          readyToUse=True, creationTime=created, virtualMachineSnapshotContentName=content_name,
                          snapshotVolumes=snapshot_volumes(content))

    def volume_snapshot_states(self, content: Dict[str, Any]) -> Tuple[List[Dict[str, Any]], Optional[Dict[str, Any]]]:
        namespace = content["metadata"]["namespace"]
        statuses = []
        for backup in dig(content, "spec", "volumeBackups") or []:
            volume_snapshot = self.store.peek(VOLUME_SNAPSHOTS, backup["volumeSnapshotName"], namespace)
            error = dig(volume_snapshot, "status", "error")
            if error:
                return statuses, {"message": error.get("message", ""), "time": error.get("time") or now_rfc3339()}
            entry = {"volumeSnapshotName": backup["volumeSnapshotName"],
                     "readyToUse": bool(dig(volume_snapshot, "status", "readyToUse"))}
            if dig(volume_snapshot, "status", "creationTime"):
                entry["creationTime"] = volume_snapshot["status"]["creationTime"]
            statuses.append(entry)
        return statuses, None

    def release_source(self, namespace: str, vm_name: Optional[str], snapshot_name: str) -> None:
        vm = self.store.peek(VMS, vm_name or "", namespace)
        if vm is None:
            return
        self.set_frozen(namespace, vm_name, False)
        if dig(vm, "status", "snapshotInProgress") == snapshot_name:
            self.store.mutate(VMS, vm_name, lambda o: o["status"].pop("snapshotInProgress", None), namespace)

    def set_frozen(self, namespace: str, vmi_name: Optional[str], frozen: bool) -> None:
        """What the VMI ``freeze`` / ``unfreeze`` calls of ``source.Freeze()`` / ``Unfreeze()`` do."""
        if self.store.peek(VMIS, vmi_name or "", namespace) is None:
            return

        def change(vmi: Dict[str, Any]) -> None:
            status = vmi.setdefault("status", {})
            if frozen:
                status["fsFreezeStatus"] = "frozen"
            else:
                status.pop("fsFreezeStatus", None)
        self.store.mutate(VMIS, vmi_name, change, namespace)

    def write_status(self, namespace: str, name: Optional[str], phase: str, progressing: Tuple[str, str], **fields: Any) -> None:
        if not name or self.store.peek(VM_SNAPSHOTS, name, namespace) is None:
            return

        def change(obj: Dict[str, Any]) -> None:
            status = obj.setdefault("status", {})
            status.setdefault("readyToUse", False)
            status.update(fields)
            if "error" not in fields and phase == "Succeeded":
                status.pop("error", None)
            status["phase"] = phase
            snapshot_condition(status, "Progressing", progressing[0], progressing[1])
            ready = bool(status.get("readyToUse"))
            snapshot_condition(status, "Ready", "True" if ready else "False", "Ready" if ready else "Not ready")
        self.store.mutate(VM_SNAPSHOTS, name, change, namespace)

    # --- deletion ---------------------------------------------------------------------------------
    def delete(self, namespace: str, name: str) -> None:
        snapshot = self.store.peek(VM_SNAPSHOTS, name, namespace)
        if snapshot is None:
            return
        content_name = f"vmsnapshot-content-{snapshot['metadata']['uid']}"
        if dig(snapshot, "spec", "deletionPolicy") != "Retain" and self.store.peek(VM_SNAPSHOT_CONTENTS, content_name, namespace):
            try:
                self.store.delete(VM_SNAPSHOT_CONTENTS, content_name, namespace)
                self.store.remove_finalizer(VM_SNAPSHOT_CONTENTS, content_name, CONTENT_FINALIZER, namespace)
            except ApiError:
                pass
        self.release_source(namespace, dig(snapshot, "spec", "source", "name"), name)
        if SNAPSHOT_FINALIZER in (snapshot["metadata"].get("finalizers") or []):
            self.store.remove_finalizer(VM_SNAPSHOTS, name, SNAPSHOT_FINALIZER, namespace)


def snapshot_volumes(content: Dict[str, Any]) -> Dict[str, List[str]]:
    """``status.snapshotVolumes``: the VM's claim volumes that are in the content, and the others."""
    included = sorted(b["volumeName"] for b in dig(content, "spec", "volumeBackups") or [])
    volumes = dig(content, "spec", "source", "virtualMachine", "spec", "template", "spec", "volumes") or []
    excluded = sorted(v["name"] for v in volumes if claim_name_of(v) and v["name"] not in included)
    result: Dict[str, List[str]] = {}
    if included:
        result["includedVolumes"] = included
    if excluded:
        result["excludedVolumes"] = excluded
    return result


CONTROLLERS = [VmSnapshots]
