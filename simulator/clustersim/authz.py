"""Authorization: who may do what, decided by RBAC as the kube-apiserver decides it.

Pure evaluation over RBAC objects (plain dicts); nothing here talks HTTP or writes.  Sources,
kubernetes/kubernetes release-1.33:

* request attributes from a URL: ``staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go``
  (``/api`` and ``/apis/<group>`` prefixes, ``namespaces/<ns>/...``, ``status``/``finalize`` as
  namespace subresources, GET without a name is ``list`` or ``watch`` (``watch=true``), DELETE
  without a name is ``deletecollection``, a ``metadata.name=`` field selector names the object;
  anything else is a non-resource request whose verb is the lower-case HTTP method);
* rule matching: ``pkg/apis/rbac/v1/evaluation_helpers.go`` (``*`` verbs/groups/resources,
  ``*/<subresource>``, resourceNames, non-resource URLs with a trailing ``*``; a rule resource
  ``pods/*`` matches only a subresource literally named ``*``) and
  ``plugin/pkg/auth/authorizer/rbac/rbac.go`` (``RuleAllows``);
* bindings: ``pkg/registry/rbac/validation/rule.go`` (``VisitRulesFor``: every ClusterRoleBinding,
  then the RoleBindings of the request's namespace; ``appliesToUser``: User by name, Group by
  membership, ServiceAccount by ``system:serviceaccount:<ns>:<name>`` with the binding's namespace
  as default; the describers that make the "allowed by" reasons; a missing role is an error,
  reported as ``RBAC: clusterrole.rbac.authorization.k8s.io "x" not found``);
* the refusal: ``staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go``
  (``forbiddenMessage``) wrapped by ``apierrors.NewForbidden``;
* aggregation: ``pkg/controller/clusterroleaggregation/clusterroleaggregation_controller.go``
  (selected roles by name, the aggregated role itself skipped, each distinct rule once);
* the chain: OpenShift's kube-apiserver runs ``authorization-mode`` Scope, SystemMasters, RBAC,
  Node (openshift/cluster-kube-apiserver-operator ``bindata/assets/config/defaultconfig.yaml``).
  SystemMasters is the privileged-groups authorizer: anyone in ``system:masters`` may do anything,
  with no reason given, whatever the RBAC objects say (kubernetes/apiserver v0.33.5
  ``pkg/authorization/authorizerfactory/builtin.go``).  The Scope authorizer restricts only
  scoped OAuth tokens, and the simulator issues none but ``user:full``; the Node authorizer serves
  kubelets, which are not simulated.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from .cluster import HttpResponse
from .errors import ApiError
from .eviction import selector_requirements  # LabelSelector → requirements (one shared parser)
from .requestlog import RequestRecord
from .selectors import labels_match

API_PREFIXES = ("api", "apis")
NAMESPACE_SUBRESOURCES = ("status", "finalize")
SPECIAL_VERBS = ("proxy", "watch")
RBAC_GROUP = "rbac.authorization.k8s.io"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
#: The group of OpenShift's cluster administrators (``kube:admin`` is in it); the ``/_sim`` admin
#: endpoints, which no real cluster has, are theirs alone.
CLUSTER_ADMINS_GROUP = "system:cluster-admins"
SYSTEM_MASTERS = "system:masters"  # ``user.SystemPrivilegedGroup``
AUTOUPDATE_ANNOTATION = "rbac.authorization.kubernetes.io/autoupdate"

Rule = Dict[str, Any]


@dataclass(frozen=True)
class Attributes:
    """``authorizer.Attributes``: what a request asks to do."""

    user: Any  # authn.UserInfo (username, groups)
    verb: str
    resource_request: bool = True
    path: str = ""
    namespace: str = ""
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""


@dataclass
class Decision:
    """The RBAC answer: allowed or not, and the reason the apiserver reports (may be empty)."""

    allowed: bool
    reason: str = ""
    errors: List[str] = field(default_factory=list)


# --------------------------------------------------------------------------- request attributes
def request_attributes(user: Any, method: str, path: str, query: Dict[str, List[str]]) -> Attributes:
    """``RequestInfoFactory.NewRequestInfo`` for an HTTP request."""
    parts = [segment for segment in path.split("/") if segment]
    non_resource = Attributes(user, method.lower(), False, path or "/")
    if len(parts) < 3 or parts[0] not in API_PREFIXES:
        return non_resource
    group = ""
    rest = parts[1:]
    if parts[0] == "apis":
        if len(rest) < 3:
            return non_resource
        group, rest = rest[0], rest[1:]
    version, rest = rest[0], rest[1:]
    if rest[0] in SPECIAL_VERBS:
        if len(rest) < 2:
            return non_resource  # upstream: an error answered as 500; nothing to authorize
        verb, rest = rest[0], rest[1:]
    else:
        verb = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete"}.get(method.upper(), "")
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 and verb != "proxy" else ""
    if not name and verb == "get":
        verb = "watch" if _truthy(query.get("watch")) else "list"
        name = _name_from_field_selector(query.get("fieldSelector"))
    if not name and verb == "delete":
        verb = "deletecollection"
    return Attributes(user, verb, True, path, namespace, group, version, resource, subresource, name)


def _truthy(values: Optional[List[str]]) -> bool:
    """Go's ``strconv.ParseBool`` true values, as the list options decoder reads ``watch``."""
    return bool(values) and values[0] in ("1", "t", "T", "true", "TRUE", "True")


