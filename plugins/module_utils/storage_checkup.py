# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenShift Virtualization storage checkup: the objects it needs and what its results mean.

The checkup (kiagnose/kubevirt-storage-checkup, shipped by Red Hat as
``kubevirt-storage-checkup-rhel9``) runs as a Job under the ServiceAccount ``storage-checkup-sa``
with the Role ``storage-checkup-role`` (its RoleBinding of the same name) in a test namespace,
plus cluster-reader rights (ClusterRoleBinding ``kubevirt-storage-checkup-clustereader``). It reads
its configuration from the ConfigMap ``storage-checkup-config`` (``spec.timeout``,
``spec.param.storageClass``, ``spec.param.vmiTimeout``, ``spec.param.numOfVMs``) and writes its
results back into it: ``status.succeeded``, ``status.failureReason`` (one failure per line),
``status.startTimestamp``, ``status.completionTimestamp`` and ``status.result.<key>``
(``pkg/internal/reporter/reporter.go``, manifests ``storage_checkup.yaml`` and
``storage_checkup_permissions.yaml``). [000] "Storage Checkup": run it before production; it
needs every StorageProfile's ``claimPropertySets`` and ``cloneStrategy``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

SERVICE_ACCOUNT = "storage-checkup-sa"
ROLE = "storage-checkup-role"
CONFIG_MAP = "storage-checkup-config"
JOB = "storage-checkup"
CLUSTER_READER_BINDING = "kubevirt-storage-checkup-clustereader"
DEFAULT_IMAGE = "registry.redhat.io/container-native-virtualization/kubevirt-storage-checkup-rhel9:v4.20"
RESULT_PREFIX = "status.result."
DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$")

# the Role of manifests/storage_checkup_permissions.yaml
ROLE_RULES = [
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "update"]},
    {"apiGroups": ["kubevirt.io"], "resources": ["virtualmachines"], "verbs": ["create", "delete"]},
    {"apiGroups": ["kubevirt.io"], "resources": ["virtualmachineinstances"], "verbs": ["get"]},
    {"apiGroups": ["subresources.kubevirt.io"], "resources": ["virtualmachineinstances/addvolume", "virtualmachineinstances/removevolume"],
     "verbs": ["update"]},
    {"apiGroups": ["kubevirt.io"], "resources": ["virtualmachineinstancemigrations"], "verbs": ["create"]},
    {"apiGroups": ["cdi.kubevirt.io"], "resources": ["datavolumes"], "verbs": ["create", "delete"]},
    {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["delete"]},
]

# failure text (upstream checkup.go) -> (meaning, fix, result key naming the objects)
MEANINGS = [
    ("no default storage class",
     "no StorageClass is the default virtualization class or the cluster default, so VM disks and boot sources have no class",
     "Make the Portworx RWX block class the default virtualization class (ocpvirt.portworx.virt_default_storage_class).", None),
    ("there are multiple default storage classes",
     "more than one StorageClass carries the default virtualization (or cluster default) annotation",
     "Keep the annotation on exactly one class (ocpvirt.portworx.virt_default_storage_class).", None),
    ("pvc failed to bound",
     "a 10Mi claim on the checked class did not bind: its provisioner does not provision",
     "Check the CSI driver of that class (Portworx pods, the StorageCluster phase).", "pvcBound"),
    ("there are StorageProfiles with empty ClaimPropertySets",
     "CDI does not know these classes' provisioners, so it cannot choose access and volume modes for VM disks on them",
     "Set spec.claimPropertySets (and cloneStrategy) on those StorageProfiles (ocpvirt.portworx.storage_profile).",
     "storageProfilesWithEmptyClaimPropertySets"),
    ("there are golden images whose DataImportCron is not up to date or DataSource is not ready",
     "boot source images were not imported, so VMs cannot be created from the templates",
     "Check the DataImportCrons and DataSources named (a default virtualization class with RWX Block is needed for the import).",
     "goldenImagesNotUpToDate"),
    ("dataSource has no PVC or Snapshot source",
     "a golden image's DataSource points at neither a PVC nor a VolumeSnapshot",
     "Fix or re-create the DataImportCron named.", "goldenImagesNoDataSource"),
    ("there are VMs using an EFS storageclass",
     "VMs use an EFS class without uid and gid", "Set uid and gid on the EFS StorageClass.", "vmsWithUnsetEfsStorageClass"),
    ("some of the VMs failed to complete boot on time",
     "not every VM of the concurrent boot test booted from the golden image in time",
     "Check clone speed (cloneStrategy csi-clone on Portworx) and the storage backend's load.", "concurrentVMBoot"),
    ("DV clone fallback reason",
     "cloning the golden image fell back to a slow host-assisted copy",
     "Give the class an efficient clone: cloneStrategy csi-clone on its StorageProfile, or a VolumeSnapshotClass for its driver.",
     "vmVolumeClone"),
    ("failed waiting for VMI",
     "a test VM did not reach the checked state (boot, live migration or hot-plug)",
     "Look at the named check's result key and the VM's events in the test namespace.", None),
]


