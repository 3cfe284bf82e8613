"""Volume provisioning, binding and expansion (kube-controller-manager, external-provisioner,
external-resizer and the kubelet's part of it).

What it simulates
-----------------
* **DefaultStorageClass admission**: a claim created without ``storageClassName`` gets the class
  annotated ``storageclass.kubernetes.io/is-default-class: "true"`` (the newest when several are).
* **Binding**: a Pending claim on an ``Immediate`` class is provisioned after ``pvc_bind`` seconds
  (default 0.02): a PersistentVolume ``pvc-<uid>`` with the claim's size, modes and the CSI driver
  is created and the claim gets ``spec.volumeName``, ``status.phase: Bound``, ``capacity`` (a
  Portworx volume's size rounded up to whole GiB) and ``accessModes``. A claim on a
  ``WaitForFirstConsumer`` class stays Pending until a consumer exists: a Pod that mounts it (on Pod create), or a call of :func:`bind_for_consumer` (for the
  KubeVirt plug-in, when a VMI uses the claim); the chosen node goes into the annotation
  ``volume.kubernetes.io/selected-node``. Claims whose class does not exist stay Pending.
* **Expansion** of a Bound claim whose request is above its capacity (the apiserver already
  refused a request at or below the capacity and growth on classes without
  ``allowVolumeExpansion``): condition ``Resizing``,
  ``status.allocatedResources`` and ``allocatedResourceStatuses: ControllerResizeInProgress`` at
  once; after ``pvc_resize`` seconds (default 0.05) the PV has the new size and ``Resizing`` is
  gone. What follows depends on the CSI driver's answer (``_csi_drivers.py``):
  - Portworx (``pxd.portworx.com``, and the in-tree ``kubernetes.io/portworx-volume`` migrated to
    it) needs no node step (``NodeExpansionRequired: false``): the claim gets the new
    ``status.capacity`` (rounded up to whole GiB, as Portworx reports it), its
    ``allocatedResourceStatuses`` entry goes and it is annotated
    ``volume.kubernetes.io/node-expansion-not-required: "true"`` — Block or Filesystem, whether or
    not a pod mounts it (external-resizer ``markOverallExpansionAsFinished``).
  - any other driver needs the kubelet's ``NodeExpandVolume``: ``FileSystemResizePending``
    ("Waiting for user to (re-)start a pod to finish file system resize of volume on node.") and
    ``allocatedResourceStatuses: NodeResizePending``; when a Running pod mounts the claim (now or
    later), the kubelet finishes after ``pvc_fs_resize`` seconds (default 0.05): capacity updated,
    condition gone. (The simulator drops ``Resizing`` here, as the resizer's legacy path does; with
    ``RecoverVolumeExpansionFailure`` the resizer keeps it next to ``FileSystemResizePending``.)
* **Failed expansion and recovery** (``RecoverVolumeExpansionFailure``, on in 1.33): the operator
  fault ``pvc-resize-fail`` (target ``<namespace>/<claim>``; optional ``code``, a gRPC code name,
  default ``Internal``, and ``message``) makes the next ``count`` ControllerExpandVolume calls fail.
  The resizer files the error by class, retries, and tries a request the user lowered (the API
  server allows it above ``status.capacity``) as the external-resizer does; the decisions and their
  sources are in ``_resize_recovery.py``, the summary in docs/simulator.md "Failed expansion and
  recovery".

* **Protection and reclaim**: a deleted claim keeps its ``kubernetes.io/pvc-protection``
  finalizer (and stays Terminating) while a Pod that is not finished mounts it; then it goes. Its
  PersistentVolume is deleted with it under ``reclaimPolicy: Delete``, and becomes ``Released``
  under ``Retain`` (Portworx keeps the volume).

Durations: ``pvc_bind``, ``pvc_resize``, ``pvc_fs_resize``, ``pvc_resize_retry`` (default 1; a failed
resize's retry, a background timer that ``settle()`` does not wait for).
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Set, Tuple

from ..admission import AdmissionRequest
from ..controller import Controller, admits, watches
from ..quantity import QuantityError, parse_quantity
from ..util import add_finalizer, dig, set_condition
from ._csi_drivers import node_expansion_required, provisioner_identity, reported_capacity, volume_attributes
from ._resize_recovery import error_class, size_to_expand, update_queues_claim, waits_for_slow_retry
from ._workloads import record_event

if TYPE_CHECKING:  # pragma: no cover
    from ..cluster import Cluster

PVC_KEY = "persistentvolumeclaims"
PV_KEY = "persistentvolumes"
POD_KEY = "pods"
NODE_KEY = "nodes"
STORAGE_CLASS_KEY = "storage.k8s.io/storageclasses"
CLUSTER_DEFAULT = "storageclass.kubernetes.io/is-default-class"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
FS_PENDING_MESSAGE = "Waiting for user to (re-)start a pod to finish file system resize of volume on node."
# The external-resizer marks a claim whose expansion needed no node step, so the kubelet skips it.
NODE_EXPANSION_NOT_REQUIRED = "volume.kubernetes.io/node-expansion-not-required"
RESIZE_CONDITIONS = ("Resizing", "FileSystemResizePending", "ControllerResizeError", "NodeResizeError")
# The pvc-resize-fail fault's ControllerExpandVolume error unless the fault names code / message:
# openstorage answers a failed volume update with codes.Internal "Failed to update volume size: <err>"
# (libopenstorage/openstorage csi/controller.go ControllerExpandVolume, master 0332551); the inner
# text stands for Portworx's own, which is not public.
DEFAULT_RESIZE_ERROR_CODE = "Internal"
DEFAULT_RESIZE_ERROR_MESSAGE = "Failed to update volume size: pool has not enough free space"


def _size(value: Any) -> Optional[float]:
    try:
        return parse_quantity(value) if value is not None else None
    except QuantityError:
        return None


def _request(pvc: Dict[str, Any]) -> Any:
    return dig(pvc, "spec", "resources", "requests", "storage")


def _capacity(pvc: Dict[str, Any]) -> Any:
    return dig(pvc, "status", "capacity", "storage")


def claims_of(pod: Dict[str, Any]) -> List[str]:
    return [v["persistentVolumeClaim"]["claimName"] for v in dig(pod, "spec", "volumes", default=[]) or []
            if (v.get("persistentVolumeClaim") or {}).get("claimName")]


# Store tallies of pods per claim ("<namespace>/<claim>"): answering "does a live / running pod
# mount this claim?" must not scan every pod of the namespace (5,000 launcher pods in "vms").
LIVE_USERS = "storage-claim-users"
RUNNING_USERS = "storage-claim-running"


def _claim_users(pod: Dict[str, Any], running_only: bool) -> List[Tuple[str, int]]:
    phase = dig(pod, "status", "phase")
    if phase in ("Succeeded", "Failed") or (running_only and phase != "Running"):
        return []
    try:
        return [(f"{pod['metadata'].get('namespace', '')}/{claim}", 1) for claim in claims_of(pod)]
    except (AttributeError, KeyError, TypeError):  # a malformed pod mounts nothing; tallies must not raise
        return []


class StorageController(Controller):
    """The PVC binder, the expander and the kubelet's part of a resize.

    Public interface for other controllers: :meth:`storage_class_of`, :meth:`bind_for_consumer`
    (through the module-level :func:`bind_for_consumer`)."""

    name = "storage"

    def setup(self) -> None:
        self.reset()
        self.store.add_tally(POD_KEY, LIVE_USERS, lambda pod: _claim_users(pod, False))
        self.store.add_tally(POD_KEY, RUNNING_USERS, lambda pod: _claim_users(pod, True))

    # ------------------------------------------------------------------ public interface
    def storage_class_of(self, pvc: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """The StorageClass the claim names (stored dict, read-only), or None."""
        name = dig(pvc, "spec", "storageClassName")
        return self.store.peek(STORAGE_CLASS_KEY, name) if name else None

    def bind_for_consumer(self, namespace: str, claim: str, node: Optional[str] = None) -> None:
        """A consumer now uses ``claim`` on ``node``: provision and bind it there (lock held)."""
        pvc = self.store.peek(PVC_KEY, claim, namespace)
        if pvc is None or dig(pvc, "spec", "volumeName") or dig(pvc, "status", "phase") == "Bound":
            return
        if self.storage_class_of(pvc) is None:
            return
        self.cluster.after(self.cluster.duration("pvc_bind", 0.02), self.provision, namespace, claim,
                           node or self._any_worker())

    # ------------------------------------------------------------------ admission
    @admits(PVC_KEY, mutating=True)
    def default_class(self, req: AdmissionRequest) -> None:
        if req.operation != "CREATE" or req.obj is None:
            return
        spec = req.obj.setdefault("spec", {})
        if spec.get("storageClassName") is not None or spec.get("volumeName"):
            return
        defaults = [sc for sc in self.store.list(STORAGE_CLASS_KEY, copy=False)
                    if str(dig(sc, "metadata", "annotations", CLUSTER_DEFAULT, default="")).lower() == "true"]
        if defaults:
            defaults.sort(key=lambda sc: (sc["metadata"].get("creationTimestamp", ""), sc["metadata"]["name"]))
            spec["storageClassName"] = defaults[-1]["metadata"]["name"]

    # ------------------------------------------------------------------ binding
    @watches(PVC_KEY)
    def on_claim(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is None:
            if old is not None:
                self._reclaim(old)
            return
        if new["metadata"].get("deletionTimestamp"):
            self._release_if_unused(new["metadata"]["namespace"], new["metadata"]["name"])
            return
        ns, name = new["metadata"]["namespace"], new["metadata"]["name"]
        phase = dig(new, "status", "phase")
        if phase in (None, "Pending") and not dig(new, "spec", "volumeName"):
            storage_class = self.storage_class_of(new)
            if storage_class is None:
                return
            if storage_class.get("volumeBindingMode") == "WaitForFirstConsumer":
                node = dig(new, "metadata", "annotations", SELECTED_NODE)
                if not node:
                    consumer = self._consumer(ns, name)
                    if consumer is None:
                        return
                    node = dig(consumer, "spec", "nodeName") or self._any_worker()
                self.cluster.after(self.cluster.duration("pvc_bind", 0.02), self.provision, ns, name, node)
            else:
                self.cluster.after(self.cluster.duration("pvc_bind", 0.02), self.provision, ns, name, None)
            return
        if phase == "Bound" and update_queues_claim(new, old):
            self._maybe_expand(new)

    @watches(POD_KEY)
    def on_pod(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is None or dig(new, "status", "phase") in ("Succeeded", "Failed"):
            pod = new or old
            if pod is not None:
                for claim in claims_of(pod):
                    self._release_if_unused(pod["metadata"]["namespace"], claim)
            return
        ns = new["metadata"]["namespace"]
        for claim in claims_of(new):
            pvc = self.store.peek(PVC_KEY, claim, ns)
            if pvc is None:
                continue
            if dig(pvc, "status", "phase") != "Bound":
                self.bind_for_consumer(ns, claim, dig(new, "spec", "nodeName"))
            elif dig(new, "status", "phase") == "Running" and self._fs_pending(pvc):
                self.cluster.after(self.cluster.duration("pvc_fs_resize", 0.05), self.finish_fs_resize, ns, claim)

    # ------------------------------------------------------------------ protection and reclaim
    def _release_if_unused(self, ns: str, claim: str) -> None:
        """The pvc-protection controller: a terminating claim goes once no live pod mounts it."""
        pvc = self.store.peek(PVC_KEY, claim, ns)
        if pvc is None or not pvc["metadata"].get("deletionTimestamp") or self.store.tally(POD_KEY, LIVE_USERS).get(f"{ns}/{claim}"):
            return
        self.store.remove_finalizer(PVC_KEY, claim, PVC_PROTECTION, ns)

    def _reclaim(self, pvc: Dict[str, Any]) -> None:
        pv_name = dig(pvc, "spec", "volumeName")
        pv = self.store.peek(PV_KEY, pv_name) if pv_name else None
        if pv is None:
            return
        if dig(pv, "spec", "persistentVolumeReclaimPolicy") == "Delete":
            self.store.delete(PV_KEY, pv_name)
            self.store.remove_finalizer(PV_KEY, pv_name, PV_PROTECTION)
        else:
            self.store.mutate(PV_KEY, pv_name, lambda obj: obj.setdefault("status", {}).update(phase="Released"))

    def _consumer(self, ns: str, claim: str) -> Optional[Dict[str, Any]]:
        if not self.store.tally(POD_KEY, LIVE_USERS).get(f"{ns}/{claim}"):
            return None
        for pod in self.store.list(POD_KEY, ns, copy=False):
            if claim in claims_of(pod) and dig(pod, "status", "phase") not in ("Succeeded", "Failed"):
                return pod
        return None

    def _any_worker(self) -> str:
        for node in self.store.list(NODE_KEY, copy=False):
            if "node-role.kubernetes.io/worker" in (node["metadata"].get("labels") or {}):
                return node["metadata"]["name"]
        return ""

    def provision(self, ns: str, name: str, node: Optional[str]) -> None:
        store = self.store
        pvc = store.peek(PVC_KEY, name, ns)
        if pvc is None or dig(pvc, "spec", "volumeName") or dig(pvc, "status", "phase") == "Bound":
            return
        storage_class = self.storage_class_of(pvc)
        if storage_class is None:
            return
        uid = pvc["metadata"]["uid"]
        pv_name = f"pvc-{uid}"
        modes = list(dig(pvc, "spec", "accessModes", default=[]) or [])
        driver = storage_class.get("provisioner") or ""
        size = reported_capacity(driver, _request(pvc))
        volume_mode = dig(pvc, "spec", "volumeMode", default="Filesystem")
        if store.peek(PV_KEY, pv_name) is None:
            store.create(PV_KEY, {
                "metadata": {"name": pv_name, "annotations": {"pv.kubernetes.io/provisioned-by": driver},
                             "finalizers": [PV_PROTECTION]},
                "spec": {"capacity": {"storage": size}, "accessModes": modes,
                         "volumeMode": volume_mode,
                         "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy", "Delete"),
                         "storageClassName": storage_class["metadata"]["name"],
                         "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": name,
                                      "namespace": ns, "uid": uid},
                         "csi": {"driver": driver, "volumeHandle": str(int(hashlib.md5(uid.encode()).hexdigest()[:15], 16)),
                                 "fsType": "ext4", "volumeAttributes": volume_attributes(
                                     driver, provisioner_identity(self.cluster.config.seed, driver),
                                     storage_class.get("parameters") or {}, modes, volume_mode)}},
                "status": {"phase": "Bound"},
            })

        def bind(obj: Dict[str, Any]) -> None:
            annotations = obj["metadata"].setdefault("annotations", {})
            annotations.update({"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
                                "volume.kubernetes.io/storage-provisioner": driver,
                                "volume.beta.kubernetes.io/storage-provisioner": driver})
            if node:
                annotations[SELECTED_NODE] = node
            add_finalizer(obj, PVC_PROTECTION)
            obj["spec"]["volumeName"] = pv_name
            obj["status"] = {"phase": "Bound", "accessModes": modes, "capacity": {"storage": size}}
        store.mutate(PVC_KEY, name, bind, ns)

    # ------------------------------------------------------------------ expansion
    def _fs_pending(self, pvc: Dict[str, Any]) -> bool:
        return any(c.get("type") == "FileSystemResizePending" and c.get("status") == "True"
                   for c in dig(pvc, "status", "conditions", default=[]) or [])

    def reset(self) -> None:
        self._in_flight: Dict[str, int] = {}  # claim -> attempt number of its ControllerExpandVolume under way
        self._final_errors: Set[str] = set()  # claims whose last attempt ended in a final error
        self._attempts = 0

    def _maybe_expand(self, pvc: Dict[str, Any]) -> None:
        """The external-resizer's pass over a bound claim (``_resize_recovery.size_to_expand``)."""
        wanted, capacity = _size(_request(pvc)), _size(_capacity(pvc))
        if wanted is None or capacity is None or wanted <= capacity:
            return
        ns, name = pvc["metadata"]["namespace"], pvc["metadata"]["name"]
        key = f"{ns}/{name}"
        if key in self._in_flight:
            return  # one ControllerExpandVolume per claim at a time; its outcome decides what is next
        pv_name = dig(pvc, "spec", "volumeName")
        pv = self.store.peek(PV_KEY, pv_name) if pv_name else None
        allocated = dig(pvc, "status", "allocatedResources", "storage")
        status = dig(pvc, "status", "allocatedResourceStatuses", "storage")
        size = size_to_expand(_request(pvc), dig(pv, "spec", "capacity", "storage"), allocated, status,
                              key in self._final_errors)
        if size is None or waits_for_slow_retry(size, allocated, status):
            return
        new_attempt = _size(allocated) != _size(size)

        def start(obj: Dict[str, Any]) -> None:
            (obj["metadata"].get("annotations") or {}).pop(NODE_EXPANSION_NOT_REQUIRED, None)
            status = obj.setdefault("status", {})
            status["allocatedResources"] = {"storage": size}
            conditions = status.setdefault("conditions", [])
            if new_attempt:  # a new size: the older resize conditions go (markControllerResizeInProgress)
                status["allocatedResourceStatuses"] = {"storage": "ControllerResizeInProgress"}
                conditions[:] = [c for c in conditions if c.get("type") not in RESIZE_CONDITIONS]
            set_condition(conditions, "Resizing", "True", "", "")
        self.store.mutate(PVC_KEY, name, start, ns)
        record_event(self.store, self.store.peek(PVC_KEY, name, ns), "VolumeResizing",
                     f"External resizer is resizing volume {pv_name}", f"external-resizer {self.driver_of(pvc, pv)}")
        self._attempts += 1
        self._in_flight[key] = self._attempts
        self.cluster.after(self.cluster.duration("pvc_resize", 0.05), self.finish_controller_resize, ns, name, size,
                           self._attempts)

    def finish_controller_resize(self, ns: str, name: str, size: str, attempt: int) -> None:
        key = f"{ns}/{name}"
        if self._in_flight.get(key) != attempt:
            return  # started before a reset
        self._in_flight.pop(key, None)
        store = self.store
        pvc = store.peek(PVC_KEY, name, ns)
        if pvc is None:
            return
        pv_name = dig(pvc, "spec", "volumeName")
        pv = store.peek(PV_KEY, pv_name) if pv_name else None
        driver = self.driver_of(pvc, pv)
        fault = self.cluster.faults.take("pvc-resize-fail", key)
        if fault is not None:
            self._resize_failed(pvc, pv_name, driver, fault)
            return
        self._final_errors.discard(key)
        capacity = reported_capacity(driver, size)
        if pv is not None:
            store.mutate(PV_KEY, pv_name, lambda obj: obj["spec"]["capacity"].update(storage=capacity))
        node_step = node_expansion_required(driver)

        def controller_done(obj: Dict[str, Any]) -> None:
            status = obj.setdefault("status", {})
            conditions = [c for c in status.get("conditions") or []
                          if c.get("type") not in (("Resizing",) if node_step else RESIZE_CONDITIONS)]
            if node_step:
                status["allocatedResourceStatuses"] = {"storage": "NodeResizePending"}
                set_condition(conditions, "FileSystemResizePending", "True", "", FS_PENDING_MESSAGE)
            else:
                status["capacity"] = {"storage": capacity}
                status.pop("allocatedResourceStatuses", None)
                obj["metadata"].setdefault("annotations", {})[NODE_EXPANSION_NOT_REQUIRED] = "true"
            status["conditions"] = conditions
        store.mutate(PVC_KEY, name, controller_done, ns)
        if not node_step:
            record_event(store, store.peek(PVC_KEY, name, ns), "VolumeResizeSuccess", "Resize volume succeeded",
                         f"external-resizer {driver}")
        if node_step and self._mounted_by_running_pod(ns, name):
            self.cluster.after(self.cluster.duration("pvc_fs_resize", 0.05), self.finish_fs_resize, ns, name)

    def _resize_failed(self, pvc: Dict[str, Any], pv_name: str, driver: str, fault: Dict[str, Any]) -> None:
        """ControllerExpandVolume answered a gRPC error (``_resize_recovery.error_class``)."""
        ns, name = pvc["metadata"]["namespace"], pvc["metadata"]["name"]
        key = f"{ns}/{name}"
        code = str(fault.get("code") or DEFAULT_RESIZE_ERROR_CODE)
        error = f"rpc error: code = {code} desc = {fault.get('message') or DEFAULT_RESIZE_ERROR_MESSAGE}"
        kind = error_class(code)
        if kind == "uncertain":
            self._final_errors.discard(key)
        else:
            self._final_errors.add(key)

            def failed(obj: Dict[str, Any]) -> None:
                status = obj.setdefault("status", {})
                if kind == "infeasible":
                    status["allocatedResourceStatuses"] = {"storage": "ControllerResizeInfeasible"}
                conditions = status.setdefault("conditions", [])
                set_condition(conditions, "ControllerResizeError", "True", "", f"failed to expand pvc with {error}")
            self.store.mutate(PVC_KEY, name, failed, ns)
        record_event(self.store, self.store.peek(PVC_KEY, name, ns), "VolumeResizeFailed",
                     f'resize volume "{pv_name}" by resizer "{driver}" failed: {error}', f"external-resizer {driver}",
                     event_type="Warning")
        if kind != "infeasible":  # requeued with backoff; an infeasible size waits for the slow-retry set
            self.cluster.after(self.cluster.duration("pvc_resize_retry", 1.0), self._retry_resize, ns, name,
                               background=True)

    def _retry_resize(self, ns: str, name: str) -> None:
        pvc = self.store.peek(PVC_KEY, name, ns)
        if pvc is not None and dig(pvc, "status", "phase") == "Bound":
            self._maybe_expand(pvc)

    def driver_of(self, pvc: Dict[str, Any], pv: Optional[Dict[str, Any]]) -> str:
        """The CSI driver serving the claim: the PV's, else its class's provisioner."""
        driver = dig(pv, "spec", "csi", "driver") if pv is not None else None
        if not driver:
            storage_class = self.storage_class_of(pvc)
            driver = (storage_class or {}).get("provisioner")
        return driver or ""

    def _mounted_by_running_pod(self, ns: str, claim: str) -> bool:
        return bool(self.store.tally(POD_KEY, RUNNING_USERS).get(f"{ns}/{claim}"))

    def finish_fs_resize(self, ns: str, name: str) -> None:
        def node_done(obj: Dict[str, Any]) -> Any:
            status = obj.setdefault("status", {})
            if not self._fs_pending(obj):
                return False
            status["capacity"] = {"storage": dig(status, "allocatedResources", "storage") or _request(obj)}
            status.pop("allocatedResourceStatuses", None)
            status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != "FileSystemResizePending"]
            return None
        self.store.mutate(PVC_KEY, name, node_done, ns)


def bind_for_consumer(cluster: "Cluster", namespace: str, claim: str, node: Optional[str] = None) -> None:
    """A consumer (Pod, or a VMI through the KubeVirt plug-in) now uses ``claim`` on ``node``:
    a WaitForFirstConsumer claim gets its selected node and is provisioned. Call with the lock held
    (any simulated-operator callback has it). Nothing happens when the storage operator is not
    loaded (``--operators`` without ``storage``): nothing binds claims then."""
    if cluster.has_controller(StorageController.name):
        cluster.controller(StorageController.name).bind_for_consumer(namespace, claim, node)


CONTROLLERS = [StorageController]
