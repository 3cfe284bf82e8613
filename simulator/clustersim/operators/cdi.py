"""CDI's StorageProfile controller and its default-class alerts (containerized-data-importer).

What it simulates
-----------------
* **One StorageProfile per StorageClass** (``cdi.kubevirt.io/v1beta1``, cluster-scoped, same name),
  created when the class appears and deleted with it. ``status`` holds ``storageClass``,
  ``provisioner``, ``claimPropertySets``, ``cloneStrategy`` and ``dataImportCronSourceFormat``.
* **Capabilities by provisioner key**, as CDI's ``storagecapabilities`` table: for
  ``pxd.portworx.com`` the key is ``pxd.portworx.com/nfs`` when ``sharedv4_mount_options``
  contains both ``vers=3.0`` and ``nolock`` (ReadWriteMany and ReadWriteOnce, Filesystem only),
  ``pxd.portworx.com/pure_block`` / ``pure_fa_file`` for those ``backend`` values, otherwise
  ``pxd.portworx.com`` (ReadWriteMany and ReadWriteOnce, each with Block and Filesystem). Unknown
  provisioners get no claim property sets (an incomplete profile); ``stork-snapshot`` and
  ``kubernetes.io/no-provisioner`` are CDI's unsupported provisioners.
* **Overrides**: a non-empty ``spec.claimPropertySets`` replaces the computed sets (a set with a
  volume mode but no access modes is ignored, as CDI refuses it); ``spec.cloneStrategy`` and
  ``spec.dataImportCronSourceFormat`` replace the advised values (Portworx: ``csi-clone``;
  otherwise ``snapshot`` when a VolumeSnapshotClass exists for the provisioner, else ``copy``;
  source format ``pvc``).
* **Alerts** ``CDIMultipleDefaultVirtStorageClasses``, ``CDINoDefaultStorageClass`` and
  ``CDIDefaultStorageClassDegraded`` computed with CDI's rules from the
  ``kubevirt_cdi_storageprofile_info`` labels (``default``, ``virtdefault``, ``rwx``,
  ``smartclone``; ``degraded`` = not (rwx and smartclone)), plus ``CDIStorageProfilesIncomplete``.
  They are pending for ``cdi_alert_for`` seconds (the rules' ``for: 5m``, default 0.05) and then
  firing; the ``monitoring`` plug-in serves them where OpenShift's Thanos querier does.

Durations: ``cdi_alert_for``.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from ..controller import Controller, watches
from ..util import now_rfc3339

if TYPE_CHECKING:  # pragma: no cover
    from ..cluster import Cluster

STORAGE_CLASS_KEY = "storage.k8s.io/storageclasses"
PROFILE_KEY = "cdi.kubevirt.io/storageprofiles"
DATA_VOLUME_KEY = "cdi.kubevirt.io/datavolumes"
SNAPSHOT_CLASS_KEY = "snapshot.storage.k8s.io/volumesnapshotclasses"
CSI_DRIVER_KEY = "storage.k8s.io/csidrivers"
VIRT_DEFAULT = "storageclass.kubevirt.io/is-default-virt-class"
CLUSTER_DEFAULT = "storageclass.kubernetes.io/is-default-class"
RUNBOOK = "https://github.com/openshift/runbooks/blob/master/alerts/openshift-virtualization-operator/{0}.md"

RWX, RWO, ROX = "ReadWriteMany", "ReadWriteOnce", "ReadOnlyMany"
BLOCK, FILE = "Block", "Filesystem"
CAPABILITIES: Dict[str, List[Tuple[str, str]]] = {
    "pxd.portworx.com": [(RWX, BLOCK), (RWX, FILE), (RWO, BLOCK), (RWO, FILE)],
    "pxd.portworx.com/nfs": [(RWX, FILE), (RWO, FILE)],
    "pxd.portworx.com/pure_block": [(RWX, BLOCK), (RWO, BLOCK), (RWO, FILE)],
    "pxd.portworx.com/pure_fa_file": [(RWX, FILE), (RWO, FILE)],
    "kubernetes.io/portworx-volume": [(RWX, BLOCK), (RWX, FILE), (RWO, BLOCK), (RWO, FILE)],
    "kubernetes.io/portworx-volume/nfs": [(RWX, FILE), (RWO, FILE)],
    "rbd.csi.ceph.com": [(RWX, BLOCK), (RWO, BLOCK), (RWO, FILE)],
    "openshift-storage.rbd.csi.ceph.com": [(RWX, BLOCK), (RWO, BLOCK), (RWO, FILE)],
    "kubevirt.io.hostpath-provisioner": [(RWO, FILE)],
}
ADVISED_CLONE = {key: "csi-clone" for key in CAPABILITIES if key.startswith(("pxd.portworx.com", "rbd", "openshift-storage"))}
UNSUPPORTED = {"stork-snapshot", "kubernetes.io/no-provisioner", "openshift-storage.noobaa.io/obc",
               "openshift-storage.ceph.rook.io/bucket", "rook-ceph.ceph.rook.io/bucket"}

ALERT_SUMMARIES = {
    "CDIMultipleDefaultVirtStorageClasses": "More than one default virtualization StorageClass detected",
    "CDINoDefaultStorageClass": "No default StorageClass or virtualization StorageClass, and a DataVolume is pending for one",
    "CDIDefaultStorageClassDegraded": "Default storage class has no smart clone or ReadWriteMany",
    "CDIStorageProfilesIncomplete": "Incomplete StorageProfile, accessMode/volumeMode cannot be inferred by CDI for PVC population request",
}


def provisioner_key(storage_class: Dict[str, Any]) -> str:
    provisioner = storage_class.get("provisioner") or ""
    parameters = storage_class.get("parameters") or {}
    if provisioner in ("pxd.portworx.com", "kubernetes.io/portworx-volume"):
        backend = parameters.get("backend")
        if provisioner == "pxd.portworx.com" and backend in ("pure_block", "pure_fa_file"):
            return f"{provisioner}/{backend}"
        if backend is None:
            options = [o.strip() for o in str(parameters.get("sharedv4_mount_options", "")).split(",")]
            if "vers=3.0" in options and "nolock" in options:
                return f"{provisioner}/nfs"
    return provisioner


def computed_property_sets(storage_class: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [{"accessModes": [mode], "volumeMode": vmode} for mode, vmode in CAPABILITIES.get(provisioner_key(storage_class), [])]


def _waits_for_default(dv: Optional[Dict[str, Any]]) -> bool:
    """A DataVolume counted by ``kubevirt_cdi_datavolume_pending`` (no class, not started)."""
    if dv is None:
        return False
    spec = dv.get("spec") or {}
    wanted = (spec.get("storage") or spec.get("pvc") or {}).get("storageClassName")
    return not wanted and (dv.get("status") or {}).get("phase") in (None, "", "Pending")


def _annotated(obj: Dict[str, Any], annotation: str) -> bool:
    return str(((obj.get("metadata") or {}).get("annotations") or {}).get(annotation, "")).lower() == "true"


class CdiStorage(Controller):
    """CDI's StorageProfile controller and its alert rules.

    Public interface: :meth:`alerts` (the alerts pending or firing, in the Prometheus API shape)."""

    name = "cdi"

    def __init__(self, cluster: "Cluster") -> None:
        super().__init__(cluster)
        self.active_since: Dict[Tuple[str, str], str] = {}
        self.active_clock: Dict[Tuple[str, str], float] = {}

    # ------------------------------------------------------------------ StorageProfiles
    @watches(STORAGE_CLASS_KEY)
    def on_storage_class(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        store = self.store
        if event == "DELETED" or new is None:
            name = (old or {}).get("metadata", {}).get("name")
            if name and store.peek(PROFILE_KEY, name) is not None:
                store.delete(PROFILE_KEY, name)
        else:
            self.reconcile(new["metadata"]["name"])
        self.evaluate_alerts()

    @watches(PROFILE_KEY)
    def on_profile(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is not None and (old is None or new.get("spec") != old.get("spec")):
            self.reconcile(new["metadata"]["name"])
        self.evaluate_alerts()

    def reconcile(self, name: str) -> None:
        store = self.store
        storage_class = store.peek(STORAGE_CLASS_KEY, name)
        if storage_class is None:
            return
        profile = store.peek(PROFILE_KEY, name)
        if profile is None:
            profile = store.create(PROFILE_KEY, {
                "apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "StorageProfile",
                "metadata": {"name": name, "labels": {"app": "containerized-data-importer", "cdi.kubevirt.io": "",
                                                      "app.kubernetes.io/component": "storage",
                                                      "app.kubernetes.io/managed-by": "cdi-controller"}},
                "spec": {},
            })
        status = self.profile_status(storage_class, profile.get("spec") or {})

        def write(obj: Dict[str, Any]) -> Any:
            if obj.get("status") == status:
                return False
            obj["status"] = status
            return None
        store.mutate(PROFILE_KEY, name, write)

    def profile_status(self, storage_class: Dict[str, Any], spec: Dict[str, Any]) -> Dict[str, Any]:
        provisioner = storage_class.get("provisioner") or ""
        spec_sets = [s for s in spec.get("claimPropertySets") or [] if s.get("accessModes")]
        sets = spec_sets or computed_property_sets(storage_class)
        key = provisioner_key(storage_class)
        clone_strategy = spec.get("cloneStrategy") or ADVISED_CLONE.get(key) or (
            "snapshot" if self._snapshot_class(provisioner) else "copy")
        status: Dict[str, Any] = {
            "storageClass": storage_class["metadata"]["name"],
            "provisioner": provisioner,
            "claimPropertySets": sets,
            "cloneStrategy": clone_strategy,
            "dataImportCronSourceFormat": spec.get("dataImportCronSourceFormat") or "pvc",
        }
        snapshot_class = spec.get("snapshotClass") or self._snapshot_class(provisioner)
        if snapshot_class:
            status["snapshotClass"] = snapshot_class
        return status

    @watches(SNAPSHOT_CLASS_KEY)
    def on_snapshot_class(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        # A profile's clone strategy and snapshot class follow the VolumeSnapshotClasses; smart-clone
        # health (an alert input) reads them too.
        for storage_class in self.store.list(STORAGE_CLASS_KEY):
            self.reconcile(storage_class["metadata"]["name"])
        self.evaluate_alerts()

    @watches(CSI_DRIVER_KEY)
    def on_csi_driver(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        self.evaluate_alerts()  # smart-clone health reads CSIDrivers directly

    def _snapshot_class(self, provisioner: str) -> Optional[str]:
        for snapshot_class in self.store.list(SNAPSHOT_CLASS_KEY, copy=False):
            if snapshot_class.get("driver") == provisioner:
                return snapshot_class["metadata"]["name"]
        return None

    # ------------------------------------------------------------------ metrics and alerts
    def profile_info(self) -> List[Dict[str, Any]]:
        """The ``kubevirt_cdi_storageprofile_info`` series: one label set per StorageProfile."""
        store = self.store
        series = []
        for profile in store.list(PROFILE_KEY, copy=False):
            status = profile.get("status") or {}
            storage_class = store.peek(STORAGE_CLASS_KEY, profile["metadata"]["name"])
            if storage_class is None or not status.get("provisioner"):
                continue
            sets = status.get("claimPropertySets") or []
            complete = status["provisioner"] in UNSUPPORTED or (
                bool(sets) and all(s.get("accessModes") and s.get("volumeMode") for s in sets))
            rwx = any(RWX in (s.get("accessModes") or []) for s in sets)
            smart = self._smart_clone(status)
            series.append({"storageclass": status.get("storageClass"), "provisioner": status["provisioner"],
                           "complete": complete, "default": _annotated(storage_class, CLUSTER_DEFAULT),
                           "virtdefault": _annotated(storage_class, VIRT_DEFAULT), "rwx": rwx,
                           "smartclone": smart, "degraded": not (rwx and smart)})
        return series

    def _smart_clone(self, status: Dict[str, Any]) -> bool:
        strategy, provisioner = status.get("cloneStrategy"), status.get("provisioner")
        if strategy == "copy":
            return False
        if strategy == "csi-clone":
            return self.store.peek(CSI_DRIVER_KEY, provisioner) is not None
        return self._snapshot_class(provisioner) is not None

    def pending_data_volumes(self) -> int:
        """``kubevirt_cdi_datavolume_pending``: DataVolumes waiting for a default class."""
        return sum(1 for dv in self.store.list(DATA_VOLUME_KEY, copy=False) if _waits_for_default(dv))

    @watches(DATA_VOLUME_KEY)
    def on_data_volume(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        # DataVolumes only feed the pending count; every other input of the alert rules
        # (profiles, classes, snapshot classes, CSI drivers) re-evaluates on its own change.  So
        # only a change of "waits for a default class" can change the alerts: skip the full
        # evaluation (which lists every profile) for the thousands of other DataVolume events.
        if _waits_for_default(new) != _waits_for_default(old):
            self.evaluate_alerts()

    def active_alerts(self) -> List[Tuple[str, str]]:
        """(alert, storageclass label or "") pairs whose rule expression is true right now."""
        series = self.profile_info()
        defaults = [s for s in series if s["default"]]
        virt_defaults = [s for s in series if s["virtdefault"]]
        active: List[Tuple[str, str]] = []
        if len(virt_defaults) > 1:
            active.append(("CDIMultipleDefaultVirtStorageClasses", ""))
        if not defaults and not virt_defaults and self.pending_data_volumes() > 0:
            active.append(("CDINoDefaultStorageClass", ""))
        healthy = sum(1 for s in defaults if not s["degraded"]) + sum(1 for s in virt_defaults if not s["degraded"])
        if (defaults or virt_defaults) and healthy == 0:
            active.append(("CDIDefaultStorageClassDegraded", ""))
        for s in series:
            if not s["complete"]:
                active.append(("CDIStorageProfilesIncomplete", s["storageclass"]))
        return active

    def evaluate_alerts(self) -> None:
        active = set(self.active_alerts())
        for key in list(self.active_since):
            if key not in active:
                del self.active_since[key]
                del self.active_clock[key]
        for key in active:
            if key not in self.active_since:
                self.active_since[key] = now_rfc3339()
                self.active_clock[key] = time.monotonic()

    def alerts(self) -> List[Dict[str, Any]]:
        """The CDI alerts pending or firing now, as Prometheus's ``/api/v1/alerts`` lists them.

        Public interface: the monitoring controller serves them (``operators/monitoring.py``)."""
        with self.cluster.lock:
            self.evaluate_alerts()
            hold = self.cluster.duration("cdi_alert_for", 0.05)
            alerts = []
            for (name, storage_class), since in sorted(self.active_since.items()):
                labels = {"alertname": name, "namespace": "openshift-cnv", "severity": "info" if name == "CDIStorageProfilesIncomplete" else "warning",
                          "operator_health_impact": "none", "kubernetes_operator_part_of": "kubevirt",
                          "kubernetes_operator_component": "containerized-data-importer"}
                if storage_class:
                    labels["storageclass"] = storage_class
                state = "firing" if time.monotonic() - self.active_clock[(name, storage_class)] >= hold else "pending"
                alerts.append({"labels": labels,
                               "annotations": {"summary": ALERT_SUMMARIES[name], "runbook_url": RUNBOOK.format(name)},
                               "state": state, "activeAt": since, "value": "1e+00"})
        return alerts

    def reset(self) -> None:
        self.active_since.clear()
        self.active_clock.clear()


CONTROLLERS = [CdiStorage]