def config_data(params):
    """The ConfigMap's ``spec.*`` keys for the module's options."""
    data = {"spec.timeout": params.get("timeout") or "10m"}
    for option, key in (("storage_class", "storageClass"), ("vmi_timeout", "vmiTimeout"), ("num_of_vms", "numOfVMs")):
        if params.get(option) not in (None, ""):
            data["spec.param." + key] = str(params[option])
    return data


def invalid_durations(params):
    """The duration options that are not Go durations (``10m``, ``1h30m``)."""
    return [o for o in ("timeout", "vmi_timeout") if params.get(o) and not DURATION.match(params[o])]


def checkup_objects(namespace, params):
    """The objects of one checkup run, in the order they are created."""
    meta = {"namespace": namespace}
    objects = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": dict(meta, name=SERVICE_ACCOUNT)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": dict(meta, name=ROLE), "rules": ROLE_RULES},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": dict(meta, name=ROLE),
         "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT}],
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ROLE}},
    ]
    if params.get("cluster_reader", True):
        objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                        "metadata": {"name": CLUSTER_READER_BINDING},
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-reader"},
                        "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": namespace}]})
    objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": dict(meta, name=CONFIG_MAP), "data": config_data(params)})
    objects.append(job_definition(namespace, params.get("image") or DEFAULT_IMAGE))
    return objects


def job_definition(namespace, image):
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": JOB, "namespace": namespace},
            "spec": {"backoffLimit": 0, "template": {"spec": {
                "serviceAccountName": SERVICE_ACCOUNT, "restartPolicy": "Never",
                "containers": [{"name": "storage-checkup", "image": image, "imagePullPolicy": "Always",
                                "env": [{"name": "CONFIGMAP_NAMESPACE", "value": namespace},
                                        {"name": "CONFIGMAP_NAME", "value": CONFIG_MAP}]}]}}}}


def checkup_state(config_map):
    """``none``, ``running`` or ``complete`` from the ConfigMap's ``status.*`` keys."""
    data = (config_map or {}).get("data") or {}
    if data.get("status.completionTimestamp"):
        return "complete"
    if data.get("status.startTimestamp"):
        return "running"
    return "none"


def same_config(config_map, params):
    data = (config_map or {}).get("data") or {}
    return dict((k, v) for k, v in data.items() if k.startswith("spec.")) == config_data(params)


def _meaning(reason):
    for text, meaning, fix, key in MEANINGS:
        if reason.startswith(text):
            return meaning, fix, key
    return "the checkup reported this failure", "See the checkup's status.result keys in the ConfigMap.", None


def interpret(config_map):
    """The checkup's outcome: succeeded, each failure with its meaning, fix and objects, and every result."""
    data = (config_map or {}).get("data") or {}
    results = dict((k[len(RESULT_PREFIX):], v) for k, v in data.items() if k.startswith(RESULT_PREFIX))
    failures = []
    for reason in [r for r in (data.get("status.failureReason") or "").split("\n") if r.strip()]:
        meaning, fix, key = _meaning(reason)
        failures.append({"reason": reason, "meaning": meaning, "fix": fix,
                         "objects": [o for o in (results.get(key) or "").split("\n") if o] if key else []})
    notes = []
    if results.get("storageProfileMissingVolumeSnapshotClass"):
        notes.append("StorageProfiles cloning by snapshot without a VolumeSnapshotClass for their driver: {0}".format(
            ", ".join(results["storageProfileMissingVolumeSnapshotClass"].split("\n"))))
    return {"succeeded": str(data.get("status.succeeded", "")).lower() == "true", "failed_checks": failures, "notes": notes,
            "results": results, "start_timestamp": data.get("status.startTimestamp"),
            "completion_timestamp": data.get("status.completionTimestamp")}


def one_line_reasons(failure_reason):
    """``status.failureReason`` (one failure per line) as one line, for findings and messages."""
    return "; ".join(r.strip() for r in (failure_reason or "").split("\n") if r.strip())
