"""Field ownership without a server (``managedfields.py``), after kubernetes/apimachinery
release-1.33 ``pkg/util/managedfields`` and structured-merge-diff v4."""
import pytest

from clustersim.errors import ApiError
from clustersim.kinds import default_registry
from clustersim.managedfields import (SELF, Walker, from_fields_v1, merge, path_string, record_update,
                                      server_side_apply, to_fields_v1)

DEPLOYMENTS = default_registry().get("apps/deployments")


def walker():
    return Walker(DEPLOYMENTS.schema, True, True)


def deployment(replicas=1, image="nginx:1", labels=None):
    meta = {"name": "d", "namespace": "ns", "uid": "u", "resourceVersion": "3"}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "d"}},
                     "template": {"spec": {"containers": [{"name": "c", "image": image}]}}},
            "status": {"replicas": 1}}


def test_field_sets_skip_server_metadata_and_status_and_key_list_items():
    paths = walker().fields(deployment(labels={"a": "1"}))
    assert (("f", "spec"), ("f", "replicas")) in paths
    assert (("f", "metadata"), ("f", "labels"), ("f", "a")) in paths
    assert (("f", "spec"), ("f", "selector")) in paths  # spec.selector is an atomic struct
    item = (("f", "spec"), ("f", "template"), ("f", "spec"), ("f", "containers"), ("k", '{"name":"c"}'))
    assert item + (SELF,) in paths and item + (("f", "image"),) in paths
    assert not any(p[0] in (("f", "status"), ("f", "apiVersion")) for p in paths)
    assert not any(p[:2] == (("f", "metadata"), ("f", "uid")) for p in paths)
    assert from_fields_v1(to_fields_v1(paths)) == paths


def test_path_strings_as_structured_merge_diff_prints_them():
    assert path_string((("f", "spec"), ("f", "replicas"))) == ".spec.replicas"
    assert path_string((("f", "spec"), ("f", "containers"), ("k", '{"name":"c"}'), ("f", "image"))) \
        == '.spec.containers[name="c"].image'
    assert path_string((("f", "metadata"), ("f", "finalizers"), ("v", '"x"'))) == '.metadata.finalizers[="x"]'


def test_merge_keys_items_unions_sets_and_replaces_atomic_lists():
    schema = DEPLOYMENTS.schema
    live = {"metadata": {"finalizers": ["a"]},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "1"}], "tolerations": [{"key": "x"}]}}}}
    applied = {"metadata": {"finalizers": ["b"]},
               "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "2"}, {"name": "d", "image": "3"}],
                                              "tolerations": [{"key": "y"}]}}}}
    merged = merge(live, applied, schema, "", True)
    assert merged["metadata"]["finalizers"] == ["a", "b"]
    assert merged["spec"]["template"]["spec"]["containers"] == [{"name": "c", "image": "2"}, {"name": "d", "image": "3"}]
    assert merged["spec"]["template"]["spec"]["tolerations"] == [{"key": "y"}]


def test_update_takes_changed_fields_from_other_managers():
    w = walker()
    first = deployment()
    record_update(w, None, first, "creator", "apps/v1")
    second = deployment(replicas=4)
    second["metadata"]["managedFields"] = first["metadata"]["managedFields"]
    record_update(w, first, second, "scaler", "apps/v1")
    owners = {e["manager"]: from_fields_v1(e["fieldsV1"]) for e in second["metadata"]["managedFields"]}
    assert owners["scaler"] == {(("f", "spec"), ("f", "replicas"))}
    assert (("f", "spec"), ("f", "replicas")) not in owners["creator"]


def test_apply_conflicts_unless_forced_and_removes_what_it_stopped_applying():
    w = walker()
    live = deployment(labels={"tier": "web"})
    applied = {k: v for k, v in deployment(labels={"tier": "web"}).items() if k != "status"}
    live = server_side_apply(w, live, applied, "alice", False, "apps/v1")
    scaled = deployment(replicas=5, labels={"tier": "web"})
    scaled["metadata"]["managedFields"] = live["metadata"]["managedFields"]
    record_update(w, live, scaled, "bob", "apps/v1")
    with pytest.raises(ApiError) as info:
        server_side_apply(w, scaled, deployment(replicas=2, labels={"tier": "web"}), "alice", False, "apps/v1")
    assert info.value.code == 409
    assert info.value.message == 'Apply failed with 1 conflict: conflict with "bob" using apps/v1: .spec.replicas'
    forced = server_side_apply(w, scaled, deployment(replicas=2), "alice", True, "apps/v1")
    assert forced["spec"]["replicas"] == 2 and not forced["metadata"].get("labels")  # the round trip drops {}
    # the same value is no conflict: bob keeps sharing it
    shared = server_side_apply(w, scaled, deployment(replicas=5, labels={"tier": "web"}), "alice", False, "apps/v1")
    assert {e["manager"] for e in shared["metadata"]["managedFields"]} == {"alice", "bob"}
