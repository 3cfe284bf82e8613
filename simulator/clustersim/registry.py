"""The REST layer: what each API verb means for a resource, between the HTTP front end and the store.

``server.py`` decodes the URL and the body and hands a :class:`RestRequest` here; this module
applies the handler-level rules of the apiserver and answers ``(code, body, headers)``:

* verbs and subresources a kind serves (405 / 404 otherwise);
* ``fieldValidation`` (Ignore / Warn / Strict) on create, update and patch;
* PUT without ``metadata.resourceVersion``: allowed for built-in kinds, 422 for custom resources
  (``AllowUnconditionalUpdate``, see ``strategies.py``);
* server-side apply, simplified: create when missing, otherwise merge the applied
  configuration (no field ownership, no conflicts, no removals);
* the generic ``scale`` subresource of deployments / replicasets / statefulsets, and
  ``namespaces/finalize``;
* DELETE answers: the terminating object while finalizers hold it; else a ``Success`` Status
  for built-in kinds and the object for custom resources and pods (``strategies.py``);
* list pagination (``limit`` / ``continue``) with the 410 an expired token gets;
* dry run: ``?dryRun=All``, or ``dryRun: [All]`` in the DeleteOptions body.

Sources (kubernetes/kubernetes release-1.33): ``staging/src/k8s.io/apiserver/pkg/endpoints/
handlers`` (``create.go``, ``update.go``, ``patch.go``, ``delete.go``, ``get.go``: field
validation, dry run, apply), ``staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go``
(continue tokens, ``ErrCompacted`` → 410 with an inconsistent continue token).
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from . import errors
from .cluster import HttpRequest, HttpResponse, SubresourceRequest
from .errors import ApiError
from .kinds import Kind
from .schema import check_fields, warning_header
from .selectors import parse_field_selector, parse_label_selector

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

Answer = Tuple[int, Any, Dict[str, str]]
PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}
CONTINUE_EXPIRED = ("The provided continue parameter is too old to display a consistent list result. You can start a "
                    "new list without the continue parameter, or use the continue token in this response to "
                    "retrieve the remainder of the results. Continuing with the provided token results in an "
                    "inconsistent list - objects that were created, modified, or deleted between the time the first "
                    "chunk was returned and now may show up in the list.")


@dataclass
class RestRequest:
    """One API request for a resource, decoded by the server."""

    verb: str  # get, list, create, update, patch, delete, deletecollection
    kind: Kind
    namespace: str
    name: str
    subresource: str
    body: Any  # parsed JSON/YAML (None when empty)
    dry_run: bool
    http: HttpRequest
    virtual_group: str = ""  # set for subresources.kubevirt.io style URLs

    def param(self, name: str) -> Optional[str]:
        return self.http.param(name)

    @property
    def content_type(self) -> str:
        return (self.http.headers.get("Content-Type") or "").split(";")[0].strip()


def path_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def query_dry_run(query: Dict[str, List[str]]) -> bool:
    values = query.get("dryRun") or []
    for value in values:
        if value != "All":
            raise errors.bad_request(f'Invalid dry run value "{value}": only "All" is supported')
    return bool(values)


def options_dry_run(verb: str, subresource: str, body: Any) -> bool:
    """A DELETE of a resource takes DeleteOptions in its body, and so its dry-run flag."""
    return (verb in ("delete", "deletecollection") and not subresource and isinstance(body, dict)
            and "All" in (body.get("dryRun") or []))


def propagation_policy(options: Dict[str, Any]) -> Optional[str]:
    """DeleteOptions' ``propagationPolicy``, or the deprecated ``orphanDependents`` it replaced."""
    if options.get("propagationPolicy"):
        return options["propagationPolicy"]
    orphan = options.get("orphanDependents")
    if orphan is None:
        return None
    return "Orphan" if orphan else "Background"


def field_manager(req: "RestRequest") -> str:
    """``fieldManager``, else what the apiserver derives from the User-Agent (the part before the
    first ``/``, at most 128 characters; apiserver ``pkg/endpoints/handlers/create.go``
    ``managerOrUserAgent``; an empty User-Agent is recorded as "unknown" here)."""
    given = req.param("fieldManager")
    if given:
        return given
    agent = req.http.headers.get("User-Agent") or ""
    return agent.split("/")[0][:128] or "unknown"


