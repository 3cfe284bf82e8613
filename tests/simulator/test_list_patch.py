"""List selectors and pagination; the three patch formats (plus simplified server-side apply)."""
import json

import pytest
from kubernetes.dynamic.exceptions import ApiException

from api_helpers import raw, resource
from clustersim.testing import eventually


@pytest.fixture(scope="module")
def cms(client):
    cms = resource(client, "v1", "ConfigMap")
    resource(client, "v1", "Namespace").create(body={"metadata": {"name": "sel"}})
    for name, labels in [("a", {"tier": "web", "env": "prod"}), ("b", {"tier": "db", "env": "prod"}),
                         ("c", {"tier": "web", "env": "dev"}), ("d", {"env": "dev"}), ("e", {})]:
        cms.create(namespace="sel", body={"metadata": {"name": name, "labels": labels}})
    return cms


# Every namespace also holds the CA bundle ConfigMaps (cacertpublishers.py); they carry no labels,
# so they match exactly the selectors that unlabelled objects match.
PUBLISHED = ["kube-root-ca.crt", "openshift-service-ca.crt"]


@pytest.mark.parametrize("selector,expected,unlabelled", [
    ("tier=web", "ac", False), ("tier==web", "ac", False), ("tier!=web", "bde", True),
    ("tier in (web,db)", "abc", False), ("tier notin (web)", "bde", True), ("tier", "abc", False),
    ("!tier", "de", True), ("tier=web,env=prod", "a", False), ("env in (dev),!tier", "d", False),
])
def test_label_selectors(cms, selector, expected, unlabelled):
    items = cms.get(namespace="sel", label_selector=selector).items
    assert [i.metadata.name for i in items] == list(expected) + (PUBLISHED if unlabelled else [])


def test_field_selectors(client, cms):
    assert [i.metadata.name for i in cms.get(namespace="sel", field_selector="metadata.name=b").items] == ["b"]
    assert len(cms.get(namespace="sel", field_selector="metadata.name!=b").items) == 4 + len(PUBLISHED)
    everywhere = cms.get(field_selector="metadata.namespace=sel").items
    assert {i.metadata.namespace for i in everywhere} == {"sel"}
    namespaces = resource(client, "v1", "Namespace")
    assert namespaces.get(field_selector="status.phase=Active").items


def test_pod_field_selectors_spec_node_name_and_status_phase(client):
    pods = resource(client, "v1", "Pod")
    for name, node in (("p1", "worker-0"), ("p2", "worker-1"), ("p3", "worker-0")):
        pods.create(namespace="sel", body={"metadata": {"name": name},
                                           "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i"}]}})
    on_node = pods.get(namespace="sel", field_selector="spec.nodeName=worker-0").items
    assert sorted(p.metadata.name for p in on_node) == ["p1", "p3"]
    # the simulated kubelet starts pods bound to a node
    eventually("pods running", lambda: len(pods.get(namespace="sel", field_selector="status.phase=Running").items) == 3)
    assert len(pods.get(namespace="sel", field_selector="spec.nodeName=worker-0,status.phase=Running").items) == 2
    assert pods.get(namespace="sel", field_selector="status.phase=Pending").items == []


def test_unsupported_field_selector_is_400(client):
    vms = resource(client, "kubevirt.io/v1", "VirtualMachine")
    with pytest.raises(ApiException) as info:
        vms.get(namespace="vms", field_selector="spec.running=true")
    assert info.value.status == 400
    assert json.loads(info.value.body)["message"] == "field label not supported: spec.running"


def test_invalid_label_selector_is_400(cms):
    with pytest.raises(ApiException) as info:
        cms.get(namespace="sel", label_selector="bad key=x")
    assert info.value.status == 400


