"""apiextensions.k8s.io/v1 CustomResourceDefinitions over HTTP: the seeded CRDs, serving a new
kind from a created CRD, deleting it, and schema validation of custom resources."""
from api_helpers import raw
from clustersim.testing import eventually

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
WIDGETS = "/apis/example.com/v1/namespaces/default/widgets"
WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
             "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList",
                       "shortNames": ["wd"]},
             "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                           "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}],
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                               "spec": {"type": "object", "required": ["size"], "properties": {
                                   "size": {"type": "integer", "minimum": 1},
                                   "color": {"type": "string", "enum": ["red", "blue"], "default": "red"}}},
                               "status": {"type": "object", "properties": {"phase": {"type": "string"}}}}}}}]}}


def condition(obj, type_):
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == type_), {})


def test_every_custom_kind_is_an_established_crd(sim):
    code, listed = raw(sim, "GET", CRDS)
    assert code == 200 and listed["kind"] == "CustomResourceDefinitionList"
    names = {item["metadata"]["name"]: item for item in listed["items"]}
    vm = names["virtualmachines.kubevirt.io"]
    assert vm["spec"]["names"]["shortNames"] == ["vm", "vms"] and vm["spec"]["scope"] == "Namespaced"
    version = vm["spec"]["versions"][0]
    assert version["name"] == "v1" and version["storage"] is True and "status" in version["subresources"]
    assert version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["runStrategy"]["type"] == "string"
    assert [c["name"] for c in version["additionalPrinterColumns"]] == ["Age", "Status", "Ready"]
    established = condition(vm, "Established")
    assert (established["status"], established["reason"]) == ("True", "InitialNamesAccepted")
    assert condition(vm, "NamesAccepted")["reason"] == "NoConflicts"
    assert "routes.route.openshift.io" not in names  # openshift-apiserver serves Routes, not a CRD
    assert "pods" not in " ".join(names)


def test_creating_a_crd_serves_its_kind_and_deleting_it_stops(sim):
    code, created = raw(sim, "POST", CRDS, WIDGET_CRD)
    assert code == 201, created
    eventually("Established", lambda: condition(raw(sim, "GET", f"{CRDS}/widgets.example.com")[1],
                                                "Established").get("status") == "True", timeout=10)
    code, discovery = raw(sim, "GET", "/apis/example.com/v1")
    assert code == 200 and [r["name"] for r in discovery["resources"]] == ["widgets", "widgets/status"]
    code, widget = raw(sim, "POST", WIDGETS, {"apiVersion": "example.com/v1", "kind": "Widget",
                                              "metadata": {"name": "w1"}, "spec": {"size": 2, "extra": True}})
    assert code == 201 and widget["spec"] == {"size": 2, "color": "red"}  # pruned and defaulted
    code, refused = raw(sim, "POST", WIDGETS, {"apiVersion": "example.com/v1", "kind": "Widget",
                                               "metadata": {"name": "w2"}, "spec": {"size": "big"}})
    assert code == 422 and refused["message"] == ('Widget.example.com "w2" is invalid: spec.size: Invalid value: '
                                                  '"string": spec.size in body must be of type integer: "string"')
    code, status = raw(sim, "PATCH", f"{WIDGETS}/w1/status", {"status": {"phase": 3}},
                       content_type="application/merge-patch+json")
    assert code == 422 and status["details"]["causes"][0]["field"] == "status.phase"
    code, _ = raw(sim, "DELETE", f"{CRDS}/widgets.example.com")
    assert code == 200
    eventually("kind gone", lambda: raw(sim, "GET", WIDGETS)[0] == 404, timeout=10)
    assert raw(sim, "GET", "/apis/example.com/v1")[0] == 404


def test_a_kind_already_served_in_the_group_is_a_conflict(sim):
    clash = {**WIDGET_CRD, "metadata": {"name": "vmthings.kubevirt.io"},
             "spec": {**WIDGET_CRD["spec"], "group": "kubevirt.io",
                      "names": {"plural": "vmthings", "singular": "vmthing", "kind": "VirtualMachine"}}}
    code, _ = raw(sim, "POST", CRDS, clash)
    assert code == 201
    path = f"{CRDS}/vmthings.kubevirt.io"
    eventually("names checked", lambda: condition(raw(sim, "GET", path)[1], "NamesAccepted").get("status") == "False",
               timeout=10)
    crd = raw(sim, "GET", path)[1]
    assert condition(crd, "NamesAccepted")["reason"] == "KindConflict"
    assert condition(crd, "NamesAccepted")["message"] == '"VirtualMachine" is already in use'
    assert (condition(crd, "Established")["status"], condition(crd, "Established")["reason"]) == ("False", "NotAccepted")
    assert raw(sim, "GET", "/apis/kubevirt.io/v1/vmthings")[0] == 404
    assert raw(sim, "DELETE", path)[0] == 200
    assert raw(sim, "GET", "/apis/kubevirt.io/v1/namespaces/vms/virtualmachines")[0] == 200


def test_invalid_crd_is_refused_with_the_apiservers_message(sim):
    bad = {**WIDGET_CRD, "metadata": {"name": "gadgets.example.com"},
           "spec": {**WIDGET_CRD["spec"], "names": {"plural": "gadgets", "kind": "Gadget"}, "scope": "Global"}}
    code, body = raw(sim, "POST", CRDS, bad)
    assert code == 422
    assert body["message"] == ('CustomResourceDefinition.apiextensions.k8s.io "gadgets.example.com" is invalid: '
                               'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"')


def test_vm_with_a_number_as_run_strategy_is_refused(sim):
    vm = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "typed", "namespace": "vms"},
          "spec": {"runStrategy": 5, "template": {"spec": {"domain": {"devices": {}}}}}}
    code, body = raw(sim, "POST", "/apis/kubevirt.io/v1/namespaces/vms/virtualmachines", vm)
    assert code == 422 and body["reason"] == "Invalid"
    assert body["details"] == {"name": "typed", "group": "kubevirt.io", "kind": "VirtualMachine", "causes": [
        {"reason": "FieldValueTypeInvalid", "field": "spec.runStrategy",
         "message": 'Invalid value: "integer": spec.runStrategy in body must be of type string: "integer"'}]}


def test_reset_forgets_run_time_crds_and_keeps_the_seeded_ones(sim):
    code, _ = raw(sim, "POST", CRDS, {**WIDGET_CRD, "metadata": {"name": "widgets.example.com"}})
    assert code == 201
    eventually("served", lambda: raw(sim, "GET", WIDGETS)[0] == 200, timeout=10)
    sim.reset()
    sim.settle()
    assert raw(sim, "GET", f"{CRDS}/widgets.example.com")[0] == 404
    assert raw(sim, "GET", WIDGETS)[0] == 404
    assert raw(sim, "GET", f"{CRDS}/virtualmachines.kubevirt.io")[0] == 200
