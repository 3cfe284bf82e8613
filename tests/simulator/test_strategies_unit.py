"""Per-kind strategies and the REST rules on top of them, on an in-process cluster (no server).

Expected behaviour: kubernetes/kubernetes release-1.33 ``pkg/registry/*/strategy.go``, the
generic registry ``staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go`` and
apiextensions-apiserver ``pkg/registry/customresource/strategy.go`` (see ``strategies.py``).
"""
import base64
import json

import pytest

from clustersim.cluster import HttpRequest
from clustersim.errors import ApiError
from clustersim.registry import Registry, RestRequest, paginate
from clustersim.strategies import gc_finalizers, spec_changed

VM = "kubevirt.io/virtualmachines"


@pytest.fixture()
def cluster(bare_cluster):
    return bare_cluster


def test_create_resets_system_metadata_and_http_status(cluster):
    created = cluster.store.create("apps/deployments", {
        "metadata": {"name": "d", "uid": "client-uid", "resourceVersion": "77", "generation": 9,
                     "deletionTimestamp": "2020-01-01T00:00:00Z"},
        "spec": {"replicas": 1}, "status": {"replicas": 5}}, "default", internal=False)
    meta = created["metadata"]
    assert meta["uid"] != "client-uid" and meta["generation"] == 1 and "deletionTimestamp" not in meta
    assert meta["resourceVersion"] != "77" and "status" not in created


def test_internal_creates_and_nodes_keep_status(cluster):
    node = cluster.store.create("nodes", {"metadata": {"name": "n"}, "status": {"capacity": {"cpu": "4"}}},
                                internal=False)
    assert node["status"]["capacity"] == {"cpu": "4"}
    seeded = cluster.store.create("apps/deployments", {"metadata": {"name": "s"}, "status": {"replicas": 2}},
                                  "default")
    assert seeded["status"] == {"replicas": 2}


def test_main_resource_update_ignores_status_and_status_update_ignores_spec(cluster):
    store = cluster.store
    store.create(VM, {"metadata": {"name": "vm"}, "spec": {"running": False}, "status": {"ready": False}}, "default")
    updated = store.update(VM, {"metadata": {"name": "vm"}, "spec": {"running": True}, "status": {"ready": True}},
                           "default", internal=False)
    assert updated["spec"] == {"running": True} and updated["status"] == {"ready": False}
    assert updated["metadata"]["generation"] == 2
    status = store.update_status(VM, {"metadata": {"name": "vm"}, "spec": {"running": False},
                                      "status": {"ready": True}}, "default", internal=False)
    assert status["spec"] == {"running": True} and status["status"] == {"ready": True}
    assert status["metadata"]["generation"] == 2


def test_generation_moves_with_spec_only(cluster):
    # Deployments keep a generation (apps/deployment/strategy.go); ConfigMaps have none
    # (configmap/strategy.go never sets it).
    store = cluster.store
    store.create("apps/deployments", {"metadata": {"name": "c"}, "spec": {"replicas": 1}}, "default")
    labelled = store.patch("apps/deployments", "c", {"metadata": {"labels": {"x": "y"}}}, "default")
    assert labelled["metadata"]["generation"] == 1
    changed = store.patch("apps/deployments", "c", {"spec": {"replicas": 2}}, "default")
    assert changed["metadata"]["generation"] == 2
    store.create("configmaps", {"metadata": {"name": "c"}, "data": {"a": "1"}}, "default")
    assert "generation" not in store.patch("configmaps", "c", {"data": {"a": "2"}}, "default")["metadata"]
    assert spec_changed({"spec": 1, "status": 1}, {"spec": 1, "status": 2}) is False
    assert spec_changed({"data": {"a": "1"}}, {"data": {"a": "1"}, "binaryData": {}}) is True


