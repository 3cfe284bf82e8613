"""Seeded cluster profiles.

``default`` matches the source documents: OpenShift 4.20 on bare metal, 3 control-plane nodes and
``SIM_WORKERS`` workers with KubeVirt labels, Portworx 3.6 with its preinstalled StorageClasses
(including the ``px-rwx-block-kubvirt`` spelling, annotated as the default virtualization class
because Portworx does that when no other default exists), HyperConverged with upstream
defaults, the image registry ``Removed``, the Node Maintenance Operator installed, and ``SIM_VMS``
running VMs in namespace ``vms``.

VM mix (so preflight checks have something to find), by position in the list:
* the last VM has ``evictionStrategy: None``;
* the second to last has an RWO Filesystem disk (LiveMigrate, but not migratable);
* every other VM uses ``LiveMigrate`` with an RWX Block disk on ``px-rwx-block-kubvirt``.
VMs are placed round-robin over the workers; the chosen node is written to the VM template
annotation ``clustersim.io/node`` for the KubeVirt operator plug-in to honour.

``empty`` contains only the namespaces every cluster has.
"""
from __future__ import annotations

import hashlib
import os
import uuid
from typing import TYPE_CHECKING, Any, Callable, Dict, List

from .operators._csi_drivers import provisioner_identity, volume_attributes
from .seed_platform import seed_misconfigured, seed_platform
from .seed_rbac import ensure_bootstrap_policy
from .util import clone, now_rfc3339

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

OCP_VERSION = "4.20.3"
KUBE_VERSION = "v1.33.5"
PORTWORX_VERSION = "3.6.0"
CNV_VERSION = "4.20.1"
VM_NAMESPACE = "vms"
RWX_BLOCK_CLASS = "px-rwx-block-kubvirt"
PX_PROVISIONER = "pxd.portworx.com"
NODE_HINT_ANNOTATION = "clustersim.io/node"
# The default IngressController's domain; routes get <name>-<namespace>.<APPS_DOMAIN> as host.
APPS_DOMAIN = "apps.clustersim.example.com"

# kube-node-lease: one of the kube-apiserver's system namespaces (kubernetes/kubernetes release-1.33
# pkg/controlplane/controller/systemnamespaces), where the kubelets' node Leases live.
SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"]
NAMESPACES = SYSTEM_NAMESPACES + ["openshift-cnv", "openshift-image-registry", "openshift-monitoring", "openshift-mtv",
                                  "openshift-workload-availability", "openshift-operators", "openshift-config",
                                  "portworx", VM_NAMESPACE]


def _uid(*parts: Any) -> str:
    """Stable UIDs so dumps of two seeded clusters compare equal."""
    return str(uuid.UUID(hashlib.md5("/".join(map(str, parts)).encode()).hexdigest()))


def worker_names(count: int) -> List[str]:
    return [f"worker-{i}" for i in range(count)]


def seed_profile(cluster: "Cluster", profile: str) -> None:
    seeders: Dict[str, Callable[["Cluster"], None]] = {"default": seed_default, "empty": seed_empty,
                                                       "misconfigured": seed_misconfigured}
    if profile not in seeders:
        raise ValueError(f"unknown profile {profile!r}; choose one of {sorted(seeders)}")
    with cluster.lock:
        seeders[profile](cluster)
        ensure_bootstrap_policy(cluster)


def seed_empty(cluster: "Cluster") -> None:
    for name in SYSTEM_NAMESPACES:
        cluster.store.create_owned("namespaces", {"metadata": {"name": name}})


def seed_default(cluster: "Cluster") -> None:
    store = cluster.store
    for name in NAMESPACES:
        store.create_owned("namespaces", {"metadata": {"name": name}})
    _seed_openshift(cluster)
    cluster.store.create_owned("route.openshift.io/routes", thanos_querier_route())
    workers = _seed_nodes(cluster)
    _seed_portworx(cluster, workers)
    _seed_storage_classes(cluster)
    _seed_virtualization(cluster)
    _seed_registry(cluster)
    _seed_olm(cluster)
    _seed_vms(cluster, workers)
    seed_platform(cluster)


