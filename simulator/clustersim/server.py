"""HTTP front end: authentication, routing, content negotiation, encoding, watch streams,
discovery and the /_sim admin endpoints.

Request flow: authenticate (client certificate, then bearer token) → impersonate and authorize
(``authz.py``) → decode the URL → apply fault rules → decode the body → the REST layer
(``registry.py``) answers → record in the request log → encode.  Writes run under the cluster lock; responses are serialised outside it (stored
objects are immutable, see ``tracker.py``).
"""
from __future__ import annotations

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

from . import aggregated_discovery, authz, errors, protobuf, table, tls
from .cluster import HttpRequest
from .errors import ApiError
from .kinds import Kind
from .registry import Registry, RestRequest, as_response, options_dry_run, path_not_found, query_dry_run, selectors
from .request_body import read_body
from .requestlog import RequestRecord, body_requests_dry_run
from .selectors import make_matcher
from .util import dumps
from .watch import CLOSE

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

KUBERNETES_VERSION = {
    "major": "1", "minor": "33", "gitVersion": "v1.33.5", "gitCommit": "clustersim", "gitTreeState": "clean",
    "buildDate": "2025-10-01T00:00:00Z", "goVersion": "go1.24.6", "compiler": "gc", "platform": "linux/amd64",
}
MAX_WATCH_SECONDS = 1800


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
        self.registry = Registry(cluster)
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
        self._watch_table: Optional[Callable[[Dict[str, Any]], Any]] = None  # set per watch (see _table_encoder)
        super().setup()  # first, so the handshake already goes out with Nagle off
        tls.handshake(self.request)  # in this connection's thread, not the accept loop
        self.client_certificate = tls.peer_certificate(self.request)  # one per TLS connection

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
        headers = dict(headers or {})
        content_type = headers.pop("Content-Type", content_type)  # a subresource's own media type
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-cache, private")
        for name, value in headers.items():
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
            request.user = self._authenticate()
            if request.user is None:  # 401, as a Status (or a Route host's plain text)
                refusal = authz.unauthenticated_answer(request.path)
                self._send(refusal.code, refusal.body, refusal.content_type, refusal.headers)
                return
            # impersonation, RBAC
            refusal = authz.authorize_request(self.cluster, request, self.headers.items(), self.path)
            if refusal is not None:
                self._send(refusal.code, refusal.body, refusal.content_type, refusal.headers)
                return
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

    def _authenticate(self) -> Any:
        """The caller's identity (``authn.UserInfo``) from the client certificate or the token,
        ``system:anonymous`` without either; None for a token nobody issued (answer 401)."""
        header = self.headers.get("Authorization")
        return self.cluster.controller("authentication").authenticate(header, self.client_certificate)

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
            response = as_response(route(request))
            log(response.code)
            self._send(response.code, response.body, response.content_type, response.headers)

    # ---------------------------------------------------------------- API requests
    def _handle_api(self, request: HttpRequest) -> None:
        path = request.path
        if path == "/version":
            self._record("discovery", "", "", "", "", False, 200, path)
            self._send(200, KUBERNETES_VERSION)
            return
        discovery_version = aggregated_discovery.wanted_discovery_version(request.headers.get("Accept"))
        if path in ("/api", "/apis") and discovery_version:
            self._record("discovery", "", "", "", "", False, 200, path)
            self._send(200, aggregated_discovery.discovery_list(self.cluster.kinds, path == "/api", discovery_version),
                       aggregated_discovery.content_type(discovery_version))
            return
        found = self._discovery_or_rest(path)
        if isinstance(found, dict):
            self._record("discovery", "", "", "", "", False, 200, path)
            self._send(200, found)
            return
        group, version, rest = found
        self._serve_resource(request, self._decode_target(group, version, rest))

    def _discovery_or_rest(self, path: str) -> Any:
        """The discovery document ``path`` names, or (group, version, remaining segments)."""
        segments = [s for s in path.split("/") if s]
        kinds = self.cluster.kinds
        if segments[0] == "api":
            group, rest = "", segments[1:]
            if not rest:
                return kinds.api_versions_doc()
        elif segments[0] == "apis":
            if len(segments) == 1:
                return kinds.api_group_list_doc()
            group, rest = segments[1], segments[2:]
            if not rest:
                doc = kinds.group_doc(group)
                if doc is None:
                    raise path_not_found()
                return dict(doc, kind="APIGroup", apiVersion="v1")
        else:
            raise path_not_found()
        version, rest = rest[0], rest[1:]
        if not rest:
            doc = kinds.resource_list_doc(group, version)
            if doc is None:
                raise path_not_found()
            return doc
        return group, version, rest

    def _decode_target(self, group: str, version: str, rest: List[str]) -> ApiTarget:
        kinds = self.cluster.kinds
        virtual = kinds.virtual_entries(group, version)
        if virtual is not None and kinds.by_gvr(group, version, rest[-1] if rest else "") is None:
            return self._decode_virtual(group, rest, virtual)
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3:
            candidate = kinds.by_gvr(group, version, rest[2])
            if candidate is not None and candidate.namespaced:
                namespace, rest = rest[1], rest[2:]
        kind = kinds.by_gvr(group, version, rest[0])
        if kind is None:
            raise path_not_found()
        name = rest[1] if len(rest) > 1 else ""
        if kind.namespaced and not namespace and name:
            raise path_not_found()
        return ApiTarget(kind, kind.key, namespace, name, "/".join(rest[2:]))

    def _decode_virtual(self, group: str, rest: List[str], virtual: List[Dict[str, Any]]) -> ApiTarget:
        """/apis/subresources.kubevirt.io/v1/namespaces/{ns}/virtualmachines/{name}/{sub}"""
        kinds = self.cluster.kinds
        served = {entry["name"] for entry in virtual}
        parents = {name.split("/")[0] for name in served}
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] in parents:
            namespace, rest = rest[1], rest[2:]
        if len(rest) < 3 or rest[0] not in parents:
            raise path_not_found()
        sub = "/".join(rest[2:])
        if f"{rest[0]}/{sub}" not in served:
            raise path_not_found()
        target_group = kinds.virtual_targets.get(group, group)
        kind = next((k for k in kinds.all() if k.group == target_group and k.resource == rest[0]), None)
        if kind is None:
            raise path_not_found()
        return ApiTarget(kind, kind.key, namespace, rest[1], sub, virtual_group=group)

    def _serve_resource(self, request: HttpRequest, target: ApiTarget) -> None:
        kind = target.kind
        assert kind is not None
        verb = _verb(request.method, target.name, _truthy(request.param("watch")))
        dry_run = query_dry_run(request.query)
        commits_before = self.cluster.store.commits_in_this_thread()

        def record(code: int) -> None:  # reads dry_run when called: the body may add to it
            was_dry_run = dry_run or body_requests_dry_run(target.subresource, request.body)
            changed = self.cluster.store.commits_in_this_thread() != commits_before
            self._record(verb, target.key, target.subresource, target.namespace, target.name, was_dry_run, code,
                         request.path, changed)

        with LogOnce(record) as log:
            self._apply_faults(verb, target.key, target.namespace, target.name, target.subresource)
            if verb == "watch":
                log(200)
                self._watch(request, target)
                return
            body = self._body(request)
            dry_run = dry_run or options_dry_run(verb, target.subresource, body)
            code, answer, headers = self.server.registry.handle(RestRequest(
                verb, kind, target.namespace, target.name, target.subresource, body, dry_run, request,
                target.virtual_group))
            if code == 200 and verb in ("get", "list") and not target.subresource:
                answer = self._as_table(request, kind, answer)
            log(code)
            self._send(code, answer, headers=headers)

    def _as_table(self, request: HttpRequest, kind: Kind, answer: Any) -> Any:
        """A ``meta.k8s.io`` Table when the client asks for one (kubectl get), see ``table.py``."""
        version = table.wanted_table_version(request.headers.get("Accept"))
        if version is None or not isinstance(answer, dict):
            return answer
        return table.to_table(kind, answer, version, request.param("includeObject"))

    def _body(self, request: HttpRequest) -> Any:
        """Content negotiation of the request body: JSON, or YAML for the YAML media types."""
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

    # ---------------------------------------------------------------- watch
    def _watch(self, request: HttpRequest, target: ApiTarget) -> None:
        labels, fields = selectors(request, target.kind)
        timeout = min(float(request.param("timeoutSeconds") or MAX_WATCH_SECONDS), MAX_WATCH_SECONDS)
        opened = self._open_watch(request, target, labels, fields)
        if opened is None:
            return
        initial, watcher = opened
        self._start_stream()
        self._watch_table = self._table_encoder(request, target.kind)
        try:
            for obj in initial:
                self._write_event({"type": "ADDED", "object": obj})
            self._stream(watcher, target.kind, timeout, _truthy(request.param("allowWatchBookmarks")))
            self._end_stream()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
        finally:
            watcher.stop()

    def _open_watch(self, request: HttpRequest, target: ApiTarget, labels: Any, fields: Any
                    ) -> Optional[Tuple[List[Dict[str, Any]], Any]]:
        """Subscribe under the lock: the current objects (no resourceVersion) or the history
        after one, then live events.  A too old resourceVersion streams one 410 ERROR event."""
        matcher = make_matcher(labels, fields)
        rv_param = request.param("resourceVersion") or ""
        ns = target.namespace or None
        with self.cluster.api_lock():
            if rv_param in ("", "0"):
                initial = self.cluster.store.list(target.key, ns, labels, fields, copy=False)
                return initial, self.cluster.watch.subscribe(target.key, ns, matcher)
            try:
                since = int(rv_param)
            except ValueError:
                raise errors.bad_request(f'invalid resource version "{rv_param}"') from None
            try:
                return [], self.cluster.watch.subscribe(target.key, ns, matcher, since)
            except ApiError as error:
                # The apiserver answers 200 and sends the 410 as an ERROR event.
                self._start_stream()
                self._write_event({"type": "ERROR", "object": error.to_status()})
                self._end_stream()
                return None

    def _stream(self, watcher: Any, kind: Kind, timeout: float, bookmarks: bool) -> None:
        deadline = time.monotonic() + timeout
        bookmark_every = self.cluster.duration("watch_bookmark_interval", 60.0)
        next_bookmark = time.monotonic() + bookmark_every
        while not self.server.stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if bookmarks and time.monotonic() >= next_bookmark:
                # A BOOKMARK carries only the current resourceVersion, so clients can resume
                # from it without replaying changes they did not care about.
                self._write_event({"type": "BOOKMARK", "object": {
                    "kind": kind.kind, "apiVersion": kind.api_version,
                    "metadata": {"resourceVersion": str(self.cluster.store.resource_version)}}})
                next_bookmark = time.monotonic() + bookmark_every
            wait = min(remaining, 0.5, next_bookmark - time.monotonic() if bookmarks else 0.5)
            try:
                item = watcher.queue.get(timeout=max(0.01, wait))
            except queue.Empty:
                continue
            if item is CLOSE:
                return
            event_type, obj = item
            self._write_event({"type": event_type, "object": obj})

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.flush()

    def _table_encoder(self, request: HttpRequest, kind: Kind) -> Optional[Callable[[Dict[str, Any]], Any]]:
        """For ``kubectl get -w``: each event's object as a one-row Table; the column definitions
        go with the first event only, as the apiserver's watch encoder sends them."""
        version = table.wanted_table_version(request.headers.get("Accept"))
        if version is None:
            return None
        sent = []

        def encode(obj: Dict[str, Any]) -> Any:
            converted = table.to_table(kind, obj, version, request.param("includeObject"))
            if sent:
                converted["columnDefinitions"] = []
            sent.append(True)
            return converted
        return encode

    def _write_event(self, event: Dict[str, Any]) -> None:
        encode = self._watch_table
        if encode is not None and event["type"] in ("ADDED", "MODIFIED", "DELETED"):
            event = {"type": event["type"], "object": encode(event["object"])}
        data = dumps(event) + b"\n"
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_stream(self) -> None:
        # The terminating chunk leaves the HTTP/1.1 connection reusable: clients pool it.
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # ---------------------------------------------------------------- /_sim admin API
    def _handle_admin(self, request: HttpRequest) -> None:
        handler = ADMIN_ENDPOINTS.get((request.path, request.method))
        if handler is None:
            raise path_not_found()
        code, body = handler(self.cluster, request, self._body)
        self._send(code, body)


