"""Discovery documents, as the kubernetes client and kubernetes.core read them."""
import json
import urllib.request

import pytest

from api_helpers import resource


def get_json(sim, path, headers=None):
    request = urllib.request.Request(sim.url + path, headers={"Authorization": f"Bearer {sim.token}", **(headers or {})})
    with urllib.request.urlopen(request, timeout=10, context=sim.ssl_context) as response:
        return response.status, json.loads(response.read())


def test_version_reports_openshift_420_kubernetes(sim):
    code, body = get_json(sim, "/version")
    assert code == 200
    assert (body["major"], body["minor"]) == ("1", "33")
    assert body["gitVersion"].startswith("v1.33")


def test_core_group_and_group_list(sim):
    _, api = get_json(sim, "/api")
    assert api["kind"] == "APIVersions" and api["versions"] == ["v1"]
    _, groups = get_json(sim, "/apis")
    assert groups["kind"] == "APIGroupList"
    names = {g["name"]: g for g in groups["groups"]}
    for group in ("apps", "batch", "storage.k8s.io", "snapshot.storage.k8s.io", "policy", "config.openshift.io",
                  "imageregistry.operator.openshift.io", "route.openshift.io", "operators.coreos.com",
                  "hco.kubevirt.io", "cdi.kubevirt.io", "kubevirt.io", "subresources.kubevirt.io",
                  "nodemaintenance.medik8s.io", "core.libopenstorage.org", "autopilot.libopenstorage.org",
                  "forklift.konveyor.io", "rbac.authorization.k8s.io"):
        assert group in names, group
    assert names["hco.kubevirt.io"]["preferredVersion"]["version"] == "v1beta1"
    ops = names["operators.coreos.com"]
    assert {v["version"] for v in ops["versions"]} == {"v1alpha1", "v1"}
    assert ops["preferredVersion"]["version"] == "v1"
    _, single = get_json(sim, "/apis/kubevirt.io")
    assert single["kind"] == "APIGroup" and single["name"] == "kubevirt.io"


def entries(sim, path):
    _, doc = get_json(sim, path)
    assert doc["kind"] == "APIResourceList"
    return {r["name"]: r for r in doc["resources"]}


def test_core_v1_resources_and_subresources(sim):
    core = entries(sim, "/api/v1")
    pods = core["pods"]
    assert pods["kind"] == "Pod" and pods["namespaced"] and pods["singularName"] == "pod"
    assert pods["shortNames"] == ["po"] and "all" in pods["categories"]
    assert set(pods["verbs"]) == {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
    assert core["pods/eviction"] == {"name": "pods/eviction", "singularName": "", "namespaced": True,
                                     "group": "policy", "version": "v1", "kind": "Eviction", "verbs": ["create"]}
    assert core["persistentvolumeclaims/status"]["verbs"] == ["get", "patch", "update"]
    assert core["nodes"]["namespaced"] is False and "nodes/status" in core
    for name in ("namespaces", "nodes", "pods", "persistentvolumeclaims", "persistentvolumes", "events",
                 "configmaps", "secrets", "serviceaccounts", "services"):
        assert name in core


def test_kubevirt_subresource_group(sim):
    subs = entries(sim, "/apis/subresources.kubevirt.io/v1")
    for name in ("addvolume", "removevolume", "start", "stop", "restart", "migrate"):
        entry = subs[f"virtualmachines/{name}"]
        assert entry["kind"] == "VirtualMachine" and entry["namespaced"] and entry["verbs"] == ["update"]
    assert "virtualmachineinstances/addvolume" in subs and "virtualmachineinstances/removevolume" in subs


@pytest.mark.parametrize("path,name,kind,namespaced,short", [
    ("/apis/kubevirt.io/v1", "virtualmachines", "VirtualMachine", True, ["vm", "vms"]),
    ("/apis/kubevirt.io/v1", "virtualmachineinstancemigrations", "VirtualMachineInstanceMigration", True, ["vmim", "vmims"]),
    ("/apis/nodemaintenance.medik8s.io/v1beta1", "nodemaintenances", "NodeMaintenance", False, ["nm"]),
    ("/apis/cdi.kubevirt.io/v1beta1", "storageprofiles", "StorageProfile", False, None),
    ("/apis/cdi.kubevirt.io/v1beta1", "datavolumes", "DataVolume", True, ["dv", "dvs"]),
    ("/apis/hco.kubevirt.io/v1beta1", "hyperconvergeds", "HyperConverged", True, ["hco", "hcos"]),
    ("/apis/core.libopenstorage.org/v1", "storagenodes", "StorageNode", True, ["sn"]),
    ("/apis/config.openshift.io/v1", "clusteroperators", "ClusterOperator", False, ["co"]),
    ("/apis/storage.k8s.io/v1", "storageclasses", "StorageClass", False, ["sc"]),
    ("/apis/imageregistry.operator.openshift.io/v1", "configs", "Config", False, None),
])
def test_custom_resource_entries(sim, path, name, kind, namespaced, short):
    entry = entries(sim, path)[name]
    assert entry["kind"] == kind and entry["namespaced"] is namespaced
    assert entry.get("shortNames") == short
    assert (f"{name}/status" in entries(sim, path)) is (kind != "StorageClass")


def test_aggregated_discovery_accept_header_on_a_group_version_gets_its_legacy_document(sim):
    # /api and /apis answer APIGroupDiscoveryList (test_aggregated_discovery.py); the
    # per-group-version documents stay APIResourceLists, as the apiserver serves them.
    accept = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
              "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")
    _, doc = get_json(sim, "/apis/kubevirt.io/v1", {"Accept": accept})
    assert doc["kind"] == "APIResourceList"


