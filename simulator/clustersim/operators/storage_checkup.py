"""The OpenShift Virtualization storage checkup (kiagnose/kubevirt-storage-checkup) run as a Job.

Checked against kiagnose/kubevirt-storage-checkup main 5d09896 (2026-03-15):
``pkg/internal/checkup/checkup.go`` (the checks, their messages), ``pkg/internal/reporter/reporter.go``
(result keys), ``pkg/internal/launcher/launcher.go``, ``cmd/main.go`` and the kiagnose reporter
(``status.*`` keys) it vendors; manifests ``manifests/storage_checkup*.yaml``.

* **Trigger**: a batch/v1 Job whose container image contains ``kubevirt-storage-checkup``. The
  simulator has no kubelet that would run its pod, so this controller plays the checkup process
  and then completes the Job itself (``status.startTime``, then ``succeeded: 1`` with conditions
  ``SuccessCriteriaMet`` and ``Complete``, or -- the process exits non-zero on a failed checkup,
  ``log.Fatalf`` in ``cmd/main.go``, and ``backoffLimit: 0`` -- ``failed: 1`` with ``FailureTarget``
  and ``Failed`` ``BackoffLimitExceeded``). A Job that already has conditions is left alone (a Job
  controller of another plug-in got there first).
* **Config**: the ConfigMap named by the container's ``CONFIGMAP_NAMESPACE`` / ``CONFIGMAP_NAME``
  env; ``spec.param.storageClass`` replaces the default class. A missing ConfigMap fails the Job
  without results.
* **Start**: ``status.startTimestamp`` is written (old ``status.*`` keys dropped).
* **Checks**, in upstream order, from the cluster's state:
  versions (``ocpVersion`` from the ClusterVersion's first Completed history entry,
  ``cnvVersion`` the single CDI's ``app.kubernetes.io/version`` label); ``defaultStorageClass``
  (the virt-default annotated class, else the cluster default; more than one of either →
  "there are multiple default storage classes", none → "no default storage class");
  ``pvcBound`` (a real blank 10Mi DataVolume ``checkup-pvc`` with
  ``cdi.kubevirt.io/storage.bind.immediate.requested`` is created in the Job's namespace and must
  bind within ``storage_checkup_pvc_timeout`` seconds, default 2, else "pvc failed to bound"; it is
  deleted afterwards); StorageProfiles (empty ``status.claimPropertySets`` → "there are
  StorageProfiles with empty ClaimPropertySets (unknown provisioners)", and the lists of profiles
  with spec overrides, smart clone and RWX); ``storageProfileMissingVolumeSnapshotClass`` (reported,
  not a failure, as upstream); golden images (DataImportCrons in every namespace: not UpToDate or
  DataSource not Ready → "there are golden images whose DataImportCron is not up to date or
  DataSource is not ready", no PVC or snapshot source → "dataSource has no PVC or Snapshot source").
* **VM checks** are not run with real VMs: the results are derived from the same state. No default
  class: "Skip check - no default storage class"; no golden image PVC on a class with smart clone
  and RWX (else any golden image): "Skip check - no golden image PVC or Snapshot"; else
  ``VMI "vmi-under-test-<suffix>" successfully booted``, ``DV cloneType: "<the target class's
  cloneStrategy>"``, live migration "Skip check - single node" with one schedulable worker, the
  LiveMigratable message KubeVirt gives an RWO disk when the target class has no RWX, else
  ``VMI "..." migration completed``; hot-plug ready and removed; "Boot completed on all VMs on time".
* **Completion**: ``status.succeeded``, ``status.failureReason`` (the failures joined by newlines),
  ``status.completionTimestamp`` and every ``status.result.<key>`` (empty when there is nothing).

Durations: ``storage_checkup_step`` (default 0.05), ``storage_checkup_pvc_timeout`` (default 2).
"""
from __future__ import annotations

import hashlib
from typing import Any, Dict, List, Optional, Tuple

from ..controller import Controller, watches
from ..errors import ApiError
from ..util import dig, now_rfc3339