def _name_from_field_selector(values: Optional[List[str]]) -> str:
    """``fieldSelector=metadata.name=x`` (alone or among others) names the object requested."""
    for term in (values[0] if values else "").split(","):
        key, sep, value = term.partition("=")
        if key.strip() == "metadata.name" and sep and not value.startswith("=") and value.strip():
            candidate = value.strip()
            if candidate not in (".", "..") and "/" not in candidate and "%" not in candidate:
                return candidate
    return ""


# --------------------------------------------------------------------------- rule matching
def verb_matches(rule: Rule, verb: str) -> bool:
    return any(v in ("*", verb) for v in rule.get("verbs") or ())


def api_group_matches(rule: Rule, group: str) -> bool:
    return any(g in ("*", group) for g in rule.get("apiGroups") or ())


def resource_matches(rule: Rule, combined: str, subresource: str) -> bool:
    """``*``, the exact ``resource[/subresource]``, or ``*/<subresource>``."""
    for candidate in rule.get("resources") or ():
        if candidate in ("*", combined):
            return True
        if subresource and candidate == "*/" + subresource:
            return True
    return False


def resource_name_matches(rule: Rule, name: str) -> bool:
    names = rule.get("resourceNames") or ()
    return not names or name in names


def non_resource_url_matches(rule: Rule, path: str) -> bool:
    for url in rule.get("nonResourceURLs") or ():
        if url in ("*", path) or (url.endswith("*") and path.startswith(url.rstrip("*"))):
            return True
    return False


def rule_allows(attrs: Attributes, rule: Rule) -> bool:
    """``RuleAllows`` (plugin/pkg/auth/authorizer/rbac/rbac.go)."""
    if not attrs.resource_request:
        return verb_matches(rule, attrs.verb) and non_resource_url_matches(rule, attrs.path)
    combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    return (verb_matches(rule, attrs.verb) and api_group_matches(rule, attrs.api_group)
            and resource_matches(rule, combined, attrs.subresource) and resource_name_matches(rule, attrs.name))


# --------------------------------------------------------------------------- bindings
class Policy:
    """The RBAC objects authorization reads: four callables, so tests can hand plain lists."""

    def __init__(self, cluster_role_bindings: Callable[[], Iterable[Dict[str, Any]]],
                 role_bindings: Callable[[str], Iterable[Dict[str, Any]]],
                 cluster_role: Callable[[str], Optional[Dict[str, Any]]],
                 role: Callable[[str, str], Optional[Dict[str, Any]]]) -> None:
        self.cluster_role_bindings = cluster_role_bindings
        self.role_bindings = role_bindings
        self.cluster_role = cluster_role
        self.role = role

    @classmethod
    def from_objects(cls, objects: Iterable[Dict[str, Any]]) -> "Policy":
        """A policy over a list of RBAC objects (unit tests, state files)."""
        by_kind: Dict[str, List[Dict[str, Any]]] = {}
        for obj in objects:
            by_kind.setdefault(obj.get("kind", ""), []).append(obj)

        def named(kind: str, name: str, namespace: str = "") -> Optional[Dict[str, Any]]:
            return next((o for o in by_kind.get(kind, []) if o["metadata"]["name"] == name
                         and o["metadata"].get("namespace", "") == namespace), None)
        return cls(lambda: sorted(by_kind.get("ClusterRoleBinding", []), key=lambda o: o["metadata"]["name"]),
                   lambda ns: sorted((o for o in by_kind.get("RoleBinding", []) if o["metadata"].get("namespace") == ns),
                                     key=lambda o: o["metadata"]["name"]),
                   lambda name: named("ClusterRole", name), lambda ns, name: named("Role", name, ns))

    @classmethod
    def from_store(cls, store: Any) -> "Policy":
        """The live RBAC objects of ``cluster.store`` (read-only, no copies)."""
        return cls(lambda: store.list(f"{RBAC_GROUP}/clusterrolebindings", copy=False),
                   lambda ns: store.list(f"{RBAC_GROUP}/rolebindings", ns, copy=False),
                   lambda name: store.peek(f"{RBAC_GROUP}/clusterroles", name),
                   lambda ns, name: store.peek(f"{RBAC_GROUP}/roles", name, ns))

    def role_ref_rules(self, role_ref: Dict[str, Any], namespace: str) -> Tuple[List[Rule], str]:
        """``GetRoleReferenceRules``: the rules a binding grants, or the error that stops it."""
        kind, name = role_ref.get("kind", ""), role_ref.get("name", "")
        if kind == "Role":
            role = self.role(namespace, name)
            what = "role"
        elif kind == "ClusterRole":
            role = self.cluster_role(name)
            what = "clusterrole"
        else:
            return [], f'unsupported role reference kind: "{kind}"'
        if role is None:
            return [], f'{what}.{RBAC_GROUP} "{name}" not found'
        return list(role.get("rules") or []), ""


