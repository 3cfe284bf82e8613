"""The ``authorization.k8s.io/v1`` API: access reviews and rules reviews, answered by RBAC.

Served as the kube-apiserver serves them (kubernetes/kubernetes release-1.33,
``pkg/registry/authorization/*/rest.go``, validation in
``pkg/apis/authorization/validation/validation.go``, attributes from
``pkg/registry/authorization/util/helpers.go``):

* ``selfsubjectaccessreviews`` — may *I* do this? (``kubectl auth can-i``);
* ``subjectaccessreviews`` — may this user/groups do this? The user is exactly what the spec says
  (no ``system:authenticated`` added);
* ``namespaces/{ns}/localsubjectaccessreviews`` — the same, held to one namespace;
* ``selfsubjectrulesreviews`` — what may I do in this namespace? (``kubectl auth can-i --list``):
  every rule of every binding that applies, as ``resourceRules`` and ``nonResourceRules``;
  ``incomplete`` and ``evaluationError`` when a binding names a role that does not exist.

Each answers ``201`` with the request object and its ``status``: ``allowed``, ``reason`` (``RBAC:
allowed by ClusterRoleBinding "..." of ClusterRole "..." to Group "..."``); RBAC never denies
outright, so ``denied`` is never set.  Bodies may be JSON, YAML or protobuf (kubectl's typed
client sends protobuf).  Who may *create* these reviews is decided by RBAC like any request:
``system:basic-user`` gives every authenticated user the self reviews.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Dict, List

from . import errors, protobuf
from .authz import Attributes, Policy, aggregate_message, authorize, rules_for
from .cluster import HttpRequest, HttpResponse
from .controller import Controller, serves_route
from .schema import prune_object

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

GROUP, VERSION = "authorization.k8s.io", "v1"
API_VERSION = f"{GROUP}/{VERSION}"
PREFIX = f"/apis/{API_VERSION}"


def decode_json_yaml_or_protobuf(http: HttpRequest) -> Dict[str, Any]:
    content_type = (http.headers.get("Content-Type") or "application/json").split(";")[0].strip()
    if content_type == protobuf.CONTENT_TYPE:
        body: Any = protobuf.decode_body(http.body)
    else:
        try:
            if content_type == "application/yaml":
                import yaml

                body = yaml.safe_load(http.body.decode() or "null")
            else:
                body = json.loads(http.body.decode() or "null")
        except ValueError as exc:
            raise errors.bad_request(f"couldn't get version/kind; json parse error: {exc}") from None
    if not isinstance(body, dict):
        raise errors.bad_request("the body of the request must be a JSON object")
    return body


def review_attributes(user: Any, spec: Dict[str, Any]) -> Attributes:
    """``ResourceAttributesFrom`` / ``NonResourceAttributesFrom``."""
    resource = spec.get("resourceAttributes")
    if resource is not None:
        return Attributes(user, resource.get("verb", ""), True, "", resource.get("namespace", ""),
                          resource.get("group", ""), resource.get("version", ""), resource.get("resource", ""),
                          resource.get("subresource", ""), resource.get("name", ""))
    other = spec.get("nonResourceAttributes") or {}
    return Attributes(user, other.get("verb", ""), False, other.get("path", ""))


def validate_attributes(kind: str, spec: Dict[str, Any]) -> None:
    """``ValidateSubjectAccessReviewSpec``: exactly one of the two attribute sets."""
    has_resource, has_other = spec.get("resourceAttributes") is not None, spec.get("nonResourceAttributes") is not None
    if has_resource == has_other:
        detail = ("cannot be specified in combination with resourceAttributes" if has_resource else
                  "exactly one of nonResourceAttributes or resourceAttributes must be specified")
        path = "spec.nonResourceAttributes" if has_resource else "spec.resourceAttributes"
        raise errors.invalid(kind, "", [errors.FieldCause(path, f"Invalid value: \"null\": {detail}")], GROUP)


class SpecUser:
    """``user.DefaultInfo`` built from a SubjectAccessReview spec."""

    def __init__(self, spec: Dict[str, Any]) -> None:
        self.username = spec.get("user", "")
        self.uid = spec.get("uid", "")
        self.groups = tuple(spec.get("groups") or ())


class AuthorizationReviews(Controller):
    """Serves the four ``authorization.k8s.io`` review resources (every cluster has it)."""

    name = "authorization"

    @property
    def policy(self) -> Policy:
        return Policy.from_store(self.store)

    def _decode(self, http: HttpRequest, resource: str) -> Dict[str, Any]:
        """The body, decoded and pruned to the upstream type, as the apiserver's decoder does."""
        return prune_object(decode_json_yaml_or_protobuf(http), self.cluster.kinds.get(f"{GROUP}/{resource}").schema)

    def _answer(self, body: Dict[str, Any], kind: str, user: Any) -> HttpResponse:
        spec = body.get("spec") or {}
        validate_attributes(kind, spec)
        decision = authorize(self.policy, review_attributes(user, spec))
        status: Dict[str, Any] = {"allowed": decision.allowed}
        if decision.reason:
            status["reason"] = decision.reason
        return HttpResponse(201, {"kind": kind, "apiVersion": API_VERSION, "metadata": _metadata(body),
                                  "spec": spec, "status": status})

    @serves_route("POST", f"{PREFIX}/selfsubjectaccessreviews")
    def self_subject_access_review(self, http: HttpRequest) -> HttpResponse:
        _exact(http, f"{PREFIX}/selfsubjectaccessreviews")
        return self._answer(self._decode(http, "selfsubjectaccessreviews"), "SelfSubjectAccessReview", http.user)

    @serves_route("POST", f"{PREFIX}/subjectaccessreviews")
    def subject_access_review(self, http: HttpRequest) -> HttpResponse:
        _exact(http, f"{PREFIX}/subjectaccessreviews")
        body = self._decode(http, "subjectaccessreviews")
        spec = body.get("spec") or {}
        _require_subject("SubjectAccessReview", spec)
        return self._answer(body, "SubjectAccessReview", SpecUser(spec))

    @serves_route("POST", f"{PREFIX}/namespaces/")
    def local_subject_access_review(self, http: HttpRequest) -> HttpResponse:
        parts = http.path[len(PREFIX):].strip("/").split("/")
        if len(parts) != 3 or parts[2] != "localsubjectaccessreviews":
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        namespace = parts[1]
        body = self._decode(http, "localsubjectaccessreviews")
        spec = body.get("spec") or {}
        if (body.get("metadata") or {}).get("namespace") not in (None, "", namespace):
            raise errors.bad_request("the namespace of the provided object does not match the namespace sent on "
                                     "the request")
        _require_subject("LocalSubjectAccessReview", spec)
        if spec.get("nonResourceAttributes") is not None:
            raise errors.invalid("LocalSubjectAccessReview", "", [errors.FieldCause(
                "spec.nonResourceAttributes", "Invalid value: \"null\": disallowed on this kind of request")], GROUP)
        resource = spec.get("resourceAttributes") or {}
        if resource.get("namespace", "") != namespace:
            raise errors.bad_request(f"spec.resourceAttributes.namespace must match namespace: {namespace}")
        answer = self._answer(body, "LocalSubjectAccessReview", SpecUser(spec))
        answer.body["metadata"]["namespace"] = namespace
        return answer

    @serves_route("POST", f"{PREFIX}/selfsubjectrulesreviews")
    def self_subject_rules_review(self, http: HttpRequest) -> HttpResponse:
        _exact(http, f"{PREFIX}/selfsubjectrulesreviews")
        body = self._decode(http, "selfsubjectrulesreviews")
        spec = body.get("spec") or {}
        namespace = spec.get("namespace", "")
        if not namespace:
            raise errors.bad_request("no namespace on request")
        rules, found = rules_for(self.policy, http.user, namespace)
        status: Dict[str, Any] = {"resourceRules": resource_rules(rules), "nonResourceRules": non_resource_rules(rules),
                                  "incomplete": bool(found)}
        if found:
            status["evaluationError"] = aggregate_message(found)
        # A new object with the status only: upstream answers neither the request's metadata nor its spec.
        return HttpResponse(201, {"kind": "SelfSubjectRulesReview", "apiVersion": API_VERSION,
                                  "metadata": {"creationTimestamp": None}, "spec": {}, "status": status})