def test_no_new_finalizers_on_a_terminating_object(cluster):
    store = cluster.store
    store.create("configmaps", {"metadata": {"name": "held", "finalizers": ["example.com/a"]}}, "default")
    terminating = store.delete("configmaps", "held", "default")
    assert terminating["metadata"]["deletionTimestamp"]
    with pytest.raises(ApiError) as info:
        store.patch("configmaps", "held", {"metadata": {"finalizers": ["example.com/a", "example.com/b"]}}, "default")
    assert info.value.code == 422 and "no new finalizers" in info.value.message
    store.remove_finalizer("configmaps", "held", "example.com/a", "default")
    assert store.get("configmaps", "held", "default") is None


def test_namespace_terminates_and_is_held_by_spec_finalizers(cluster):
    store = cluster.store
    store.create("namespaces", {"metadata": {"name": "doomed"}})
    terminating = store.delete("namespaces", "doomed")
    assert terminating["status"]["phase"] == "Terminating" and terminating["spec"]["finalizers"] == ["kubernetes"]
    with pytest.raises(ApiError) as info:  # NamespaceLifecycle admission
        store.create("configmaps", {"metadata": {"name": "late"}}, "doomed")
    assert info.value.code == 403 and "being terminated" in info.value.message
    store.mutate("namespaces", "doomed", lambda ns: ns["spec"].update(finalizers=[]))
    assert store.get("namespaces", "doomed") is None
    with pytest.raises(ApiError) as info:
        store.create("configmaps", {"metadata": {"name": "nowhere"}}, "doomed")
    assert info.value.code == 404


@pytest.mark.parametrize("finalizers, propagation, expected", [
    ([], None, []),
    ([], "Background", []),
    ([], "Orphan", ["orphan"]),
    (["a"], "Foreground", ["a", "foregroundDeletion"]),
    (["orphan"], None, ["orphan"]),  # an existing GC finalizer decides when no policy is given
    (["foregroundDeletion"], "Orphan", ["orphan"]),
    (["a", "orphan"], "Background", ["a"]),
])
def test_gc_finalizers_follow_the_propagation_policy(finalizers, propagation, expected):
    assert gc_finalizers(finalizers, propagation, "Background") == expected


def _rest(cluster, verb, key, name, body=None, method="PUT", **query):
    http = HttpRequest(method, "/", {k: [v] for k, v in query.items()}, {"Content-Type": "application/json"})
    return RestRequest(verb, cluster.kinds.get(key), "default", name, "", body, False, http)


def test_custom_resources_refuse_unconditional_updates(cluster):
    registry = Registry(cluster)
    cluster.store.create(VM, {"metadata": {"name": "vm"}, "spec": {}}, "default")
    cluster.store.create("configmaps", {"metadata": {"name": "c"}}, "default")
    with pytest.raises(ApiError) as info:
        registry.handle(_rest(cluster, "update", VM, "vm", {"metadata": {"name": "vm"}, "spec": {"running": True}}))
    assert info.value.code == 422 and "must be specified for an update" in info.value.message
    code, body, _ = registry.handle(_rest(cluster, "update", "configmaps", "c",
                                          {"metadata": {"name": "c"}, "data": {"k": "v"}}))
    assert code == 200 and body["data"] == {"k": "v"}


def test_delete_answers_status_for_builtin_kinds_and_the_object_otherwise(cluster):
    registry, store = Registry(cluster), cluster.store
    store.create("configmaps", {"metadata": {"name": "c"}}, "default")
    store.create("pods", {"metadata": {"name": "p"}, "spec": {}}, "default")
    store.create(VM, {"metadata": {"name": "vm"}, "spec": {}}, "default")
    _, answer, _ = registry.handle(_rest(cluster, "delete", "configmaps", "c", method="DELETE"))
    assert answer["kind"] == "Status" and answer["status"] == "Success"
    _, answer, _ = registry.handle(_rest(cluster, "delete", "pods", "p", method="DELETE"))
    assert answer["kind"] == "Pod"
    _, answer, _ = registry.handle(_rest(cluster, "delete", VM, "vm", method="DELETE"))
    assert answer["kind"] == "VirtualMachine"