def applies_to_user(user: Any, subject: Dict[str, Any], namespace: str) -> bool:
    """``appliesToUser`` (pkg/registry/rbac/validation/rule.go)."""
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "User":
        return user.username == name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        account_namespace = subject.get("namespace") or namespace
        return bool(account_namespace) and user.username == f"{SERVICE_ACCOUNT_PREFIX}{account_namespace}:{name}"
    return False


def _describe_subject(subject: Dict[str, Any], binding_namespace: str) -> str:
    if subject.get("kind") == "ServiceAccount":
        return f'ServiceAccount "{subject.get("name")}/{subject.get("namespace") or binding_namespace}"'
    return f'{subject.get("kind")} "{subject.get("name")}"'


def _describe(binding: Dict[str, Any], subject: Dict[str, Any]) -> str:
    """The ``clusterRoleBindingDescriber`` / ``roleBindingDescriber`` strings (name/namespace, sic)."""
    meta, ref = binding["metadata"], binding.get("roleRef") or {}
    namespace = meta.get("namespace", "")
    if binding.get("kind") == "RoleBinding" or namespace:
        return (f'RoleBinding "{meta["name"]}/{namespace}" of {ref.get("kind")} "{ref.get("name")}" to '
                f"{_describe_subject(subject, namespace)}")
    return f'ClusterRoleBinding "{meta["name"]}" of {ref.get("kind")} "{ref.get("name")}" to {_describe_subject(subject, "")}'


def visit_rules(policy: Policy, user: Any, namespace: str) -> Iterator[Tuple[str, Optional[Rule], str]]:
    """``VisitRulesFor``: (source, rule, "") for every rule that applies to ``user``, and
    ("", None, error) for a binding whose role cannot be read."""
    bindings: List[Tuple[Dict[str, Any], str]] = [(b, "") for b in policy.cluster_role_bindings()]
    if namespace:
        bindings.extend((b, namespace) for b in policy.role_bindings(namespace))
    for binding, binding_namespace in bindings:
        subject = next((s for s in binding.get("subjects") or () if applies_to_user(user, s, binding_namespace)),
                       None)
        if subject is None:
            continue
        rules, error = policy.role_ref_rules(binding.get("roleRef") or {}, binding_namespace)
        if error:
            yield "", None, error
            continue
        source = _describe(binding, subject)
        for rule in rules:
            yield source, rule, ""


def authorize(policy: Policy, attrs: Attributes) -> Decision:
    """The apiserver's authorizer chain: SystemMasters, then RBAC (see the module docstring)."""
    if attrs.user is not None and SYSTEM_MASTERS in attrs.user.groups:
        return Decision(True)
    return rbac_authorize(policy, attrs)


def rbac_authorize(policy: Policy, attrs: Attributes) -> Decision:
    """``RBACAuthorizer.Authorize``: allowed by the first rule that allows; otherwise no opinion,
    with the errors met on the way as the reason."""
    found: List[str] = []
    for source, rule, error in visit_rules(policy, attrs.user, attrs.namespace):
        if rule is not None and rule_allows(attrs, rule):
            return Decision(True, f"RBAC: allowed by {source}")
        if error:
            found.append(error)
    return Decision(False, f"RBAC: {aggregate_message(found)}" if found else "", found)


