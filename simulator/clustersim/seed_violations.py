"""The violations the ``misconfigured`` profile plants on top of ``default``.

Each entry of ``PLANTED`` is a rule id of the readiness audit and how it is planted; the default
cluster already breaks some rules before day 0 (``BEFORE_DAY0``). Tests assert the audit reports
exactly these ids. The VMs of namespace ``vms-legacy`` are Halted, each breaking one VM rule.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from .seed_platform import LEGACY, OS_IMAGES, VM_CLASS, _condition, _ensure_namespace, create_claim, template, \
    vm_template_object
from .util import now_rfc3339

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

# What a default (pre-day-0) cluster already breaks: no cluster default class, no scratch or VM
# state class, overhead 0.055 with a Filesystem VM disk, registry Removed, no VolumeSnapshotClass,
# no rebalance AutopilotRule, the checkup not run, one VM without eviction strategy, one RWO disk,
# and the common template without usePopulator "false".
BEFORE_DAY0 = ("DEFAULT-CLUSTER-CLASS", "R17", "R18", "R19", "R20", "R21", "PX-REBALANCE-RULE", "STORAGE-CHECKUP",
               "R7", "R8", "R4")

PLANTED = {
    "PX-VERSION": "StorageCluster at Portworx 3.4.1",
    "PX-UPDATE-STRATEGY": "StorageCluster rollingUpdate.maxUnavailable 3",
    "PX-STORK": "stork Deployment with no ready replica",
    "PX-AUTOPILOT": "StorageCluster spec.autopilot.enabled false",
    "PX-NODES-ONLINE": "two StorageNodes in Maintenance",
    "R10": "two StorageNodes in Maintenance at once",
    "OCP-CSI-SNAPSHOT": "CSISnapshot not among the enabled capabilities",
    "NMO-INSTALLED": "no Node Maintenance Operator CSV",
    "NETWORK-PODS": "hostPrefix 25 (128 pods) under maxPods 250",
    "MCP-MAX-UNAVAILABLE": "worker MachineConfigPool maxUnavailable 2",
    "R14": "the last worker is AMD, the others Intel",
    "R1": "hostpath-csi (RWO Filesystem only) is a default virtualization class",
    "R2": "px-rwx-block-kubvirt and hostpath-csi are both default virtualization classes",
    "R5": "VM legacy-mixed uses px-csi-replicated (Immediate)",
    "PROFILE-CLAIMS": "StorageProfile px-csi-replicated limited to RWO Filesystem",
    "R6": "StorageMap to px-rwx-block-kubvirt (WaitForFirstConsumer)",
    "BOOT-SOURCES": "DataSource fedora not Ready",
    "LIVE-MIGRATION": "bandwidthPerMigration 64Mi",
    "R11": "a FailedToEvictVM event",
    "R3": "VM legacy-immediate: bind.immediate.requested on its DataVolume template",
    "R9": "VM legacy-bridge: bridge binding on the pod network",
    "R12": "VM legacy-wsfc: shareable disk with SCSI reservation on Portworx",
    "R13": "VM legacy-sata: hot-plugged SATA disk",
    "R15": "VM legacy-mixed: repl 3 and repl 2 volumes",
    "R16": "VM legacy-precreated: claim without portworx.io/app",
    "R24": "VM legacy-bios4k: BIOS with a 4096-byte logical root disk",
}
# Also planted, with rule ids already in BEFORE_DAY0: scratch class px-csi-db whose profile offers
# Block only (R17, critical), VM state class px-csi-replicated (repl 2, Delete: R18), two default
# VolumeSnapshotClasses (R21), a failed storage checkup (STORAGE-CHECKUP, warning), VM
# legacy-populator without usePopulator (R4) and template legacy-rhel9 in vms-legacy (R4, R7).


def plant_violations(cluster: "Cluster") -> None:
    _plant_portworx(cluster)
    _plant_platform(cluster)
    _plant_storage(cluster)
    _plant_virtualization(cluster)
    _plant_vms(cluster)


def _plant_portworx(cluster: "Cluster") -> None:
    store = cluster.store

    def storage_cluster(obj: Dict[str, Any]) -> None:
        obj["spec"]["image"] = "portworx/oci-monitor:3.4.1"
        obj["spec"]["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 3}}
        obj["spec"]["autopilot"] = {"enabled": False}
        obj["status"]["version"] = "3.4.1"
    store.mutate("core.libopenstorage.org/storageclusters", "px-cluster", storage_cluster, "portworx")
    store.mutate("apps/deployments", "stork", lambda d: d["status"].update(readyReplicas=0, availableReplicas=0), "portworx")
    for node in [n["metadata"]["name"] for n in store.list("core.libopenstorage.org/storagenodes", "portworx")][:2]:
        store.mutate("core.libopenstorage.org/storagenodes", node, lambda n: n["status"].update(phase="Maintenance"), "portworx")


def _plant_platform(cluster: "Cluster") -> None:
    store = cluster.store

    def capabilities(obj: Dict[str, Any]) -> None:
        enabled = obj["status"]["capabilities"]["enabledCapabilities"]
        obj["status"]["capabilities"]["enabledCapabilities"] = [c for c in enabled if c != "CSISnapshot"]
    store.mutate("config.openshift.io/clusterversions", "version", capabilities)
    for csv in store.list("operators.coreos.com/clusterserviceversions"):
        if csv["metadata"]["name"].startswith("node-maintenance-operator"):
            store.delete("operators.coreos.com/clusterserviceversions", csv["metadata"]["name"], csv["metadata"]["namespace"])

    def host_prefix(obj: Dict[str, Any]) -> None:
        for part in ("spec", "status"):
            obj[part]["clusterNetwork"] = [{"cidr": "10.128.0.0/14", "hostPrefix": 25}]
    store.mutate("config.openshift.io/networks", "cluster", host_prefix)
    store.mutate("machineconfiguration.openshift.io/machineconfigpools", "worker", lambda p: p["spec"].update(maxUnavailable=2))
    workers = sorted(n["metadata"]["name"] for n in store.list("nodes")
                     if "node-role.kubernetes.io/worker" in n["metadata"]["labels"])

    def amd(node: Dict[str, Any]) -> None:
        labels = node["metadata"]["labels"]
        labels.pop("cpu-vendor.node.kubevirt.io/Intel", None)
        labels["cpu-vendor.node.kubevirt.io/AMD"] = "true"
    store.mutate("nodes", workers[-1], amd)


def _plant_storage(cluster: "Cluster") -> None:
    store = cluster.store
    store.create_owned("storage.k8s.io/storageclasses", {
        "metadata": {"name": "hostpath-csi", "annotations": {"storageclass.kubevirt.io/is-default-virt-class": "true"}},
        "provisioner": "kubevirt.io.hostpath-provisioner", "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": False, "parameters": {}})
    for name, sets in (("px-csi-replicated", [{"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"}]),
                       ("px-csi-db", [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}])):
        _profile_spec(cluster, name, {"claimPropertySets": sets})
    for name in ("px-csi-snapclass", "px-csi-snapclass-copy"):
        store.create_owned("snapshot.storage.k8s.io/volumesnapshotclasses", {
            "metadata": {"name": name, "annotations": {"snapshot.storage.kubernetes.io/is-default-class": "true"}},
            "driver": "pxd.portworx.com", "deletionPolicy": "Delete",
            "parameters": {"csi.openstorage.org/snapshot-type": "local"}})
    store.create_owned("forklift.konveyor.io/storagemaps", {
        "metadata": {"name": "vsphere-map", "namespace": "openshift-mtv"},
        "spec": {"provider": {"source": {"name": "vsphere", "namespace": "openshift-mtv"},
                              "destination": {"name": "host", "namespace": "openshift-mtv"}},
                 "map": [{"source": {"id": "datastore-1"}, "destination": {"storageClass": VM_CLASS}}]},
        # forklift conditions carry a required category; Ready is "Required" (kubev2v/forklift pkg/lib/condition)
        "status": {"conditions": [dict(_condition("Ready", "True"), category="Required")]}})
    store.mutate("cdi.kubevirt.io/datasources", "fedora",
                 lambda s: s["status"].update(conditions=[_condition("Ready", "False", "NotFound", "PVC not found")]), OS_IMAGES)
    store.create_owned("configmaps", {
        "metadata": {"name": "storage-checkup-config", "namespace": "default"},
        "data": {"spec.timeout": "10m", "status.succeeded": "false", "status.failureReason": "VMI boot from golden image failed",
                 "status.startTimestamp": now_rfc3339(), "status.completionTimestamp": now_rfc3339()}})


def _profile_spec(cluster: "Cluster", name: str, spec: Dict[str, Any]) -> None:
    """A user-set StorageProfile spec; CDI's controller computes the status from it."""
    key = "cdi.kubevirt.io/storageprofiles"
    if cluster.store.peek(key, name) is None:
        cluster.store.create_owned(key, {"metadata": {"name": name, "labels": {"app": "containerized-data-importer"}},
                                         "spec": spec})
    else:
        cluster.store.mutate(key, name, lambda p: p.setdefault("spec", {}).update(spec))


