"""The bootstrap RBAC policy every cluster starts with, and its reconciliation.

Transcribed (not copied) from kubernetes/kubernetes release-1.33
``plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`` — the roles a client of this
collection meets, not the controller and node roles:

* ``cluster-admin`` (everything, every non-resource URL), bound to ``system:masters``;
* ``system:discovery`` (GET ``/api``, ``/apis`` and below, ``/openapi``, ``/version``, health),
  bound to ``system:authenticated``;
* ``system:basic-user`` (create ``selfsubjectaccessreviews``, ``selfsubjectrulesreviews``,
  ``authentication.k8s.io`` ``selfsubjectreviews``), bound to ``system:authenticated``;
* ``system:public-info-viewer`` (GET ``/healthz``, ``/livez``, ``/readyz``, ``/version``), bound to
  ``system:authenticated`` and ``system:unauthenticated``;
* ``admin``, ``edit``, ``view`` as aggregated roles (``aggregationRule`` on the
  ``rbac.authorization.k8s.io/aggregate-to-{admin,edit,view}`` labels; ``edit`` carries
  ``aggregate-to-admin``, ``view`` carries ``aggregate-to-edit``) over
  ``system:aggregate-to-{admin,edit,view}``, which hold the rules;
* ``system:auth-delegator`` (TokenReview, SubjectAccessReview), unbound.

OpenShift adds the ClusterRoleBinding ``cluster-admins`` of ``cluster-admin`` to the group
``system:cluster-admins`` and the user ``system:admin`` (openshift/origin
``pkg/cmd/server/bootstrappolicy/policy.go``, ``GetOpenshiftBootstrapClusterRoleBindings``; read
there, not checked in the 4.20 openshift-apiserver); ``kube:admin`` is in that group.  Not
seeded: OpenShift's own roles (``basic-user``, ``cluster-reader``, ``self-provisioner``, the
``system:openshift:*`` aggregations that add routes, templates, ... to admin/edit/view) and the
aggregate-to-* roles of operators other than KubeVirt and CDI (those are in
``seed_rbac_virtualization.py``).

Every role and binding carries the label ``kubernetes.io/bootstrapping: rbac-defaults`` and the
annotation ``rbac.authorization.kubernetes.io/autoupdate: "true"``.  :func:`ensure_bootstrap_policy`
is what the apiserver's ``rbac/bootstrap-roles`` post-start hook does at every start
(``pkg/registry/rbac/rest/storage_rbac.go``), reduced to creating what is missing: an existing
object is left as it is, whatever its annotation, except that aggregated roles are re-aggregated.
The aggregated roles are created with their rules already aggregated, as the aggregation
controller (``operators/rbac.py``) would leave them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

from .authz import AUTOUPDATE_ANNOTATION, RBAC_GROUP, aggregated_rules

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

READ = ["get", "list", "watch"]
WRITE = ["create", "update", "patch", "delete", "deletecollection"]
READ_WRITE = READ + WRITE
AGGREGATE_TO = "rbac.authorization.k8s.io/aggregate-to-"
BOOTSTRAP_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
CLUSTER_ROLES_KEY = f"{RBAC_GROUP}/clusterroles"
CLUSTER_ROLE_BINDINGS_KEY = f"{RBAC_GROUP}/clusterrolebindings"


def rule(verbs: Sequence[str], groups: Sequence[str], resources: Sequence[str], names: Sequence[str] = ()) -> Dict[str, Any]:
    out: Dict[str, Any] = {"verbs": list(verbs), "apiGroups": list(groups), "resources": list(resources)}
    if names:
        out["resourceNames"] = list(names)
    return out


def url_rule(verbs: Sequence[str], urls: Sequence[str]) -> Dict[str, Any]:
    return {"verbs": list(verbs), "nonResourceURLs": list(urls)}


def _meta(name: str, labels: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    return {"name": name, "labels": dict(BOOTSTRAP_LABELS, **(labels or {})),
            "annotations": {AUTOUPDATE_ANNOTATION: "true"}}


def _cluster_role(name: str, rules: List[Dict[str, Any]], labels: Optional[Dict[str, str]] = None,
                  aggregate_from: str = "") -> Dict[str, Any]:
    role: Dict[str, Any] = {"apiVersion": f"{RBAC_GROUP}/v1", "kind": "ClusterRole", "metadata": _meta(name, labels),
                            "rules": rules}
    if aggregate_from:
        role["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {AGGREGATE_TO + aggregate_from: "true"}}]}
    return role


def _binding(name: str, role: str, groups: Sequence[str] = (), users: Sequence[str] = ()) -> Dict[str, Any]:
    subjects = [{"apiGroup": RBAC_GROUP, "kind": "Group", "name": g} for g in groups]
    subjects += [{"apiGroup": RBAC_GROUP, "kind": "User", "name": u} for u in users]
    return {"apiVersion": f"{RBAC_GROUP}/v1", "kind": "ClusterRoleBinding", "metadata": _meta(name),
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role}, "subjects": subjects}


def _aggregate_to_view_rules() -> List[Dict[str, Any]]:
    return [
        rule(READ, [""], ["pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
                          "services/status", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status",
                          "configmaps"]),
        rule(READ, [""], ["limitranges", "resourcequotas", "bindings", "events", "pods/status", "resourcequotas/status",
                          "namespaces/status", "replicationcontrollers/status", "pods/log"]),
        rule(READ, [""], ["namespaces"]),  # at namespace scope: read *this* namespace
        rule(READ, ["discovery.k8s.io"], ["endpointslices"]),
        rule(READ, ["apps"], ["controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale",
                              "daemonsets", "daemonsets/status", "deployments", "deployments/status", "deployments/scale",
                              "replicasets", "replicasets/status", "replicasets/scale"]),
        rule(READ, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
        rule(READ, ["batch"], ["jobs", "cronjobs", "cronjobs/status", "jobs/status"]),
        rule(READ, ["extensions"], ["daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                                    "deployments/status", "ingresses", "ingresses/status", "replicasets",
                                    "replicasets/scale", "replicasets/status", "replicationcontrollers/scale",
                                    "networkpolicies"]),
        rule(READ, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
        rule(READ, ["networking.k8s.io"], ["networkpolicies", "ingresses", "ingresses/status"]),
    ]


def _aggregate_to_edit_rules() -> List[Dict[str, Any]]:
    return [
        rule(READ, [""], ["pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"]),
        rule(["impersonate"], [""], ["serviceaccounts"]),
        rule(WRITE, [""], ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"]),
        rule(["create"], [""], ["pods/eviction"]),
        rule(WRITE, [""], ["replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
                           "services/proxy", "persistentvolumeclaims", "configmaps", "secrets"]),
        rule(["create"], [""], ["serviceaccounts/token"]),
        rule(WRITE, ["apps"], ["statefulsets", "statefulsets/scale", "daemonsets", "deployments", "deployments/scale",
                               "deployments/rollback", "replicasets", "replicasets/scale"]),
        rule(WRITE, ["autoscaling"], ["horizontalpodautoscalers"]),
        rule(WRITE, ["batch"], ["jobs", "cronjobs"]),
        rule(WRITE, ["extensions"], ["daemonsets", "deployments", "deployments/scale", "deployments/rollback",
                                     "ingresses", "replicasets", "replicasets/scale", "replicationcontrollers/scale",
                                     "networkpolicies"]),
        rule(WRITE, ["policy"], ["poddisruptionbudgets"]),
        rule(WRITE, ["networking.k8s.io"], ["networkpolicies", "ingresses"]),
    ]


def bootstrap_cluster_roles() -> List[Dict[str, Any]]:
    """The ClusterRoles, aggregated roles still without rules (see :func:`with_aggregated_rules`)."""
    return [
        _cluster_role("cluster-admin", [rule(["*"], ["*"], ["*"]), url_rule(["*"], ["*"])]),
        _cluster_role("system:discovery", [url_rule(["get"], [
            "/livez", "/readyz", "/healthz", "/version", "/version/", "/openapi", "/openapi/*",
            "/api", "/api/*", "/apis", "/apis/*"])]),
        _cluster_role("system:basic-user", [
            rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"])]),
        _cluster_role("system:public-info-viewer", [url_rule(["get"], [
            "/livez", "/readyz", "/healthz", "/version", "/version/"])]),
        _cluster_role("admin", [], aggregate_from="admin"),
        _cluster_role("edit", [], {AGGREGATE_TO + "admin": "true"}, aggregate_from="edit"),
        _cluster_role("view", [], {AGGREGATE_TO + "edit": "true"}, aggregate_from="view"),
        _cluster_role("system:aggregate-to-admin", [
            rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
            rule(READ_WRITE, [RBAC_GROUP], ["roles", "rolebindings"])], {AGGREGATE_TO + "admin": "true"}),
        _cluster_role("system:aggregate-to-edit", _aggregate_to_edit_rules(), {AGGREGATE_TO + "edit": "true"}),
        _cluster_role("system:aggregate-to-view", _aggregate_to_view_rules(), {AGGREGATE_TO + "view": "true"}),
        _cluster_role("system:auth-delegator", [
            rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"])]),
    ]


def bootstrap_cluster_role_bindings() -> List[Dict[str, Any]]:
    return [
        _binding("cluster-admin", "cluster-admin", groups=["system:masters"]),
        _binding("system:discovery", "system:discovery", groups=["system:authenticated"]),
        _binding("system:basic-user", "system:basic-user", groups=["system:authenticated"]),
        _binding("system:public-info-viewer", "system:public-info-viewer",
                 groups=["system:authenticated", "system:unauthenticated"]),
        # OpenShift
        _binding("cluster-admins", "cluster-admin", groups=["system:cluster-admins"], users=["system:admin"]),
    ]


def with_aggregated_rules(roles: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Fill each aggregated role's rules from the others; repeated until nothing changes, since
    ``view`` feeds ``edit``, which feeds ``admin``."""
    for _ in range(len(roles)):
        changed = False
        for role in roles:
            rules = aggregated_rules(role, roles)
            if rules is not None and rules != role["rules"]:
                role["rules"] = rules
                changed = True
        if not changed:
            break
    return roles