# ---------------------------------------------------------------------------------------------
def _condition(type_: str, status: str, reason: str = "", message: str = "") -> Dict[str, str]:
    return {"type": type_, "status": status, "reason": reason or type_, "message": message,
            "lastTransitionTime": now_rfc3339()}


def _seed_openshift(cluster: "Cluster") -> None:
    store = cluster.store
    image = f"quay.io/openshift-release-dev/ocp-release@sha256:{hashlib.sha256(OCP_VERSION.encode()).hexdigest()}"
    store.create_owned("config.openshift.io/clusterversions", {
        "metadata": {"name": "version"},
        "spec": {"clusterID": _uid("cluster"), "channel": "stable-4.20"},
        "status": {
            "desired": {"version": OCP_VERSION, "image": image, "channels": ["stable-4.20", "fast-4.20"]},
            "history": [{"state": "Completed", "version": OCP_VERSION, "image": image, "verified": False,
                         "startedTime": now_rfc3339(), "completionTime": now_rfc3339()}],
            "observedGeneration": 1,
            "versionHash": "clustersim",
            "availableUpdates": None,
            "conditions": [
                _condition("Available", "True", "", f"Done applying {OCP_VERSION}"),
                _condition("Failing", "False"),
                _condition("Progressing", "False", "", f"Cluster version is {OCP_VERSION}"),
                _condition("RetrievedUpdates", "True"),
            ],
        },
    })
    for name in ("kube-apiserver", "storage", "image-registry", "network", "ingress", "monitoring",
                 "machine-config", "openshift-apiserver", "console"):
        message = "Available: The registry is removed" if name == "image-registry" else ""
        store.create_owned("config.openshift.io/clusteroperators", {
            "metadata": {"name": name},
            "spec": {},
            "status": {
                "conditions": [_condition("Available", "True", "AsExpected", message),
                               _condition("Progressing", "False", "AsExpected"),
                               _condition("Degraded", "False", "AsExpected"),
                               _condition("Upgradeable", "True", "AsExpected")],
                "versions": [{"name": "operator", "version": OCP_VERSION}],
                "relatedObjects": [],
            },
        })


def thanos_querier_route() -> Dict[str, Any]:
    """The Route the cluster-monitoring-operator creates for the Thanos querier's ``/api``
    (openshift/cluster-monitoring-operator ``assets/thanos-querier/route.yaml``), admitted."""
    host = f"thanos-querier-openshift-monitoring.{APPS_DOMAIN}"
    labels = {"app.kubernetes.io/component": "query-layer", "app.kubernetes.io/instance": "thanos-querier",
              "app.kubernetes.io/managed-by": "cluster-monitoring-operator", "app.kubernetes.io/name": "thanos-query",
              "app.kubernetes.io/part-of": "openshift-monitoring"}
    return {
        "apiVersion": "route.openshift.io/v1", "kind": "Route",
        "metadata": {"name": "thanos-querier", "namespace": "openshift-monitoring", "labels": labels,
                     "annotations": {"openshift.io/description":
                                     "Expose the `/api` endpoints of the `thanos-querier` service via a router."}},
        "spec": {"host": host, "path": "/api", "port": {"targetPort": "web"},
                 "tls": {"insecureEdgeTerminationPolicy": "Redirect", "termination": "Reencrypt"},
                 "to": {"kind": "Service", "name": "thanos-querier", "weight": 100}, "wildcardPolicy": "None"},
        "status": {"ingress": [{"host": host, "routerName": "default", "wildcardPolicy": "None",
                                "routerCanonicalHostname": f"router-default.{APPS_DOMAIN}",
                                "conditions": [{"type": "Admitted", "status": "True",
                                                "lastTransitionTime": now_rfc3339()}]}]},
    }