def _admin_requests(cluster: "Cluster", request: HttpRequest, body: Callable[[HttpRequest], Any]) -> Tuple[int, Any]:
    return 200, cluster.requests.summary(_truthy(request.param("entries")), int(request.param("limit") or 1000))


def _admin_requests_reset(cluster: "Cluster", request: HttpRequest, body: Callable[[HttpRequest], Any]) -> Tuple[int, Any]:
    cluster.requests.reset()
    return 200, {"status": "reset"}


def _admin_reset(cluster: "Cluster", request: HttpRequest, body: Callable[[HttpRequest], Any]) -> Tuple[int, Any]:
    cluster.reset()
    cluster.requests.reset()
    return 200, {"status": "reset", "resourceVersion": str(cluster.store.resource_version)}


def _admin_dump(cluster: "Cluster", request: HttpRequest, body: Callable[[HttpRequest], Any]) -> Tuple[int, Any]:
    return 200, cluster.dump_state()


def _admin_load(cluster: "Cluster", request: HttpRequest, body: Callable[[HttpRequest], Any]) -> Tuple[int, Any]:
    return 200, {"status": "loaded", "objects": cluster.load_state(body(request))}


def _admin_faults(cluster: "Cluster", request: HttpRequest, body: Callable[[HttpRequest], Any]) -> Tuple[int, Any]:
    return 200, cluster.faults.describe()


