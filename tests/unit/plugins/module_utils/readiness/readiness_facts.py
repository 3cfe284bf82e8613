"""Gathered facts of a cluster that passes every readiness rule; tests break one thing at a time."""

import copy

PX = "pxd.portworx.com"
VM_CLASS = "px-rwx-block-kubevirt"
VIRT_DEFAULT = "storageclass.kubevirt.io/is-default-virt-class"
CLUSTER_DEFAULT = "storageclass.kubernetes.io/is-default-class"
RWX_BLOCK = [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}]
RWX_FILE = [{"accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem"}]


def ready(status="True"):
    return [{"type": "Ready", "status": status}]


def node(name, vendor="Intel", role="worker"):
    return {"metadata": {"name": name, "labels": {"node-role.kubernetes.io/" + role: "",
                                                  "cpu-vendor.node.kubevirt.io/" + vendor: "true"}},
            "spec": {},
            "status": {"capacity": {"pods": "250", "cpu": "64"}, "allocatable": {"cpu": "63500m", "memory": "512Gi", "pods": "250"}}}


def storage_class(name, repl="3", binding="WaitForFirstConsumer", reclaim="Delete", annotations=None, provisioner=PX, **params):
    parameters = {"repl": repl}
    parameters.update(params)
    return {"metadata": {"name": name, "annotations": dict(annotations or {})}, "provisioner": provisioner,
            "parameters": parameters, "volumeBindingMode": binding, "reclaimPolicy": reclaim, "allowVolumeExpansion": True}


def profile(name, sets, clone="csi-clone"):
    return {"metadata": {"name": name}, "spec": {}, "status": {"claimPropertySets": sets, "cloneStrategy": clone}}


def claim(name, namespace="vms", mode="ReadWriteMany", volume_mode="Block", storage_class_name=VM_CLASS, size="30Gi",
          annotations=None, owner_kind="DataVolume"):
    metadata = {"name": name, "namespace": namespace, "annotations": dict(annotations or {})}
    if owner_kind:
        metadata["ownerReferences"] = [{"kind": owner_kind, "name": name}]
    return {"metadata": metadata, "spec": {"accessModes": [mode], "volumeMode": volume_mode, "storageClassName": storage_class_name,
                                           "resources": {"requests": {"storage": size}}}}


def vm(name, namespace="vms", eviction="LiveMigrate", dv_annotations=None, volumes=None, disks=None, interfaces=None, firmware=None):
    spec = {
        "dataVolumeTemplates": [{"metadata": {"name": name + "-root", "annotations": dict(
            {"cdi.kubevirt.io/storage.usePopulator": "false"} if dv_annotations is None else dv_annotations)},
            "spec": {"storage": {"storageClassName": VM_CLASS}}}],
        "template": {"spec": {
            "domain": {"cpu": {"cores": 2}, "memory": {"guest": "8Gi"},
                       "resources": {"requests": {"memory": "8Gi"}},
                       "devices": {"disks": disks or [{"name": "rootdisk", "disk": {"bus": "virtio"}, "bootOrder": 1}],
                                   "interfaces": interfaces or [{"name": "default", "masquerade": {}}]}},
            "networks": [{"name": "default", "pod": {}}],
            "volumes": volumes or [{"name": "rootdisk", "dataVolume": {"name": name + "-root"}}]}},
    }
    if eviction is not None:
        spec["template"]["spec"]["evictionStrategy"] = eviction
    if firmware is not None:
        spec["template"]["spec"]["domain"]["firmware"] = firmware
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec}


def vmi(source_vm, node_name="worker-0"):
    return {"metadata": {"name": source_vm["metadata"]["name"], "namespace": source_vm["metadata"]["namespace"]},
            "spec": {"domain": copy.deepcopy(source_vm["spec"]["template"]["spec"]["domain"])},
            "status": {"nodeName": node_name, "phase": "Running"}}