def _node(name: str, index: int, role: str, vendor: str = "Intel") -> Dict[str, Any]:
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
              "node.openshift.io/os_id": "rhcos"}
    taints: List[Dict[str, str]] = []
    if role == "master":
        labels.update({"node-role.kubernetes.io/master": "", "node-role.kubernetes.io/control-plane": ""})
        taints.append({"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"})
        cpu, memory_ki = "16", 64 * 1024 * 1024
    else:
        labels.update({"node-role.kubernetes.io/worker": "", "kubevirt.io/schedulable": "true",
                       f"cpu-vendor.node.kubevirt.io/{vendor}": "true",
                       "cpu-model.node.kubevirt.io/Cascadelake-Server" if vendor == "Intel"
                       else "cpu-model.node.kubevirt.io/EPYC-Milan": "true",
                       "px/enabled": "true"})
        cpu, memory_ki = "64", 512 * 1024 * 1024
    node: Dict[str, Any] = {
        "metadata": {"name": name, "labels": labels,
                     "annotations": {"machineconfiguration.openshift.io/state": "Done"}},
        "spec": {"taints": taints} if taints else {},
        "status": {
            "capacity": {"cpu": cpu, "memory": f"{memory_ki}Ki", "pods": "250", "ephemeral-storage": "937140Mi",
                         "devices.kubevirt.io/kvm": "1k" if role != "master" else "0"},
            "allocatable": {"cpu": f"{int(cpu) * 1000 - 500}m", "memory": f"{memory_ki - 1536 * 1024}Ki",
                            "pods": "250", "ephemeral-storage": "880000Mi",
                            "devices.kubevirt.io/kvm": "1k" if role != "master" else "0"},
            "conditions": [
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory",
                 "lastHeartbeatTime": now_rfc3339(), "lastTransitionTime": now_rfc3339()},
                {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure",
                 "lastHeartbeatTime": now_rfc3339(), "lastTransitionTime": now_rfc3339()},
                {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID",
                 "lastHeartbeatTime": now_rfc3339(), "lastTransitionTime": now_rfc3339()},
                {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
                 "lastHeartbeatTime": now_rfc3339(), "lastTransitionTime": now_rfc3339()},
            ],
            "addresses": [{"type": "InternalIP", "address": f"10.0.{index // 250}.{index % 250 + 2}"},
                          {"type": "Hostname", "address": name}],
            "nodeInfo": {"kubeletVersion": KUBE_VERSION, "kubeProxyVersion": "", "architecture": "amd64",
                         "operatingSystem": "linux", "containerRuntimeVersion": "cri-o://1.33.5",
                         "osImage": "Red Hat Enterprise Linux CoreOS 9.6.20251015-1 (Plow)",
                         "kernelVersion": "5.14.0-570.49.1.el9_6.x86_64",
                         "machineID": _uid("machine", name).replace("-", ""), "systemUUID": _uid("system", name),
                         "bootID": _uid("boot", name)},
        },
    }
    return node


def _seed_nodes(cluster: "Cluster") -> List[str]:
    store = cluster.store
    for i in range(3):
        store.create_owned("nodes", _node(f"master-{i}", i, "master"))
    workers = worker_names(cluster.config.workers)
    amd = int(os.environ.get("SIM_AMD_WORKERS", "0") or 0)  # mixed CPU vendors (failure mode R14)
    for i, name in enumerate(workers):
        vendor = "AMD" if i >= len(workers) - amd else "Intel"
        store.create_owned("nodes", _node(name, i + 3, "worker", vendor))
    return workers


