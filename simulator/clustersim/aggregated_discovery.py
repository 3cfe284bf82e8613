"""Aggregated discovery: ``/api`` and ``/apis`` as one ``apidiscovery.k8s.io/v2`` APIGroupDiscoveryList.

kubectl 1.33 and client-go ask for it first (``Accept:
application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,...;v=v2beta1...,application/json``)
and recognise the answer by its ``Content-Type``; one request then replaces the per-group-version
documents.  Shape as kubernetes/kubernetes release-1.33
``staging/src/k8s.io/apiserver/pkg/endpoints/discovery/aggregated`` and
``staging/src/k8s.io/api/apidiscovery/v2/types.go``: per group ``metadata.name`` (empty for the
core group) and its versions, preferred first, each with ``freshness: Current`` and resources
(``resource``, ``responseKind``, ``scope``, ``singularResource``, ``verbs``, ``shortNames``,
``categories``, ``subresources`` with their own ``responseKind`` and verbs).

A subresource-only group of an aggregated API server (KubeVirt's ``subresources.kubevirt.io``)
lists its parents without ``responseKind`` or verbs, carrying only the subresources, as the
kube-aggregator's conversion of virt-api's legacy discovery does
(``staging/src/k8s.io/kube-aggregator/pkg/apiserver/handler_discovery.go``); client-go
(``discovery/aggregated_discovery.go``) skips such a parent and keeps its subresources.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from .kinds import Kind, KindRegistry

DISCOVERY_VERSIONS = ("v2", "v2beta1")


def wanted_discovery_version(accept: Optional[str]) -> Optional[str]:
    """``v2`` / ``v2beta1`` when the Accept header names an APIGroupDiscoveryList before plain JSON."""
    for part in (accept or "").split(","):
        params = dict(p.strip().split("=", 1) for p in part.split(";")[1:] if "=" in p)
        if params.get("as") == "APIGroupDiscoveryList" and params.get("g") == "apidiscovery.k8s.io":
            if params.get("v") in DISCOVERY_VERSIONS:
                return params["v"]
        elif part.split(";")[0].strip() in ("application/json", "*/*"):
            return None
    return None


def content_type(version: str) -> str:
    return f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"


def _scope(namespaced: bool) -> str:
    return "Namespaced" if namespaced else "Cluster"


def _resource(kind: Kind) -> Dict[str, Any]:
    entry: Dict[str, Any] = {
        "resource": kind.resource, "responseKind": {"group": kind.group, "version": kind.version, "kind": kind.kind},
        "scope": _scope(kind.namespaced), "singularResource": kind.singular, "verbs": list(kind.verbs)}
    if kind.short_names:
        entry["shortNames"] = list(kind.short_names)
    if kind.categories:
        entry["categories"] = list(kind.categories)
    subresources = []
    for sub in kind.subresources.values():
        group = sub.group if sub.group else kind.group
        version = sub.version if sub.group else kind.version
        subresources.append({"subresource": sub.name, "responseKind": {"group": group, "version": version,
                                                                        "kind": sub.kind},
                             "verbs": list(sub.verbs)})
    if subresources:
        entry["subresources"] = subresources
    return entry


def _virtual_resources(entries: List[Dict[str, Any]], group: str, version: str) -> List[Dict[str, Any]]:
    parents: Dict[str, Dict[str, Any]] = {}
    for entry in entries:
        parent, sub = entry["name"].split("/", 1)
        node = parents.setdefault(parent, {"resource": parent, "scope": _scope(entry["namespaced"]),
                                           "singularResource": "", "verbs": [], "subresources": []})
        node["subresources"].append({"subresource": sub, "verbs": list(entry["verbs"]),
                                     "responseKind": {"group": group, "version": version, "kind": entry["kind"]}})
    return list(parents.values())


def _version_entry(kinds: KindRegistry, group: str, version: str) -> Dict[str, Any]:
    resources = [_resource(k) for k in kinds.all() if k.group == group and k.version == version]
    virtual = kinds.virtual_entries(group, version)
    if virtual:
        resources.extend(_virtual_resources(virtual, group, version))
    return {"version": version, "resources": resources, "freshness": "Current"}


def _group_entry(kinds: KindRegistry, group: str, versions: List[str]) -> Dict[str, Any]:
    preferred = kinds.preferred_version(group) if group else versions[0]
    ordered = [preferred] + [v for v in versions if v != preferred]
    metadata: Dict[str, Any] = {"creationTimestamp": None}
    if group:
        metadata["name"] = group
    return {"metadata": metadata, "versions": [_version_entry(kinds, group, v) for v in ordered]}


def discovery_list(kinds: KindRegistry, core: bool, version: str = "v2") -> Dict[str, Any]:
    """The APIGroupDiscoveryList of ``/api`` (``core``) or ``/apis``."""
    items = [_group_entry(kinds, group, versions) for group, versions in kinds.group_versions().items()
             if bool(group) != core]
    return {"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{version}", "metadata": {},
            "items": items}