def _plant_virtualization(cluster: "Cluster") -> None:
    def hco(obj: Dict[str, Any]) -> None:
        obj["spec"]["scratchSpaceStorageClass"] = "px-csi-db"
        obj["spec"]["vmStateStorageClass"] = "px-csi-replicated"
        obj["spec"]["liveMigrationConfig"]["bandwidthPerMigration"] = "64Mi"
    cluster.store.mutate("hco.kubevirt.io/hyperconvergeds", "kubevirt-hyperconverged", hco, "openshift-cnv")
    cluster.store.create_owned("events", {
        "metadata": {"name": "px-cluster.failed-to-evict", "namespace": "portworx"},
        "involvedObject": {"kind": "StorageCluster", "name": "px-cluster", "namespace": "portworx",
                           "apiVersion": "core.libopenstorage.org/v1"},
        "reason": "FailedToEvictVM", "type": "Warning", "count": 1, "source": {"component": "portworx-operator"},
        "message": "Failed to evict VM vms/vm-000 during the Portworx upgrade: manual action needed",
        "firstTimestamp": now_rfc3339(), "lastTimestamp": now_rfc3339()})


PX_APP = {"portworx.io/app": "kubevirt"}
USE_POPULATOR = "cdi.kubevirt.io/storage.usePopulator"
BIND_IMMEDIATE = "cdi.kubevirt.io/storage.bind.immediate.requested"