def _seed_portworx(cluster: "Cluster", workers: List[str]) -> None:
    store = cluster.store
    cluster_uid = _uid("px-cluster")
    store.create_owned("core.libopenstorage.org/storageclusters", {
        "metadata": {"name": "px-cluster", "namespace": "portworx",
                     "annotations": {"portworx.io/is-openshift": "true", "portworx.io/misc-args": ""}},
        "spec": {"image": f"portworx/oci-monitor:{PORTWORX_VERSION}", "imagePullPolicy": "Always",
                 "kvdb": {"internal": True}, "storage": {"useAll": True}, "secretsProvider": "k8s",
                 "csi": {"enabled": True}, "stork": {"enabled": True}, "autopilot": {"enabled": True},
                 "monitoring": {"telemetry": {"enabled": False}},
                 "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}},
        "status": {"phase": "Online", "version": PORTWORX_VERSION, "clusterName": "px-cluster",
                   "clusterUid": cluster_uid,
                   "conditions": [{"source": "Portworx", "type": "Install", "status": "Completed"},
                                  {"source": "Portworx", "type": "RuntimeState", "status": "Online"}]},
    })
    for i, name in enumerate(workers):
        store.create_owned("core.libopenstorage.org/storagenodes", {
            "metadata": {"name": name, "namespace": "portworx",
                         "labels": {"name": "portworx"}},
            "spec": {"version": PORTWORX_VERSION},
            "status": {"phase": "Online", "nodeUid": _uid("px-node", name),
                       "network": {"dataIP": f"10.0.{(i + 3) // 250}.{(i + 3) % 250 + 2}",
                                   "mgmtIP": f"10.0.{(i + 3) // 250}.{(i + 3) % 250 + 2}"},
                       "storage": {"totalSize": "3Ti", "usedSize": "120Gi"},
                       "operatingSystem": "Red Hat Enterprise Linux CoreOS 9.6",
                       "kernelVersion": "5.14.0-570.49.1.el9_6.x86_64",
                       "conditions": [{"type": "NodeState", "status": "Online", "message": ""}]},
        })
    store.create_owned("storage.k8s.io/csidrivers", {
        "metadata": {"name": PX_PROVISIONER},
        "spec": {"attachRequired": False, "podInfoOnMount": True, "volumeLifecycleModes": ["Persistent", "Ephemeral"],
                 "fsGroupPolicy": "ReadWriteOnceWithFSType"},
    })


def _storage_class(name: str, parameters: Dict[str, str], binding: str = "Immediate", expansion: bool = True,
                   provisioner: str = PX_PROVISIONER, annotations: Dict[str, str] = None,
                   reclaim: str = "Delete") -> Dict[str, Any]:
    return {"metadata": {"name": name, "annotations": dict(annotations or {}),
                         "labels": {"portworx.io/created-by": "portworx-operator"} if provisioner == PX_PROVISIONER else {}},
            "provisioner": provisioner, "parameters": parameters, "reclaimPolicy": reclaim,
            "volumeBindingMode": binding, "allowVolumeExpansion": expansion}


def preinstalled_storage_classes() -> List[Dict[str, Any]]:
    """The classes the Portworx operator creates on OpenShift (source [000])."""
    sharedv4 = {"sharedv4": "true", "sharedv4_mount_options": "vers=3.0,nolock"}
    return [
        _storage_class("px-cdi-scratch", {"repl": "1", **sharedv4}),
        _storage_class("px-csi-db", {"repl": "3", "io_profile": "db_remote"}),
        _storage_class("px-csi-db-cloud-snapshot", {"repl": "3", "io_profile": "db_remote"}),
        _storage_class("px-csi-db-cloud-snapshot-encrypted", {"repl": "3", "io_profile": "db_remote", "secure": "true"}),
        _storage_class("px-csi-db-encrypted", {"repl": "3", "io_profile": "db_remote", "secure": "true"}),
        _storage_class("px-csi-db-local-snapshot", {"repl": "3", "io_profile": "db_remote"}),
        _storage_class("px-csi-db-local-snapshot-encrypted", {"repl": "3", "io_profile": "db_remote", "secure": "true"}),
        _storage_class("px-csi-replicated", {"repl": "2"}),
        _storage_class("px-csi-replicated-encrypted", {"repl": "2", "secure": "true"}),
        # RWX block for VM disks: no sharedv4; Portworx marks it the virt default when none exists.
        _storage_class(RWX_BLOCK_CLASS, {"repl": "3"}, binding="WaitForFirstConsumer",
                       annotations={"storageclass.kubevirt.io/is-default-virt-class": "true"}),
        _storage_class("px-rwx-file-kubvirt", {"repl": "3", **sharedv4}, binding="WaitForFirstConsumer"),
        _storage_class("stork-snapshot-sc", {}, provisioner="stork-snapshot", expansion=False),
    ]


def _seed_storage_classes(cluster: "Cluster") -> None:
    for storage_class in preinstalled_storage_classes():
        cluster.store.create_owned("storage.k8s.io/storageclasses", storage_class)


HCO_DEFAULT_SPEC: Dict[str, Any] = {
    # Upstream defaults of hco.kubevirt.io/v1beta1 HyperConverged (HCO v1.16 CRD).
    "certConfig": {"ca": {"duration": "48h0m0s", "renewBefore": "24h0m0s"},
                   "server": {"duration": "24h0m0s", "renewBefore": "12h0m0s"}},
    "deployVmConsoleProxy": False,
    "enableApplicationAwareQuota": False,
    "enableCommonBootImageImport": True,
    "featureGates": {"decentralizedLiveMigration": False, "declarativeHotplugVolumes": False,
                     "deployKubeSecondaryDNS": False, "disableMDevConfiguration": False, "downwardMetrics": False,
                     "enableMultiArchBootImageImport": False, "persistentReservation": False},
    "higherWorkloadDensity": {"memoryOvercommitPercentage": 100},
    "liveMigrationConfig": {"allowAutoConverge": False, "allowPostCopy": False, "completionTimeoutPerGiB": 150,
                            "parallelMigrationsPerCluster": 5, "parallelOutboundMigrationsPerNode": 2,
                            "progressTimeout": 150},
    "resourceRequirements": {"vmiCPUAllocationRatio": 10},
    "uninstallStrategy": "BlockUninstallIfWorkloadsExist",
    "virtualMachineOptions": {"disableFreePageReporting": False, "disableSerialConsoleLog": False},
    "workloadUpdateStrategy": {"batchEvictionInterval": "1m0s", "batchEvictionSize": 10,
                               "workloadUpdateMethods": ["LiveMigrate"]},
    "infra": {},
    "workload": {},
}


def _seed_virtualization(cluster: "Cluster") -> None:
    import copy

    store = cluster.store
    store.create_owned("hco.kubevirt.io/hyperconvergeds", {
        "metadata": {"name": "kubevirt-hyperconverged", "namespace": "openshift-cnv",
                     "finalizers": ["kubevirt.io/hyperconverged"]},
        "spec": copy.deepcopy(HCO_DEFAULT_SPEC),
        "status": {"conditions": [_condition("ReconcileComplete", "True", "ReconcileCompleted", "Reconcile completed successfully"),
                                  _condition("Available", "True", "ReconcileCompleted", "Reconcile completed successfully"),
                                  _condition("Progressing", "False", "ReconcileCompleted", "Reconcile completed successfully"),
                                  _condition("Degraded", "False", "ReconcileCompleted", "Reconcile completed successfully"),
                                  _condition("Upgradeable", "True", "ReconcileCompleted", "Reconcile completed successfully")],
                   "observedGeneration": 1, "systemHealthStatus": "healthy",
                   "versions": [{"name": "operator", "version": CNV_VERSION}]},
    })
    store.create_owned("kubevirt.io/kubevirts", {
        "metadata": {"name": "kubevirt-kubevirt-hyperconverged", "namespace": "openshift-cnv",
                     "labels": {"app": "kubevirt-hyperconverged"}},
        "spec": {"certificateRotateStrategy": {}, "configuration": {"developerConfiguration": {"featureGates": []}},
                 "workloadUpdateStrategy": {"workloadUpdateMethods": ["LiveMigrate"]}},
        "status": {"phase": "Deployed", "observedKubeVirtVersion": "v1.6.2", "targetKubeVirtVersion": "v1.6.2",
                   "conditions": [_condition("Available", "True"), _condition("Progressing", "False"),
                                  _condition("Degraded", "False")]},
    })
    store.create_owned("cdi.kubevirt.io/cdis", {
        "metadata": {"name": "cdi-kubevirt-hyperconverged", "labels": {"app": "kubevirt-hyperconverged"}},
        "spec": {"config": {"featureGates": ["HonorWaitForFirstConsumer"]}, "workload": {}},
        "status": {"phase": "Deployed", "observedVersion": "v1.62.0", "targetVersion": "v1.62.0",
                   "conditions": [_condition("Available", "True"), _condition("Progressing", "False"),
                                  _condition("Degraded", "False")]},
    })
    store.create_owned("cdi.kubevirt.io/cdiconfigs", {
        "metadata": {"name": "config"},
        "spec": {"featureGates": ["HonorWaitForFirstConsumer"]},
        "status": {"filesystemOverhead": {"global": "0.055", "storageClass": {}},
                   "scratchSpaceStorageClass": "",
                   "defaultPodResourceRequirements": {"limits": {"cpu": "750m", "memory": "600M"},
                                                      "requests": {"cpu": "100m", "memory": "60M"}},
                   "importProxy": {"HTTPProxy": "", "HTTPSProxy": "", "noProxy": "", "trustedCAProxy": ""}},
    })


def _seed_registry(cluster: "Cluster") -> None:
    cluster.store.create_owned("imageregistry.operator.openshift.io/configs", {
        "metadata": {"name": "cluster", "finalizers": ["imageregistry.operator.openshift.io/finalizer"]},
        "spec": {"managementState": "Removed", "replicas": 1, "logLevel": "Normal", "operatorLogLevel": "Normal",
                 "rolloutStrategy": "RollingUpdate", "storage": {}, "httpSecret": _uid("registry-secret").replace("-", "")},
        "status": {"conditions": [_condition("Available", "True", "Removed", "The registry is removed"),
                                  _condition("Progressing", "False", "Removed", "All registry resources are removed"),
                                  _condition("Degraded", "False", "Removed", "The registry is removed")],
                   # storage: required by the CRD; the operator's ImageRegistryConfigStorage is never omitted
                   "readyReplicas": 0, "storage": {}, "storageManaged": False, "observedGeneration": 1},
    })


def _csv(name: str, namespace: str, display: str, version: str, owned: List[Dict[str, str]]) -> Dict[str, Any]:
    return {"metadata": {"name": f"{name}.v{version}", "namespace": namespace,
                         "labels": {f"operators.coreos.com/{name}.{namespace}": ""}},
            "spec": {"displayName": display, "version": version, "replaces": "",
                     "customresourcedefinitions": {"owned": owned}, "install": {"strategy": "deployment"}},
            "status": {"phase": "Succeeded", "reason": "InstallSucceeded", "message": "install strategy completed with no errors",
                       "lastUpdateTime": now_rfc3339(), "lastTransitionTime": now_rfc3339()}}


def _seed_olm(cluster: "Cluster") -> None:
    store = cluster.store
    operators = [
        ("node-maintenance-operator", "openshift-workload-availability", "Node Maintenance Operator", "5.4.1",
         [{"name": "nodemaintenances.nodemaintenance.medik8s.io", "version": "v1beta1", "kind": "NodeMaintenance"}],
         "stable"),
        ("kubevirt-hyperconverged-operator", "openshift-cnv", "OpenShift Virtualization", CNV_VERSION,
         [{"name": "hyperconvergeds.hco.kubevirt.io", "version": "v1beta1", "kind": "HyperConverged"}], "stable"),
        ("mtv-operator", "openshift-mtv", "Migration Toolkit for Virtualization Operator", "2.11.2",
         [{"name": "storagemaps.forklift.konveyor.io", "version": "v1beta1", "kind": "StorageMap"}], "release-v2.11"),
        ("portworx-certified", "portworx", "Portworx Enterprise", "25.4.0",
         [{"name": "storageclusters.core.libopenstorage.org", "version": "v1", "kind": "StorageCluster"}], "stable"),
    ]
    for name, namespace, display, version, owned, channel in operators:
        store.create_owned("operators.coreos.com/clusterserviceversions", _csv(name, namespace, display, version, owned))
        store.create_owned("operators.coreos.com/subscriptions", {
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"channel": channel, "name": name, "source": "redhat-operators",
                     "sourceNamespace": "openshift-marketplace", "installPlanApproval": "Automatic"},
            # lastUpdated: required by the CRD (operator-framework/api SubscriptionStatus / OperatorGroupStatus)
            "status": {"state": "AtLatestKnown", "currentCSV": f"{name}.v{version}", "installedCSV": f"{name}.v{version}",
                       "lastUpdated": now_rfc3339()},
        })
        store.create_owned("operators.coreos.com/operatorgroups", {
            "metadata": {"name": f"{name}-group", "namespace": namespace},
            "spec": {} if namespace in ("openshift-workload-availability",) else {"targetNamespaces": [namespace]},
            "status": {"namespaces": [""] if namespace == "openshift-workload-availability" else [namespace],
                       "lastUpdated": now_rfc3339()},
        })


