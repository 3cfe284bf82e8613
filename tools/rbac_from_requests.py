#!/usr/bin/env python3
"""Derive the RBAC permissions a run needed from the simulator's request log, and compare them
with the ClusterRoles the collection ships (``roles/rbac/files/``).

A permission is ``(apiGroup, resource[/subresource], verb, namespace)``, the request attributes
the kube-apiserver authorizes (kubernetes/kubernetes ``staging/src/k8s.io/apiserver/pkg/endpoints/
request/requestinfo.go``); ``namespace`` is ``""`` for a cluster-scoped object or a list across
all namespaces, which only a ClusterRoleBinding can grant. Discovery (``/api``, ``/apis/...``,
``/version``) is left out: the bootstrap ``system:discovery`` ClusterRole grants it to every
authenticated identity. A read of the Thanos Route host (``/api/v1/alerts``, logged as ``proxy``)
is kube-rbac-proxy's check: ``get`` ``prometheuses/api`` in ``openshift-monitoring``
(openshift/cluster-monitoring-operator ``assets/thanos-querier/kube-rbac-proxy-web-secret.yaml``).

Each shipped ClusterRole says where it is bound, in its annotations:
``rbac.ocpvirt.portworx/personas`` (comma-separated: installer, operator, auditor) and
``rbac.ocpvirt.portworx/bind-namespace`` (a RoleBinding in that namespace, or in each VM
namespace for ``vm-namespaces``; absent: a ClusterRoleBinding). Shipped rules name every verb and resource (no ``*``), so a rule is a set
of permissions and the comparison is exact: *missing* are permissions a run used that no role of
the persona grants, *surplus* are grants no run used and no declared path needs.

    # request log of a run (as JSON from GET /_sim/requests?entries=1&limit=10000), one persona:
    python tools/rbac_from_requests.py requests.json                      # the permissions used
    python tools/rbac_from_requests.py requests.json --persona operator   # missing / surplus
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, Iterable, List, NamedTuple, Set, Tuple

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROLES_DIR = os.path.join(REPO_ROOT, "roles", "rbac", "files")
DECLARED_PATHS = os.path.join(REPO_ROOT, "tools", "rbac_paths_not_run.yml")
PERSONAS_ANNOTATION = "rbac.ocpvirt.portworx/personas"
NAMESPACE_ANNOTATION = "rbac.ocpvirt.portworx/bind-namespace"
#: The bind-namespace of a role bound in every namespace whose VMs the operator changes.
VM_NAMESPACES = "vm-namespaces"
RESOURCE_VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")
#: The Route hosts kube-rbac-proxy guards, with what it asks the apiserver (see the docstring).
ROUTE_HOST_PERMISSIONS = {
    "/api/v1/alerts": ("monitoring.coreos.com", "prometheuses/api", "get", "openshift-monitoring"),
}


class Permission(NamedTuple):
    api_group: str
    resource: str  # "pods" or "pods/eviction"
    verb: str
    namespace: str  # "" = cluster scope (cluster-scoped object, or all namespaces)

    def __str__(self) -> str:
        where = "namespace " + self.namespace if self.namespace else "cluster scope"
        return "{0} {1}.{2} ({3})".format(self.verb, self.resource, self.api_group or "core", where)


class Comparison(NamedTuple):
    missing: List[Permission]
    surplus: List[Permission]


def group_of(path: str) -> str:
    """The API group of a resource path: ``/api/v1/...`` is the core group ``""``."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    return parts[1] if parts and parts[0] == "apis" and len(parts) > 1 else ""


def permission_of(entry: Dict[str, Any]) -> Permission | None:
    """The permission one request log entry needed, or None (discovery needs none of ours)."""
    verb, path = entry.get("verb", ""), entry.get("path", "")
    if verb == "discovery":
        return None
    if verb == "proxy":
        found = next((p for prefix, p in ROUTE_HOST_PERMISSIONS.items() if path.startswith(prefix)), None)
        if found is None:
            raise ValueError("no RBAC attributes known for the proxied path " + path)
        return Permission(*found)
    if verb not in RESOURCE_VERBS:
        raise ValueError("unexpected verb {0!r} in the request log ({1})".format(verb, path))
    resource = entry["resource"].split("/")[-1]
    if entry.get("subresource"):
        resource += "/" + entry["subresource"]
    return Permission(group_of(path), resource, verb, entry.get("namespace") or "")


def permissions_used(entries: Iterable[Dict[str, Any]]) -> Set[Permission]:
    found = set()
    for entry in entries:
        permission = permission_of(entry)
        if permission is not None:
            found.add(permission)
    return found


