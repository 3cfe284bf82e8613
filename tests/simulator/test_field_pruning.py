"""Unknown fields of built-in kinds and of the CRD kinds the collection writes are dropped, reported
(``Warning``) or refused (``fieldValidation=Strict``) as the apiserver does."""
import json
import urllib.request

import pytest

from api_helpers import raw, resource


def post_with_headers(sim, path, body, query="?dryRun=All"):
    request = urllib.request.Request(sim.url + path + query, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {sim.token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10, context=sim.ssl_context) as response:
        return response.status, response.headers.get("Warning"), json.loads(response.read())


def test_misspelled_storage_class_field_is_dropped_with_a_warning(sim, client):
    body = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "typo-sc"},
            "provisioner": "pxd.portworx.com", "allowVolumeExpantion": True}
    code, warning, created = post_with_headers(sim, "/apis/storage.k8s.io/v1/storageclasses", body, query="")
    assert code == 201 and warning == '299 - "unknown field \\"allowVolumeExpantion\\""'
    assert "allowVolumeExpantion" not in created and "allowVolumeExpansion" not in created
    stored = resource(client, "storage.k8s.io/v1", "StorageClass").get(name="typo-sc").to_dict()
    assert "allowVolumeExpantion" not in stored
    code, error = raw(sim, "POST", "/apis/storage.k8s.io/v1/storageclasses?fieldValidation=Strict",
                      dict(body, metadata={"name": "typo-sc-2"}))
    assert code == 400 and error["reason"] == "BadRequest"
    assert error["message"] == ('StorageClass in version "v1" cannot be handled as a StorageClass: strict decoding '
                                'error: unknown field "allowVolumeExpantion"')


@pytest.mark.parametrize("path, body, unknown", [
    ("/api/v1/namespaces/default/persistentvolumeclaims",
     {"metadata": {"name": "p"}, "spec": {"accessModes": ["ReadWriteOnce"], "storageClass": "x",
                                          "resources": {"requests": {"storage": "1Gi"}}}}, "spec.storageClass"),
    ("/api/v1/persistentvolumes",
     {"metadata": {"name": "pv"}, "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                                           "csi": {"driver": "pxd.portworx.com", "volumeHandle": "v"},
                                           "reclaimPolicy": "Delete"}}, "spec.reclaimPolicy"),
    ("/api/v1/nodes", {"metadata": {"name": "n"}, "spec": {"unschedulabel": True}}, "spec.unschedulabel"),
    ("/api/v1/namespaces/default/pods",
     {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}], "nodename": "w"}},
     "spec.nodename"),
    ("/api/v1/namespaces/default/configmaps", {"metadata": {"name": "c"}, "datas": {"a": "b"}}, "datas"),
    ("/api/v1/namespaces/default/secrets", {"metadata": {"name": "s"}, "stringdata": {"a": "b"}}, "stringdata"),
    ("/api/v1/namespaces", {"metadata": {"name": "typo-ns"}, "spec": {"finalizer": ["kubernetes"]}}, "spec.finalizer"),
    ("/apis/apps/v1/namespaces/default/deployments",
     {"metadata": {"name": "d"}, "spec": {"replica": 2, "selector": {"matchLabels": {"a": "b"}},
                                          "template": {"metadata": {"labels": {"a": "b"}},
                                                       "spec": {"containers": [{"name": "c", "image": "i"}]}}}},
     "spec.replica"),
    ("/apis/policy/v1/namespaces/default/poddisruptionbudgets",
     {"metadata": {"name": "pdb"}, "spec": {"minAvailable": 1, "maxUnavailble": 1}}, "spec.maxUnavailble"),
])
def test_built_in_kinds_refuse_unknown_fields_when_strict(sim, path, body, unknown):
    code, error = raw(sim, "POST", path + "?fieldValidation=Strict&dryRun=All", body)
    assert code == 400, error
    assert f'strict decoding error: unknown field "{unknown}"' in error["message"]
    code, warning, created = post_with_headers(sim, path, body)
    assert code == 201 and unknown in warning
    node = created
    for part in unknown.split("."):
        parent, node = node, node.get(part) if isinstance(node, dict) else None
    assert node is None, created


def test_eviction_body_is_decoded_like_a_built_in_type(sim, client):
    pods = resource(client, "v1", "Pod")
    pods.create(namespace="default", body={"metadata": {"name": "evictee"},
                                           "spec": {"containers": [{"name": "c", "image": "i"}]}})
    path = "/api/v1/namespaces/default/pods/evictee/eviction"
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "evictee"},
            "deleteOption": {"gracePeriodSeconds": 0}}
    code, error = raw(sim, "POST", path + "?fieldValidation=Strict", body)
    assert code == 400 and 'strict decoding error: unknown field "deleteOption"' in error["message"]
    assert pods.get(namespace="default", name="evictee")
    code, warning, _ = post_with_headers(sim, path, body, query="")
    assert code == 201 and 'unknown field \\"deleteOption\\"' in warning