def _vm(name: str, disks: List[Dict[str, Any]], volumes: List[Dict[str, Any]],
        templates: Optional[List[Dict[str, Any]]] = None, interface: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": LEGACY, "labels": {"app": name, "fleet": "legacy"}},
        "spec": {"runStrategy": "Halted", "dataVolumeTemplates": templates or [],
                 "template": {"metadata": {"labels": {"kubevirt.io/domain": name}},
                              "spec": {"domain": {"cpu": {"cores": 1}, "memory": {"guest": "2Gi"},
                                                  "devices": {"disks": disks,
                                                              "interfaces": [interface or {"name": "default", "masquerade": {}}]}},
                                       "evictionStrategy": "LiveMigrateIfPossible",
                                       "networks": [{"name": "default", "pod": {}}], "volumes": volumes}}},
        "status": {"printableStatus": "Stopped", "ready": False, "created": False,
                   "conditions": [_condition("Ready", "False", "VMINotExists", "VMI does not exist")]},
    }


def _root(name: str, bus: str = "virtio") -> Dict[str, Any]:
    return {"name": "rootdisk", "disk": {"bus": bus}, "bootOrder": 1}


def _pvc_volume(volume: str, claim: str, hotpluggable: bool = False) -> Dict[str, Any]:
    source: Dict[str, Any] = {"claimName": claim}
    if hotpluggable:
        source["hotpluggable"] = True
    return {"name": volume, "persistentVolumeClaim": source}


