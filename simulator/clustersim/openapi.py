"""``/openapi/v2`` and ``/openapi/v3``: operations, query parameters and the kinds' schemas.

kubectl 1.33 reads OpenAPI v3 before ``apply``, ``create -f``, ``replace``, ``diff`` and ``edit``
to learn whether the server validates fields itself: its ``QueryParamVerifierV3``
(kubernetes/cli-runtime ``pkg/resource/query_param_verifier_v3.go``) looks, in the group
version's document, for the PATCH operation tagged with the kind's
``x-kubernetes-group-version-kind`` and for a ``fieldValidation`` query parameter on it.  With no
``/openapi/v3`` at all those commands stop with "failed to download openapi".  ``kubectl explain``
(kubectl ``pkg/explain/v2``) finds the schema of a kind in ``components.schemas`` by its
``x-kubernetes-group-version-kind`` and walks ``properties`` / ``items`` / ``$ref``.

Layout as the apiserver's (k8s.io/kube-openapi ``pkg/handler3``): ``/openapi/v3`` is
``{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=..."}}}``; each group
version's document has ``paths`` and ``components.schemas``.  Schemas are the kinds' generated
structural schemas (``clustersim/schemas``), named as upstream names them: built-in types by Go
package (``io.k8s.api.core.v1.Pod``), custom resources by reversed group
(``io.kubevirt.v1.VirtualMachine``, apiextensions-apiserver ``pkg/controller/openapi/builder``),
the kinds openshift-apiserver serves by their Go package (``com.github.openshift.api.route.v1.Route``).
As the CRD builder does, a custom resource's ``metadata`` refers to
``io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`` and each kind has its ``...List``.  The
schemas carry no descriptions (the generator strips them), so ``kubectl explain`` shows fields and
types with empty descriptions.

``/openapi/v2`` is one Swagger 2.0 JSON document with the same ``definitions`` (OpenAPI v3-only
keywords dropped as the v2 conversion does: ``nullable``, ``anyOf``/``oneOf``/``allOf``/``not``;
int-or-string fields lose their ``type``) and paths.  It is JSON only: client-go asks for the
protobuf form (``application/com.github.proto-openapi.spec.v2@v1.0+protobuf``) first and takes
JSON as offered; kubectl 1.33 uses v2 only for ``explain --output plaintext-openapiv2``.
"""
from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from . import errors
from .cluster import HttpRequest, HttpResponse
from .controller import Controller, serves_route
from .kinds import Kind
from .schemas import load_all

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

ROOT = "/openapi/v3"
V2 = "/openapi/v2"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
LIST_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
WRITE_PARAMETERS = ("dryRun", "fieldManager", "fieldValidation", "pretty")
LIST_PARAMETERS = ("allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit", "resourceVersion",
                   "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch", "pretty")
# (verb the kind must serve, HTTP method, x-kubernetes-action, query parameters), per path shape
ITEM_OPERATIONS = (("get", "get", "get", ("pretty",)), ("update", "put", "put", WRITE_PARAMETERS),
                   ("patch", "patch", "patch", WRITE_PARAMETERS + ("force",)),
                   ("delete", "delete", "delete", ("dryRun", "gracePeriodSeconds", "propagationPolicy", "pretty")))
COLLECTION_OPERATIONS = (("list", "get", "list", LIST_PARAMETERS), ("create", "post", "post", WRITE_PARAMETERS),
                         ("deletecollection", "delete", "deletecollection", LIST_PARAMETERS + ("dryRun",)))
# Built-in groups whose Go package is not the first label of the group name.
BUILTIN_PACKAGES = {"": "io.k8s.api.core", "apiextensions.k8s.io": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions",
                    "metrics.k8s.io": "io.k8s.metrics.pkg.apis.metrics"}
# Kinds openshift-apiserver serves (not CRDs): named after their Go package in openshift/api.
OPENSHIFT_APISERVER_GROUPS = {"route.openshift.io": "com.github.openshift.api.route",
                              "template.openshift.io": "com.github.openshift.api.template"}