def test_pagination_tokens_resume_after_the_last_key_and_expire():
    items = [{"metadata": {"namespace": "ns", "name": f"o{i}"}} for i in range(5)]
    page, meta = paginate(items, 2, None, rv=10, floor_rv=0)
    assert [o["metadata"]["name"] for o in page] == ["o0", "o1"] and meta["remainingItemCount"] == 3
    page, meta = paginate(items, 2, meta["continue"], rv=11, floor_rv=0)
    assert [o["metadata"]["name"] for o in page] == ["o2", "o3"]
    page, last = paginate(items, 2, meta["continue"], rv=12, floor_rv=0)
    assert [o["metadata"]["name"] for o in page] == ["o4"] and "continue" not in last
    with pytest.raises(ApiError) as info:
        paginate(items, 2, meta["continue"], rv=20, floor_rv=15)
    assert info.value.code == 410
    resumed = json.loads(base64.urlsafe_b64decode(info.value.metadata["continue"]))
    assert resumed == {"rv": 20, "start": ["ns", "o3"]}
    with pytest.raises(ApiError) as info:
        paginate(items, 2, "not-a-token", rv=1, floor_rv=0)
    assert info.value.code == 400


@pytest.mark.parametrize("options, expected", [
    ({}, None),
    ({"propagationPolicy": "Foreground"}, "Foreground"),
    ({"orphanDependents": True}, "Orphan"),
    ({"orphanDependents": False}, "Background"),
    ({"propagationPolicy": "Background", "orphanDependents": True}, "Background"),
])
def test_delete_options_propagation(options, expected):
    from clustersim.registry import propagation_policy

    assert propagation_policy(options) == expected


def test_namespace_finalizers_change_only_through_finalize(cluster):
    store, registry = cluster.store, Registry(cluster)
    created = store.create("namespaces", {"metadata": {"name": "fin"}, "spec": {"finalizers": ["other.io/x"]}},
                           internal=False)
    assert created["spec"]["finalizers"] == ["other.io/x", "kubernetes"]
    assert created["status"] == {"phase": "Active"}
    assert created["metadata"]["labels"]["kubernetes.io/metadata.name"] == "fin"
    patched = store.patch("namespaces", "fin", {"spec": {"finalizers": []}, "metadata": {"labels": {"a": "b"}}},
                          internal=False)
    assert patched["spec"]["finalizers"] == ["other.io/x", "kubernetes"] and patched["metadata"]["labels"]["a"] == "b"
    http = HttpRequest("PUT", "/", {}, {"Content-Type": "application/json"})
    body = {"metadata": {"name": "fin"}, "spec": {"finalizers": ["kubernetes"]}}
    code, answer, _ = registry.handle(RestRequest("update", cluster.kinds.get("namespaces"), "", "fin", "finalize",
                                                  body, False, http))
    assert code == 200 and answer["spec"]["finalizers"] == ["kubernetes"]
    assert answer["metadata"]["labels"]["a"] == "b"


def test_defaults_on_create(cluster):
    store = cluster.store
    sc = store.create("storage.k8s.io/storageclasses", {"metadata": {"name": "sc"}, "provisioner": "p"})
    assert sc["reclaimPolicy"] == "Delete" and sc["volumeBindingMode"] == "Immediate"
    pvc = store.create("persistentvolumeclaims", {"metadata": {"name": "c"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        "status": {"phase": "Bound"}}, "default", internal=False)
    assert pvc["spec"]["volumeMode"] == "Filesystem" and pvc["status"] == {"phase": "Pending"}
    pod = store.create("pods", {"metadata": {"name": "p"}, "spec": {}}, "default", internal=False)
    assert pod["status"] == {"phase": "Pending", "qosClass": "BestEffort"}  # pod/strategy.go PrepareForCreate


def test_status_subresource_serves_get_update_and_patch_only(cluster):
    registry = Registry(cluster)
    cluster.store.create(VM, {"metadata": {"name": "vm"}, "spec": {}}, "default")
    http = HttpRequest("DELETE", "/", {}, {})
    with pytest.raises(ApiError) as info:
        registry.handle(RestRequest("delete", cluster.kinds.get(VM), "default", "vm", "status", None, False, http))
    assert info.value.code == 405
    assert cluster.store.get(VM, "vm", "default") is not None