def grace_period(options: Dict[str, Any], req: "RestRequest") -> Optional[int]:
    """DeleteOptions' ``gracePeriodSeconds`` (body first, then the query parameter)."""
    value = options.get("gracePeriodSeconds")
    if value is None:
        value = req.param("gracePeriodSeconds")
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.bad_request(f"invalid gracePeriodSeconds: {value!r}") from None


def paginate(items: List[Dict[str, Any]], limit: int, token: Optional[str], rv: int, floor_rv: int
             ) -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
    """One page of ``items`` (sorted by namespace/name) and the list metadata to answer with.

    A continue token records the list's resourceVersion and the last key returned; a token older
    than the retained history answers 410 with a token that resumes at the same key.
    """
    start = 0
    if token:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
            after = tuple(decoded["start"])
        except Exception:
            raise errors.bad_request("continue key is not valid: illegal base64 data") from None
        start = next((n for n, o in enumerate(items)
                      if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > after), len(items))
        token_rv = decoded.get("rv")
        if isinstance(token_rv, int) and token_rv < floor_rv:
            raise ApiError(410, "Expired", CONTINUE_EXPIRED, metadata={"continue": _token(rv, list(after))})
    metadata: Dict[str, Any] = {"resourceVersion": str(rv)}
    page = items[start:]
    if limit and len(page) > limit:
        page = page[:limit]
        last = page[-1]["metadata"]
        metadata["continue"] = _token(rv, [last.get("namespace", ""), last["name"]])
        metadata["remainingItemCount"] = len(items) - start - limit
    return page, metadata