def vm_names(count: int) -> List[str]:
    width = max(3, len(str(count)))
    return [f"vm-{i:0{width}d}" for i in range(count)]


class _VmDisk:
    """What one seeded VM's root disk is: names, UIDs, modes and the node it was placed on."""

    def __init__(self, name: str, index: int, count: int, workers: List[str]) -> None:
        self.vm = name
        self.rwo = count >= 2 and index == count - 2
        self.no_eviction = index == count - 1
        self.node = workers[index % len(workers)] if workers else ""
        self.access_mode = "ReadWriteOnce" if self.rwo else "ReadWriteMany"
        self.volume_mode = "Filesystem" if self.rwo else "Block"
        self.name = f"{name}-rootdisk"
        self.size = "30Gi"
        self.vm_uid, self.dv_uid, self.pvc_uid = _uid("vm", name), _uid("dv", name), _uid("pvc", name)
        self.pv_name = f"pvc-{self.pvc_uid}"


def _seed_vms(cluster: "Cluster", workers: List[str]) -> None:
    store = cluster.store
    names = vm_names(cluster.config.vms)
    for index, name in enumerate(names):
        disk = _VmDisk(name, index, len(names), workers)
        vm = _vm(disk)
        store.create_owned("kubevirt.io/virtualmachines", vm)
        store.create_owned("cdi.kubevirt.io/datavolumes", _vm_data_volume(disk, vm))
        store.create_owned("persistentvolumeclaims", _vm_claim(disk))
        store.create_owned("persistentvolumes", _vm_volume(disk, cluster.config.seed))