def aggregate_message(messages: List[str]) -> str:
    """``utilerrors.NewAggregate(...).Error()``: one message, or the distinct ones in brackets."""
    distinct = list(dict.fromkeys(messages))
    if len(messages) == 1 or len(distinct) == 1:
        return distinct[0]
    return "[" + ", ".join(distinct) + "]"


def rules_for(policy: Policy, user: Any, namespace: str) -> Tuple[List[Rule], List[str]]:
    """``RulesFor``: every rule that applies in ``namespace`` (cluster-wide ones first), and the errors."""
    rules: List[Rule] = []
    found: List[str] = []
    for _, rule, error in visit_rules(policy, user, namespace):
        if rule is not None:
            rules.append(rule)
        elif error:
            found.append(error)
    return rules, found


def is_cluster_admin(user: Any) -> bool:
    """In OpenShift's cluster administrators' group, or in ``system:masters`` (may do anything)."""
    return user is not None and (CLUSTER_ADMINS_GROUP in user.groups or SYSTEM_MASTERS in user.groups)


# --------------------------------------------------------------------------- refusal
def _sanitize(text: str) -> str:
    """``responsewriters``' ``sanitizer``: ``&``, ``<`` and ``>`` as HTML entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _go_quote(text: str) -> str:
    """Go's ``%q`` for printable ASCII text (what request URIs are)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def forbidden_message(attrs: Attributes) -> str:
    """``forbiddenMessage`` (responsewriters/errors.go)."""
    username = attrs.user.username if attrs.user is not None else ""
    if not attrs.resource_request:
        return f'User "{username}" cannot {attrs.verb} path "{attrs.path}"'
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    scope = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
    return f'User "{username}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.api_group}" {scope}'


def forbidden(attrs: Attributes, reason: str = "") -> ApiError:
    """``responsewriters.Forbidden``: ``apierrors.NewForbidden(group/resource, name, message[: reason])``,
    the message sanitized."""
    message = _sanitize(forbidden_message(attrs)) + (f": {reason}" if reason else "")
    if not attrs.resource_request or not attrs.resource:
        return ApiError(403, "Forbidden", f"forbidden: {message}")
    qualified = f"{attrs.resource}.{attrs.api_group}" if attrs.api_group else attrs.resource
    subject = f'{qualified} "{attrs.name}"' if attrs.name else qualified
    return ApiError(403, "Forbidden", f"{subject} is forbidden: {message}", name=attrs.name or None,
                    group=attrs.api_group, kind=attrs.resource)


# --------------------------------------------------------------------------- aggregation
def normalized_rule(rule: Rule) -> Rule:
    """A rule without empty lists: Go's semantic equality treats nil and empty alike."""
    return {key: list(value) for key, value in rule.items() if value}


def aggregated_rules(role: Dict[str, Any], cluster_roles: Iterable[Dict[str, Any]]) -> Optional[List[Rule]]:
    """The rules of an aggregated ClusterRole: every distinct rule of the ClusterRoles its
    ``aggregationRule.clusterRoleSelectors`` select, selector by selector, roles by name; None for
    a role without an aggregation rule."""
    selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors")
    if selectors is None:
        return None
    ordered = sorted(cluster_roles, key=lambda r: r["metadata"]["name"])
    rules: List[Rule] = []
    for selector in selectors:
        requirements = selector_requirements(selector or {})
        for other in ordered:
            if other["metadata"]["name"] == role["metadata"]["name"]:
                continue
            if not labels_match(requirements or (), other["metadata"].get("labels") or {}):
                continue
            for rule in other.get("rules") or ():
                candidate = normalized_rule(rule)
                if candidate not in rules:
                    rules.append(candidate)
    return rules


# --------------------------------------------------------------------------- the HTTP hook
#: Paths the simulator's listener serves for a Route host rather than for the apiserver, with
#: the attributes the component behind that host authorizes.  ``thanos-querier``'s web port is a
#: kube-rbac-proxy asking for ``prometheuses/api`` ``k8s`` in ``openshift-monitoring``
#: (openshift/cluster-monitoring-operator ``assets/thanos-querier/kube-rbac-proxy-web-secret.yaml``)
#: and refusing in plain text (brancz/kube-rbac-proxy ``pkg/filters/auth.go``).
ROUTE_HOSTS: Dict[str, Dict[str, str]] = {
    "/api/v1/alerts": {"namespace": "openshift-monitoring", "api_group": "monitoring.coreos.com",
                       "resource": "prometheuses", "subresource": "api", "name": "k8s"},
}
PROXY_VERBS = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