JOBS = "batch/jobs"
CONFIG_MAPS = "configmaps"
DATA_VOLUMES = "cdi.kubevirt.io/datavolumes"
CLAIMS = "persistentvolumeclaims"
IMAGE_MARK = "kubevirt-storage-checkup"
CHECKUP_PVC = "checkup-pvc"
VIRT_DEFAULT = "storageclass.kubevirt.io/is-default-virt-class"
CLUSTER_DEFAULT = "storageclass.kubernetes.io/is-default-class"
UNSUPPORTED_PROVISIONERS = ("kubernetes.io/no-provisioner", "openshift-storage.ceph.rook.io/bucket", "openshift-storage.noobaa.io/obc")
RESULT_KEYS = ("ocpVersion", "cnvVersion", "defaultStorageClass", "pvcBound", "storageProfilesWithEmptyClaimPropertySets",
               "storageProfilesWithSpecClaimPropertySets", "storageProfilesWithSmartClone", "storageProfilesWithRWX",
               "storageProfileMissingVolumeSnapshotClass", "goldenImagesNotUpToDate", "goldenImagesNoDataSource",
               "vmsWithNonVirtRbdStorageClass", "vmsWithUnsetEfsStorageClass", "vmBootFromGoldenImage", "vmVolumeClone",
               "vmLiveMigration", "vmHotplugVolume", "concurrentVMBoot")
NO_DEFAULT = "no default storage class"
MULTIPLE_DEFAULTS = "there are multiple default storage classes"
PVC_NOT_BOUND = "pvc failed to bound"
EMPTY_SETS = "there are StorageProfiles with empty ClaimPropertySets (unknown provisioners)"
GOLDEN_NOT_UP_TO_DATE = "there are golden images whose DataImportCron is not up to date or DataSource is not ready"
GOLDEN_NO_SOURCE = "dataSource has no PVC or Snapshot source"
SKIP_NO_DEFAULT = "Skip check - no default storage class"
SKIP_NO_GOLDEN = "Skip check - no golden image PVC or Snapshot"
SKIP_NO_VMI = "Skip check - no VMI"
SKIP_SINGLE_NODE = "Skip check - single node"
BOOT_COMPLETED = "Boot completed on all VMs on time"


def _annotated(obj: Dict[str, Any], annotation: str) -> bool:
    return (obj["metadata"].get("annotations") or {}).get(annotation) == "true"


def _condition_true(obj: Optional[Dict[str, Any]], type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in dig(obj, "status", "conditions") or [])


def check_default_class(classes: List[Dict[str, Any]]) -> Tuple[str, str, Optional[str]]:
    """(result, default class or "", failure or None) as ``checkDefaultStorageClass``."""
    virt = [c["metadata"]["name"] for c in classes if _annotated(c, VIRT_DEFAULT)]
    cluster = [c["metadata"]["name"] for c in classes if _annotated(c, CLUSTER_DEFAULT)]
    default = virt[0] if virt else (cluster[0] if cluster else "")
    if len(virt) > 1 or len(cluster) > 1:
        return MULTIPLE_DEFAULTS, default, MULTIPLE_DEFAULTS
    if default:
        return default, default, None
    return NO_DEFAULT, "", NO_DEFAULT


def has_rwx(profile: Dict[str, Any]) -> bool:
    return any("ReadWriteMany" in (s.get("accessModes") or []) for s in dig(profile, "status", "claimPropertySets") or [])


def has_smart_clone(profile: Dict[str, Any], snapshot_drivers: List[str], csi_drivers: List[str]) -> bool:
    strategy, provisioner = dig(profile, "status", "cloneStrategy"), dig(profile, "status", "provisioner")
    if strategy == "copy":
        return False
    if strategy == "csi-clone" and provisioner:
        return provisioner in csi_drivers
    return strategy in (None, "snapshot") and bool(provisioner) and provisioner in snapshot_drivers