V3_ONLY = ("nullable", "anyOf", "oneOf", "allOf", "not")


def definition_name(kind: Kind, kind_name: Optional[str] = None) -> str:
    """The schema's name in ``components.schemas`` / ``definitions``, as upstream names it."""
    name = kind_name or kind.kind
    if kind.group in OPENSHIFT_APISERVER_GROUPS:
        return f"{OPENSHIFT_APISERVER_GROUPS[kind.group]}.{kind.version}.{name}"
    if kind.builtin:
        package = BUILTIN_PACKAGES.get(kind.group) or f"io.k8s.api.{kind.group.split('.')[0]}"
        return f"{package}.{kind.version}.{name}"
    return ".".join(reversed(kind.group.split("."))) + f".{kind.version}.{name}"


def _gvk(kind: Kind, kind_name: Optional[str] = None) -> List[Dict[str, str]]:
    return [{"group": kind.group, "kind": kind_name or kind.kind, "version": kind.version}]


def object_meta_schema() -> Dict[str, Any]:
    """ObjectMeta, from the core Pod schema (generated from the Kubernetes OpenAPI document)."""
    pods = load_all().get("pods")
    return dict(pods.schema["properties"]["metadata"]) if pods else {"type": "object"}


def kind_schemas(kind: Kind) -> Dict[str, Dict[str, Any]]:
    """``{name: schema}`` for the kind and its list (OpenAPI v3 form)."""
    schema = dict(kind.schema or {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    properties = dict(schema.get("properties") or {})
    properties["metadata"] = {"$ref": f"#/components/schemas/{OBJECT_META}"}
    properties.setdefault("apiVersion", {"type": "string"})
    properties.setdefault("kind", {"type": "string"})
    schema["properties"] = properties
    schema.setdefault("type", "object")
    schema["x-kubernetes-group-version-kind"] = _gvk(kind)
    name = definition_name(kind)
    listed = {"type": "object", "required": ["items"], "x-kubernetes-group-version-kind": _gvk(kind, kind.list_kind),
              "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                             "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}},
                             "metadata": {"$ref": f"#/components/schemas/{LIST_META}"}}}
    return {name: schema, definition_name(kind, kind.list_kind): listed}