_SERVING = threading.local()


def requesting_user() -> Any:
    """The identity of the HTTP request this thread is serving (None on controller threads):
    what the RBAC registry's escalation check asks about (``rbac_escalation.py``)."""
    return getattr(_SERVING, "user", None)


def authorize_request(cluster: Any, request: Any, headers: Iterable[Tuple[str, str]] = (),
                      request_uri: str = "") -> Optional[HttpResponse]:
    """None when ``request.user`` may do what ``request`` asks, else the refusal to answer: the
    apiserver's 403 Status, or kube-rbac-proxy's plain text for a Route host of ``ROUTE_HOSTS``.
    Refused resource (and Route host) requests go to the request log with their 403.

    First, ``Impersonate-*`` ``headers`` (every header, repeated ones included) may replace
    ``request.user`` (``impersonation.py``).  ``/_sim`` (the simulator's admin API, unknown to any
    real cluster) is for the groups ``system:cluster-admins`` and ``system:masters`` only."""
    from .impersonation import ImpersonationError, impersonate

    _SERVING.user = request.user  # never a previous request's identity, even when this one fails
    policy = Policy.from_store(cluster.store)
    try:
        request.user, refused = impersonate(policy, request.user, list(headers))
    except ImpersonationError as error:  # responsewriters.InternalError: plain text
        text = _sanitize(f"Internal Server Error: {_go_quote(request_uri or request.path)}: {error}") + "\n"
        return HttpResponse(500, text, "text/plain; charset=utf-8", {"X-Content-Type-Options": "nosniff"})
    if refused is not None:
        return _status_response(forbidden(refused[0], refused[1].reason))
    user = _SERVING.user = request.user
    if request.path.startswith("/_sim"):
        if is_cluster_admin(user):
            return None
        return _status_response(forbidden(Attributes(user, request.method.lower(), False, request.path)))
    route_host = next((attrs for prefix, attrs in ROUTE_HOSTS.items() if request.path.startswith(prefix)), None)
    if route_host is not None and user.username == "system:anonymous":  # kube-rbac-proxy wants a token
        return unauthenticated_answer(request.path)
    if route_host is not None:
        attrs = Attributes(user, PROXY_VERBS.get(request.method, ""), True, request.path, **route_host)
        if authorize(policy, attrs).allowed:
            return None
        _log_refusal(cluster, request, "proxy", "", "", "", request.path)
        text = (f"Forbidden (user={user.username}, verb={attrs.verb}, resource={attrs.resource}, "
                f"subresource={attrs.subresource})\n")
        return HttpResponse(403, text, "text/plain; charset=utf-8", {"X-Content-Type-Options": "nosniff"})
    attrs = request_attributes(user, request.method, request.path, request.query)
    decision = authorize(policy, attrs)
    if decision.allowed:
        return None
    if attrs.resource_request:
        group = cluster.kinds.virtual_targets.get(attrs.api_group, attrs.api_group)  # subresources.kubevirt.io
        _log_refusal(cluster, request, attrs.verb, f"{group}/{attrs.resource}" if group else attrs.resource,
                     attrs.subresource, attrs.namespace, attrs.name)
    return _status_response(forbidden(attrs, decision.reason))


def unauthenticated_answer(path: str) -> HttpResponse:
    """The 401 for a credential that does not authenticate: the apiserver's ``Unauthorized``
    Status, or for a Route host of ``ROUTE_HOSTS`` kube-rbac-proxy's plain text
    (brancz/kube-rbac-proxy ``pkg/filters/auth.go``: ``http.Error(w, "Unauthorized", 401)``)."""
    if any(path.startswith(prefix) for prefix in ROUTE_HOSTS):
        return HttpResponse(401, "Unauthorized\n", "text/plain; charset=utf-8", {"X-Content-Type-Options": "nosniff"})
    return _status_response(ApiError(401, "Unauthorized", "Unauthorized"))


def _log_refusal(cluster: Any, request: Any, verb: str, key: str, subresource: str, namespace: str, name: str) -> None:
    dry_run = "All" in (request.query.get("dryRun") or [])
    cluster.requests.record(RequestRecord(verb, key, subresource, namespace, name, dry_run, 403, request.path))


def _status_response(error: ApiError) -> HttpResponse:
    return HttpResponse(error.code, error.to_status(), headers=error.headers)
