"""Seeded platform objects the readiness audit reads, and the ``misconfigured`` profile.

``seed_platform`` (called at the end of the ``default`` profile) adds, each with the fields of its
upstream type:

* ``config.openshift.io/v1`` Network ``cluster`` (openshift/api ``config/v1/types_network.go``):
  clusterNetwork 10.128.0.0/14 with hostPrefix 23 (512 pod addresses per node), OVNKubernetes;
  and ``status.capabilities`` on ClusterVersion (``config/v1/types_cluster_version.go``) with
  CSISnapshot among the enabled capabilities.
* ``machineconfiguration.openshift.io/v1`` MachineConfigPools ``master`` and ``worker``
  (openshift/api ``machineconfiguration/v1/types.go``): no ``maxUnavailable`` (the API default is 1).
* ``template.openshift.io/v1`` Template ``rhel9-server-small`` in ``openshift`` with the labels of
  the common templates (kubevirt/common-templates; managed by the SSP operator), evictionStrategy
  LiveMigrate and a DataVolume template from the ``rhel9`` DataSource.
* ``cdi.kubevirt.io/v1beta1`` DataImportCrons and their DataSources ``rhel9`` and ``fedora`` in
  ``openshift-virtualization-os-images``, Ready, each pointing at an imported PVC
  (containerized-data-importer ``api/.../core/v1beta1/types.go``: ``spec.managedDataSource``,
  DataSource ``spec.source.pvc`` and condition ``Ready``).
* the ``stork`` Deployment in ``portworx`` (the Portworx operator deploys it when
  ``spec.stork.enabled``), 3 ready replicas.

The storage checkup ConfigMap (kiagnose / kubevirt-storage-checkup: ``status.succeeded``,
``status.failureReason``, ``status.completionTimestamp`` data keys) is only seeded by the
``misconfigured`` profile; a fresh cluster has not run the checkup. The exact label set of the
common templates and the PX-CSI image name were not checked against a live cluster.

``misconfigured`` is ``default`` plus the violations listed in ``PLANTED`` (see ``plant_violations``).
"""
from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any, Dict, List

from .util import now_rfc3339

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

OS_IMAGES = "openshift-virtualization-os-images"
VM_CLASS = "px-rwx-block-kubvirt"
PX = "pxd.portworx.com"
LEGACY = "vms-legacy"
BOOT_SOURCES = ("rhel9", "fedora")


def _uid(*parts: Any) -> str:
    return str(uuid.UUID(hashlib.md5("/".join(map(str, ("platform",) + parts)).encode()).hexdigest()))


def _condition(type_: str, status: str, reason: str = "", message: str = "") -> Dict[str, str]:
    return {"type": type_, "status": status, "reason": reason or type_, "message": message,
            "lastTransitionTime": now_rfc3339()}


def _ensure_namespace(cluster: "Cluster", name: str) -> None:
    if cluster.store.peek("namespaces", name) is None:
        cluster.store.create_owned("namespaces", {"metadata": {"name": name}})


def seed_platform(cluster: "Cluster") -> None:
    _seed_network(cluster)
    _seed_machine_config_pools(cluster)
    _seed_boot_sources(cluster)
    _seed_common_template(cluster)
    _seed_stork(cluster)


def _seed_network(cluster: "Cluster") -> None:
    network = [{"cidr": "10.128.0.0/14", "hostPrefix": 23}]
    cluster.store.create_owned("config.openshift.io/networks", {
        "metadata": {"name": "cluster"},
        "spec": {"clusterNetwork": network, "serviceNetwork": ["172.30.0.0/16"], "networkType": "OVNKubernetes",
                 "externalIP": {"policy": {}}},
        "status": {"clusterNetwork": network, "serviceNetwork": ["172.30.0.0/16"], "networkType": "OVNKubernetes",
                   "clusterNetworkMTU": 1400},
    })
    known = ["Build", "CSISnapshot", "CloudControllerManager", "CloudCredential", "Console", "DeploymentConfig",
             "ImageRegistry", "Ingress", "Insights", "MachineAPI", "NodeTuning", "OperatorLifecycleManager",
             "Storage", "baremetal", "marketplace", "openshift-samples"]

    def capabilities(version: Dict[str, Any]) -> None:
        version.setdefault("status", {})["capabilities"] = {"enabledCapabilities": list(known), "knownCapabilities": list(known)}
    cluster.store.mutate("config.openshift.io/clusterversions", "version", capabilities)