def _vm(disk: _VmDisk) -> Dict[str, Any]:
    name = disk.vm
    return {
        "metadata": {"name": name, "namespace": VM_NAMESPACE, "uid": disk.vm_uid,
                     "labels": {"app": name, "vm.kubevirt.io/template": "rhel9-server-small"},
                     "annotations": {"kubevirt.io/latest-observed-api-version": "v1"},
                     "finalizers": ["kubevirt.io/virtualMachineControllerFinalize"]},
        "spec": {
            "runStrategy": "Always",
            "dataVolumeTemplates": [{
                "apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
                "metadata": {"name": disk.name, "annotations": {"cdi.kubevirt.io/storage.usePopulator": "false"}},
                "spec": {"sourceRef": {"kind": "DataSource", "name": "rhel9", "namespace": "openshift-virtualization-os-images"},
                         "storage": {"accessModes": [disk.access_mode], "volumeMode": disk.volume_mode,
                                     "resources": {"requests": {"storage": disk.size}},
                                     "storageClassName": RWX_BLOCK_CLASS}},
            }],
            "template": {
                "metadata": {"labels": {"kubevirt.io/domain": name, "kubevirt.io/size": "small"},
                             "annotations": {NODE_HINT_ANNOTATION: disk.node}},
                "spec": {
                    "domain": {"cpu": {"cores": 1, "sockets": 2, "threads": 1}, "memory": {"guest": "4Gi"},
                               "resources": {"requests": {"memory": "4Gi"}},
                               "firmware": {"bootloader": {"bios": {}}},
                               "devices": {"disks": [{"name": "rootdisk", "disk": {"bus": "virtio"}, "bootOrder": 1}],
                                           "interfaces": [{"name": "default", "masquerade": {}, "model": "virtio"}],
                                           "rng": {}},
                               "machine": {"type": "pc-q35-rhel9.6.0"}},
                    "evictionStrategy": "None" if disk.no_eviction else "LiveMigrate",
                    "networks": [{"name": "default", "pod": {}}],
                    "terminationGracePeriodSeconds": 180,
                    "volumes": [{"name": "rootdisk", "dataVolume": {"name": disk.name}}],
                },
            },
        },
        "status": {"printableStatus": "Running", "ready": True, "created": True, "runStrategy": "Always",
                   "volumeSnapshotStatuses": [{"name": "rootdisk", "enabled": True}],
                   "conditions": [_condition("Ready", "True", "", "")]},
    }


