"""The patch formats, without a server: RFC 7386 merge patch, RFC 6902 JSON patch, strategic merge.

Expected values come from the RFCs' own examples (RFC 7386 appendix A, RFC 6902 appendix A) and
from the Kubernetes Go types' patch tags (``patchMergeKey``/``patchStrategy``, k8s.io/api release-1.33).
"""
import pytest

from clustersim.errors import ApiError
from clustersim.patch import apply_patch, json_merge_patch, json_patch, strategic_merge_patch


@pytest.mark.parametrize("target, patch, expected", [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
])
def test_merge_patch_rfc7386_examples(target, patch, expected):
    assert json_merge_patch(target, patch) == expected


def test_merge_patch_leaves_the_target_alone():
    target = {"spec": {"replicas": 1, "template": {"x": 1}}}
    json_merge_patch(target, {"spec": {"replicas": 2, "template": None}})
    assert target == {"spec": {"replicas": 1, "template": {"x": 1}}}


def test_json_patch_operations_in_order():
    doc = {"foo": ["bar", "baz"], "biscuits": [{"name": "Digestive"}, {"name": "Choco Leibniz"}]}
    result = json_patch(doc, [
        {"op": "add", "path": "/foo/1", "value": "qux"},
        {"op": "remove", "path": "/biscuits/0"},
        {"op": "replace", "path": "/biscuits/0/name", "value": "Hobnob"},
        {"op": "copy", "from": "/foo/0", "path": "/first"},
        {"op": "move", "from": "/foo/2", "path": "/last"},
        {"op": "add", "path": "/foo/-", "value": "end"},
        {"op": "test", "path": "/first", "value": "bar"},
    ])
    assert result == {"foo": ["bar", "qux", "end"], "biscuits": [{"name": "Hobnob"}], "first": "bar", "last": "baz"}
    assert doc["foo"] == ["bar", "baz"]  # the target is not changed


def test_json_patch_pointer_escapes():
    assert json_patch({"metadata": {"labels": {"a/b": "1", "m~n": "2"}}}, [
        {"op": "remove", "path": "/metadata/labels/a~1b"},
        {"op": "replace", "path": "/metadata/labels/m~0n", "value": "3"},
    ]) == {"metadata": {"labels": {"m~n": "3"}}}


@pytest.mark.parametrize("operations, code, message", [
    ([{"op": "test", "path": "/a", "value": 2}], 422, "test failed"),
    ([{"op": "remove", "path": "/missing"}], 422, "nonexistent key"),
    ([{"op": "replace", "path": "/missing", "value": 1}], 422, "missing path"),
    ([{"op": "add", "path": "/list/5", "value": 1}], 422, "invalid index"),
    ([{"op": "frobnicate", "path": "/a"}], 400, "Unexpected kind"),
    ({"op": "add"}, 400, "list of operations"),
    ([{"op": "add", "path": "a", "value": 1}], 422, "invalid JSON pointer"),
])
def test_json_patch_errors(operations, code, message):
    with pytest.raises(ApiError) as info:
        json_patch({"a": 1, "list": []}, operations)
    assert info.value.code == code and message in info.value.message


def test_strategic_merge_merges_lists_on_their_merge_key():
    pod = {"spec": {"containers": [{"name": "app", "image": "v1"}, {"name": "sidecar", "image": "s1"}],
                    "volumes": [{"name": "data", "emptyDir": {}}]}}
    patched = strategic_merge_patch(pod, {"spec": {
        "containers": [{"name": "app", "image": "v2"}, {"name": "extra", "image": "e1"}],
        "volumes": [{"name": "data", "$patch": "delete"}]}})
    assert patched["spec"]["containers"] == [{"name": "app", "image": "v2"}, {"name": "sidecar", "image": "s1"},
                                             {"name": "extra", "image": "e1"}]
    assert patched["spec"]["volumes"] == []


def test_strategic_merge_finalizers_are_a_set_and_unknown_lists_replace():
    obj = {"metadata": {"finalizers": ["a", "b"]}, "spec": {"args": ["x", "y"]}}
    patched = strategic_merge_patch(obj, {"metadata": {"finalizers": ["b", "c"]}, "spec": {"args": ["z"]}})
    assert patched == {"metadata": {"finalizers": ["a", "b", "c"]}, "spec": {"args": ["z"]}}


def test_strategic_merge_directives():
    obj = {"metadata": {"finalizers": ["a", "b"]}, "spec": {"selector": {"x": "1", "y": "2"}}}
    patched = strategic_merge_patch(obj, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]},
                                          "spec": {"selector": {"$patch": "replace", "z": "3"}}})
    assert patched == {"metadata": {"finalizers": ["b"]}, "spec": {"selector": {"z": "3"}}}


def test_strategic_merge_service_ports_merge_on_port():
    service = {"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}}
    patched = strategic_merge_patch(service, {"spec": {"ports": [{"port": 443, "targetPort": 8443}]}})
    assert patched["spec"]["ports"] == [{"port": 80, "name": "http"},
                                        {"port": 443, "name": "https", "targetPort": 8443}]


def test_apply_patch_refuses_what_the_apiserver_refuses():
    with pytest.raises(ApiError) as info:
        apply_patch({"a": 1}, {"a": 2}, "strategic", strategic_allowed=False)
    assert info.value.code == 415
    with pytest.raises(ApiError) as info:
        apply_patch({"a": 1}, ["not", "a", "map"], "merge", strategic_allowed=True)
    assert info.value.code == 400
    with pytest.raises(ApiError) as info:
        apply_patch({"a": 1}, [{"op": "replace", "path": "", "value": 3}], "json", strategic_allowed=True)
    assert info.value.code == 400 and "not an object" in info.value.message
    assert apply_patch({"a": 1}, {"a": 2}, "strategic", strategic_allowed=True) == {"a": 2}