def _seed_machine_config_pools(cluster: "Cluster") -> None:
    workers = len([n for n in cluster.store.list("nodes", copy=False)
                   if "node-role.kubernetes.io/worker" in (n["metadata"].get("labels") or {})])
    for name, count in (("master", 3), ("worker", workers)):
        rendered = f"rendered-{name}-{hashlib.sha256(name.encode()).hexdigest()[:32]}"
        cluster.store.create_owned("machineconfiguration.openshift.io/machineconfigpools", {
            "metadata": {"name": name, "labels": {f"pools.operator.machineconfiguration.openshift.io/{name}": ""}},
            "spec": {"machineConfigSelector": {"matchLabels": {"machineconfiguration.openshift.io/role": name}},
                     "nodeSelector": {"matchLabels": {f"node-role.kubernetes.io/{name}": ""}}, "paused": False,
                     "configuration": {"name": rendered}},
            "status": {"machineCount": count, "readyMachineCount": count, "updatedMachineCount": count,
                       "unavailableMachineCount": 0, "degradedMachineCount": 0, "observedGeneration": 1,
                       "configuration": {"name": rendered},
                       "conditions": [_condition("Updated", "True"), _condition("Updating", "False"),
                                      _condition("Degraded", "False")]},
        })


def _claim(name: str, namespace: str, size: str, storage_class: str, mode: str = "ReadWriteMany",
           volume_mode: str = "Block", annotations: Dict[str, str] = None) -> List[Dict[str, Any]]:
    """A Bound claim and its PV, as the CSI provisioner leaves them."""
    uid = _uid("pvc", namespace, name)
    pv = f"pvc-{uid}"
    return [
        {"metadata": {"name": name, "namespace": namespace, "uid": uid,
                      "annotations": dict({"pv.kubernetes.io/bind-completed": "yes",
                                           "volume.kubernetes.io/storage-provisioner": PX}, **(annotations or {})),
                      "finalizers": ["kubernetes.io/pvc-protection"]},
         "spec": {"accessModes": [mode], "volumeMode": volume_mode, "resources": {"requests": {"storage": size}},
                  "storageClassName": storage_class, "volumeName": pv},
         "status": {"phase": "Bound", "accessModes": [mode], "capacity": {"storage": size}}},
        {"metadata": {"name": pv, "annotations": {"pv.kubernetes.io/provisioned-by": PX},
                      "finalizers": ["kubernetes.io/pv-protection"]},
         "spec": {"capacity": {"storage": size}, "accessModes": [mode], "volumeMode": volume_mode,
                  "persistentVolumeReclaimPolicy": "Delete", "storageClassName": storage_class,
                  "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": name,
                               "namespace": namespace, "uid": uid},
                  "csi": {"driver": PX, "volumeHandle": str(int(uid.replace("-", "")[:15], 16)), "fsType": "ext4"}},
         "status": {"phase": "Bound"}},
    ]


def create_claim(cluster: "Cluster", *args: Any, **kwargs: Any) -> None:
    claim, volume = _claim(*args, **kwargs)
    cluster.store.create_owned("persistentvolumeclaims", claim)
    cluster.store.create_owned("persistentvolumes", volume)


def _seed_boot_sources(cluster: "Cluster") -> None:
    _ensure_namespace(cluster, OS_IMAGES)
    for name in BOOT_SOURCES:
        image = f"{name}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"
        create_claim(cluster, image, OS_IMAGES, "30Gi", VM_CLASS)
        cluster.store.create_owned("cdi.kubevirt.io/dataimportcrons", {
            "metadata": {"name": f"{name}-image-cron", "namespace": OS_IMAGES,
                         "labels": {"app.kubernetes.io/managed-by": "hco-operator"}},
            "spec": {"schedule": "0 */12 * * *", "managedDataSource": name, "garbageCollect": "Outdated",
                     "importsToKeep": 3,
                     "template": {"spec": {"source": {"registry": {"url": f"docker://quay.io/containerdisks/{name}:latest"}},
                                           "storage": {"resources": {"requests": {"storage": "30Gi"}}}}}},
            "status": {"lastImportedPVC": {"name": image, "namespace": OS_IMAGES}, "lastImportTimestamp": now_rfc3339(),
                       "conditions": [_condition("UpToDate", "True"), _condition("Progressing", "False")]},
        })
        cluster.store.create_owned("cdi.kubevirt.io/datasources", {
            "metadata": {"name": name, "namespace": OS_IMAGES, "labels": {"cdi.kubevirt.io/dataImportCron": f"{name}-image-cron"}},
            "spec": {"source": {"pvc": {"name": image, "namespace": OS_IMAGES}}},
            "status": {"source": {"pvc": {"name": image, "namespace": OS_IMAGES}},
                       "conditions": [_condition("Ready", "True", "Ready")]},
        })