def _vm_data_volume(disk: _VmDisk, vm: Dict[str, Any]) -> Dict[str, Any]:
    owner_vm = [{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "name": disk.vm, "uid": disk.vm_uid,
                 "controller": True, "blockOwnerDeletion": True}]
    return {
        "metadata": {"name": disk.name, "namespace": VM_NAMESPACE, "uid": disk.dv_uid, "ownerReferences": owner_vm,
                     "annotations": {"cdi.kubevirt.io/storage.usePopulator": "false"},
                     "labels": {"kubevirt.io/created-by": disk.vm_uid}},
        "spec": clone(vm["spec"]["dataVolumeTemplates"][0]["spec"]),
        "status": {"phase": "Succeeded", "progress": "100.0%", "claimName": disk.name,
                   "conditions": [_condition("Bound", "True", "Bound", f"PVC {disk.name} Bound"),
                                  _condition("Ready", "True"), _condition("Running", "False", "Completed")]},
    }


def _vm_claim(disk: _VmDisk) -> Dict[str, Any]:
    return {
        "metadata": {"name": disk.name, "namespace": VM_NAMESPACE, "uid": disk.pvc_uid,
                     "labels": {"app": "containerized-data-importer", "app.kubernetes.io/component": "storage"},
                     "annotations": {"pv.kubernetes.io/bind-completed": "yes",
                                     "pv.kubernetes.io/bound-by-controller": "yes",
                                     "volume.kubernetes.io/storage-provisioner": PX_PROVISIONER,
                                     "volume.beta.kubernetes.io/storage-provisioner": PX_PROVISIONER,
                                     "volume.kubernetes.io/selected-node": disk.node,
                                     "cdi.kubevirt.io/storage.usePopulator": "false",
                                     "cdi.kubevirt.io/storage.pod.phase": "Succeeded"},
                     "finalizers": ["kubernetes.io/pvc-protection"],
                     "ownerReferences": [{"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
                                          "name": disk.name, "uid": disk.dv_uid, "controller": True,
                                          "blockOwnerDeletion": True}]},
        "spec": {"accessModes": [disk.access_mode], "volumeMode": disk.volume_mode,
                 "resources": {"requests": {"storage": disk.size}}, "storageClassName": RWX_BLOCK_CLASS,
                 "volumeName": disk.pv_name},
        "status": {"phase": "Bound", "accessModes": [disk.access_mode], "capacity": {"storage": disk.size}},
    }


def _vm_volume(disk: _VmDisk, seed: int) -> Dict[str, Any]:
    attributes = volume_attributes(PX_PROVISIONER, provisioner_identity(seed, PX_PROVISIONER), {"repl": "3"},
                                   [disk.access_mode], disk.volume_mode)
    return {
        "metadata": {"name": disk.pv_name, "annotations": {"pv.kubernetes.io/provisioned-by": PX_PROVISIONER},
                     "finalizers": ["kubernetes.io/pv-protection"]},
        "spec": {"capacity": {"storage": disk.size}, "accessModes": [disk.access_mode], "volumeMode": disk.volume_mode,
                 "persistentVolumeReclaimPolicy": "Delete", "storageClassName": RWX_BLOCK_CLASS,
                 "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": disk.name,
                              "namespace": VM_NAMESPACE, "uid": disk.pvc_uid},
                 "csi": {"driver": PX_PROVISIONER, "volumeHandle": str(int(disk.pvc_uid.replace("-", "")[:15], 16)),
                         "fsType": "ext4", "volumeAttributes": attributes}},
        "status": {"phase": "Bound"},
    }