def clean_facts():
    vm_a = vm("vm-a")
    both_defaults = {VIRT_DEFAULT: "true", CLUSTER_DEFAULT: "true"}
    return {
        "unserved": [],
        "cluster_version": {"status": {"history": [{"state": "Completed", "version": "4.20.3"}],
                                       "capabilities": {"enabledCapabilities": ["CSISnapshot", "Storage"]}}},
        "network": {"spec": {"clusterNetwork": [{"cidr": "10.128.0.0/14", "hostPrefix": 23}]}},
        "nodes": [node("master-0", role="master"), node("worker-0"), node("worker-1"), node("worker-2")],
        "machine_config_pools": [{"metadata": {"name": "worker"}, "spec": {}, "status": {"machineCount": 3}}],
        "storage_clusters": [{"metadata": {"name": "px-cluster", "namespace": "portworx"},
                              "spec": {"image": "portworx/oci-monitor:3.6.0", "stork": {"enabled": True},
                                       "autopilot": {"enabled": True},
                                       "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}},
                              "status": {"version": "3.6.0"}}],
        "storage_nodes": [{"metadata": {"name": "worker-%d" % i, "namespace": "portworx"},
                           "status": {"phase": "Online", "storage": {"totalSize": "3Ti", "usedSize": "300Gi"}}} for i in range(3)],
        "autopilot_rules": [{"metadata": {"name": "pool-rebalance"},
                             "spec": {"actions": [{"name": "openstorage.io.action.storagepool/rebalance"}]}}],
        "csvs": [{"metadata": {"name": "node-maintenance-operator.v5.4.1"}, "status": {"phase": "Succeeded"}}],
        "stork_deployments": [{"metadata": {"name": "stork", "namespace": "portworx"}, "status": {"readyReplicas": 3}}],
        "storage_classes": [storage_class(VM_CLASS, annotations=both_defaults),
                            storage_class("px-cdi-scratch", repl="1", binding="Immediate", sharedv4="true"),
                            storage_class("vmstate", binding="Immediate", reclaim="Retain"),
                            storage_class("mtv-storage", binding="Immediate")],
        "storage_profiles": [profile(VM_CLASS, RWX_BLOCK + RWX_FILE), profile("px-cdi-scratch", RWX_FILE),
                             profile("vmstate", RWX_FILE), profile("mtv-storage", RWX_BLOCK)],
        "snapshot_classes": [{"metadata": {"name": "px-csi-snapclass", "annotations": {
            "snapshot.storage.kubernetes.io/is-default-class": "true"}}, "driver": PX}],
        "hyperconvergeds": [{"metadata": {"name": "kubevirt-hyperconverged", "namespace": "openshift-cnv"},
                             "spec": {"scratchSpaceStorageClass": "px-cdi-scratch", "vmStateStorageClass": "vmstate",
                                      "enableCommonBootImageImport": True,
                                      "liveMigrationConfig": {"parallelMigrationsPerCluster": 5, "parallelOutboundMigrationsPerNode": 2},
                                      "resourceRequirements": {"vmiCPUAllocationRatio": 10}}}],
        "cdi_config": {"status": {"filesystemOverhead": {"global": "0.08", "storageClass": {}}}},
        "data_import_crons": [{"metadata": {"name": "rhel9-image-cron", "namespace": "os-images"}, "spec": {"managedDataSource": "rhel9"}}],
        "data_sources": [{"metadata": {"name": "rhel9", "namespace": "os-images"},
                          "spec": {"source": {"pvc": {"name": "rhel9-img", "namespace": "os-images"}}}, "status": {"conditions": ready()}}],
        "node_maintenances": [],
        "storage_maps": [],
        "templates": [],
        "evict_failures": [],
        "checkup_configmaps": [{"metadata": {"name": "storage-checkup-config", "namespace": "default"},
                                "data": {"status.succeeded": "true"}}],
        "registry_config": {"spec": {"managementState": "Managed", "replicas": 2, "storage": {"pvc": {"claim": "registry-storage-pvc"}}},
                            "status": {"conditions": [{"type": "Available", "status": "True"}]}},
        "registry_claim": claim("registry-storage-pvc", "openshift-image-registry", volume_mode="Filesystem"),
        "vms": [vm_a],
        "vmis": [vmi(vm_a)],
        "pvcs": [claim("vm-a-root"), claim("rhel9-img", "os-images", owner_kind=None)],
    }
