"""HTTP front end: routing, authentication, discovery, CRUD/watch verbs, /_sim admin endpoints.

Request flow: authenticate → classify the URL → apply fault rules → serve → record in the
request log.  Writes run under the cluster lock; responses are serialised outside it (stored
objects are immutable, see ``store.py``).
"""
from __future__ import annotations

import base64
import json
import queue
import socket
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

from . import errors, protobuf, tls
from .cluster import HttpRequest, HttpResponse, SubresourceRequest
from .errors import ApiError
from .kinds import Kind
from .request_body import read_body
from .requestlog import RequestRecord, body_requests_dry_run
from .schema import check_fields, warning_header
from .selectors import make_matcher, parse_field_selector, parse_label_selector
from .util import dumps
from .watch import CLOSE

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

KUBERNETES_VERSION = {
    "major": "1", "minor": "33", "gitVersion": "v1.33.5", "gitCommit": "clustersim", "gitTreeState": "clean",
    "buildDate": "2025-10-01T00:00:00Z", "goVersion": "go1.24.6", "compiler": "gc", "platform": "linux/amd64",
}
PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}
UNAUTHENTICATED_PATHS = {"/healthz", "/readyz", "/livez", "/version"}
MAX_WATCH_SECONDS = 1800
CONTINUE_EXPIRED = ("The provided continue parameter is too old to display a consistent list result. You can start a "
                    "new list without the continue parameter, or use the continue token in this response to "
                    "retrieve the remainder of the results. Continuing with the provided token results in an "
                    "inconsistent list - objects that were created, modified, or deleted between the time the first "
                    "chunk was returned and now may show up in the list.")


@dataclass
class ApiTarget:
    """A resource URL, decoded."""

    kind: Optional[Kind]
    key: str
    namespace: str
    name: str
    subresource: str
    virtual_group: str = ""  # set for subresources.kubevirt.io style URLs


class DropConnection(Exception):
    """Raised to close the socket without an answer (fault injection)."""