def test_limit_and_continue(cms):
    first = cms.get(namespace="sel", limit=2)
    assert [i.metadata.name for i in first.items] == ["a", "b"]
    assert first.metadata["continue"] and first.metadata.remainingItemCount == 3 + len(PUBLISHED)
    second = cms.get(namespace="sel", limit=2, _continue=first.metadata["continue"])
    assert [i.metadata.name for i in second.items] == ["c", "d"]
    third = cms.get(namespace="sel", limit=2, _continue=second.metadata["continue"])
    assert [i.metadata.name for i in third.items] == ["e", PUBLISHED[0]]
    fourth = cms.get(namespace="sel", limit=2, _continue=third.metadata["continue"])
    assert [i.metadata.name for i in fourth.items] == PUBLISHED[1:]
    assert not fourth.metadata.get("continue")


def test_list_kind_and_resource_version(client):
    listed = resource(client, "kubevirt.io/v1", "VirtualMachine").get(namespace="vms")
    assert listed.kind == "VirtualMachineList" and listed.apiVersion == "kubevirt.io/v1"
    assert int(listed.metadata.resourceVersion) > 0


# --- patches ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def deployments(client, cms):
    deployments = resource(client, "apps/v1", "Deployment")
    deployments.create(namespace="sel", body={
        "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a/one"]},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                     "containers": [{"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}],
                                     "ports": [{"containerPort": 80}]},
                                    {"name": "sidecar", "image": "side:1"}],
                     "volumes": [{"name": "data", "emptyDir": {}}],
                     "tolerations": [{"key": "t1", "operator": "Exists"}]}}}})
    return deployments


def test_merge_patch_merges_maps_and_replaces_lists(deployments):
    patched = deployments.patch(name="web", namespace="sel", content_type="application/merge-patch+json", body={
        "metadata": {"labels": {"extra": "1"}},
        "spec": {"template": {"spec": {"volumes": [{"name": "other", "emptyDir": {}}]}}}})
    assert patched.to_dict()["metadata"]["labels"] == {"app": "web", "extra": "1"}
    assert [v.name for v in patched.spec.template.spec.volumes] == ["other"]
    removed = deployments.patch(name="web", namespace="sel", content_type="application/merge-patch+json",
                                body={"metadata": {"labels": {"extra": None}}})
    assert removed.to_dict()["metadata"]["labels"] == {"app": "web"}


def test_strategic_merge_patch_merges_lists_by_key(deployments):
    patched = deployments.patch(name="web", namespace="sel", content_type="application/strategic-merge-patch+json", body={
        "metadata": {"finalizers": ["b/two"]},
        "spec": {"template": {"spec": {
            "containers": [{"name": "app", "image": "app:2", "env": [{"name": "B", "value": "2"}]},
                           {"name": "new", "image": "new:1"}],
            "volumes": [{"name": "data", "$patch": "delete"}, {"name": "cache", "emptyDir": {}}],
            "tolerations": [{"key": "t2", "operator": "Exists"}]}}}})
    spec = patched.spec.template.spec
    containers = {c.name: c for c in spec.containers}
    assert set(containers) == {"app", "sidecar", "new"}
    assert containers["app"].image == "app:2"
    assert [e.name for e in containers["app"].env] == ["A", "B"]
    assert containers["app"].ports[0].containerPort == 80
    assert [v.name for v in spec.volumes] == ["other", "cache"]  # "data" was already replaced away, "other" kept
    assert [t.key for t in spec.tolerations] == ["t2"]  # no merge key upstream: replaced
    assert patched.metadata.finalizers == ["a/one", "b/two"]  # patchStrategy merge on a list of strings


def test_strategic_merge_on_custom_resource_is_415(client):
    vms = resource(client, "kubevirt.io/v1", "VirtualMachine")
    with pytest.raises(ApiException) as info:
        vms.patch(name="vm-000", namespace="vms", body={"metadata": {"labels": {"a": "b"}}},
                  content_type="application/strategic-merge-patch+json")
    assert info.value.status == 415
    assert json.loads(info.value.body)["reason"] == "UnsupportedMediaType"


def test_json_patch(deployments):
    patched = deployments.patch(name="web", namespace="sel", content_type="application/json-patch+json", body=[
        {"op": "replace", "path": "/spec/replicas", "value": 4},
        {"op": "add", "path": "/metadata/labels/jp", "value": "yes"},
        {"op": "remove", "path": "/spec/template/spec/containers/1"},
        {"op": "test", "path": "/spec/replicas", "value": 4},
    ])
    assert patched.spec.replicas == 4 and patched.metadata.labels["jp"] == "yes"
    assert [c.name for c in patched.spec.template.spec.containers] == ["app", "new"]


