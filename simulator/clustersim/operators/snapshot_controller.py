"""CSI volume snapshots: the snapshot-controller, the csi-snapshotter sidecar and restoring a claim.

Checked against kubernetes-csi/external-snapshotter **v8.3.0** (``pkg/common-controller/
snapshot_controller.go``, ``pkg/sidecar-controller/snapshot_controller.go``, ``pkg/utils/util.go``).

* **Class**: a VolumeSnapshot without ``spec.volumeSnapshotClassName`` gets the one
  VolumeSnapshotClass annotated ``snapshot.storage.kubernetes.io/is-default-class: "true"`` whose
  ``driver`` is the source PV's CSI driver (``SetDefaultSnapshotClass``); none is the error
  ``cannot find default snapshot class``, several ``N default snapshot classes were found``. A
  named class that does not exist, or whose driver is not the volume's, is an error too.
* **Source**: the claim must exist and be Bound to a CSI volume, else the snapshot's
  ``status.error`` says so and ``readyToUse`` stays false; errors are retried every
  ``snapshot_retry`` seconds (the controller's resync), so a claim that binds later is snapshotted.
* **Content**: ``snapcontent-<snapshot uid>`` (``GetDynamicSnapshotContentNameForSnapshot``),
  cluster-scoped, with ``volumeSnapshotRef``, ``source.volumeHandle``, ``driver``,
  ``deletionPolicy`` and class from the class, and the finalizer
  ``snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection``; the snapshot gets
  ``volumesnapshot-as-source-protection`` and ``volumesnapshot-bound-protection``.
* **Cut** (the sidecar's ``CreateSnapshot``) after ``snapshot_create`` seconds (default 0.05):
  content ``status`` ``snapshotHandle``, ``creationTime`` (Unix nanoseconds), ``readyToUse: true``,
  ``restoreSize`` (bytes, the PV's capacity); then the snapshot's ``status``
  ``boundVolumeSnapshotContentName``, ``creationTime`` (RFC 3339), ``readyToUse: true`` and
  ``restoreSize`` (a quantity). A Portworx local snapshot is usable at once, so there is no separate
  upload phase.
* **Deletion**: a deleted snapshot (its finalizers keep it) deletes its content when the
  ``deletionPolicy`` is ``Delete`` (``Retain`` keeps it, unbound), then its finalizers go.
* **Disk content**: the simulator has no data. A claim's annotation ``clustersim.io/disk-content``
  stands for what is on the disk: the cut copies it onto the content, and a claim created with
  ``spec.dataSource`` (or ``dataSourceRef``) naming a VolumeSnapshot gets the content's value --
  what the external-provisioner's ``CreateVolume`` with a snapshot source gives the new volume.
  The ``storage`` plug-in binds such a claim as any other (it does not wait for the snapshot to be
  ready; a real provisioner does).
* **Operator fault** ``snapshot-fail`` (target ``<namespace>/<snapshot>``): the next cut fails; the
  content and snapshot get ``status.error`` with the driver's message and stay not ready.

Durations: ``snapshot_create``, ``snapshot_retry``.
"""
from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

from ..controller import Controller, watches
from ..errors import ApiError
from ..quantity import format_bytes, parse_quantity
from ..util import add_finalizer, dig, now_rfc3339

SNAPSHOTS = "snapshot.storage.k8s.io/volumesnapshots"
CONTENTS = "snapshot.storage.k8s.io/volumesnapshotcontents"
CLASSES = "snapshot.storage.k8s.io/volumesnapshotclasses"
CLAIMS = "persistentvolumeclaims"
VOLUMES = "persistentvolumes"
GROUP = "snapshot.storage.k8s.io"
DEFAULT_CLASS_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class"
CONTENT_FINALIZER = "snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection"
BOUND_FINALIZER = "snapshot.storage.kubernetes.io/volumesnapshot-bound-protection"
AS_SOURCE_FINALIZER = "snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection"
DISK_CONTENT = "clustersim.io/disk-content"
FAIL_FAULT = "snapshot-fail"


def content_name(snapshot: Dict[str, Any]) -> str:
    return "snapcontent-" + snapshot["metadata"]["uid"]


def pick_class(classes: List[Dict[str, Any]], wanted: Optional[str], driver: str) -> Dict[str, Any]:
    """The snapshot class for a volume of ``driver``; raises ``ValueError`` with upstream's words."""
    if wanted:
        for candidate in classes:
            if candidate["metadata"]["name"] == wanted:
                if candidate.get("driver") != driver:
                    raise ValueError(f"snapshot class {wanted} is for driver {candidate.get('driver')}, "
                                     f"the volume's driver is {driver}")
                return candidate
        raise ValueError(f'volumesnapshotclass.snapshot.storage.k8s.io "{wanted}" not found')
    defaults = [c for c in classes if c.get("driver") == driver
                and (c["metadata"].get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION) == "true"]
    if not defaults:
        raise ValueError("cannot find default snapshot class")
    if len(defaults) > 1:
        raise ValueError(f"{len(defaults)} default snapshot classes were found")
    return defaults[0]