def vm_template_object(name: str, data_source: str = "rhel9", eviction: str = "LiveMigrate",
                       dv_annotations: Dict[str, str] = None) -> Dict[str, Any]:
    """The VirtualMachine object inside an OpenShift Template (parameters left as ``${NAME}``)."""
    dv_metadata: Dict[str, Any] = {"name": "${NAME}"}
    if dv_annotations is not None:
        dv_metadata["annotations"] = dict(dv_annotations)
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
            "metadata": {"name": "${NAME}", "labels": {"app": "${NAME}", "vm.kubevirt.io/template": name}},
            "spec": {"runStrategy": "Halted",
                     "dataVolumeTemplates": [{"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
                                              "metadata": dv_metadata,
                                              "spec": {"sourceRef": {"kind": "DataSource", "name": data_source,
                                                                     "namespace": OS_IMAGES},
                                                       "storage": {"resources": {"requests": {"storage": "30Gi"}}}}}],
                     "template": {"metadata": {"labels": {"kubevirt.io/domain": "${NAME}"}},
                                  "spec": {"domain": {"cpu": {"cores": 1, "sockets": 1, "threads": 1},
                                                      "memory": {"guest": "2Gi"},
                                                      "devices": {"disks": [{"name": "rootdisk", "disk": {"bus": "virtio"}}],
                                                                  "interfaces": [{"name": "default", "masquerade": {}}]}},
                                           "evictionStrategy": eviction,
                                           "networks": [{"name": "default", "pod": {}}],
                                           "volumes": [{"name": "rootdisk", "dataVolume": {"name": "${NAME}"}}]}}}}


def template(name: str, namespace: str, vm: Dict[str, Any], managed: bool) -> Dict[str, Any]:
    labels = {"template.kubevirt.io/type": "base" if managed else "vm", "os.template.kubevirt.io/rhel9.0": "true",
              "workload.template.kubevirt.io/server": "true", "flavor.template.kubevirt.io/small": "true"}
    if managed:
        labels.update({"app.kubernetes.io/managed-by": "ssp-operator", "app.kubernetes.io/component": "templating"})
    return {"metadata": {"name": name, "namespace": namespace, "labels": labels,
                         "annotations": {"openshift.io/display-name": name, "defaults.template.kubevirt.io/disk": "rootdisk"}},
            "objects": [vm], "parameters": [{"name": "NAME", "generate": "expression", "from": "rhel9-[a-z0-9]{16}"}]}


def _seed_common_template(cluster: "Cluster") -> None:
    _ensure_namespace(cluster, "openshift")
    cluster.store.create_owned("template.openshift.io/templates",
                               template("rhel9-server-small", "openshift", vm_template_object("rhel9-server-small"), True))


def _seed_stork(cluster: "Cluster", ready: int = 3) -> None:
    labels = {"name": "stork", "tier": "control-plane"}
    cluster.store.create_owned("apps/deployments", {
        "metadata": {"name": "stork", "namespace": "portworx", "labels": labels,
                     "annotations": {"clustersim.io/managed-by": "seed"}},  # status seeded, no pods (operators/_workloads.py)
        "spec": {"replicas": 3, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "stork", "image": "openstorage/stork:25.4.0"}]}}},
        "status": {"replicas": 3, "readyReplicas": ready, "availableReplicas": ready, "updatedReplicas": 3,
                   "observedGeneration": 1},
    })


def seed_misconfigured(cluster: "Cluster") -> None:
    """The ``default`` cluster with the violations of ``seed_violations`` planted."""
    from .seed import seed_default
    from .seed_violations import plant_violations

    seed_default(cluster)
    plant_violations(cluster)