class LogOnce:
    """Records a request in the request log exactly once, with the status it is answered with.

    Handlers call it with the status *before* the answer (or a watch stream) goes out, so a client
    that has its answer already finds its request in the log; leaving the block by an error records
    that error's status instead.
    """

    def __init__(self, record: Callable[[int], None]) -> None:
        self._record = record
        self._done = False

    def __call__(self, code: int) -> None:
        if not self._done:
            self._done = True
            self._record(code)

    def __enter__(self) -> "LogOnce":
        return self

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> bool:
        if isinstance(exc, ApiError):
            self(exc.code)
        elif isinstance(exc, DropConnection):
            self(0)
        else:
            self(500)  # an unexpected error, or a path that answered without logging
        return False


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, address: Tuple[str, int], cluster: "Cluster") -> None:
        self.cluster = cluster
        self.stopping = threading.Event()
        super().__init__(address, SimRequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not tls.is_client_gone(sys.exc_info()[1]):  # a failed TLS handshake is the client's business
            super().handle_error(request, client_address)


class SimRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the kubernetes client pools connections
    # Headers and body go out in separate writes; with Nagle + delayed ACKs every answer on a
    # kept-alive connection would wait ~40 ms.
    disable_nagle_algorithm = True
    server: SimHTTPServer
    server_version = "clustersim"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature from stdlib
        pass  # the request log replaces the access log

    def setup(self) -> None:
        super().setup()  # first, so the handshake already goes out with Nagle off
        tls.handshake(self.request)  # in this connection's thread, not the accept loop

    # ---------------------------------------------------------------- plumbing
    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    @property
    def cluster(self) -> "Cluster":
        return self.server.cluster

    def _read_body(self) -> bytes:
        return read_body(self.headers, self.rfile)

    def _send(self, code: int, body: Any, content_type: str = "application/json",
              headers: Optional[Dict[str, str]] = None) -> None:
        if isinstance(body, (dict, list)):
            payload = dumps(body)
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = body or b""
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-cache, private")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _send_error(self, error: ApiError) -> None:
        self._send(error.code, error.to_status(), headers=error.headers)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ---------------------------------------------------------------- entry point
    def _handle(self, method: str) -> None:
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        query = parse_qs(split.query, keep_blank_values=True)
        try:
            body = self._read_body()
            request = HttpRequest(method, path, query, {k: v for k, v in self.headers.items()}, body)
            if path in ("/healthz", "/readyz", "/livez"):
                self._send(200, "ok", "text/plain")
                return
            request.user = self._authenticate(path)
            if path.startswith("/_sim"):
                self._handle_admin(request)
                return
            route = self.cluster.find_route(method, path)
            if route is not None:
                self._handle_route(route, request)
                return
            self._handle_api(request)
        except DropConnection:
            self._drop()
        except ApiError as error:
            self._send_error(error)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # never leak a traceback as a hung connection
            import traceback

            traceback.print_exc()
            self._send_error(ApiError(500, "InternalError", f"Internal error occurred: {exc}"))

    def _authenticate(self, path: str) -> Any:
        """The caller's identity (``authn.UserInfo``); 401 for a token nobody issued."""
        header = self.headers.get("Authorization")
        if not header and path in UNAUTHENTICATED_PATHS:
            from .authn import ANONYMOUS

            return ANONYMOUS
        user = self.cluster.controller("authentication").authenticate(header)
        if user is None:
            raise errors.unauthorized()
        return user

    # ---------------------------------------------------------------- faults + logging
    def _apply_faults(self, verb: str, key: str, namespace: str, name: str, subresource: str) -> None:
        decision = self.cluster.faults.check(verb, key, namespace, name, subresource)
        if decision is None:
            return
        if decision.latency:
            time.sleep(decision.latency)
        if decision.drop:
            raise DropConnection()
        if decision.code is not None:
            raise errors.error_for_code(decision.code, decision.message, decision.retry_after)

    def _record(self, verb: str, key: str, subresource: str, namespace: str, name: str, dry_run: bool,
                code: int, path: str, changed: bool = False) -> None:
        self.cluster.requests.record(RequestRecord(verb, key, subresource, namespace, name, dry_run, code, path,
                                                   changed))

    # ---------------------------------------------------------------- non-resource endpoints
    def _handle_route(self, route: Any, request: HttpRequest) -> None:
        with LogOnce(lambda code: self._record("proxy", "", "", "", request.path, False, code, request.path)) as log:
            self._apply_faults("proxy", "proxy", "", request.path, "")
            response = _as_response(route(request))
            log(response.code)
            self._send(response.code, response.body, response.content_type, response.headers)

    # ---------------------------------------------------------------- API requests
    def _handle_api(self, request: HttpRequest) -> None:
        path = request.path
        if path == "/version":
            self._record("discovery", "", "", "", "", False, 200, path)
            self._send(200, KUBERNETES_VERSION)
            return
        segments = [s for s in path.split("/") if s]
        kinds = self.cluster.kinds
        if segments[0] == "api":
            group, rest = "", segments[1:]
            if not rest:
                return self._discovery(kinds.api_versions_doc(), path)
        elif segments[0] == "apis":
            if len(segments) == 1:
                return self._discovery(kinds.api_group_list_doc(), path)
            group, rest = segments[1], segments[2:]
            if not rest:
                doc = kinds.group_doc(group)
                if doc is None:
                    raise _path_not_found()
                return self._discovery(dict(doc, kind="APIGroup", apiVersion="v1"), path)
        else:
            raise _path_not_found()
        version, rest = rest[0], rest[1:]
        if not rest:
            doc = kinds.resource_list_doc(group, version)
            if doc is None:
                raise _path_not_found()
            return self._discovery(doc, path)
        target = self._decode_target(group, version, rest)
        self._serve_resource(request, target)

    def _discovery(self, doc: Dict[str, Any], path: str) -> None:
        self._record("discovery", "", "", "", "", False, 200, path)
        self._send(200, doc)

    def _decode_target(self, group: str, version: str, rest: List[str]) -> ApiTarget:
        kinds = self.cluster.kinds
        virtual = kinds.virtual_entries(group, version)
        if virtual is not None and kinds.by_gvr(group, version, rest[-1] if rest else "") is None:
            # /apis/subresources.kubevirt.io/v1/namespaces/{ns}/virtualmachines/{name}/{sub}
            parents = {entry["name"].split("/")[0] for entry in virtual}
            namespace = ""
            if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] in parents:
                namespace, rest = rest[1], rest[2:]
            if len(rest) < 3 or rest[0] not in parents:
                raise _path_not_found()
            sub = "/".join(rest[2:])
            if f"{rest[0]}/{sub}" not in {entry["name"] for entry in virtual}:
                raise _path_not_found()
            target_group = kinds.virtual_targets.get(group, group)
            kind = next((k for k in kinds.all() if k.group == target_group and k.resource == rest[0]), None)
            if kind is None:
                raise _path_not_found()
            return ApiTarget(kind, kind.key, namespace, rest[1], sub, virtual_group=group)
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3:
            candidate = kinds.by_gvr(group, version, rest[2])
            if candidate is not None and candidate.namespaced:
                namespace, rest = rest[1], rest[2:]
        kind = kinds.by_gvr(group, version, rest[0])
        if kind is None:
            raise _path_not_found()
        name = rest[1] if len(rest) > 1 else ""
        sub = "/".join(rest[2:])
        if kind.namespaced and not namespace and name:
            raise _path_not_found()
        return ApiTarget(kind, kind.key, namespace, name, sub)

    def _serve_resource(self, request: HttpRequest, target: ApiTarget) -> None:
        method = request.method
        kind = target.kind
        assert kind is not None
        watch = _truthy(request.param("watch"))
        if method == "GET":
            verb = "get" if target.name else ("watch" if watch else "list")
        elif method == "POST":
            verb = "create"
        elif method == "PUT":
            verb = "update"
        elif method == "PATCH":
            verb = "patch"
        elif method == "DELETE":
            verb = "delete" if target.name else "deletecollection"
        else:
            raise errors.method_not_allowed()
        dry_run = self._dry_run(request)
        commits_before = self.cluster.store.commits_in_this_thread()
        self._body_dry_run = False

        def record(code: int) -> None:
            was_dry_run = dry_run or self._body_dry_run or body_requests_dry_run(target.subresource, request.body)
            changed = self.cluster.store.commits_in_this_thread() != commits_before
            self._record(verb, target.key, target.subresource, target.namespace, target.name, was_dry_run, code,
                         request.path, changed)

        with LogOnce(record) as log:
            self._apply_faults(verb, target.key, target.namespace, target.name, target.subresource)
            if verb == "watch":
                log(200)
                self._watch(request, target)
                return
            code, body, headers = self._dispatch(request, target, verb, dry_run)
            log(code)
            self._send(code, body, headers=headers)

    def _dry_run(self, request: HttpRequest) -> bool:
        values = request.query.get("dryRun") or []
        for value in values:
            if value != "All":
                raise errors.bad_request(f'Invalid dry run value "{value}": only "All" is supported')
        return bool(values)

    def _body(self, request: HttpRequest) -> Any:
        if not request.body:
            return None
        content_type = (request.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        if content_type == protobuf.CONTENT_TYPE:
            return protobuf.decode_body(request.body)
        text = request.body.decode()
        try:
            if content_type in ("application/yaml", "application/apply-patch+yaml"):
                import yaml

                return yaml.safe_load(text)
            return json.loads(text)
        except Exception as exc:
            raise errors.bad_request(f"couldn't get version/kind; json parse error: {exc}") from None

    def _dispatch(self, request: HttpRequest, target: ApiTarget, verb: str, dry_run: bool
                  ) -> Tuple[int, Any, Dict[str, str]]:
        kind = target.kind
        store = self.cluster.store
        ns = target.namespace or None
        if target.subresource and target.subresource != "status":
            return self._custom_subresource(request, target, dry_run)
        if target.subresource == "status" and "status" not in kind.subresources:
            raise _path_not_found()
        if verb in ("create", "deletecollection", "list") and target.subresource:
            raise errors.method_not_allowed()
        if verb not in kind.verbs and not target.subresource:
            raise errors.method_not_allowed(f"the server does not allow this method on the requested resource")
        if verb == "get":
            return 200, store.must_get(kind.key, target.name, ns), {}
        if verb == "list":
            return 200, self._list(request, target), {}
        body = self._body(request)
        warnings = self._field_validation(request, kind, body, verb)
        code, result, headers = self._write(request, target, verb, dry_run, body)
        if warnings:
            headers = dict(headers, **warning_header(warnings))
        return code, result, headers

    def _field_validation(self, request: HttpRequest, kind: Kind, body: Any, verb: str) -> List[str]:
        """``fieldValidation``: Ignore drops unknown fields silently, Warn (the default) also
        answers a Warning header, Strict refuses the request, as the apiserver does for
        structural schemas and built-in types.  Only kinds with a pruning schema are checked."""
        mode = request.param("fieldValidation")
        content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip()
        if verb not in ("create", "update", "patch") or content_type == "application/json-patch+json":
            check_fields(mode, kind.kind, kind.version, None, None)  # still rejects a bad mode
            return []
        return check_fields(mode, kind.kind, kind.version, body, kind.schema)

    def _write(self, request: HttpRequest, target: ApiTarget, verb: str, dry_run: bool, body: Any
               ) -> Tuple[int, Any, Dict[str, str]]:
        kind = target.kind
        store = self.cluster.store
        ns = target.namespace or None
        if verb == "create":
            obj = self._check_body(body, kind, target)
            with self.cluster.api_lock():
                created = store.create(kind.key, obj, ns, dry_run=dry_run, internal=False)
            return 201, created, {}
        if verb == "update":
            obj = self._check_body(body, kind, target)
            meta = obj.setdefault("metadata", {})
            if meta.get("name") and meta["name"] != target.name:
                raise errors.bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({target.name})")
            meta["name"] = target.name
            if not kind.builtin and not meta.get("resourceVersion"):
                # Custom resources do not allow unconditional updates (AllowUnconditionalUpdate=false).
                raise errors.invalid(kind.kind, target.name, [errors.FieldCause(
                    "metadata.resourceVersion", "Invalid value: 0x0: must be specified for an update")], kind.group)
            with self.cluster.api_lock():
                updated = store.update(kind.key, obj, ns, dry_run=dry_run, internal=False,
                                       subresource=target.subresource)
            return 200, updated, {}
        if verb == "patch":
            content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip()
            patch_type = PATCH_TYPES.get(content_type)
            if patch_type is None:
                raise errors.unsupported_media_type(content_type, list(PATCH_TYPES))
            if patch_type == "apply":
                return self._server_side_apply(request, target, body, dry_run)
            with self.cluster.api_lock():
                patched = store.patch(kind.key, target.name, body, ns, patch_type=patch_type, dry_run=dry_run,
                                      internal=False, subresource=target.subresource)
            return 200, patched, {}
        if verb == "delete":
            options = body if isinstance(body, dict) else {}
            if "All" in (options.get("dryRun") or []) and not dry_run:
                dry_run = self._body_dry_run = True  # DeleteOptions may carry dryRun in the body
            propagation = options.get("propagationPolicy") or request.param("propagationPolicy")
            with self.cluster.api_lock():
                result = store.delete(kind.key, target.name, ns, dry_run=dry_run, internal=False,
                                      propagation=propagation, preconditions=options.get("preconditions"))
            return 200, self._delete_response(kind, result), {}
        if verb == "deletecollection":
            options = body if isinstance(body, dict) else {}
            items = []
            with self.cluster.api_lock():
                for obj in self._select(request, target):
                    meta = obj["metadata"]
                    items.append(store.delete(kind.key, meta["name"], meta.get("namespace"), dry_run=dry_run,
                                              internal=False, propagation=options.get("propagationPolicy")))
            return 200, {"kind": kind.list_kind, "apiVersion": kind.api_version,
                         "metadata": {"resourceVersion": str(store.resource_version)}, "items": items}, {}
        raise errors.method_not_allowed()

    def _check_body(self, body: Any, kind: Kind, target: ApiTarget) -> Dict[str, Any]:
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be a JSON object")
        api_version, kind_name = body.get("apiVersion"), body.get("kind")
        if (api_version and api_version != kind.api_version) or (kind_name and kind_name != kind.kind):
            raise errors.bad_request(f"the API version in the data ({api_version}) does not match the expected API "
                                     f"version ({kind.api_version})" if api_version != kind.api_version else
                                     f"the kind in the data ({kind_name}) does not match the expected kind ({kind.kind})")
        meta = body.get("metadata") or {}
        if kind.namespaced and meta.get("namespace") and meta["namespace"] != target.namespace:
            raise errors.bad_request("the namespace of the provided object does not match the namespace sent on the request")
        return body

    def _delete_response(self, kind: Kind, result: Dict[str, Any]) -> Dict[str, Any]:
        """Objects still terminating (finalizers) and custom resources answer with the object;
        built-in kinds deleted at once answer a Success Status, like their registries do."""
        if result["metadata"].get("deletionTimestamp") and self.cluster.store.peek(
                kind.key, result["metadata"]["name"], result["metadata"].get("namespace")) is not None:
            return result  # still terminating
        if not kind.builtin or kind.key == "pods":
            return result
        meta = result["metadata"]
        return errors.success_status(meta.get("name", ""), kind.group, kind.resource, meta.get("uid", ""))

    # ---------------------------------------------------------------- list / watch
    def _selectors(self, request: HttpRequest, kind: Kind) -> Tuple[Any, Any]:
        labels = parse_label_selector(request.param("labelSelector"))
        fields = parse_field_selector(request.param("fieldSelector"), kind.field_selectors, kind.kind)
        return labels, fields

    def _select(self, request: HttpRequest, target: ApiTarget) -> List[Dict[str, Any]]:
        labels, fields = self._selectors(request, target.kind)
        return self.cluster.store.list(target.key, target.namespace or None, labels, fields, copy=False)

    def _list(self, request: HttpRequest, target: ApiTarget) -> Dict[str, Any]:
        kind = target.kind
        limit = int(request.param("limit") or 0)
        token = request.param("continue")
        # Read the resourceVersion first: a watch started from it may replay a change the list
        # already shows (harmless), but never misses one.
        rv = self.cluster.store.resource_version
        items = self._select(request, target)
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
            if isinstance(token_rv, int) and token_rv < self.cluster.watch.floor_rv:
                # etcd has compacted the revision the token pins: 410 with an "inconsistent"
                # token that resumes at the same position against the current state.
                inconsistent = base64.urlsafe_b64encode(json.dumps(
                    {"rv": rv, "start": list(after)}).encode()).decode()
                raise ApiError(410, "Expired", CONTINUE_EXPIRED, metadata={"continue": inconsistent})
        metadata: Dict[str, Any] = {"resourceVersion": str(rv)}
        page = items[start:]
        if limit and len(page) > limit:
            page = page[:limit]
            last = page[-1]["metadata"]
            metadata["continue"] = base64.urlsafe_b64encode(json.dumps(
                {"rv": rv, "start": [last.get("namespace", ""), last["name"]]}).encode()).decode()
            metadata["remainingItemCount"] = len(items) - start - limit
        return {"kind": kind.list_kind, "apiVersion": kind.api_version, "metadata": metadata, "items": page}

    def _watch(self, request: HttpRequest, target: ApiTarget) -> None:
        kind = target.kind
        labels, fields = self._selectors(request, kind)
        matcher = make_matcher(labels, fields)
        rv_param = request.param("resourceVersion") or ""
        timeout = min(float(request.param("timeoutSeconds") or MAX_WATCH_SECONDS), MAX_WATCH_SECONDS)
        initial: List[Dict[str, Any]] = []
        with self.cluster.api_lock():
            if rv_param in ("", "0"):
                initial = self.cluster.store.list(target.key, target.namespace or None, labels, fields, copy=False)
                watcher = self.cluster.watch.subscribe(target.key, target.namespace or None, matcher)
            else:
                try:
                    since = int(rv_param)
                except ValueError:
                    raise errors.bad_request(f'invalid resource version "{rv_param}"') from None
                try:
                    watcher = self.cluster.watch.subscribe(target.key, target.namespace or None, matcher, since)
                except ApiError as error:
                    # The apiserver answers 200 and sends the 410 as an ERROR event.
                    self._start_stream()
                    self._write_event({"type": "ERROR", "object": error.to_status()})
                    self._end_stream()
                    return
        self._start_stream()
        deadline = time.monotonic() + timeout
        bookmarks = _truthy(request.param("allowWatchBookmarks"))
        bookmark_every = self.cluster.duration("watch_bookmark_interval", 60.0)
        next_bookmark = time.monotonic() + bookmark_every
        try:
            for obj in initial:
                self._write_event({"type": "ADDED", "object": obj})
            while not self.server.stopping.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                if bookmarks and time.monotonic() >= next_bookmark:
                    # A BOOKMARK carries only the current resourceVersion, so clients can resume
                    # from it without replaying changes they did not care about.
                    self._write_event({"type": "BOOKMARK", "object": {
                        "kind": kind.kind, "apiVersion": kind.api_version,
                        "metadata": {"resourceVersion": str(self.cluster.store.resource_version)}}})
                    next_bookmark = time.monotonic() + bookmark_every
                try:
                    item = watcher.queue.get(timeout=max(0.01, min(remaining, 0.5, next_bookmark - time.monotonic()
                                                                    if bookmarks else 0.5)))
                except queue.Empty:
                    continue
                if item is CLOSE:
                    break
                event_type, obj = item
                self._write_event({"type": event_type, "object": obj})
            self._end_stream()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
        finally:
            watcher.stop()

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.flush()

    def _write_event(self, event: Dict[str, Any]) -> None:
        data = dumps(event) + b"\n"
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_stream(self) -> None:
        # The terminating chunk leaves the HTTP/1.1 connection reusable: clients pool it.
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # ---------------------------------------------------------------- subresources
    def _custom_subresource(self, request: HttpRequest, target: ApiTarget, dry_run: bool
                            ) -> Tuple[int, Any, Dict[str, str]]:
        kind = target.kind
        handler = self.cluster.subresource_handler(target.key, target.subresource)
        if handler is None:
            if target.virtual_group:
                raise errors.service_unavailable()  # the aggregated API has no backend
            if target.subresource == "scale" and "scale" in kind.subresources:
                return self._scale(request, target, dry_run)
            raise _path_not_found()
        sub_request = SubresourceRequest(self.cluster, request.method, target.key, kind, target.namespace,
                                         target.name, target.subresource, self._body(request), dry_run, request)
        with self.cluster.api_lock():
            result = handler(sub_request)
        response = _as_response(result)
        return response.code, response.body, response.headers

    def _scale(self, request: HttpRequest, target: ApiTarget, dry_run: bool) -> Tuple[int, Any, Dict[str, str]]:
        """The generic ``scale`` subresource of deployments/replicasets/statefulsets."""
        store, kind, ns = self.cluster.store, target.kind, target.namespace
        with self.cluster.api_lock():
            obj = store.must_get(kind.key, target.name, ns)
            if request.method in ("PUT", "PATCH"):
                body = self._body(request) or {}
                replicas = (body.get("spec") or {}).get("replicas")
                if replicas is not None:
                    obj = store.patch(kind.key, target.name, {"spec": {"replicas": replicas}}, ns,
                                      dry_run=dry_run, internal=False)
            elif request.method != "GET":
                raise errors.method_not_allowed()
        meta = obj["metadata"]
        return 200, {"kind": "Scale", "apiVersion": "autoscaling/v1",
                     "metadata": {"name": meta["name"], "namespace": meta.get("namespace"), "uid": meta.get("uid"),
                                  "resourceVersion": meta.get("resourceVersion"),
                                  "creationTimestamp": meta.get("creationTimestamp")},
                     "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
                     "status": {"replicas": (obj.get("status") or {}).get("replicas", 0)}}, {}

    def _server_side_apply(self, request: HttpRequest, target: ApiTarget, body: Any, dry_run: bool
                           ) -> Tuple[int, Any, Dict[str, str]]:
        """A simplified server-side apply: create when missing, otherwise merge the applied
        configuration into the object (no field ownership, no conflicts, no removals)."""
        if not request.param("fieldManager"):
            raise errors.bad_request("PATCH, application/apply-patch+yaml requires fieldManager to be set")
        kind = target.kind
        obj = self._check_body(body, kind, target)
        meta = obj.setdefault("metadata", {})
        if meta.get("name") and meta["name"] != target.name:
            raise errors.bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({target.name})")
        meta["name"] = target.name
        store, ns = self.cluster.store, target.namespace or None
        with self.cluster.api_lock():
            if store.peek(kind.key, target.name, ns) is None:
                return 201, store.create(kind.key, obj, ns, dry_run=dry_run, internal=False), {}
            patch_type = "strategic" if kind.builtin else "merge"
            return 200, store.patch(kind.key, target.name, obj, ns, patch_type=patch_type, dry_run=dry_run,
                                    internal=False, subresource=target.subresource), {}

    # ---------------------------------------------------------------- /_sim admin API
    def _handle_admin(self, request: HttpRequest) -> None:
        cluster, method, path = self.cluster, request.method, request.path
        if path == "/_sim/requests":
            if method == "GET":
                include = _truthy(request.param("entries"))
                return self._send(200, cluster.requests.summary(include, int(request.param("limit") or 1000)))
            if method == "DELETE":
                cluster.requests.reset()
                return self._send(200, {"status": "reset"})
        elif path == "/_sim/reset" and method == "POST":
            cluster.reset()
            cluster.requests.reset()
            return self._send(200, {"status": "reset", "resourceVersion": str(cluster.store.resource_version)})
        elif path == "/_sim/state":
            if method == "GET":
                return self._send(200, cluster.dump_state())
            if method in ("PUT", "POST"):
                count = cluster.load_state(self._body(request))
                return self._send(200, {"status": "loaded", "objects": count})
        elif path == "/_sim/faults":
            if method == "GET":
                return self._send(200, cluster.faults.describe())
            if method == "POST":
                body = self._body(request)
                specs = body if isinstance(body, list) else [body]
                try:
                    added = [cluster.faults.add(spec) for spec in specs]
                except (TypeError, ValueError) as exc:
                    raise errors.bad_request(str(exc)) from None
                return self._send(201, {"added": added})
            if method == "DELETE":
                cluster.faults.clear()
                return self._send(200, {"status": "cleared"})
        elif path == "/_sim/settle" and method in ("POST", "GET"):
            settled = cluster.settle(float(request.param("timeout") or 10))
            return self._send(200 if settled else 504, {"settled": settled, "pending": cluster.runtime.pending()})
        elif path == "/_sim/status" and method == "GET":
            return self._send(200, cluster.status())
        raise _path_not_found()


def _as_response(result: Any) -> HttpResponse:
    if isinstance(result, HttpResponse):
        return result
    if isinstance(result, tuple):
        code, body = result[0], result[1]
        headers = result[2] if len(result) > 2 else {}
        return HttpResponse(code, body, headers=headers)
    return HttpResponse(200, result)


def _truthy(value: Optional[str]) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


def _path_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def _tune_thread_switching() -> None:
    """Let request threads get the GIL sooner while a controller callback is busy computing
    (the default 5 ms switch interval adds up to several ms to every request at scale)."""
    if sys.getswitchinterval() > 0.001:
        sys.setswitchinterval(0.001)


class SimServer:
    """Owns the HTTP server thread for a cluster."""

    def __init__(self, cluster: "Cluster", host: str = "127.0.0.1", port: int = 0,
                 serving: Optional[tls.ServingMaterial] = None) -> None:
        """``serving``: the certificate to answer HTTPS with; None serves plain HTTP."""
        self.cluster = cluster
        self.httpd = SimHTTPServer((host, port), cluster)
        if serving is not None:
            tls.wrap_listener(self.httpd, serving)
        self.scheme = "https" if serving is not None else "http"
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def start(self) -> "SimServer":
        _tune_thread_switching()
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="clustersim-http", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        _tune_thread_switching()
        self.httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self.httpd.stopping.set()
        self.cluster.watch.close_all()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.cluster.stop()
