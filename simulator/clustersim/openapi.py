"""``/openapi/v3``: the API's operations and their query parameters, without type schemas.

kubectl 1.33 reads OpenAPI v3 before ``apply``, ``create -f``, ``replace``, ``diff`` and ``edit``
to learn whether the server validates fields itself: its ``QueryParamVerifierV3``
(kubernetes/cli-runtime ``pkg/resource/query_param_verifier_v3.go``) looks, in the group
version's document, for the PATCH operation tagged with the kind's
``x-kubernetes-group-version-kind`` and for a ``fieldValidation`` query parameter on it.  With no
``/openapi/v3`` at all those commands stop with "failed to download openapi".

The documents here list, per group version, every resource path with its operations, their
``x-kubernetes-action`` and GVK tags and the query parameters the simulator honours, in the layout
of the apiserver's (``/openapi/v3`` is ``{"paths": {"api/v1": {"serverRelativeURL": ...}}}``,
k8s.io/kube-openapi ``pkg/handler3``).  They carry no schemas under ``components``, so
``kubectl explain`` and client-side schema validation are not served; PATCH operations declare no
request body, so kubectl's client-side ``apply`` builds strategic merge patches from its compiled-in
types (as it does against a server without OpenAPI) instead of from schemas.
"""
from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from . import errors
from .cluster import HttpRequest, HttpResponse
from .controller import Controller, serves_route
from .kinds import Kind

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

ROOT = "/openapi/v3"
WRITE_PARAMETERS = ("dryRun", "fieldManager", "fieldValidation", "pretty")
LIST_PARAMETERS = ("allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit", "resourceVersion",
                   "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch", "pretty")
# (verb the kind must serve, HTTP method, x-kubernetes-action, query parameters), per path shape
ITEM_OPERATIONS = (("get", "get", "get", ("pretty",)), ("update", "put", "put", WRITE_PARAMETERS),
                   ("patch", "patch", "patch", WRITE_PARAMETERS + ("force",)),
                   ("delete", "delete", "delete", ("dryRun", "gracePeriodSeconds", "propagationPolicy", "pretty")))
COLLECTION_OPERATIONS = (("list", "get", "list", LIST_PARAMETERS), ("create", "post", "post", WRITE_PARAMETERS),
                         ("deletecollection", "delete", "deletecollection", LIST_PARAMETERS + ("dryRun",)))


def _parameters(names: tuple) -> List[Dict[str, Any]]:
    return [{"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}} for name in names]


def _operations(kind: Kind, table: tuple) -> Dict[str, Any]:
    gvk = {"group": kind.group, "version": kind.version, "kind": kind.kind}
    return {method: {"operationId": f"{action}{kind.kind}", "x-kubernetes-action": action,
                     "x-kubernetes-group-version-kind": gvk, "parameters": _parameters(parameters),
                     "responses": {"200": {"description": "OK"}}}
            for verb, method, action, parameters in table if verb in kind.verbs}


def group_version_doc(kinds: List[Kind], version_label: str) -> Dict[str, Any]:
    paths: Dict[str, Any] = {}
    for kind in sorted(kinds, key=lambda k: k.resource):
        collection = kind.base_path("{namespace}") if kind.namespaced else kind.base_path()
        items = _operations(kind, ITEM_OPERATIONS)
        if items:
            paths[collection + "/{name}"] = items
        listed = _operations(kind, COLLECTION_OPERATIONS)
        if listed:
            paths[collection] = listed
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": version_label}, "paths": paths,
            "components": {"schemas": {}}}


def _gv_path(kind: Kind) -> str:
    return f"apis/{kind.group}/{kind.version}" if kind.group else f"api/{kind.version}"


class OpenAPI(Controller):
    name = "openapi"

    def _by_group_version(self) -> Dict[str, List[Kind]]:
        grouped: Dict[str, List[Kind]] = {}
        for kind in self.cluster.kinds.all():
            grouped.setdefault(_gv_path(kind), []).append(kind)
        return grouped

    def _doc(self, gv_path: str) -> Optional[bytes]:
        from .server import KUBERNETES_VERSION

        kinds = self._by_group_version().get(gv_path)
        if kinds is None:
            return None
        doc = group_version_doc(kinds, KUBERNETES_VERSION["gitVersion"])
        return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()

    @serves_route("GET", ROOT)
    def serve(self, http: HttpRequest) -> HttpResponse:
        path = http.path.rstrip("/")
        if path == ROOT:
            listing = {}
            for gv_path in sorted(self._by_group_version()):
                digest = hashlib.sha512(self._doc(gv_path) or b"").hexdigest().upper()
                listing[gv_path] = {"serverRelativeURL": f"{ROOT}/{gv_path}?hash={digest}"}
            return HttpResponse(200, {"paths": listing})
        body = self._doc(path[len(ROOT) + 1:])
        if body is None:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        return HttpResponse(200, body)


def install(cluster: "Cluster") -> OpenAPI:
    controller = OpenAPI(cluster)
    cluster.register_controller(controller)
    controller.install()
    return controller