def rule_permissions(rule: Dict[str, Any], namespace: str) -> Set[Permission]:
    """The permissions one shipped rule grants; wildcards are refused (they cannot be compared)."""
    groups, resources, verbs = rule.get("apiGroups") or [], rule.get("resources") or [], rule.get("verbs") or []
    if rule.get("nonResourceURLs"):
        raise ValueError("shipped roles grant no non-resource URLs (system:discovery covers them)")
    for values in (groups, resources, verbs):
        if "*" in values or any(v.startswith("*/") for v in values):
            raise ValueError("shipped roles name every group, resource and verb: {0}".format(rule))
    return {Permission(g, r, v, namespace) for g in groups for r in resources for v in verbs}


def load_roles(directory: str = ROLES_DIR) -> List[Dict[str, Any]]:
    roles = []
    for name in sorted(os.listdir(directory)):
        if name.endswith((".yml", ".yaml")):
            with open(os.path.join(directory, name), encoding="utf-8") as handle:
                # Each file is one List document (ansible-test wants a single document per file).
                for document in yaml.safe_load_all(handle):
                    items = (document or {}).get("items", [document]) if (document or {}).get("kind") == "List" else [document]
                    roles.extend(d for d in items if d and d.get("kind") == "ClusterRole")
    return roles


def annotations(role: Dict[str, Any]) -> Dict[str, str]:
    return role["metadata"].get("annotations") or {}


def personas_of(role: Dict[str, Any]) -> List[str]:
    return [p.strip() for p in annotations(role).get(PERSONAS_ANNOTATION, "").split(",") if p.strip()]


def binding_namespaces(role: Dict[str, Any], vm_namespaces: Iterable[str]) -> List[str]:
    """Where a role is bound: ``[""]`` for a ClusterRoleBinding, else the RoleBindings' namespaces."""
    namespace = annotations(role).get(NAMESPACE_ANNOTATION) or ""
    return list(vm_namespaces) if namespace == VM_NAMESPACES else [namespace]


def granted(roles: Iterable[Dict[str, Any]], persona: str, vm_namespaces: Iterable[str] = ("vms",)) -> Set[Permission]:
    """What a persona holds: cluster-bound roles at cluster scope, the others in their namespaces."""
    found: Set[Permission] = set()
    for role in roles:
        if persona not in personas_of(role):
            continue
        for namespace in binding_namespaces(role, vm_namespaces):
            for rule in role.get("rules") or ():
                found |= rule_permissions(rule, namespace)
    return found


def covers(grants: Set[Permission], needed: Permission) -> bool:
    """A cluster-scope grant covers the same request in every namespace (a ClusterRoleBinding)."""
    return needed in grants or needed._replace(namespace="") in grants


def compare(grants: Set[Permission], used: Set[Permission]) -> Comparison:
    missing = sorted(p for p in used if not covers(grants, p))
    surplus = sorted(g for g in grants if not any(u == g or (not g.namespace and u._replace(namespace="") == g)
                                                  for u in used))
    return Comparison(missing, surplus)


def declared_paths(persona: str, path: str = DECLARED_PATHS) -> Set[Permission]:
    """Permissions of code paths the test runs do not take, each declared with the task that needs it."""
    with open(path, encoding="utf-8") as handle:
        entries = yaml.safe_load(handle) or []
    found = set()
    for entry in entries:
        if persona in entry["personas"]:
            for verb in entry["verbs"]:
                found.add(Permission(entry["apiGroup"], entry["resource"], verb, entry.get("namespace", "")))
    return found


def as_rules(permissions: Iterable[Permission]) -> Dict[str, List[Dict[str, Any]]]:
    """Permissions grouped as ClusterRole rules per binding namespace (``""``: cluster-wide)."""
    by_scope: Dict[str, Dict[Tuple[str, str], Set[str]]] = {}
    for p in permissions:
        by_scope.setdefault(p.namespace, {}).setdefault((p.api_group, p.resource), set()).add(p.verb)
    rules: Dict[str, List[Dict[str, Any]]] = {}
    for namespace, resources in sorted(by_scope.items()):
        rules[namespace] = [{"apiGroups": [group], "resources": [resource], "verbs": sorted(verbs)}
                            for (group, resource), verbs in sorted(resources.items())]
    return rules


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logs", nargs="+", help="request log JSON files (GET /_sim/requests?entries=1)")
    parser.add_argument("--persona", help="compare with the shipped roles of this persona")
    args = parser.parse_args(argv)
    used: Set[Permission] = set()
    for name in args.logs:
        with open(name, encoding="utf-8") as handle:
            data = json.load(handle)
        used |= permissions_used(data["entries"] if isinstance(data, dict) else data)
    if not args.persona:
        print(yaml.safe_dump(as_rules(used), sort_keys=False))
        return 0
    result = compare(granted(load_roles(), args.persona), used | declared_paths(args.persona))
    for label, items in (("missing", result.missing), ("surplus", result.surplus)):
        for permission in items:
            print("{0}: {1}".format(label, permission))
    return 1 if result.missing or result.surplus else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