def _token(rv: int, start: List[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps({"rv": rv, "start": start}).encode()).decode()


def selectors(http: HttpRequest, kind: Kind) -> Tuple[Any, Any]:
    """The request's label and field selectors, parsed (fields held to what the kind supports)."""
    labels = parse_label_selector(http.param("labelSelector"))
    fields = parse_field_selector(http.param("fieldSelector"), kind.field_selectors, kind.kind)
    return labels, fields


def check_body(body: Any, kind: Kind, namespace: str) -> Dict[str, Any]:
    """The body must be an object of this kind, in the URL's namespace."""
    if not isinstance(body, dict):
        raise errors.bad_request("the body of the request must be a JSON object")
    api_version, kind_name = body.get("apiVersion"), body.get("kind")
    if api_version and api_version != kind.api_version:
        raise errors.bad_request(f"the API version in the data ({api_version}) does not match the expected API "
                                 f"version ({kind.api_version})")
    if kind_name and kind_name != kind.kind:
        raise errors.bad_request(f"the kind in the data ({kind_name}) does not match the expected kind ({kind.kind})")
    meta = body.get("metadata") or {}
    if kind.namespaced and meta.get("namespace") and meta["namespace"] != namespace:
        raise errors.bad_request("the namespace of the provided object does not match the namespace sent on the request")
    return body


def named_body(body: Any, req: RestRequest) -> Dict[str, Any]:
    """A checked body whose ``metadata.name`` is (or becomes) the name on the URL."""
    obj = check_body(body, req.kind, req.namespace)
    meta = obj.setdefault("metadata", {})
    if meta.get("name") and meta["name"] != req.name:
        raise errors.bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({req.name})")
    meta["name"] = req.name
    return obj


def as_response(result: Any) -> HttpResponse:
    if isinstance(result, HttpResponse):
        return result
    if isinstance(result, tuple):
        code, body = result[0], result[1]
        headers = result[2] if len(result) > 2 else {}
        return HttpResponse(code, body, headers=headers)
    return HttpResponse(200, result)


class Registry:
    """Serves :class:`RestRequest` s against ``cluster.store``."""

    def __init__(self, cluster: "Cluster") -> None:
        self.cluster = cluster
        self.store = cluster.store

    def handle(self, req: RestRequest) -> Answer:
        kind = req.kind
        if req.subresource and req.subresource != "status":
            return self._custom_subresource(req)
        if req.subresource == "status" and "status" not in kind.subresources:
            raise path_not_found()
        if req.subresource and req.verb not in ("get", "update", "patch"):
            raise errors.method_not_allowed()  # /status serves get, update and patch only
        if req.verb not in kind.verbs and not req.subresource:
            raise errors.method_not_allowed("the server does not allow this method on the requested resource")
        if req.verb == "get":
            return 200, self.store.must_get(kind.key, req.name, req.namespace or None), {}
        if req.verb == "list":
            return 200, self.list(req), {}
        warnings = self._field_validation(req)
        code, result, headers = getattr(self, "_" + req.verb)(req)
        if warnings:
            headers = dict(headers, **warning_header(warnings))
        return code, result, headers

    def _field_validation(self, req: RestRequest) -> List[str]:
        """``fieldValidation``: Ignore drops unknown fields silently, Warn (the default) also
        answers a Warning header, Strict refuses the request, as the apiserver does for
        structural schemas and built-in types.  Only kinds with a pruning schema are checked."""
        mode, kind = req.param("fieldValidation"), req.kind
        if req.verb not in ("create", "update", "patch") or req.content_type == "application/json-patch+json":
            check_fields(mode, kind.kind, kind.version, None, None)  # still rejects a bad mode
            return []
        return check_fields(mode, kind.kind, kind.version, req.body, kind.schema)

    # ------------------------------------------------------------------ reads
    def select(self, req: RestRequest) -> List[Dict[str, Any]]:
        labels, fields = selectors(req.http, req.kind)
        return self.store.list(req.kind.key, req.namespace or None, labels, fields, copy=False)

    def list(self, req: RestRequest) -> Dict[str, Any]:
        kind = req.kind
        # Read the resourceVersion first: a watch started from it may replay a change the list
        # already shows (harmless), but never misses one.
        rv = self.store.resource_version
        items = self.select(req)
        page, metadata = paginate(items, int(req.param("limit") or 0), req.param("continue"), rv,
                                  self.cluster.watch.floor_rv)
        return {"kind": kind.list_kind, "apiVersion": kind.api_version, "metadata": metadata, "items": page}

    # ------------------------------------------------------------------ writes
    def _create(self, req: RestRequest) -> Answer:
        obj = check_body(req.body, req.kind, req.namespace)
        with self.cluster.api_lock():
            created = self.store.create(req.kind.key, obj, req.namespace or None, dry_run=req.dry_run, internal=False,
                                        field_manager=field_manager(req))
        return 201, created, {}

    def _update(self, req: RestRequest) -> Answer:
        kind = req.kind
        obj = named_body(req.body, req)
        if not self.store.strategy(kind).allow_unconditional_update and not obj["metadata"].get("resourceVersion"):
            raise errors.invalid(kind.kind, req.name, [errors.FieldCause(
                "metadata.resourceVersion", "Invalid value: 0x0: must be specified for an update")], kind.group)
        with self.cluster.api_lock():
            updated = self.store.update(kind.key, obj, req.namespace or None, dry_run=req.dry_run, internal=False,
                                        subresource=req.subresource, field_manager=field_manager(req))
        return 200, updated, {}

    def _patch(self, req: RestRequest) -> Answer:
        patch_type = PATCH_TYPES.get(req.content_type)
        if patch_type is None:
            raise errors.unsupported_media_type(req.content_type, list(PATCH_TYPES))
        if patch_type == "apply":
            return self._apply(req)
        with self.cluster.api_lock():
            patched = self.store.patch(req.kind.key, req.name, req.body, req.namespace or None, patch_type=patch_type,
                                       dry_run=req.dry_run, internal=False, subresource=req.subresource,
                                       field_manager=field_manager(req))
        return 200, patched, {}

    def _apply(self, req: RestRequest) -> Answer:
        """Server-side apply with field ownership (``store.server_side_apply``); ``force=true``
        takes conflicting fields over."""
        if not req.param("fieldManager"):
            raise errors.bad_request("PATCH, application/apply-patch+yaml requires fieldManager to be set")
        if req.subresource:
            raise errors.bad_request("server-side apply of a subresource is not supported by the simulator")
        obj = named_body(req.body, req)
        with self.cluster.api_lock():
            code, result = self.store.server_side_apply(req.kind.key, req.name, obj, req.namespace or None,
                                                        field_manager=req.param("fieldManager") or "",
                                                        force=(req.param("force") or "") == "true",
                                                        dry_run=req.dry_run)
        return code, result, {}

    def _delete(self, req: RestRequest) -> Answer:
        options = req.body if isinstance(req.body, dict) else {}
        propagation = propagation_policy(options) or req.param("propagationPolicy")
        with self.cluster.api_lock():
            result = self.store.delete(req.kind.key, req.name, req.namespace or None, dry_run=req.dry_run,
                                       internal=False, propagation=propagation,
                                       preconditions=options.get("preconditions"),
                                       grace_period_seconds=grace_period(options, req))
        return 200, self.delete_response(req.kind, result), {}

    def _deletecollection(self, req: RestRequest) -> Answer:
        kind = req.kind
        options = req.body if isinstance(req.body, dict) else {}
        items = []
        with self.cluster.api_lock():
            for obj in self.select(req):
                meta = obj["metadata"]
                items.append(self.store.delete(kind.key, meta["name"], meta.get("namespace"), dry_run=req.dry_run,
                                               internal=False, propagation=propagation_policy(options),
                                               grace_period_seconds=grace_period(options, req)))
        return 200, {"kind": kind.list_kind, "apiVersion": kind.api_version,
                     "metadata": {"resourceVersion": str(self.store.resource_version)}, "items": items}, {}

    def delete_response(self, kind: Kind, result: Dict[str, Any]) -> Dict[str, Any]:
        """The terminating object while finalizers hold it; once gone, the object or a Status
        as the kind's strategy says."""
        meta = result["metadata"]
        if meta.get("deletionTimestamp") and self.store.peek(kind.key, meta["name"], meta.get("namespace")) is not None:
            return result  # still terminating
        if not self.store.strategy(kind).delete_answers_status:
            return result
        return errors.success_status(meta.get("name", ""), kind.group, kind.resource, meta.get("uid", ""))

    # ------------------------------------------------------------------ subresources
    def _custom_subresource(self, req: RestRequest) -> Answer:
        kind = req.kind
        handler = self.cluster.subresource_handler(kind.key, req.subresource)
        if handler is None:
            if req.virtual_group:
                raise errors.service_unavailable()  # the aggregated API has no backend
            if req.subresource == "scale" and "scale" in kind.subresources:
                return self._scale(req)
            if req.subresource == "finalize" and "finalize" in kind.subresources:
                return self._finalize(req)
            raise path_not_found()
        sub_request = SubresourceRequest(self.cluster, req.http.method, kind.key, kind, req.namespace, req.name,
                                         req.subresource, req.body, req.dry_run, req.http)
        with self.cluster.api_lock():
            result = handler(sub_request)
        response = as_response(result)
        headers = dict(response.headers)
        if response.content_type != "application/json":  # e.g. pods/log answers text/plain
            headers["Content-Type"] = response.content_type
        return response.code, response.body, headers

    def _finalize(self, req: RestRequest) -> Answer:
        """``namespaces/{name}/finalize`` (PUT): the one way to change a namespace's
        ``spec.finalizers`` (``pkg/registry/core/namespace/storage/storage.go`` ``FinalizeREST``)."""
        if req.http.method != "PUT":
            raise errors.method_not_allowed()
        obj = named_body(req.body, req)
        with self.cluster.api_lock():
            updated = self.store.update(req.kind.key, obj, req.namespace or None, dry_run=req.dry_run,
                                        internal=False, subresource="finalize")
        return 200, updated, {}

    def _scale(self, req: RestRequest) -> Answer:
        """The generic ``scale`` subresource of deployments/replicasets/statefulsets."""
        store, kind, ns = self.store, req.kind, req.namespace
        with self.cluster.api_lock():
            obj = store.must_get(kind.key, req.name, ns)
            if req.http.method in ("PUT", "PATCH"):
                replicas = ((req.body or {}).get("spec") or {}).get("replicas")
                if replicas is not None:
                    obj = store.patch(kind.key, req.name, {"spec": {"replicas": replicas}}, ns,
                                      dry_run=req.dry_run, internal=False)
            elif req.http.method != "GET":
                raise errors.method_not_allowed()
        meta = obj["metadata"]
        return 200, {"kind": "Scale", "apiVersion": "autoscaling/v1",
                     "metadata": {"name": meta["name"], "namespace": meta.get("namespace"), "uid": meta.get("uid"),
                                  "resourceVersion": meta.get("resourceVersion"),
                                  "creationTimestamp": meta.get("creationTimestamp")},
                     "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
                     "status": {"replicas": (obj.get("status") or {}).get("replicas", 0)}}, {}