def _admin_add_faults(cluster: "Cluster", request: HttpRequest, body: Callable[[HttpRequest], Any]) -> Tuple[int, Any]:
    given = body(request)
    specs = given if isinstance(given, list) else [given]
    try:
        added = [cluster.faults.add(spec) for spec in specs]
    except (TypeError, ValueError) as exc:
        raise errors.bad_request(str(exc)) from None
    return 201, {"added": added}


def _admin_clear_faults(cluster: "Cluster", request: HttpRequest, body: Callable[[HttpRequest], Any]) -> Tuple[int, Any]:
    cluster.faults.clear()
    return 200, {"status": "cleared"}


def _admin_settle(cluster: "Cluster", request: HttpRequest, body: Callable[[HttpRequest], Any]) -> Tuple[int, Any]:
    settled = cluster.settle(float(request.param("timeout") or 10))
    return (200 if settled else 504), {"settled": settled, "pending": cluster.runtime.pending()}


def _admin_status(cluster: "Cluster", request: HttpRequest, body: Callable[[HttpRequest], Any]) -> Tuple[int, Any]:
    return 200, cluster.status()


AdminHandler = Callable[["Cluster", HttpRequest, Callable[[HttpRequest], Any]], Tuple[int, Any]]
ADMIN_ENDPOINTS: Dict[Tuple[str, str], AdminHandler] = {
    ("/_sim/requests", "GET"): _admin_requests,
    ("/_sim/requests", "DELETE"): _admin_requests_reset,
    ("/_sim/reset", "POST"): _admin_reset,
    ("/_sim/state", "GET"): _admin_dump,
    ("/_sim/state", "PUT"): _admin_load,
    ("/_sim/state", "POST"): _admin_load,
    ("/_sim/faults", "GET"): _admin_faults,
    ("/_sim/faults", "POST"): _admin_add_faults,
    ("/_sim/faults", "DELETE"): _admin_clear_faults,
    ("/_sim/settle", "POST"): _admin_settle,
    ("/_sim/settle", "GET"): _admin_settle,
    ("/_sim/status", "GET"): _admin_status,
}


def _verb(method: str, name: str, watch: bool) -> str:
    """The Kubernetes verb of a resource request (what RBAC and the request log call it)."""
    if method == "GET":
        return "get" if name else ("watch" if watch else "list")
    if method == "DELETE":
        return "delete" if name else "deletecollection"
    verb = {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method)
    if verb is None:
        raise errors.method_not_allowed()
    return verb


def _truthy(value: Optional[str]) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


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