def _precreated_vm(cluster: "Cluster", name: str, extra_disks: List[Dict[str, Any]] = (),
                   extra_claims: List[tuple] = (), root: Optional[Dict[str, Any]] = None,
                   interface: Optional[Dict[str, Any]] = None, annotate: bool = True) -> None:
    """A VM on pre-created claims: its root disk plus ``extra_claims`` (volume, class, hotpluggable)."""
    create_claim(cluster, f"{name}-root", LEGACY, "30Gi", VM_CLASS, annotations=PX_APP if annotate else None)
    volumes = [_pvc_volume("rootdisk", f"{name}-root")]
    for volume, storage_class, hotpluggable in extra_claims:
        create_claim(cluster, f"{name}-{volume}", LEGACY, "10Gi", storage_class, annotations=PX_APP)
        volumes.append(_pvc_volume(volume, f"{name}-{volume}", hotpluggable))
    disks = [root or _root(name)] + list(extra_disks)
    cluster.store.create_owned("kubevirt.io/virtualmachines", _vm(name, disks, volumes, interface=interface))


def _data_volume_vm(cluster: "Cluster", name: str, annotations: Dict[str, str]) -> None:
    """A VM whose root disk comes from a DataVolume template (already imported)."""
    disk = f"{name}-root"
    spec = {"sourceRef": {"kind": "DataSource", "name": "rhel9", "namespace": OS_IMAGES},
            "storage": {"accessModes": ["ReadWriteMany"], "volumeMode": "Block",
                        "resources": {"requests": {"storage": "30Gi"}}, "storageClassName": VM_CLASS}}
    templates = [{"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
                  "metadata": {"name": disk, "annotations": dict(annotations)}, "spec": spec}]
    vm = cluster.store.create_owned("kubevirt.io/virtualmachines",
                                    _vm(name, [_root(name)], [{"name": "rootdisk", "dataVolume": {"name": disk}}], templates))
    dv = cluster.store.create_owned("cdi.kubevirt.io/datavolumes", {
        "metadata": {"name": disk, "namespace": LEGACY, "annotations": dict(annotations),
                     "ownerReferences": [{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "name": name,
                                          "uid": vm["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]},
        "spec": spec,
        "status": {"phase": "Succeeded", "progress": "100.0%", "claimName": disk,
                   "conditions": [_condition("Bound", "True"), _condition("Ready", "True"), _condition("Running", "False", "Completed")]}})
    create_claim(cluster, disk, LEGACY, "30Gi", VM_CLASS)
    owner = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "name": disk, "uid": dv["metadata"]["uid"],
             "controller": True, "blockOwnerDeletion": True}
    cluster.store.mutate("persistentvolumeclaims", disk, lambda c: c["metadata"].update(ownerReferences=[owner]), LEGACY)


def _plant_vms(cluster: "Cluster") -> None:
    _ensure_namespace(cluster, LEGACY)
    _data_volume_vm(cluster, "legacy-immediate", {USE_POPULATOR: "false", BIND_IMMEDIATE: "true"})
    _data_volume_vm(cluster, "legacy-populator", {})
    _precreated_vm(cluster, "legacy-bridge", interface={"name": "default", "bridge": {}})
    _precreated_vm(cluster, "legacy-wsfc", extra_claims=[("shared", VM_CLASS, False)],
                   extra_disks=[{"name": "shared", "lun": {"bus": "scsi", "reservation": True}, "shareable": True}])
    _precreated_vm(cluster, "legacy-sata", extra_claims=[("hotdisk", VM_CLASS, True)],
                   extra_disks=[{"name": "hotdisk", "disk": {"bus": "sata"}}])
    _precreated_vm(cluster, "legacy-mixed", extra_claims=[("data", "px-csi-replicated", False)],
                   extra_disks=[{"name": "data", "disk": {"bus": "virtio"}}])
    _precreated_vm(cluster, "legacy-precreated", annotate=False)
    _precreated_vm(cluster, "legacy-bios4k", root=dict(_root("legacy-bios4k"), blockSize={"custom": {"logical": 4096, "physical": 4096}}))
    vm = vm_template_object("legacy-rhel9", eviction="None")
    cluster.store.create_owned("template.openshift.io/templates", template("legacy-rhel9", LEGACY, vm, False))
