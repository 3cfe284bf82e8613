"""RBAC escalation prevention: nobody grants, through a Role or a binding, more than they hold.

kubernetes/kubernetes release-1.33:

* ``pkg/registry/rbac/escalation_check.go``: ``EscalationAllowed`` (no user, or ``system:masters``),
  ``RoleEscalationAuthorized`` (the ``escalate`` verb on the role being written),
  ``BindingAuthorized`` (the ``bind`` verb on the role a binding refers to);
* ``pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/policybased/storage.go``:
  otherwise the rules written (a Role's or ClusterRole's ``rules``; the rules of a binding's
  ``roleRef``) must be covered by what the writer holds in that namespace (cluster-wide for
  cluster objects); an ``aggregationRule`` needs full authority ("must have cluster-admin
  privileges to use the aggregationRule"); a binding to a missing role is refused with the
  lookup error;
* ``staging/src/k8s.io/component-helpers/auth/rbac/validation/policy_comparator.go``
  (``Covers``, ``BreakdownRule``, ``ruleCovers``) and ``pkg/registry/rbac/validation/rule.go``
  (``ConfirmNoEscalation``'s message) with ``pkg/apis/rbac/v1/evaluation_helpers.go``
  (``CompactString``) and ``pkg/registry/rbac/validation/policy_compact.go`` (``CompactRules``).

Checked on every HTTP write of the four RBAC kinds (dry runs included), never for controller
writes; an update is checked only when it changes the rules, the aggregation rule, the role
reference or the subjects (upstream also re-checks other changes, except those to the fields the
garbage collector writes).  The writer is the identity ``authz.authorize_request`` saw for the
request this thread serves (``authz.requesting_user``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from . import errors
from .admission import AdmissionRequest
from .authz import (RBAC_GROUP, SYSTEM_MASTERS, Attributes, Policy, aggregate_message, authorize, requesting_user,
                    rules_for)
from .controller import Controller, admits

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

Rule = Dict[str, Any]
FULL_AUTHORITY: List[Rule] = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
                              {"verbs": ["*"], "nonResourceURLs": ["*"]}]
ROLE_KEYS = (f"{RBAC_GROUP}/roles", f"{RBAC_GROUP}/clusterroles")
BINDING_KEYS = (f"{RBAC_GROUP}/rolebindings", f"{RBAC_GROUP}/clusterrolebindings")


# --------------------------------------------------------------------------- coverage (pure)
def breakdown_rule(rule: Rule) -> List[Rule]:
    """One rule per group × resource × verb (× name), and per non-resource URL × verb."""
    out: List[Rule] = []
    for group in rule.get("apiGroups") or ():
        for resource in rule.get("resources") or ():
            for verb in rule.get("verbs") or ():
                names = rule.get("resourceNames") or ()
                out.extend({"apiGroups": [group], "resources": [resource], "verbs": [verb], "resourceNames": [n]}
                           for n in names)
                if not names:
                    out.append({"apiGroups": [group], "resources": [resource], "verbs": [verb]})
    for url in rule.get("nonResourceURLs") or ():
        out.extend({"nonResourceURLs": [url], "verbs": [verb]} for verb in rule.get("verbs") or ())
    return out


def _resource_covers_all(owned: List[str], wanted: List[str]) -> bool:
    if "*" in owned or all(w in owned for w in wanted):
        return True
    for path in wanted:
        if path in owned:
            continue
        if "/" not in path or "*/" + path.split("/", 1)[1] not in owned:
            return False
    return True


def _url_covers(owner: str, path: str) -> bool:
    return owner == path or (owner.endswith("*") and path.startswith(owner.rstrip("*")))


def rule_covers(owner: Rule, sub: Rule) -> bool:
    """``ruleCovers`` for a broken-down ``sub`` rule."""
    def has_all(key: str) -> bool:
        return "*" in (owner.get(key) or ()) or all(v in (owner.get(key) or ()) for v in sub.get(key) or ())
    owner_names, sub_names = owner.get("resourceNames") or [], sub.get("resourceNames") or []
    names = not owner_names or (bool(sub_names) and all(n in owner_names for n in sub_names))
    urls = all(any(_url_covers(o, p) for o in owner.get("nonResourceURLs") or ()) for p in sub.get("nonResourceURLs") or ())
    return (has_all("verbs") and has_all("apiGroups") and names and urls
            and _resource_covers_all(owner.get("resources") or [], sub.get("resources") or []))


def uncovered(owned: List[Rule], wanted: List[Rule]) -> List[Rule]:
    """``Covers``: the broken-down rules of ``wanted`` no rule of ``owned`` covers."""
    return [sub for rule in wanted for sub in breakdown_rule(rule) if not any(rule_covers(o, sub) for o in owned)]


def compact_rules(rules: List[Rule]) -> List[Rule]:
    """``CompactRules``: simple rules (one group, one resource, at most one name) merge their verbs."""
    compacted: List[Rule] = []
    simple: Dict[Tuple[str, str, str], Rule] = {}
    for rule in rules:
        groups, resources, names = rule.get("apiGroups") or [], rule.get("resources") or [], rule.get("resourceNames") or []
        if len(groups) == 1 and len(resources) == 1 and len(names) <= 1 and not rule.get("nonResourceURLs"):
            key = (groups[0], resources[0], names[0] if names else "")
            if key in simple:
                simple[key]["verbs"] = simple[key]["verbs"] + list(rule.get("verbs") or [])
            else:
                simple[key] = {k: list(v) for k, v in rule.items()}
        else:
            compacted.append(rule)
    return compacted + list(simple.values())


def _go_quoted(values: List[str]) -> str:
    """Go's ``%q`` of a ``[]string``: ``["a" "b"]``."""
    return "[" + " ".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "]"