def check_profiles(profiles: List[Dict[str, Any]], snapshot_drivers: List[str], csi_drivers: List[str]) -> Tuple[Dict[str, str], List[str], List[str]]:
    """(results, failures, classes a golden image may be cloned to) as ``checkStorageProfiles``
    and ``checkVolumeSnapShotClasses``."""
    found: Dict[str, List[str]] = {k: [] for k in ("empty", "spec", "smart", "rwx", "nosnap")}
    golden_classes = []
    for profile in profiles:
        provisioner = dig(profile, "status", "provisioner")
        if not provisioner or provisioner in UNSUPPORTED_PROVISIONERS:
            continue
        name, smart, rwx = profile["metadata"]["name"], has_smart_clone(profile, snapshot_drivers, csi_drivers), has_rwx(profile)
        if dig(profile, "status", "storageClass") and smart and rwx:
            golden_classes.append(profile["status"]["storageClass"])
        for key, hit in (("empty", not dig(profile, "status", "claimPropertySets")), ("spec", bool(dig(profile, "spec", "claimPropertySets"))),
                         ("smart", smart), ("rwx", rwx),
                         ("nosnap", dig(profile, "status", "cloneStrategy") in (None, "snapshot") and provisioner not in snapshot_drivers)):
            if hit:
                found[key].append(name)
    results = {"storageProfilesWithEmptyClaimPropertySets": "\n".join(found["empty"]),
               "storageProfilesWithSpecClaimPropertySets": "\n".join(found["spec"]),
               "storageProfilesWithSmartClone": "\n".join(found["smart"]),
               "storageProfilesWithRWX": "\n".join(found["rwx"]),
               "storageProfileMissingVolumeSnapshotClass": "\n".join(found["nosnap"])}
    return results, [EMPTY_SETS] if found["empty"] else [], golden_classes


def check_golden_images(crons: List[Dict[str, Any]], source_of: Any) -> Tuple[Dict[str, str], List[str], List[Dict[str, Any]]]:
    """(results, failures, golden image claims) as ``checkGoldenImages``; ``source_of(cron)`` gives the DataSource."""
    not_ready, no_source, claims = [], [], []
    for cron in crons:
        name = f"{cron['metadata']['namespace']}/{cron['metadata']['name']}"
        source = source_of(cron)
        if not _condition_true(cron, "UpToDate") or not _condition_true(source, "Ready"):
            not_ready.append(name)
        elif dig(source, "spec", "source", "pvc") or dig(source, "spec", "source", "snapshot"):
            claims.append(dig(source, "spec", "source"))
        else:
            no_source.append(name)
    failures = ([GOLDEN_NOT_UP_TO_DATE] if not_ready else []) + ([GOLDEN_NO_SOURCE] if no_source else [])
    return {"goldenImagesNotUpToDate": "\n".join(not_ready), "goldenImagesNoDataSource": "\n".join(no_source)}, failures, claims


def vm_results(target_class: str, target_profile: Optional[Dict[str, Any]], golden: bool, workers: int, suffix: str) -> Dict[str, str]:
    """The results of the VM checks, derived instead of booting VMs (see the module docstring)."""
    if not target_class:
        return {"vmBootFromGoldenImage": SKIP_NO_DEFAULT, "vmLiveMigration": SKIP_NO_VMI, "vmHotplugVolume": SKIP_NO_VMI,
                "concurrentVMBoot": SKIP_NO_DEFAULT}
    if not golden:
        return {"vmBootFromGoldenImage": SKIP_NO_GOLDEN, "vmLiveMigration": SKIP_NO_VMI, "vmHotplugVolume": SKIP_NO_VMI,
                "concurrentVMBoot": SKIP_NO_GOLDEN}
    vmi = f"vmi-under-test-{suffix}"
    if workers <= 1:
        migration = SKIP_SINGLE_NODE
    elif target_profile is not None and not has_rwx(target_profile):
        migration = (f"cannot migrate VMI: PVC {vmi} is not shared, live migration requires that all PVCs must be shared "
                     "(using ReadWriteMany access mode)")
    else:
        migration = f'VMI "{vmi}" migration completed'
    return {"vmBootFromGoldenImage": f'VMI "{vmi}" successfully booted',
            "vmVolumeClone": 'DV cloneType: "{0}"'.format(dig(target_profile, "status", "cloneStrategy") or "snapshot"),
            "vmLiveMigration": migration,
            "vmHotplugVolume": f'VMI "{vmi}" hotplug volume ready\nVMI "{vmi}" hotplug volume removed',
            "concurrentVMBoot": BOOT_COMPLETED}