def test_json_patch_failed_test_is_422(deployments):
    with pytest.raises(ApiException) as info:
        deployments.patch(name="web", namespace="sel", content_type="application/json-patch+json",
                          body=[{"op": "test", "path": "/spec/replicas", "value": 99}])
    assert info.value.status == 422


def test_json_patch_missing_path_is_422(deployments):
    with pytest.raises(ApiException) as info:
        deployments.patch(name="web", namespace="sel", content_type="application/json-patch+json",
                          body=[{"op": "replace", "path": "/spec/nope/deeper", "value": 1}])
    assert info.value.status == 422


def test_patch_with_stale_resource_version_is_409(deployments):
    with pytest.raises(ApiException) as info:
        deployments.patch(name="web", namespace="sel", content_type="application/merge-patch+json",
                          body={"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 2}})
    assert info.value.status == 409


def test_unknown_patch_content_type_is_415(sim, cms):
    code, body = raw(sim, "PATCH", "/api/v1/namespaces/sel/configmaps/a", {"data": {}}, "text/plain")
    assert code == 415 and body["reason"] == "UnsupportedMediaType"


def test_server_side_apply_creates_then_merges(sim, cms):
    path = "/api/v1/namespaces/sel/configmaps/applied?fieldManager=tests"
    code, _ = raw(sim, "PATCH", path, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"},
                                       "data": {"a": "1"}}, "application/apply-patch+yaml")
    assert code == 201
    code, body = raw(sim, "PATCH", path, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"},
                                          "data": {"b": "2"}}, "application/apply-patch+yaml")
    # the manager no longer applies "a" and was its only owner: it goes (structured-merge-diff
    # removal; the simulator used to merge, keeping it)
    assert code == 200 and body["data"] == {"b": "2"}
    code, body = raw(sim, "PATCH", path.replace("tests", "other"), {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"c": "3"}},
        "application/apply-patch+yaml")
    assert code == 200 and body["data"] == {"b": "2", "c": "3"}  # another manager's fields stay
    code, body = raw(sim, "PATCH", "/api/v1/namespaces/sel/configmaps/applied", {"metadata": {"name": "applied"}},
                     "application/apply-patch+yaml")
    assert code == 400  # fieldManager is required


def test_schema_pruning_drops_unknown_fields_of_crds(client):
    configs = resource(client, "imageregistry.operator.openshift.io/v1", "Config")
    patched = configs.patch(name="cluster", content_type="application/merge-patch+json",
                            body={"spec": {"bogusField": 1, "storage": {"pvc": {"claim": "x", "bogus": 2}}}})
    spec = patched.to_dict()["spec"]
    assert "bogusField" not in spec and spec["storage"]["pvc"] == {"claim": "x"}
    configs.patch(name="cluster", content_type="application/merge-patch+json", body={"spec": {"storage": None}})


def test_field_validation_strict_warn_ignore(sim):
    path = "/apis/nodemaintenance.medik8s.io/v1beta1/nodemaintenances"
    body = {"apiVersion": "nodemaintenance.medik8s.io/v1beta1", "kind": "NodeMaintenance",
            "metadata": {"name": "fv"}, "spec": {"nodeName": "worker-0", "reason": "r", "typo": 1}}
    code, error = raw(sim, "POST", path + "?fieldValidation=Strict&dryRun=All", body)
    assert code == 400 and 'strict decoding error: unknown field "spec.typo"' in error["message"]
    import urllib.request

    request = urllib.request.Request(sim.url + path + "?dryRun=All", data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {sim.token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10, context=sim.ssl_context) as response:
        assert 'unknown field' in response.headers["Warning"] and "spec.typo" in response.headers["Warning"]
        assert "typo" not in json.loads(response.read())["spec"]
    code, _ = raw(sim, "POST", path + "?fieldValidation=Ignore&dryRun=All", body)
    assert code == 201