def compact_string(rule: Rule) -> str:
    """``CompactString``: ``{APIGroups:[""], Resources:["pods"], Verbs:["get"]}``."""
    parts = [f"{label}:{_go_quoted(rule[key])}" for label, key in (
        ("APIGroups", "apiGroups"), ("Resources", "resources"), ("NonResourceURLs", "nonResourceURLs"),
        ("ResourceNames", "resourceNames"), ("Verbs", "verbs")) if rule.get(key)]
    return "{" + ", ".join(parts) + "}"


def escalation_message(policy: Policy, user: Any, namespace: str, wanted: List[Rule]) -> str:
    """``ConfirmNoEscalation``: "" when ``user`` holds every rule of ``wanted`` in ``namespace``."""
    owned, resolution_errors = rules_for(policy, user, namespace)
    missing = uncovered(owned, wanted)
    if not missing:
        return ""
    described = sorted({compact_string(rule) for rule in compact_rules(missing)})
    message = (f"user \"{user.username}\" (groups={_go_quoted(list(user.groups))}) is attempting to grant RBAC "
               "permissions not currently held:\n" + "\n".join(described))
    if resolution_errors:
        message += f"; resolution errors: [{aggregate_message(resolution_errors)}]"
    return message


# --------------------------------------------------------------------------- the admission step
class EscalationCheck(Controller):
    """Refuses HTTP writes of Roles, ClusterRoles and bindings that would grant more than the writer holds."""

    name = "rbac-escalation"

    @admits(*ROLE_KEYS)
    def check_role(self, req: AdmissionRequest) -> None:
        user = self._checked_user(req, ("rules", "aggregationRule"))
        if user is None or self._authorized(user, "escalate", req.kind.resource, req.name, req.namespace):
            return
        policy, resource = Policy.from_store(self.store), req.kind.resource
        message = escalation_message(policy, user, req.namespace, list(req.obj.get("rules") or []))
        if message:
            raise errors.forbidden(resource, req.name, message, RBAC_GROUP)
        if req.obj.get("aggregationRule") and escalation_message(policy, user, req.namespace, FULL_AUTHORITY):
            raise errors.forbidden(resource, req.name, "must have cluster-admin privileges to use the aggregationRule",
                                   RBAC_GROUP)

    @admits(*BINDING_KEYS)
    def check_binding(self, req: AdmissionRequest) -> None:
        user = self._checked_user(req, ("roleRef", "subjects"))
        if user is None:
            return
        ref = req.obj.get("roleRef") or {}
        role_resource = {"Role": "roles", "ClusterRole": "clusterroles"}.get(ref.get("kind", ""), "")
        if role_resource and self._authorized(user, "bind", role_resource, ref.get("name", ""), req.namespace,
                                              ref.get("apiGroup", "")):
            return
        policy = Policy.from_store(self.store)
        rules, error = policy.role_ref_rules(ref, req.namespace)
        message = error or escalation_message(policy, user, req.namespace, rules)
        if message:
            raise errors.forbidden(req.kind.resource, req.name, message, RBAC_GROUP)

    def _checked_user(self, req: AdmissionRequest, fields: Tuple[str, ...]) -> Optional[Any]:
        """The writer to check, or None when the write needs no check (``EscalationAllowed``,
        a controller write, a delete, an update leaving the granted permissions alone)."""
        user = requesting_user()
        if req.internal or req.operation == "DELETE" or user is None or SYSTEM_MASTERS in user.groups:
            return None
        if req.operation == "UPDATE" and all(not req.changed(name) for name in fields):
            return None
        return user

    def _authorized(self, user: Any, verb: str, resource: str, name: str, namespace: str,
                    group: str = RBAC_GROUP) -> bool:
        attrs = Attributes(user, verb, True, "", namespace, group, "*", resource, "", name)
        return authorize(Policy.from_store(self.store), attrs).allowed


def install(cluster: "Cluster") -> EscalationCheck:
    """Build, register and wire the check (part of every apiserver, like authentication)."""
    controller = EscalationCheck(cluster)
    cluster.register_controller(controller)
    controller.install()
    return controller