def ensure_bootstrap_policy(cluster: "Cluster") -> None:
    """Create every bootstrap ClusterRole and ClusterRoleBinding that does not exist, and those of
    the operators whose CR exists (``seed_rbac_virtualization.py``); internal writes.  Aggregated
    roles are (re)aggregated over everything stored, as the aggregation controller would."""
    from .seed_rbac_virtualization import operator_policy

    store = cluster.store
    with cluster.lock:
        operator_objects = operator_policy(store)
        wanted_roles = bootstrap_cluster_roles() + [o for o in operator_objects if o["kind"] == "ClusterRole"]
        existing = {r["metadata"]["name"]: r for r in store.list(CLUSTER_ROLES_KEY)}
        missing = [r for r in wanted_roles if r["metadata"]["name"] not in existing]
        stored_rules = {name: role.get("rules") for name, role in existing.items()}
        for role in with_aggregated_rules(missing + list(existing.values())):
            name = role["metadata"]["name"]
            if name not in existing:
                store.create(CLUSTER_ROLES_KEY, role)
            elif role.get("aggregationRule") is not None and role["rules"] != stored_rules[name]:
                store.update(CLUSTER_ROLES_KEY, role)
        bindings = bootstrap_cluster_role_bindings() + [o for o in operator_objects if o["kind"] == "ClusterRoleBinding"]
        for binding in bindings:
            if store.peek(CLUSTER_ROLE_BINDINGS_KEY, binding["metadata"]["name"]) is None:
                store.create(CLUSTER_ROLE_BINDINGS_KEY, binding)
