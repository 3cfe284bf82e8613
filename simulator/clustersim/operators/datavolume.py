"""CDI's DataVolume controller: a DataVolume gets its PVC, is populated, and reports its progress.

What it simulates (CDI's legacy, non-populator flow; ``cdi.kubevirt.io/storage.usePopulator``
is not looked at)
-------------------------------------------------------------------------------------------
* **The PVC**: same name and namespace, a controller ownerReference to the DataVolume (so deleting
  the DataVolume garbage-collects it), CDI's labels, and the DataVolume's annotations passed through
  (``portworx.io/app``, ``cdi.kubevirt.io/storage.usePopulator``,
  ``cdi.kubevirt.io/storage.bind.immediate.requested``, ...) plus CDI's own
  (``cdi.kubevirt.io/storage.contentType``, ``storage.pod.restarts``, the import source).
  ``spec.pvc`` is used as is.  ``spec.storage`` is the storage API: the class defaults to the
  default virtualization class, else the cluster default; missing ``accessModes``/``volumeMode``
  come from the first ``claimPropertySets`` entry of the class's StorageProfile (no access mode
  there: the DataVolume stays Pending with Bound ``ErrClaimNotValid``); a Filesystem claim asks for
  the size plus the CDIConfig ``filesystemOverhead``; a clone without a size takes the source's.
* **Phases** for ``blank``/``http``/``registry``/``s3``/``gcs`` imports: Pending (no PVC, or PVC
  Pending) or WaitForFirstConsumer (PVC Pending on a WaitForFirstConsumer class with no selected
  node and no ``bind.immediate.requested``) → PVCBound → ImportScheduled (an ``importer-<name>``
  pod that mounts the claim, owned by the PVC) → ImportInProgress (``status.progress`` climbs) →
  Succeeded (``100.0%``, importer pod gone, PVC annotated ``storage.pod.phase: Succeeded``).  With
  ``bind.immediate.requested`` the importer pod is created at once and, as the claim's first
  consumer, gets a WaitForFirstConsumer claim bound.  Clones from ``source.pvc``: CloneScheduled →
  CloneInProgress (``CSICloneInProgress`` when the StorageProfile's ``cloneStrategy`` is
  ``csi-clone``) → Succeeded, once the source PVC exists and is Bound.
* **Conditions** with CDI's reasons: Bound (``Bound`` "PVC x Bound", ``Pending`` "PVC x Pending",
  ``NotFound`` "No PVC found"), Ready (True once Succeeded; False ``TransferRunning`` while
  running), Running (True ``Pod is running``; False ``Completed`` "Import Complete" or
  "Clone Complete").  ``status.claimName`` once the PVC exists; ``status.progress`` ``N/A`` until
  the transfer runs.

Seeded VMs come with their DataVolumes (Succeeded); the KubeVirt plug-in creates the DataVolumes of
new VMs' ``dataVolumeTemplates``.

Importer pods carry ``clustersim.io/managed-by: datavolume`` (this controller plays their phases;
the scheduler and kubelet leave them alone).

Durations: ``datavolume_step`` (seconds per phase step, default 0.03).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Set, Tuple

from ..controller import Controller, watches
from ..errors import ApiError
from ..quantity import QuantityError, format_bytes, parse_quantity
from ..util import clone, dig, set_condition
from .cdi import PROFILE_KEY, STORAGE_CLASS_KEY, VIRT_DEFAULT
from ._workloads import MANAGED_BY
from .storage import PVC_KEY, SELECTED_NODE

if TYPE_CHECKING:  # pragma: no cover
    from ..cluster import Cluster

DV_KEY = "cdi.kubevirt.io/datavolumes"
POD_KEY = "pods"
CDICONFIG_KEY = "cdi.kubevirt.io/cdiconfigs"
IMMEDIATE_BINDING = "cdi.kubevirt.io/storage.bind.immediate.requested"
POD_PHASE = "cdi.kubevirt.io/storage.pod.phase"
IMPORT_SOURCES = ("blank", "http", "registry", "s3", "gcs", "imageio", "vddk")
DEFAULT_FILESYSTEM_OVERHEAD = "0.055"
ALIGNMENT = 2 ** 20  # CDI rounds a Filesystem claim with overhead up to whole MiB
PROGRESS_STEPS = ("0.00%", "47.30%")


def import_source(dv: Dict[str, Any]) -> Optional[str]:
    source = dig(dv, "spec", "source") or {}
    return next((name for name in IMPORT_SOURCES if name in source), None)


def clone_source(dv: Dict[str, Any]) -> Optional[Dict[str, str]]:
    source = dig(dv, "spec", "source", "pvc")
    if not source:
        return None
    return {"namespace": source.get("namespace") or dv["metadata"]["namespace"], "name": source.get("name") or ""}


class DataVolumeController(Controller):
    name = "datavolume"

    def __init__(self, cluster: "Cluster") -> None:
        super().__init__(cluster)
        # (namespace, claim) of a clone source -> DataVolumes (namespace, name) waiting for it, so
        # that claim events do not scan every DataVolume.
        self.clones_waiting: Dict[Tuple[str, str], Set[Tuple[str, str]]] = {}

    def step(self) -> float:
        return self.cluster.duration("datavolume_step", 0.03)

    def reset(self) -> None:
        self.clones_waiting.clear()

    # ------------------------------------------------------------------ events
    @watches(DV_KEY)
    def on_data_volume(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is None or new["metadata"].get("deletionTimestamp"):
            return
        if old is None or new.get("spec") != old.get("spec") or not dig(new, "status", "phase"):
            self.reconcile(new["metadata"]["namespace"], new["metadata"]["name"])

    @watches(PVC_KEY)
    def on_claim(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        claim = new or old
        if claim is None:
            return
        namespace = claim["metadata"]["namespace"]
        for owner in claim["metadata"].get("ownerReferences") or []:
            if owner.get("kind") == "DataVolume" and owner.get("controller"):
                self.reconcile(namespace, owner["name"])
        for waiting_namespace, waiting_name in sorted(self.clones_waiting.pop((namespace, claim["metadata"]["name"]), ())):
            self.reconcile(waiting_namespace, waiting_name)

    # ------------------------------------------------------------------ reconcile
    def reconcile(self, namespace: str, name: str) -> None:
        dv = self.store.peek(DV_KEY, name, namespace)
        if dv is None or dv["metadata"].get("deletionTimestamp") or dig(dv, "status", "phase") == "Succeeded":
            return
        claim = self.store.peek(PVC_KEY, name, namespace)
        if claim is None and clone_source(dv) and not self.clone_source_ready(dv):
            self.wait_for_source(dv, None)
            return
        if claim is None:
            try:
                claim = self.store.create(PVC_KEY, self.claim_for(dv))
            except InvalidClaim as problem:
                self.set_status(dv, "Pending", None, bound=("False", "ErrClaimNotValid", str(problem)))
                return
        phase = dig(dv, "status", "phase")
        bound = dig(claim, "status", "phase") == "Bound"
        if not bound:
            waiting = "WaitForFirstConsumer" if self.waits_for_consumer(dv, claim) else "Pending"
            self.set_status(dv, waiting, claim)
            if import_source(dv) and self.immediate_binding(dv):
                self.ensure_importer_pod(dv, claim)
            return
        if phase in (None, "", "Pending", "WaitForFirstConsumer", "Unknown"):
            self.set_status(dv, "PVCBound", claim)
            self.cluster.after(self.step(), self.advance, namespace, name)
        elif phase == "CloneScheduled":
            self.cluster.after(self.step(), self.advance, namespace, name)

    def waits_for_consumer(self, dv: Dict[str, Any], claim: Dict[str, Any]) -> bool:
        storage_class = self.store.peek(STORAGE_CLASS_KEY, dig(claim, "spec", "storageClassName") or "")
        if storage_class is None or storage_class.get("volumeBindingMode") != "WaitForFirstConsumer":
            return False
        if dig(claim, "metadata", "annotations", SELECTED_NODE):
            return False
        return not self.immediate_binding(dv)

    @staticmethod
    def immediate_binding(dv: Dict[str, Any]) -> bool:
        return str(dig(dv, "metadata", "annotations", IMMEDIATE_BINDING) or "").lower() == "true"

    def advance(self, namespace: str, name: str) -> None:
        """One step of the transfer after the claim is Bound."""
        dv = self.store.peek(DV_KEY, name, namespace)
        claim = self.store.peek(PVC_KEY, name, namespace)
        if dv is None or claim is None or dv["metadata"].get("deletionTimestamp"):
            return
        phase = dig(dv, "status", "phase")
        if import_source(dv):
            self.advance_import(dv, claim, phase)
        elif clone_source(dv):
            self.advance_clone(dv, claim, phase)

    def advance_import(self, dv: Dict[str, Any], claim: Dict[str, Any], phase: str) -> None:
        namespace, name = dv["metadata"]["namespace"], dv["metadata"]["name"]
        if phase == "PVCBound":
            self.ensure_importer_pod(dv, claim)
            self.set_status(dv, "ImportScheduled", claim, running=("False", "Pending", "Import pod is pending"))
        elif phase == "ImportScheduled":
            self.store.mutate(POD_KEY, f"importer-{name}", lambda pod: pod.setdefault("status", {}).update(
                phase="Running", conditions=[{"type": "Ready", "status": "True"}]), namespace)
            self.set_status(dv, "ImportInProgress", claim, progress=PROGRESS_STEPS[0],
                            running=("True", "Pod is running", ""))
        elif phase == "ImportInProgress" and dig(dv, "status", "progress") != PROGRESS_STEPS[-1]:
            following = PROGRESS_STEPS[PROGRESS_STEPS.index(dig(dv, "status", "progress")) + 1] \
                if dig(dv, "status", "progress") in PROGRESS_STEPS else PROGRESS_STEPS[-1]
            self.set_status(dv, "ImportInProgress", claim, progress=following, running=("True", "Pod is running", ""))
        elif phase == "ImportInProgress":
            self.finish(dv, claim, "Import Complete")
            return
        else:
            return
        self.cluster.after(self.step(), self.advance, namespace, name)

    def clone_source_ready(self, dv: Dict[str, Any]) -> bool:
        source = clone_source(dv) or {}
        source_claim = self.store.peek(PVC_KEY, source.get("name", ""), source.get("namespace"))
        return dig(source_claim, "status", "phase") == "Bound"

    def wait_for_source(self, dv: Dict[str, Any], claim: Optional[Dict[str, Any]]) -> None:
        """CloneScheduled until the source claim exists and is Bound; its events call reconcile again."""
        source = clone_source(dv) or {}
        key = (source.get("namespace"), source.get("name"))
        self.clones_waiting.setdefault(key, set()).add((dv["metadata"]["namespace"], dv["metadata"]["name"]))
        self.set_status(dv, "CloneScheduled", claim, running=(
            "False", "CloneWithoutSource", f"source PVC {key[0]}/{key[1]} not found or not bound"))

    def advance_clone(self, dv: Dict[str, Any], claim: Dict[str, Any], phase: str) -> None:
        namespace, name = dv["metadata"]["namespace"], dv["metadata"]["name"]
        if not self.clone_source_ready(dv):
            self.wait_for_source(dv, claim)
            return
        in_progress = "CSICloneInProgress" if self.clone_strategy(claim) == "csi-clone" else "CloneInProgress"
        if phase in ("PVCBound", "CloneScheduled"):
            self.set_status(dv, in_progress, claim, progress=PROGRESS_STEPS[0], running=("True", "Pod is running", ""))
            self.cluster.after(self.step(), self.advance, namespace, name)
        elif phase == in_progress:
            self.finish(dv, claim, "Clone Complete")

    def clone_strategy(self, claim: Dict[str, Any]) -> Optional[str]:
        profile = self.store.peek(PROFILE_KEY, dig(claim, "spec", "storageClassName") or "")
        return dig(profile, "status", "cloneStrategy")

    def finish(self, dv: Dict[str, Any], claim: Dict[str, Any], message: str) -> None:
        namespace, name = dv["metadata"]["namespace"], dv["metadata"]["name"]
        importer = f"importer-{name}"
        if self.store.peek(POD_KEY, importer, namespace) is not None:
            try:
                self.store.delete(POD_KEY, importer, namespace)
            except ApiError:
                pass

        def annotate(obj: Dict[str, Any]) -> None:
            obj["metadata"].setdefault("annotations", {})[POD_PHASE] = "Succeeded"
        claim = self.store.mutate(PVC_KEY, name, annotate, namespace)
        self.set_status(dv, "Succeeded", claim, progress="100.0%", running=("False", "Completed", message))

    # ------------------------------------------------------------------ the PVC
    def claim_for(self, dv: Dict[str, Any]) -> Dict[str, Any]:
        namespace, name = dv["metadata"]["namespace"], dv["metadata"]["name"]
        annotations = dict(dv["metadata"].get("annotations") or {})
        annotations.update({"cdi.kubevirt.io/storage.contentType": dig(dv, "spec", "contentType") or "kubevirt",
                            "cdi.kubevirt.io/storage.pod.restarts": "0",
                            "cdi.kubevirt.io/storage.preallocation.requested": "false"})
        source = import_source(dv)
        if source:
            annotations["cdi.kubevirt.io/storage.import.source"] = "none" if source == "blank" else source
            endpoint = dig(dv, "spec", "source", source, "url")
            if endpoint:
                annotations["cdi.kubevirt.io/storage.import.endpoint"] = endpoint
        claim = {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": namespace, "annotations": annotations,
                         "labels": {"app": "containerized-data-importer", "app.kubernetes.io/component": "storage",
                                    "app.kubernetes.io/managed-by": "cdi-controller"},
                         "ownerReferences": [{"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "name": name,
                                              "uid": dv["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]},
        }
        if dig(dv, "spec", "pvc") is not None:
            claim["spec"] = clone(dv["spec"]["pvc"])
        else:
            claim["spec"] = self.storage_api_spec(dv, claim)
        return claim

    def storage_api_spec(self, dv: Dict[str, Any], claim: Dict[str, Any]) -> Dict[str, Any]:
        """``spec.storage`` completed the way CDI renders it into a PVC spec."""
        storage = clone(dig(dv, "spec", "storage") or {})
        spec: Dict[str, Any] = {k: v for k, v in storage.items() if k not in ("accessModes", "volumeMode")}
        class_name = storage.get("storageClassName") or self.virt_default_class() or self.cluster_default_class(claim)
        if class_name:
            spec["storageClassName"] = class_name
        profile_sets = dig(self.store.peek(PROFILE_KEY, class_name or ""), "status", "claimPropertySets") or []
        first = profile_sets[0] if profile_sets else {}
        modes = storage.get("accessModes") or first.get("accessModes")
        if not modes:
            raise InvalidClaim(f"no accessMode specified in StorageProfile {class_name}")
        spec["accessModes"] = list(modes)
        spec["volumeMode"] = storage.get("volumeMode") or first.get("volumeMode") or "Filesystem"
        size = dig(storage, "resources", "requests", "storage") or self.clone_source_size(dv)
        if size is not None and spec["volumeMode"] == "Filesystem":
            size = self.with_filesystem_overhead(size, class_name)
        if size is not None:
            spec.setdefault("resources", {}).setdefault("requests", {})["storage"] = size
        return spec

    def virt_default_class(self) -> Optional[str]:
        for storage_class in self.store.list(STORAGE_CLASS_KEY, copy=False):
            if str(dig(storage_class, "metadata", "annotations", VIRT_DEFAULT) or "").lower() == "true":
                return storage_class["metadata"]["name"]
        return None

    def cluster_default_class(self, claim: Dict[str, Any]) -> Optional[str]:
        """The class the DefaultStorageClass admission would give the claim (asked with a dry run)."""
        probe = clone(claim)
        probe["metadata"]["name"] = f"{probe['metadata']['name']}-class-probe"
        probe["spec"] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
        try:
            return dig(self.store.create(PVC_KEY, probe, dry_run=True), "spec", "storageClassName")
        except ApiError:
            return None

    def clone_source_size(self, dv: Dict[str, Any]) -> Optional[str]:
        source = clone_source(dv)
        if not source:
            return None
        source_claim = self.store.peek(PVC_KEY, source["name"], source["namespace"])
        return dig(source_claim, "status", "capacity", "storage") or dig(source_claim, "spec", "resources", "requests", "storage")

    def with_filesystem_overhead(self, size: str, class_name: Optional[str]) -> str:
        config = next(iter(self.store.list(CDICONFIG_KEY, copy=False)), None)
        overhead = dig(config, "status", "filesystemOverhead", "storageClass", class_name or "") or \
            dig(config, "status", "filesystemOverhead", "global") or DEFAULT_FILESYSTEM_OVERHEAD
        try:
            wanted = parse_quantity(size)
            fraction = float(overhead)
        except (QuantityError, ValueError):
            return size
        needed = math.ceil(float(wanted) / (1 - fraction))
        return format_bytes(math.ceil(needed / ALIGNMENT) * ALIGNMENT)

    def ensure_importer_pod(self, dv: Dict[str, Any], claim: Dict[str, Any]) -> None:
        namespace, name = dv["metadata"]["namespace"], dv["metadata"]["name"]
        pod_name = f"importer-{name}"
        if self.store.peek(POD_KEY, pod_name, namespace) is not None:
            return
        node = dig(claim, "metadata", "annotations", SELECTED_NODE)
        spec: Dict[str, Any] = {"restartPolicy": "OnFailure",
                                "volumes": [{"name": "cdi-data-vol", "persistentVolumeClaim": {"claimName": name}}],
                                "containers": [{"name": "importer", "image": "registry.redhat.io/container-native-virtualization/virt-cdi-importer"}]}
        if node:
            spec["nodeName"] = node
        self.store.create(POD_KEY, {
            "metadata": {"name": pod_name, "namespace": namespace,
                         "labels": {"app": "containerized-data-importer", "cdi.kubevirt.io": "importer"},
                         "annotations": {"cdi.kubevirt.io/storage.createdByController": "yes", MANAGED_BY: self.name},
                         "ownerReferences": [{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": name,
                                              "uid": claim["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]},
            "spec": spec,
            "status": {"phase": "Pending"},
        })

    # ------------------------------------------------------------------ status
    def set_status(self, dv: Dict[str, Any], phase: str, claim: Optional[Dict[str, Any]], progress: Optional[str] = None,
                   running: Optional[tuple] = None, bound: Optional[tuple] = None) -> None:
        def write(obj: Dict[str, Any]) -> Any:
            before = clone(obj.get("status") or {})
            status = obj.setdefault("status", {})
            status["phase"] = phase
            status["progress"] = progress or status.get("progress") or "N/A"
            status.setdefault("restartCount", 0)
            if claim is not None:
                status["claimName"] = claim["metadata"]["name"]
            conditions: List[Dict[str, Any]] = status.setdefault("conditions", [])
            set_condition(conditions, "Bound", *(bound or bound_condition(claim)))
            if phase == "Succeeded":
                set_condition(conditions, "Ready", "True", "", "")
            elif running and running[0] == "True":
                set_condition(conditions, "Ready", "False", "TransferRunning", "")
            else:
                set_condition(conditions, "Ready", "False", "", "")
            set_condition(conditions, "Running", *(running or ("False", "", "")))
            return False if status == before else None
        self.store.mutate(DV_KEY, dv["metadata"]["name"], write, dv["metadata"]["namespace"])


class InvalidClaim(Exception):
    """The DataVolume cannot be rendered into a PVC spec (CDI's ``ErrClaimNotValid``)."""


def bound_condition(claim: Optional[Dict[str, Any]]) -> tuple:
    if claim is None:
        return "False", "NotFound", "No PVC found"
    name = claim["metadata"]["name"]
    phase = dig(claim, "status", "phase")
    if phase == "Bound":
        return "True", "Bound", f"PVC {name} Bound"
    if phase == "Lost":
        return "False", "ClaimLost", "Claim Lost"
    return "False", "Pending", f"PVC {name} Pending"


CONTROLLERS = [DataVolumeController]