class StorageCheckup(Controller):
    """Runs ``kubevirt-storage-checkup`` Jobs against the simulated cluster."""

    name = "storage-checkup"

    def step(self) -> float:
        return self.cluster.duration("storage_checkup_step", 0.05)

    @watches(JOBS)
    def on_job(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if event == "ADDED" and new is not None and self.is_checkup(new) and not dig(new, "status", "conditions"):
            self.cluster.after(self.step(), self.start, new["metadata"]["namespace"], new["metadata"]["name"])

    @staticmethod
    def is_checkup(job: Dict[str, Any]) -> bool:
        return any(IMAGE_MARK in (c.get("image") or "") for c in dig(job, "spec", "template", "spec", "containers") or [])

    @staticmethod
    def config_map_of(job: Dict[str, Any]) -> Tuple[str, str]:
        env = {}
        for container in dig(job, "spec", "template", "spec", "containers") or []:
            env.update({e.get("name"): e.get("value") for e in container.get("env") or []})
        return env.get("CONFIGMAP_NAMESPACE") or job["metadata"]["namespace"], env.get("CONFIGMAP_NAME") or ""

    def start(self, namespace: str, name: str) -> None:
        job = self.store.peek(JOBS, name, namespace)
        if job is None:
            return
        self.store.mutate(JOBS, name, lambda o: o.setdefault("status", {}).update(startTime=now_rfc3339(), active=1), namespace)
        cm_namespace, cm_name = self.config_map_of(job)
        config = self.store.peek(CONFIG_MAPS, cm_name, cm_namespace) if cm_name else None
        if config is None:
            self.complete_job(namespace, name, succeeded=False)
            return

        def started(obj: Dict[str, Any]) -> None:
            data = {k: v for k, v in (obj.get("data") or {}).items() if not k.startswith("status.")}
            data["status.startTimestamp"] = now_rfc3339()
            obj["data"] = data
        self.store.mutate(CONFIG_MAPS, cm_name, started, cm_namespace)
        storage_class = (config.get("data") or {}).get("spec.param.storageClass") or ""
        default_result, default_class, failure = check_default_class(self.store.list("storage.k8s.io/storageclasses", copy=False))
        run = {"job": (namespace, name), "config": (cm_namespace, cm_name), "failures": [failure] if failure else [],
               "results": {"defaultStorageClass": default_result}, "class": storage_class or default_class}
        run["results"].update(self.versions())
        if not run["class"]:
            run["results"]["pvcBound"] = SKIP_NO_DEFAULT
            self.finish(run)
            return
        self.create_checkup_pvc(namespace, run["class"] if storage_class else None)
        deadline = self.cluster.duration("storage_checkup_pvc_timeout", 2.0)
        self.cluster.after(self.step(), self.wait_for_pvc, run, deadline)

    def versions(self) -> Dict[str, str]:
        history = dig(self.store.peek("config.openshift.io/clusterversions", "version"), "status", "history") or []
        ocp = next((h.get("version") for h in history if h.get("state") == "Completed"), "")
        cdis = self.store.list("cdi.kubevirt.io/cdis", copy=False)
        cnv = (cdis[0]["metadata"].get("labels") or {}).get("app.kubernetes.io/version", "") if len(cdis) == 1 else ""
        return {"ocpVersion": ocp or "", "cnvVersion": cnv}

    def create_checkup_pvc(self, namespace: str, storage_class: Optional[str]) -> None:
        storage: Dict[str, Any] = {"resources": {"requests": {"storage": "10Mi"}}}
        if storage_class:
            storage["storageClassName"] = storage_class
        try:
            self.store.create(DATA_VOLUMES, {
                "apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
                "metadata": {"name": CHECKUP_PVC, "namespace": namespace,
                             "annotations": {"cdi.kubevirt.io/storage.bind.immediate.requested": "true"}},
                "spec": {"storage": storage, "source": {"blank": {}}}}, namespace)
        except ApiError:
            pass  # left over from an earlier run: its claim is waited for the same way

    def wait_for_pvc(self, run: Dict[str, Any], remaining: float) -> None:
        namespace = run["job"][0]
        bound = dig(self.store.peek(CLAIMS, CHECKUP_PVC, namespace), "status", "phase") == "Bound"
        if not bound and remaining > 0:
            self.cluster.after(self.step(), self.wait_for_pvc, run, remaining - self.step())
            return
        if bound:
            run["results"]["pvcBound"] = f'PVC "{CHECKUP_PVC}" bound'
        else:
            run["results"]["pvcBound"] = PVC_NOT_BOUND
            run["failures"].append(PVC_NOT_BOUND)
        try:
            self.store.delete(DATA_VOLUMES, CHECKUP_PVC, namespace)
        except ApiError:
            pass
        self.finish(run)

    def finish(self, run: Dict[str, Any]) -> None:
        store = self.store
        snapshot_drivers = [c.get("driver") for c in store.list("snapshot.storage.k8s.io/volumesnapshotclasses", copy=False)]
        csi_drivers = [d["metadata"]["name"] for d in store.list("storage.k8s.io/csidrivers", copy=False)]
        profiles = store.list("cdi.kubevirt.io/storageprofiles", copy=False)
        results, failures, golden_classes = check_profiles(profiles, snapshot_drivers, csi_drivers)
        run["results"].update(results)
        run["failures"].extend(failures)
        golden_results, golden_failures, golden = check_golden_images(
            store.list("cdi.kubevirt.io/dataimportcrons", copy=False),
            lambda cron: store.peek("cdi.kubevirt.io/datasources", dig(cron, "spec", "managedDataSource") or "", cron["metadata"]["namespace"]))
        run["results"].update(golden_results)
        run["failures"].extend(golden_failures)
        workers = [n for n in store.list("nodes", copy=False) if "node-role.kubernetes.io/worker" in (n["metadata"].get("labels") or {})
                   and not dig(n, "spec", "unschedulable")]
        suffix = hashlib.sha256("/".join(run["job"]).encode()).hexdigest()[:5]
        run["results"].update(vm_results(run["class"], store.peek("cdi.kubevirt.io/storageprofiles", run["class"]) if run["class"] else None,
                                         bool(golden), len(workers), suffix))
        self.report(run)

    def report(self, run: Dict[str, Any]) -> None:
        cm_namespace, cm_name = run["config"]

        def done(obj: Dict[str, Any]) -> None:
            data = obj.setdefault("data", {})
            data.update({f"status.result.{key}": run["results"].get(key, "") for key in RESULT_KEYS})
            data["status.succeeded"] = "false" if run["failures"] else "true"
            data["status.failureReason"] = "\n".join(run["failures"])
            data["status.completionTimestamp"] = now_rfc3339()
        if self.store.peek(CONFIG_MAPS, cm_name, cm_namespace) is not None:
            self.store.mutate(CONFIG_MAPS, cm_name, done, cm_namespace)
        self.complete_job(*run["job"], succeeded=not run["failures"])

    def complete_job(self, namespace: str, name: str, succeeded: bool) -> None:
        if self.store.peek(JOBS, name, namespace) is None:
            return
        now = now_rfc3339()

        def finished(obj: Dict[str, Any]) -> None:
            status = obj.setdefault("status", {})
            status.pop("active", None)
            if succeeded:
                status.update(succeeded=1, completionTime=now, conditions=[
                    _job_condition("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods", now),
                    _job_condition("Complete", "CompletionsReached", "Reached expected number of succeeded pods", now)])
            else:
                status.update(failed=1, conditions=[
                    _job_condition("FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit", now),
                    _job_condition("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit", now)])
        self.store.mutate(JOBS, name, finished, namespace)


def _job_condition(type_: str, reason: str, message: str, now: str) -> Dict[str, Any]:
    return {"type": type_, "status": "True", "reason": reason, "message": message, "lastProbeTime": now, "lastTransitionTime": now}


CONTROLLERS = [StorageCheckup]