@pytest.mark.parametrize("path, body, unknown", [
    ("/apis/kubevirt.io/v1/namespaces/vms/virtualmachines",
     {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "typo-vm"},
      "spec": {"runStrategy": "Halted", "template": {"spec": {
          "domain": {"devices": {"disks": [{"name": "root", "disk": {"bus": "virtio"}, "bootorder": 1}]}},
          "volumes": [{"name": "root", "persistentVolumeClaim": {"claimName": "x"}, "hotplugable": True}]}}}},
     'spec.template.spec.domain.devices.disks[0].bootorder", unknown field "spec.template.spec.volumes[0].hotplugable'),
    ("/apis/cdi.kubevirt.io/v1beta1/namespaces/vms/datavolumes",
     {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": "typo-dv"},
      "spec": {"source": {"blank": {}}, "storage": {"resources": {"requests": {"storage": "1Gi"}}},
               "storageClass": "x"}}, "spec.storageClass"),
    ("/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses",
     {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass", "metadata": {"name": "typo-vsc"},
      "driver": "pxd.portworx.com", "deletePolicy": "Delete"}, "deletePolicy"),
    ("/apis/autopilot.libopenstorage.org/v1alpha1/autopilotrules",
     {"apiVersion": "autopilot.libopenstorage.org/v1alpha1", "kind": "AutopilotRule", "metadata": {"name": "typo-ar"},
      "spec": {"conditions": {"requiredMatches": 1, "expressions": [{"keyAlias": "a", "operator": "In", "value": []}]},
               "actions": [{"name": "x"}]}}, "spec.conditions.expressions[0].value"),
    ("/apis/forklift.konveyor.io/v1beta1/namespaces/default/storagemaps",
     {"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "StorageMap", "metadata": {"name": "typo-sm"},
      "spec": {"map": [{"source": {"id": "a"}, "destination": {"storageClass": "x"}, "offload": {}}],
               "provider": {"source": {"name": "s"}, "destination": {"name": "d"}}}}, "spec.map[0].offload"),
    ("/apis/forklift.konveyor.io/v1beta1/namespaces/default/providers",
     {"apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Provider", "metadata": {"name": "typo-p"},
      "spec": {"type": "vsphere", "URL": "https://x"}}, "spec.URL"),
    ("/apis/cdi.kubevirt.io/v1beta1/cdiconfigs",
     {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "CDIConfig", "metadata": {"name": "typo-cdiconfig"},
      "spec": {"filesystemOverhead": {"global": "0.1", "storageclass": {}}}}, "spec.filesystemOverhead.storageclass"),
])
def test_crd_kinds_we_write_have_schemas(sim, path, body, unknown):
    code, error = raw(sim, "POST", path + "?fieldValidation=Strict&dryRun=All", body)
    assert code == 400, error
    assert f'strict decoding error: unknown field "{unknown}"' in error["message"]


def test_deeper_crd_fields_and_condition_lists(sim, client):
    hco_path = "/apis/hco.kubevirt.io/v1beta1/namespaces/openshift-cnv/hyperconvergeds/kubevirt-hyperconverged"
    code, error = raw(sim, "PATCH", hco_path + "?fieldValidation=Strict&dryRun=All",
                      {"spec": {"liveMigrationConfig": {"parallelMigrationPerCluster": 2}}},
                      content_type="application/merge-patch+json")
    assert code == 400 and 'unknown field "spec.liveMigrationConfig.parallelMigrationPerCluster"' in error["message"]
    code, error = raw(sim, "PATCH", "/apis/core.libopenstorage.org/v1/namespaces/portworx/storageclusters/px-cluster"
                      "?fieldValidation=Strict&dryRun=All", {"spec": {"csi": {"enable": True}}},
                      content_type="application/merge-patch+json")
    assert code == 400 and 'unknown field "spec.csi.enable"' in error["message"]
    # ClusterOperator conditions (openshift/api) have no lastProbeTime / lastHeartbeatTime.
    condition = {"type": "Available", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z",
                 "lastProbeTime": "2024-01-01T00:00:00Z", "lastHeartbeatTime": "2024-01-01T00:00:00Z"}
    code, error = raw(sim, "PATCH", "/apis/config.openshift.io/v1/clusteroperators/storage/status?fieldValidation=Strict",
                      {"status": {"conditions": [condition]}}, content_type="application/merge-patch+json")
    assert code == 400 and 'unknown field "status.conditions[0].lastHeartbeatTime"' in error["message"]
    assert 'unknown field "status.conditions[0].lastProbeTime"' in error["message"]