def snapshot_source_of(claim: Dict[str, Any]) -> Optional[str]:
    """The VolumeSnapshot a new claim is restored from, if any."""
    for field in ("dataSourceRef", "dataSource"):
        source = dig(claim, "spec", field) or {}
        if source.get("kind") == "VolumeSnapshot" and source.get("apiGroup") == GROUP:
            return source.get("name")
    return None


class CsiSnapshots(Controller):
    """snapshot-controller + csi-snapshotter for every CSI driver the simulator knows."""

    name = "csi-snapshot"

    def create_delay(self) -> float:
        return self.cluster.duration("snapshot_create", 0.05)

    def retry_delay(self) -> float:
        return self.cluster.duration("snapshot_retry", 0.2)

    @watches(SNAPSHOTS)
    def on_snapshot(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is None:
            return
        namespace, name = new["metadata"]["namespace"], new["metadata"]["name"]
        if new["metadata"].get("deletionTimestamp"):
            self.finish_deletion(namespace, name)
        elif event == "ADDED" and not dig(new, "status", "boundVolumeSnapshotContentName"):
            self.cluster.after(0, self.reconcile, namespace, name)

    @watches(CLAIMS)
    def on_claim(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if event != "ADDED" or new is None:
            return
        source = snapshot_source_of(new)
        if source:
            self.populate(new["metadata"]["namespace"], new["metadata"]["name"], source)

    # --- snapshot-controller ------------------------------------------------------------------
    def reconcile(self, namespace: str, name: str) -> None:
        snapshot = self.store.peek(SNAPSHOTS, name, namespace)
        if snapshot is None or snapshot["metadata"].get("deletionTimestamp"):
            return
        if dig(snapshot, "status", "boundVolumeSnapshotContentName"):
            return
        try:
            claim, volume = self.source_volume(snapshot)
            snapshot_class = pick_class(self.store.list(CLASSES, copy=False),
                                        dig(snapshot, "spec", "volumeSnapshotClassName"), dig(volume, "spec", "csi", "driver"))
        except ValueError as problem:
            self.set_error(namespace, name, str(problem))
            self.cluster.after(self.retry_delay(), self.reconcile, namespace, name)
            return
        self.bind_class_and_finalizers(snapshot, snapshot_class["metadata"]["name"])
        content = self.create_content(snapshot, snapshot_class, volume)
        self.cluster.after(self.create_delay(), self.cut, content["metadata"]["name"], claim["metadata"]["name"])

    def source_volume(self, snapshot: Dict[str, Any]) -> tuple:
        namespace = snapshot["metadata"]["namespace"]
        claim_name = dig(snapshot, "spec", "source", "persistentVolumeClaimName")
        if not claim_name:
            raise ValueError("the snapshot source PVC name is not specified")
        claim = self.store.peek(CLAIMS, claim_name, namespace)
        if claim is None:
            raise ValueError(f'failed to retrieve PVC {claim_name} from the lister: "persistentvolumeclaim '
                             f'\\"{claim_name}\\" not found"')
        volume = self.store.peek(VOLUMES, dig(claim, "spec", "volumeName") or "")
        if dig(claim, "status", "phase") != "Bound" or volume is None:
            raise ValueError(f"the PVC {claim_name} is not yet bound to a PV, will not attempt to take a snapshot")
        if not dig(volume, "spec", "csi", "driver"):
            raise ValueError(f"the PV {volume['metadata']['name']} is not a CSI volume")
        return claim, volume

    def bind_class_and_finalizers(self, snapshot: Dict[str, Any], class_name: str) -> None:
        def change(obj: Dict[str, Any]) -> None:
            obj["spec"]["volumeSnapshotClassName"] = class_name
            add_finalizer(obj, AS_SOURCE_FINALIZER)
            add_finalizer(obj, BOUND_FINALIZER)
            obj.setdefault("status", {}).pop("error", None)
            obj["status"]["readyToUse"] = False
        self.store.mutate(SNAPSHOTS, snapshot["metadata"]["name"], change, snapshot["metadata"]["namespace"])

    def create_content(self, snapshot: Dict[str, Any], snapshot_class: Dict[str, Any], volume: Dict[str, Any]) -> Dict[str, Any]:
        name = content_name(snapshot)
        existing = self.store.peek(CONTENTS, name)
        if existing is not None:
            return existing
        meta = snapshot["metadata"]
        return self.store.create(CONTENTS, {
            "apiVersion": f"{GROUP}/v1", "kind": "VolumeSnapshotContent",
            "metadata": {"name": name, "finalizers": [CONTENT_FINALIZER]},
            "spec": {"deletionPolicy": snapshot_class.get("deletionPolicy") or "Delete",
                     "driver": snapshot_class["driver"],
                     "source": {"volumeHandle": dig(volume, "spec", "csi", "volumeHandle") or volume["metadata"]["name"]},
                     "sourceVolumeMode": dig(volume, "spec", "volumeMode") or "Filesystem",
                     "volumeSnapshotClassName": snapshot_class["metadata"]["name"],
                     "volumeSnapshotRef": {"apiVersion": f"{GROUP}/v1", "kind": "VolumeSnapshot", "name": meta["name"],
                                           "namespace": meta["namespace"], "uid": meta["uid"],
                                           "resourceVersion": meta.get("resourceVersion")}},
        })

    # --- csi-snapshotter ----------------------------------------------------------------------
    def cut(self, name: str, claim_name: str) -> None:
        content = self.store.peek(CONTENTS, name)
        if content is None:
            return
        ref = dig(content, "spec", "volumeSnapshotRef") or {}
        namespace = ref.get("namespace")
        if self.cluster.faults.take(FAIL_FAULT, f"{namespace}/{ref.get('name')}") is not None:
            message = "Failed to check and update snapshot content: failed to take snapshot of the volume " \
                      f"{dig(content, 'spec', 'source', 'volumeHandle')}: rpc error: code = Internal desc = simulated driver failure"
            self.store.mutate(CONTENTS, name, lambda o: o.setdefault("status", {}).update(
                readyToUse=False, error={"message": message, "time": now_rfc3339()}))
            self.set_error(namespace, ref.get("name"), message)
            return
        claim = self.store.peek(CLAIMS, claim_name, namespace) or {}
        volume = self.store.peek(VOLUMES, dig(claim, "spec", "volumeName") or "")
        size = int(parse_quantity(dig(volume, "spec", "capacity", "storage") or dig(claim, "status", "capacity", "storage") or "0"))
        marker = (claim.get("metadata", {}).get("annotations") or {}).get(DISK_CONTENT)

        def cut_done(obj: Dict[str, Any]) -> None:
            if marker is not None:
                obj["metadata"].setdefault("annotations", {})[DISK_CONTENT] = marker
            obj["status"] = {"snapshotHandle": "snap-" + obj["metadata"]["uid"][:8], "creationTime": time.time_ns(),
                             "readyToUse": True, "restoreSize": size}
        self.store.mutate(CONTENTS, name, cut_done)
        self.bind_snapshot(namespace, ref.get("name"), name, size)

    def bind_snapshot(self, namespace: str, name: str, content: str, size: int) -> None:
        if self.store.peek(SNAPSHOTS, name, namespace) is None:
            return

        def bound(obj: Dict[str, Any]) -> None:
            status = obj.setdefault("status", {})
            status.pop("error", None)
            status.update(boundVolumeSnapshotContentName=content, creationTime=now_rfc3339(), readyToUse=True,
                          restoreSize=format_bytes(size))
        self.store.mutate(SNAPSHOTS, name, bound, namespace)

    def set_error(self, namespace: str, name: Optional[str], message: str) -> None:
        if not name or self.store.peek(SNAPSHOTS, name, namespace) is None:
            return

        def failed(obj: Dict[str, Any]) -> Any:
            status = obj.setdefault("status", {})
            if dig(status, "error", "message") == message:
                return False
            status["readyToUse"] = False
            status["error"] = {"message": message, "time": now_rfc3339()}
            return None
        self.store.mutate(SNAPSHOTS, name, failed, namespace)

    # --- deletion -----------------------------------------------------------------------------
    def finish_deletion(self, namespace: str, name: str) -> None:
        snapshot = self.store.peek(SNAPSHOTS, name, namespace)
        if snapshot is None:
            return
        content = self.store.peek(CONTENTS, content_name(snapshot))
        if content is not None:
            if dig(content, "spec", "deletionPolicy") == "Delete":
                self.delete_content(content["metadata"]["name"])
            else:
                self.store.mutate(CONTENTS, content["metadata"]["name"],
                                  lambda o: o["spec"]["volumeSnapshotRef"].pop("uid", None))
        for finalizer in (BOUND_FINALIZER, AS_SOURCE_FINALIZER):
            if self.store.peek(SNAPSHOTS, name, namespace) is not None:
                self.store.remove_finalizer(SNAPSHOTS, name, finalizer, namespace)

    def delete_content(self, name: str) -> None:
        try:
            self.store.delete(CONTENTS, name)
            self.store.remove_finalizer(CONTENTS, name, CONTENT_FINALIZER)
        except ApiError:
            pass

    # --- external-provisioner: a claim from a snapshot ----------------------------------------
    def populate(self, namespace: str, claim: str, snapshot_name: str) -> None:
        snapshot = self.store.peek(SNAPSHOTS, snapshot_name, namespace)
        content = self.store.peek(CONTENTS, dig(snapshot, "status", "boundVolumeSnapshotContentName") or "")
        marker = ((content or {}).get("metadata", {}).get("annotations") or {}).get(DISK_CONTENT)
        if marker is None:
            return

        def restored(obj: Dict[str, Any]) -> None:
            obj["metadata"].setdefault("annotations", {})[DISK_CONTENT] = marker
        self.store.mutate(CLAIMS, claim, restored, namespace)

    def restore_size(self, namespace: str, snapshot_name: str) -> Optional[str]:
        """What a claim restored from the snapshot needs at least (``status.restoreSize``)."""
        return dig(self.store.peek(SNAPSHOTS, snapshot_name, namespace), "status", "restoreSize")


CONTROLLERS = [CsiSnapshots]
