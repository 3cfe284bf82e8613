"""OpenAPI v3 (index + group version documents with schemas) and v2, as kubectl reads them."""
from api_helpers import raw
from clustersim.kinds import default_registry
from clustersim.openapi import definition_name, to_v2


def test_definition_names_follow_upstream():
    kinds = default_registry()
    assert definition_name(kinds.get("pods")) == "io.k8s.api.core.v1.Pod"
    assert definition_name(kinds.get("apps/deployments")) == "io.k8s.api.apps.v1.Deployment"
    assert definition_name(kinds.get("storage.k8s.io/storageclasses")) == "io.k8s.api.storage.v1.StorageClass"
    assert definition_name(kinds.get("kubevirt.io/virtualmachines")) == "io.kubevirt.v1.VirtualMachine"
    assert definition_name(kinds.get("cdi.kubevirt.io/datavolumes")) == "io.kubevirt.cdi.v1beta1.DataVolume"
    assert definition_name(kinds.get("route.openshift.io/routes")) == "com.github.openshift.api.route.v1.Route"


def test_v2_conversion_drops_v3_only_keywords():
    node = {"type": "object", "properties": {
        "size": {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True},
        "ref": {"$ref": "#/components/schemas/x"}, "maybe": {"type": "string", "nullable": True}}}
    assert to_v2(node) == {"type": "object", "properties": {
        "size": {"x-kubernetes-int-or-string": True}, "ref": {"$ref": "#/definitions/x"}, "maybe": {"type": "string"}}}


def test_v3_index_lists_every_group_version(sim):
    code, index = raw(sim, "GET", "/openapi/v3")
    assert code == 200
    assert "api/v1" in index["paths"] and "apis/kubevirt.io/v1" in index["paths"]
    assert index["paths"]["api/v1"]["serverRelativeURL"].startswith("/openapi/v3/api/v1?hash=")


def test_v3_document_carries_schemas_tagged_with_their_gvk(sim):
    code, doc = raw(sim, "GET", "/openapi/v3/apis/kubevirt.io/v1")
    assert code == 200
    vm = doc["components"]["schemas"]["io.kubevirt.v1.VirtualMachine"]
    assert vm["x-kubernetes-group-version-kind"] == [{"group": "kubevirt.io", "kind": "VirtualMachine", "version": "v1"}]
    assert vm["properties"]["spec"]["properties"]["runStrategy"]["type"] == "string"
    assert vm["properties"]["metadata"] == {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    assert "io.kubevirt.v1.VirtualMachineList" in doc["components"]["schemas"]
    patch = doc["paths"]["/apis/kubevirt.io/v1/namespaces/{namespace}/virtualmachines/{name}"]["patch"]
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]


def test_v3_core_document_has_the_pod_schema(sim):
    code, doc = raw(sim, "GET", "/openapi/v3/api/v1")
    assert code == 200
    pod = doc["components"]["schemas"]["io.k8s.api.core.v1.Pod"]
    assert "containers" in pod["properties"]["spec"]["required"]


def test_unknown_v3_document_is_404(sim):
    code, body = raw(sim, "GET", "/openapi/v3/apis/nothing.example.com/v1")
    assert code == 404 and body["reason"] == "NotFound"


def test_v2_is_one_swagger_document(sim):
    code, doc = raw(sim, "GET", "/openapi/v2")
    assert code == 200 and doc["swagger"] == "2.0"
    pvc = doc["definitions"]["io.k8s.api.core.v1.PersistentVolumeClaim"]
    assert pvc["x-kubernetes-group-version-kind"][0]["kind"] == "PersistentVolumeClaim"
    assert "/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}" in doc["paths"]
    assert "nullable" not in str(doc["definitions"]["io.kubevirt.v1.VirtualMachine"])
