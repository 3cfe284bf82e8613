"""KubeVirt's VirtualMachineRestore controller (``snapshot.kubevirt.io/v1beta1``).

Checked against kubevirt/kubevirt **v1.6.6** ``pkg/storage/snapshot/restore.go`` (``updateVMRestore``,
``handleVMRestoreTargetNotReady``, ``restoreVolumeName``, ``generateRestoredVMSpec``,
``reconcileSpec``) and the API types.

* A new restore gets ``status.complete: false`` and Progressing True / Ready False "Initializing
  VirtualMachineRestore", then the finalizer ``snapshot.kubevirt.io/vmrestore-protection``.
* The snapshot (``spec.virtualMachineSnapshotName``) must exist and be ``readyToUse``, with its
  content, else Progressing False "VMSnapshot <ns>/<name> not ready" (retried).
* **Target readiness**: an existing target VM is ready when it has no VMI. Otherwise, by
  ``spec.targetReadinessPolicy``: ``WaitGracePeriod`` (the default) and ``WaitEventually`` wait
  with their upstream messages ("Waiting for target VM to be powered off. ..."; the 5-minute grace
  period that then fails is not simulated); ``StopTarget`` stops the VM (as virt-api's ``stop``:
  ``runStrategy: Halted``) with "Automatically stopping restore target for restore operation";
  ``FailImmediate`` fails (Failure True "Restore target VMI must be powered off before restore
  operation"). A target that exists, is not the snapshot's source and was not restored by this
  restore is an error: "restore source and restore target are different but restore target
  already exists".
* **Volumes**: the VM is marked ``status.restoreInProgress``; each volume backup becomes a claim
  ``restore-<restore uid>-<volume>`` (``spec.volumeRestoreOverrides[].restoreName`` overrides;
  ``volumeRestorePolicy: InPlace`` is not simulated) with the backed-up spec, ``dataSource`` the
  VolumeSnapshot, labels ``restore.kubevirt.io/source-vm-name`` / ``-namespace`` and annotation
  ``restore.kubevirt.io/name``; ``status.restores`` lists them. A DataVolume template's volume
  keeps a template renamed to the claim; the DataVolume is created annotated
  ``cdi.kubevirt.io/storage.prePopulated`` (CDI then marks it Succeeded without importing --
  the simulator's ``datavolume`` plug-in does not know that annotation, so this controller writes
  the Succeeded status CDI would).
* **Target**: a new VM (name ``spec.target.name``) gets the snapshot's labels, annotations and spec
  with ``runStrategy: Halted``; an existing one gets the snapshot's spec and keeps its run strategy.
  Either is annotated ``restore.kubevirt.io/lastRestoreUID: <restore name>-<restore uid>``; the
  restore is owned by the target VM. Then ``complete: true``, ``restoreTime``, Progressing False /
  Ready True "Operation complete", and the VM's ``restoreInProgress`` is cleared. Obsolete volumes
  of an existing target are not deleted (upstream ``deleteObsoleteVolumes`` is not simulated).
* Deleting a restore removes its finalizer (no other cleanup).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..controller import Controller, watches
from ..util import add_finalizer, clone, dig, now_rfc3339
from .kubevirt_snapshot import CLAIMS, VM_SNAPSHOT_CONTENTS, VM_SNAPSHOTS, VMIS, VMS, dispatch_added_or_deleting, snapshot_condition

RESTORES = "snapshot.kubevirt.io/virtualmachinerestores"
DATA_VOLUMES = "cdi.kubevirt.io/datavolumes"
RESTORE_FINALIZER = "snapshot.kubevirt.io/vmrestore-protection"
LAST_RESTORE = "restore.kubevirt.io/lastRestoreUID"
RESTORE_NAME = "restore.kubevirt.io/name"
SOURCE_NAME_LABEL = "restore.kubevirt.io/source-vm-name"
SOURCE_NAMESPACE_LABEL = "restore.kubevirt.io/source-vm-namespace"
PRE_POPULATED = "cdi.kubevirt.io/storage.prePopulated"
WAIT_EVENTUALLY = "Waiting for target VM to be powered off. Please stop the restore target to proceed with restore"
WAIT_GRACE = WAIT_EVENTUALLY + ", or the operation will fail after 5m0s"
STOP_TARGET = "Automatically stopping restore target for restore operation"
NOT_READY_FAILURE = "Restore target VMI must be powered off before restore operation"
EXISTING_TARGET = "restore source and restore target are different but restore target already exists"
COMPLETE = "Operation complete"


def restore_value(restore: Dict[str, Any]) -> str:
    return f"{restore['metadata']['name']}-{restore['metadata']['uid']}"


def restored_claim_name(restore: Dict[str, Any], volume_name: str) -> str:
    for override in dig(restore, "spec", "volumeRestoreOverrides") or []:
        if override.get("volumeName") == volume_name and override.get("restoreName"):
            return override["restoreName"]
    return f"restore-{restore['metadata']['uid']}-{volume_name}"


def restored_vm_spec(snapshot_vm_spec: Dict[str, Any], restores: List[Dict[str, Any]],
                     current: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """``generateRestoredVMSpec``: the snapshot's spec with each claim volume on its restored claim."""
    spec = clone(snapshot_vm_spec)
    by_volume = {r["volumeName"]: r for r in restores}
    templates = spec.get("dataVolumeTemplates") or []
    for volume in dig(spec, "template", "spec", "volumes") or []:
        restored = by_volume.get(volume["name"])
        if restored is None:
            continue
        if volume.get("persistentVolumeClaim"):
            volume["persistentVolumeClaim"]["claimName"] = restored["persistentVolumeClaim"]
            continue
        old = volume["dataVolume"]["name"]
        template = next((t for t in templates if dig(t, "metadata", "name") == old), None)
        if template is not None:
            template["metadata"]["name"] = restored["persistentVolumeClaim"]
            volume["dataVolume"]["name"] = restored["persistentVolumeClaim"]
        else:
            volume.pop("dataVolume")
            volume["persistentVolumeClaim"] = {"claimName": restored["persistentVolumeClaim"]}
    if current is None:
        spec.pop("running", None)
        spec["runStrategy"] = "Halted"
    else:
        for field in ("running", "runStrategy"):
            spec.pop(field, None)
            if dig(current, "spec", field) is not None:
                spec[field] = current["spec"][field]
    return spec


