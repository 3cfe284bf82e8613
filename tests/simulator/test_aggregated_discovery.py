"""Aggregated discovery (apidiscovery.k8s.io/v2 APIGroupDiscoveryList) for /api and /apis."""
import json
import urllib.request

from clustersim.aggregated_discovery import wanted_discovery_version

KUBECTL_ACCEPT = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                  "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")


def fetch(sim, path, accept):
    request = urllib.request.Request(sim.url + path, headers={"Authorization": f"Bearer {sim.token}", "Accept": accept})
    with urllib.request.urlopen(request, timeout=10, context=sim.ssl_context) as response:
        return response.headers.get("Content-Type"), json.loads(response.read())


def test_negotiation():
    assert wanted_discovery_version(KUBECTL_ACCEPT) == "v2"
    assert wanted_discovery_version("application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList") == "v2beta1"
    assert wanted_discovery_version("application/json") is None
    assert wanted_discovery_version("application/json;g=apidiscovery.k8s.io;v=v1;as=APIGroupDiscoveryList") is None


def test_core_group_as_one_document(sim):
    content_type, body = fetch(sim, "/api", KUBECTL_ACCEPT)
    assert content_type == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    assert body["kind"] == "APIGroupDiscoveryList" and body["apiVersion"] == "apidiscovery.k8s.io/v2"
    (core,) = body["items"]
    assert "name" not in core["metadata"]
    (v1,) = core["versions"]
    assert v1["version"] == "v1" and v1["freshness"] == "Current"
    pods = next(r for r in v1["resources"] if r["resource"] == "pods")
    assert pods["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert pods["scope"] == "Namespaced" and pods["singularResource"] == "pod" and pods["shortNames"] == ["po"]
    eviction = next(s for s in pods["subresources"] if s["subresource"] == "eviction")
    assert eviction["responseKind"] == {"group": "policy", "version": "v1", "kind": "Eviction"}


def test_named_groups_preferred_version_first(sim):
    _, body = fetch(sim, "/apis", KUBECTL_ACCEPT)
    groups = {g["metadata"]["name"]: g for g in body["items"]}
    assert "" not in groups and "apps" in groups
    assert [v["version"] for v in groups["operators.coreos.com"]["versions"]] == ["v1", "v1alpha1"]
    vm = next(r for r in groups["kubevirt.io"]["versions"][0]["resources"] if r["resource"] == "virtualmachines")
    assert vm["categories"] == ["all"] and vm["shortNames"] == ["vm", "vms"]
    assert [s["subresource"] for s in vm["subresources"]] == ["status"]


def test_subresource_only_group_has_parents_without_kind(sim):
    _, body = fetch(sim, "/apis", KUBECTL_ACCEPT)
    group = next(g for g in body["items"] if g["metadata"]["name"] == "subresources.kubevirt.io")
    parent = next(r for r in group["versions"][0]["resources"] if r["resource"] == "virtualmachines")
    assert "responseKind" not in parent and parent["verbs"] == []
    assert "start" in [s["subresource"] for s in parent["subresources"]]


def test_plain_clients_keep_the_legacy_documents(sim):
    content_type, body = fetch(sim, "/apis", "application/json")
    assert content_type == "application/json" and body["kind"] == "APIGroupList"