def _parameters(names: tuple) -> List[Dict[str, Any]]:
    return [{"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}} for name in names]


def _operations(kind: Kind, table: tuple, ref: str) -> Dict[str, Any]:
    gvk = {"group": kind.group, "version": kind.version, "kind": kind.kind}
    content = {"application/json": {"schema": {"$ref": ref}}}
    return {method: {"operationId": f"{action}{kind.kind}", "x-kubernetes-action": action,
                     "x-kubernetes-group-version-kind": gvk, "parameters": _parameters(parameters),
                     "responses": {"200": {"description": "OK", "content": content}}}
            for verb, method, action, parameters in table if verb in kind.verbs}


def _paths(kinds: List[Kind], ref_prefix: str) -> Dict[str, Any]:
    paths: Dict[str, Any] = {}
    for kind in sorted(kinds, key=lambda k: k.resource):
        collection = kind.base_path("{namespace}") if kind.namespaced else kind.base_path()
        items = _operations(kind, ITEM_OPERATIONS, ref_prefix + definition_name(kind))
        if items:
            paths[collection + "/{name}"] = items
        listed = _operations(kind, COLLECTION_OPERATIONS, ref_prefix + definition_name(kind, kind.list_kind))
        if listed:
            paths[collection] = listed
    return paths


def _shared_schemas() -> Dict[str, Any]:
    return {OBJECT_META: object_meta_schema(),
            LIST_META: {"type": "object", "properties": {"continue": {"type": "string"},
                                                         "remainingItemCount": {"type": "integer", "format": "int64"},
                                                         "resourceVersion": {"type": "string"}}}}


def group_version_doc(kinds: List[Kind], version_label: str) -> Dict[str, Any]:
    schemas = _shared_schemas()
    for kind in kinds:
        schemas.update(kind_schemas(kind))
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": version_label},
            "paths": _paths(kinds, "#/components/schemas/"), "components": {"schemas": schemas}}


def to_v2(schema: Any) -> Any:
    """An OpenAPI v3 schema in Swagger 2.0 form (refs to ``#/definitions``, v3-only keywords dropped)."""
    if isinstance(schema, list):
        return [to_v2(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in V3_ONLY:
            continue
        if key == "$ref" and isinstance(value, str):
            out[key] = value.replace("#/components/schemas/", "#/definitions/")
        elif key in ("properties", "patternProperties", "definitions") and isinstance(value, dict):
            out[key] = {name: to_v2(node) for name, node in value.items()}
        else:
            out[key] = to_v2(value)
    if out.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
    return out


def swagger_doc(kinds: List[Kind], version_label: str) -> Dict[str, Any]:
    definitions = _shared_schemas()
    for kind in kinds:
        definitions.update(kind_schemas(kind))
    paths = _paths(kinds, "#/definitions/")
    for operations in paths.values():
        for operation in operations.values():
            content = operation["responses"]["200"].pop("content")
            operation["responses"]["200"]["schema"] = content["application/json"]["schema"]
            for parameter in operation["parameters"]:
                parameter["type"] = parameter.pop("schema")["type"]
    return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": version_label}, "paths": paths,
            "definitions": to_v2(definitions)}


def _gv_path(kind: Kind) -> str:
    return f"apis/{kind.group}/{kind.version}" if kind.group else f"api/{kind.version}"


def _encode(doc: Dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


class OpenAPI(Controller):
    """Serves the documents, rebuilt only when the served kinds change (``kinds.revision``)."""

    name = "openapi"

    def setup(self) -> None:
        self._cache: Tuple[int, Dict[str, bytes]] = (-1, {})
        self._v2: Tuple[int, bytes] = (-1, b"")

    def _by_group_version(self) -> Dict[str, List[Kind]]:
        grouped: Dict[str, List[Kind]] = {}
        for kind in self.cluster.kinds.all():
            grouped.setdefault(_gv_path(kind), []).append(kind)
        return grouped

    def _docs(self) -> Dict[str, bytes]:
        from .server import KUBERNETES_VERSION

        revision = self.cluster.kinds.revision
        if self._cache[0] != revision:
            label = KUBERNETES_VERSION["gitVersion"]
            self._cache = (revision, {gv: _encode(group_version_doc(kinds, label))
                                      for gv, kinds in self._by_group_version().items()})
        return self._cache[1]

    @serves_route("GET", ROOT)
    def serve(self, http: HttpRequest) -> HttpResponse:
        path = http.path.rstrip("/")
        docs = self._docs()
        if path == ROOT:
            listing = {gv: {"serverRelativeURL": f"{ROOT}/{gv}?hash={hashlib.sha512(body).hexdigest().upper()}"}
                       for gv, body in sorted(docs.items())}
            return HttpResponse(200, {"paths": listing})
        body = docs.get(path[len(ROOT) + 1:])
        if body is None:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        return HttpResponse(200, body)

    @serves_route("GET", V2)
    def serve_v2(self, http: HttpRequest) -> HttpResponse:
        from .server import KUBERNETES_VERSION

        if http.path.rstrip("/") != V2:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        revision = self.cluster.kinds.revision
        if self._v2[0] != revision:
            self._v2 = (revision, _encode(swagger_doc(self.cluster.kinds.all(), KUBERNETES_VERSION["gitVersion"])))
        return HttpResponse(200, self._v2[1])


def install(cluster: "Cluster") -> OpenAPI:
    controller = OpenAPI(cluster)
    cluster.register_controller(controller)
    controller.install()
    return controller