class VmRestores(Controller):
    """virt-controller's VMRestoreController for VirtualMachine targets."""

    name = "kubevirt-restore"

    @watches(RESTORES)
    def on_restore(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        dispatch_added_or_deleting(self.cluster, event, new, self.reconcile, self.release)

    def release(self, namespace: str, name: str) -> None:
        """Deleting a restore only removes its finalizer."""
        restore = self.store.peek(RESTORES, name, namespace)
        if restore is not None and RESTORE_FINALIZER in (restore["metadata"].get("finalizers") or []):
            self.store.remove_finalizer(RESTORES, name, RESTORE_FINALIZER, namespace)

    @watches(VMIS, VM_SNAPSHOTS)
    def on_dependency(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        """A VMI gone (target stopped) or a snapshot ready: waiting restores of that namespace go on."""
        if event == "DELETED" or dig(new, "status", "readyToUse"):
            namespace = (new or old)["metadata"]["namespace"]
            for restore in self.store.list(RESTORES, namespace, copy=False):
                if not dig(restore, "status", "complete") and not _failed(restore):
                    self.cluster.after(0, self.reconcile, namespace, restore["metadata"]["name"])

    # --- the steps of updateVMRestore -------------------------------------------------------------
    def reconcile(self, namespace: str, name: str) -> None:
        restore = self.store.peek(RESTORES, name, namespace)
        if restore is None or restore["metadata"].get("deletionTimestamp") or dig(restore, "status", "complete") \
                or _failed(restore):
            return
        if dig(restore, "status", "complete") is None:
            self.progress(namespace, name, "True", "Initializing VirtualMachineRestore", complete=False)
            self.store.mutate(RESTORES, name, lambda o: add_finalizer(o, RESTORE_FINALIZER), namespace)
        snapshot = self.store.peek(VM_SNAPSHOTS, dig(restore, "spec", "virtualMachineSnapshotName") or "", namespace)
        content = self.store.peek(VM_SNAPSHOT_CONTENTS, dig(snapshot, "status", "virtualMachineSnapshotContentName") or "",
                                  namespace)
        if not dig(snapshot, "status", "readyToUse") or content is None:
            self.progress(namespace, name, "False", f"VMSnapshot {namespace}/{dig(restore, 'spec', 'virtualMachineSnapshotName')} not ready")
            return
        target_name = dig(restore, "spec", "target", "name") or ""
        target = self.store.peek(VMS, target_name, namespace)
        if target is not None and not self.target_ready(restore, target):
            return
        source_meta = dig(content, "spec", "source", "virtualMachine", "metadata") or {}
        restored_before = (target or {}).get("metadata", {}).get("annotations", {}).get(LAST_RESTORE) == restore_value(restore)
        if target is not None and not restored_before and target["metadata"].get("uid") != source_meta.get("uid"):
            self.progress(namespace, name, "False", EXISTING_TARGET)
            return
        if target is not None:
            self.store.mutate(VMS, target_name,
                              lambda o: o.setdefault("status", {}).__setitem__("restoreInProgress", name), namespace)
        restores = self.restore_volumes(restore, content)
        self.update_target(restore, content, target, restores)
        self.finish(namespace, name, target_name)

    def target_ready(self, restore: Dict[str, Any], target: Dict[str, Any]) -> bool:
        namespace, name = restore["metadata"]["namespace"], restore["metadata"]["name"]
        if self.store.peek(VMIS, target["metadata"]["name"], namespace) is None:
            return True
        policy = dig(restore, "spec", "targetReadinessPolicy") or "WaitGracePeriod"
        if policy == "StopTarget":
            self.progress(namespace, name, "False", STOP_TARGET)

            def halt(vm: Dict[str, Any]) -> None:
                vm["spec"].pop("running", None)
                vm["spec"]["runStrategy"] = "Halted"
            self.store.mutate(VMS, target["metadata"]["name"], halt, namespace)
        elif policy == "FailImmediate":
            self.progress(namespace, name, "False", NOT_READY_FAILURE, failure=True)
        else:
            self.progress(namespace, name, "False", WAIT_EVENTUALLY if policy == "WaitEventually" else WAIT_GRACE)
        return False

    def restore_volumes(self, restore: Dict[str, Any], content: Dict[str, Any]) -> List[Dict[str, Any]]:
        namespace = restore["metadata"]["namespace"]
        source = dig(content, "spec", "source", "virtualMachine", "metadata") or {}
        restores = []
        for backup in dig(content, "spec", "volumeBackups") or []:
            claim_name = restored_claim_name(restore, backup["volumeName"])
            if self.store.peek(CLAIMS, claim_name, namespace) is None:
                saved = backup.get("persistentVolumeClaim") or {}
                spec = {k: clone(v) for k, v in (saved.get("spec") or {}).items() if k not in ("volumeName", "dataSource", "dataSourceRef")}
                spec["dataSource"] = {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
                                      "name": backup["volumeSnapshotName"]}
                self.store.create(CLAIMS, {
                    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": {"name": claim_name, "namespace": namespace,
                                 "labels": {SOURCE_NAME_LABEL: source.get("name"), SOURCE_NAMESPACE_LABEL: source.get("namespace")},
                                 "annotations": {RESTORE_NAME: restore["metadata"]["name"]}},
                    "spec": spec})
            restores.append({"volumeName": backup["volumeName"], "persistentVolumeClaim": claim_name,
                             "volumeSnapshotName": backup["volumeSnapshotName"]})
        return restores

    def update_target(self, restore: Dict[str, Any], content: Dict[str, Any], target: Optional[Dict[str, Any]],
                      restores: List[Dict[str, Any]]) -> None:
        namespace, target_name = restore["metadata"]["namespace"], dig(restore, "spec", "target", "name")
        source = dig(content, "spec", "source", "virtualMachine") or {}
        spec = restored_vm_spec(source.get("spec") or {}, restores, target)
        restored_claims = {r["persistentVolumeClaim"] for r in restores}
        for template in spec.get("dataVolumeTemplates") or []:
            if dig(template, "metadata", "name") in restored_claims:
                for restored in restores:
                    if restored["persistentVolumeClaim"] == template["metadata"]["name"]:
                        restored["dataVolumeName"] = template["metadata"]["name"]
        if target is None:
            meta = source.get("metadata") or {}
            created = self.store.create(VMS, {
                "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                "metadata": {"name": target_name, "namespace": namespace, "labels": clone(meta.get("labels") or {}),
                             "annotations": dict(meta.get("annotations") or {}, **{LAST_RESTORE: restore_value(restore)})},
                "spec": spec})
            uid = created["metadata"]["uid"]
        else:
            def replace(vm: Dict[str, Any]) -> None:
                vm["spec"] = spec
                vm["metadata"].setdefault("annotations", {})[LAST_RESTORE] = restore_value(restore)
            self.store.mutate(VMS, target_name, replace, namespace)
            uid = target["metadata"]["uid"]
        self.adopt_data_volumes(namespace, spec, restored_claims, uid, target_name)

        def record(obj: Dict[str, Any]) -> None:
            obj.setdefault("status", {})["restores"] = restores
            obj["metadata"]["ownerReferences"] = [{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                                                   "name": target_name, "uid": uid, "controller": True,
                                                   "blockOwnerDeletion": True}]
        self.store.mutate(RESTORES, restore["metadata"]["name"], record, namespace)

    def adopt_data_volumes(self, namespace: str, spec: Dict[str, Any], claims: set, vm_uid: str, vm_name: str) -> None:
        """The restored DataVolumes, pre-populated by the restored claims (Succeeded, as CDI marks them)."""
        for template in spec.get("dataVolumeTemplates") or []:
            name = dig(template, "metadata", "name")
            if name not in claims or self.store.peek(DATA_VOLUMES, name, namespace) is not None:
                continue
            metadata = clone(template.get("metadata") or {})
            metadata.update(namespace=namespace, ownerReferences=[{
                "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "name": vm_name, "uid": vm_uid,
                "controller": True, "blockOwnerDeletion": True}])
            metadata.setdefault("annotations", {})[PRE_POPULATED] = name
            self.store.create(DATA_VOLUMES, {
                "apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": metadata,
                "spec": clone(template.get("spec") or {}),
                "status": {"phase": "Succeeded", "progress": "100.0%", "claimName": name}})

    def finish(self, namespace: str, name: str, target_name: str) -> None:
        if dig(self.store.peek(VMS, target_name, namespace), "status", "restoreInProgress") == name:
            self.store.mutate(VMS, target_name, lambda o: o["status"].pop("restoreInProgress", None), namespace)
        self.progress(namespace, name, "False", COMPLETE, ready=True, complete=True, restoreTime=now_rfc3339())

    def progress(self, namespace: str, name: str, progressing: str, reason: str, ready: bool = False,
                 failure: bool = False, **fields: Any) -> None:
        def change(obj: Dict[str, Any]) -> None:
            status = obj.setdefault("status", {})
            status.update(fields)
            snapshot_condition(status, "Progressing", progressing, reason)
            snapshot_condition(status, "Ready", "True" if ready else "False", reason)
            if failure:
                snapshot_condition(status, "Failure", "True", reason)
        self.store.mutate(RESTORES, name, change, namespace)


def _failed(restore: Dict[str, Any]) -> bool:
    return any(c.get("type") == "Failure" and c.get("status") == "True" for c in dig(restore, "status", "conditions") or [])


CONTROLLERS = [VmRestores]