def test_dynamic_client_finds_every_kind(client):
    wanted = [("v1", "Namespace"), ("v1", "Node"), ("v1", "Pod"), ("v1", "PersistentVolumeClaim"),
              ("v1", "PersistentVolume"), ("v1", "Event"), ("v1", "ConfigMap"), ("v1", "Secret"),
              ("v1", "ServiceAccount"), ("apps/v1", "Deployment"), ("apps/v1", "ReplicaSet"), ("batch/v1", "Job"),
              ("storage.k8s.io/v1", "StorageClass"), ("snapshot.storage.k8s.io/v1", "VolumeSnapshotClass"),
              ("snapshot.storage.k8s.io/v1", "VolumeSnapshot"), ("policy/v1", "PodDisruptionBudget"),
              ("config.openshift.io/v1", "ClusterVersion"), ("config.openshift.io/v1", "ClusterOperator"),
              ("imageregistry.operator.openshift.io/v1", "Config"), ("route.openshift.io/v1", "Route"),
              ("operators.coreos.com/v1alpha1", "ClusterServiceVersion"), ("operators.coreos.com/v1alpha1", "Subscription"),
              ("hco.kubevirt.io/v1beta1", "HyperConverged"), ("cdi.kubevirt.io/v1beta1", "CDIConfig"),
              ("cdi.kubevirt.io/v1beta1", "CDI"), ("cdi.kubevirt.io/v1beta1", "StorageProfile"),
              ("cdi.kubevirt.io/v1beta1", "DataVolume"), ("cdi.kubevirt.io/v1beta1", "DataSource"),
              ("cdi.kubevirt.io/v1beta1", "DataImportCron"), ("kubevirt.io/v1", "VirtualMachine"),
              ("kubevirt.io/v1", "VirtualMachineInstance"), ("kubevirt.io/v1", "VirtualMachineInstanceMigration"),
              ("kubevirt.io/v1", "KubeVirt"), ("nodemaintenance.medik8s.io/v1beta1", "NodeMaintenance"),
              ("core.libopenstorage.org/v1", "StorageCluster"), ("core.libopenstorage.org/v1", "StorageNode"),
              ("autopilot.libopenstorage.org/v1alpha1", "AutopilotRule"),
              ("forklift.konveyor.io/v1beta1", "StorageMap"), ("forklift.konveyor.io/v1beta1", "Provider")]
    for api_version, kind in wanted:
        found = resource(client, api_version, kind)
        assert found.kind == kind
    pods = resource(client, "v1", "Pod")
    assert "eviction" in pods.subresources and "status" in pods.subresources


def test_unknown_paths_are_404_status(sim):
    import urllib.error

    for path in ("/apis/nope.example.com/v1", "/api/v1/nopes", "/apis/kubevirt.io/v1/namespaces/vms/nopes"):
        with pytest.raises(urllib.error.HTTPError) as info:
            get_json(sim, path)
        assert info.value.code == 404
        body = json.loads(info.value.read())
        assert body["kind"] == "Status" and body["reason"] == "NotFound"