def resource_rules(rules: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """``ResourceRule`` entries: the rules with resources (``verbs``, ``apiGroups``, ``resources``,
    ``resourceNames``)."""
    out = []
    for rule in rules:
        if rule.get("resources"):
            entry = {"verbs": list(rule.get("verbs") or []), "apiGroups": list(rule.get("apiGroups") or []),
                     "resources": list(rule["resources"])}
            if rule.get("resourceNames"):
                entry["resourceNames"] = list(rule["resourceNames"])
            out.append(entry)
    return out


def non_resource_rules(rules: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [{"verbs": list(rule.get("verbs") or []), "nonResourceURLs": list(rule["nonResourceURLs"])}
            for rule in rules if rule.get("nonResourceURLs")]


def _metadata(body: Dict[str, Any]) -> Dict[str, Any]:
    meta = dict(body.get("metadata") or {})
    meta.setdefault("creationTimestamp", None)
    return meta


def _exact(http: HttpRequest, path: str) -> None:
    """Routes match by prefix; anything below a review resource does not exist."""
    if http.path != path:
        raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")


def _require_subject(kind: str, spec: Dict[str, Any]) -> None:
    """``ValidateSubjectAccessReviewSpec``: a user or at least one group."""
    if not spec.get("user") and not spec.get("groups"):
        raise errors.invalid(kind, "", [errors.FieldCause(
            "spec.user", "Invalid value: \"\": at least one of user or group must be specified")], GROUP)


def install(cluster: "Cluster") -> AuthorizationReviews:
    """Build, register and wire the reviews (every cluster has them, like authentication)."""
    controller = AuthorizationReviews(cluster)
    cluster.register_controller(controller)
    controller.install()
    return controller
