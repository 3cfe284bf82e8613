"""The ``Cluster``: store, kinds, admission, controller runtime, faults and extension points.

This is the object every simulated controller holds as ``self.cluster``; see the package docstring
(``clustersim/__init__.py``) for the contract.
"""
from __future__ import annotations

import contextlib
import sys
import threading
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

from . import errors
from .admission import AdmissionChain, AdmissionHook
from .config import Config
from .errors import ApiError
from .faults import FaultInjector
from .kinds import Kind, KindRegistry, default_registry
from .requestlog import RequestLog
from .runtime import Runtime, Task
from .store import Store
from .util import clone
from .watch import WatchHub

ChangeHandler = Callable[[str, Optional[Dict[str, Any]], Optional[Dict[str, Any]]], None]


@dataclass
class HttpRequest:
    """A raw HTTP request handed to ``add_route`` handlers and subresource handlers."""

    method: str
    path: str
    query: Dict[str, List[str]]
    headers: Dict[str, str]
    body: bytes = b""
    user: Any = None  # the authenticated identity, an ``authn.UserInfo`` (set by the server)

    def json(self) -> Any:
        import json

        return json.loads(self.body.decode() or "null")

    def param(self, name: str, default: Optional[str] = None) -> Optional[str]:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class HttpResponse:
    code: int = 200
    body: Any = None  # dict/list → JSON; bytes/str sent as is
    content_type: str = "application/json"
    headers: Dict[str, str] = field(default_factory=dict)


@dataclass
class SubresourceRequest:
    """What a ``cluster.add_subresource`` handler receives."""

    cluster: "Cluster"
    method: str  # GET, POST, PUT, PATCH, DELETE
    key: str  # resource key of the parent, e.g. "kubevirt.io/virtualmachines"
    kind: Kind
    namespace: str
    name: str
    subresource: str
    body: Any  # parsed JSON body (None when empty)
    dry_run: bool
    http: HttpRequest


RouteHandler = Callable[[HttpRequest], Union[HttpResponse, Tuple[int, Any]]]
SubresourceHandler = Callable[[SubresourceRequest], Union[HttpResponse, Tuple[int, Any], Dict[str, Any]]]
EvictionHook = Callable[["Cluster", Dict[str, Any], Dict[str, Any], bool], Optional[bool]]


class Cluster:
    def __init__(self, config: Optional[Config] = None) -> None:
        self.config = config or Config()
        from . import authn, authz_reviews, builtin_admission, eviction, openapi, rbac_escalation

        self.token = self.config.token or authn.new_admin_token()
        self.lock = threading.RLock()
        self._api_waiting_guard = threading.Lock()
        self._api_waiting = 0  # HTTP requests queued for the lock; the controller lets them go first
        self.kinds: KindRegistry = default_registry()
        self.hidden_keys = self.kinds.hide_group_versions(self.config.hidden_apis)
        self.admission = AdmissionChain()
        self.watch = WatchHub(self.config.watch_history)
        self.runtime = Runtime(self.lock, lambda: self._api_waiting > 0)
        self.store = Store(self)
        # Every commit fans out to watchers, then to the controllers' change handlers.
        self.store.tracker.add_listener(self.watch.publish)
        self.store.tracker.add_listener(self._on_commit)
        self.faults = FaultInjector()
        self.requests = RequestLog()
        self.operator_errors: List[str] = []
        self.operators: List[str] = []
        self._handlers: Dict[str, List[ChangeHandler]] = defaultdict(list)
        self._subresources: Dict[Tuple[str, str], SubresourceHandler] = {}
        self._routes: List[Tuple[str, str, RouteHandler]] = []
        self._reset_hooks: List[Callable[[], None]] = []
        self.eviction_hooks: List[EvictionHook] = []
        self._controllers: Dict[str, Any] = {}
        for spec in self.config.faults:
            self.faults.add(spec)
        builtin_admission.register(self)
        eviction.register(self)
        authn.install(self)
        authz_reviews.install(self)
        rbac_escalation.install(self)
        openapi.install(self)

    # ------------------------------------------------------------------ controller registry
    def register_controller(self, controller: Any) -> None:
        """Make ``controller`` findable by its ``name`` (see ``clustersim.controller``)."""
        if not controller.name:
            raise ValueError(f"{type(controller).__name__} has no name")
        if controller.name in self._controllers:
            raise ValueError(f"a controller named {controller.name!r} is already registered")
        self._controllers[controller.name] = controller

    def controller(self, name: str) -> Any:
        """The registered controller ``name``; LookupError when that operator is not loaded."""
        try:
            return self._controllers[name]
        except KeyError:
            raise LookupError(f"no simulated controller named {name!r} is loaded") from None

    def has_controller(self, name: str) -> bool:
        return name in self._controllers

    # ------------------------------------------------------------------ extension points
    def on_change(self, key: str, fn: ChangeHandler) -> None:
        """Call ``fn(event_type, new, old)`` on the controller thread after each committed change
        of ``key`` (``"*"`` = every kind).  ``event_type`` is ADDED, MODIFIED or DELETED;
        for DELETED ``new`` is None and ``old`` is the last state.  Objects are copies."""
        self._handlers[key].append(fn)

    def add_admission(self, key: str, fn: AdmissionHook, mutating: bool = False) -> None:
        """Register an admission hook (see ``clustersim.admission.AdmissionRequest``)."""
        self.admission.add(key, fn, mutating)

    def add_subresource(self, key: str, subresource: str, fn: SubresourceHandler,
                        kind: str = "", verbs: Tuple[str, ...] = ("create",), group: str = "",
                        version: str = "", discover: bool = True) -> None:
        """Serve ``<key>/<subresource>`` with ``fn(SubresourceRequest)``.

        ``fn`` returns an ``HttpResponse``, a ``(code, body)`` tuple, or a dict (200).  When the
        subresource is new to discovery it is added to the kind (``discover=True``).  KubeVirt's
        ``subresources.kubevirt.io`` endpoints are registered on the parent key, e.g.
        ``add_subresource("kubevirt.io/virtualmachines", "addvolume", fn)``; they are already
        listed in discovery.
        """
        self._subresources[(key, subresource)] = fn
        owner = self.kinds.get(key)
        if discover and subresource not in owner.subresources and not self._is_virtual(key, subresource):
            self.kinds.add_subresource(key, subresource, kind, verbs, group, version)

    def _is_virtual(self, key: str, subresource: str) -> bool:
        kind = self.kinds.get(key)
        for entry in self.kinds.virtual_entries("subresources.kubevirt.io", "v1") or []:
            if entry["name"] == f"{kind.resource}/{subresource}" and kind.group == "kubevirt.io":
                return True
        return False

    def subresource_handler(self, key: str, subresource: str) -> Optional[SubresourceHandler]:
        return self._subresources.get((key, subresource))

    def add_route(self, method: str, path_prefix: str, fn: RouteHandler) -> None:
        """Serve non-Kubernetes HTTP endpoints (checked before API routing; token required)."""
        self._routes.append((method.upper(), path_prefix, fn))
        self._routes.sort(key=lambda r: -len(r[1]))  # longest prefix wins

    def find_route(self, method: str, path: str) -> Optional[RouteHandler]:
        for route_method, prefix, fn in self._routes:
            if route_method in (method, "*") and path.startswith(prefix):
                return fn
        return None

    def add_eviction_hook(self, fn: EvictionHook) -> None:
        """``fn(cluster, pod, eviction, dry_run)`` runs before the PDB check of a pod eviction.
        Raise ApiError to refuse (e.g. 429), return True when the hook handled the eviction
        (answer 201 without deleting), None to continue with the default behaviour."""
        self.eviction_hooks.append(fn)

    def on_reset(self, fn: Callable[[], None]) -> None:
        """Called (with the lock held) when the cluster is reset, before reseeding: drop any
        private operator state."""
        self._reset_hooks.append(fn)

    def after(self, seconds: float, fn: Callable[..., Any], *args: Any, background: bool = False) -> Task:
        """Run ``fn(*args)`` on the controller thread (with the lock held) after ``seconds``."""
        return self.runtime.after(seconds, fn, *args, background=background)

    def duration(self, name: str, default: float) -> float:
        return self.config.duration(name, default)

    @contextlib.contextmanager
    def api_lock(self) -> Iterator[None]:
        """The cluster lock for an HTTP request: the controller thread yields to waiting requests
        between callbacks, so API writes never queue behind a burst of operator work."""
        with self._api_waiting_guard:
            self._api_waiting += 1
        try:
            self.lock.acquire()
        finally:
            with self._api_waiting_guard:
                self._api_waiting -= 1
        try:
            yield
        finally:
            self.lock.release()

    # ------------------------------------------------------------------ change dispatch
    def _on_commit(self, event: Any) -> None:
        self.dispatch_change(event.key, event.type, event.obj, event.old)

    def dispatch_change(self, key: str, event_type: str, obj: Dict[str, Any], old: Optional[Dict[str, Any]]) -> None:
        """Called for every committed change (with the lock held)."""
        handlers = self._handlers.get(key, []) + self._handlers.get("*", [])
        if not handlers:
            return
        new = None if event_type == "DELETED" else obj
        last = old if event_type != "DELETED" else (old or obj)
        self.runtime.submit(self._deliver, tuple(handlers), event_type, new, last)

    def _deliver(self, handlers: Tuple[ChangeHandler, ...], event_type: str,
                 new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        for fn in handlers:
            try:
                fn(event_type, clone(new) if new is not None else None, clone(old) if old is not None else None)
            except Exception:
                text = f"on_change handler {getattr(fn, '__qualname__', fn)} failed:\n{traceback.format_exc()}"
                self.runtime.errors.append(text)
                print(text, file=sys.stderr, flush=True)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.runtime.start()

    def stop(self) -> None:
        self.watch.close_all()
        self.runtime.stop()

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until the simulated operators have nothing left to do right now."""
        return self.runtime.settle(timeout)

    def load_operators(self) -> None:
        from .operators import load_operators

        load_operators(self)

    def seed(self) -> None:
        """Populate the store from ``--state`` if given, else from the configured profile."""
        if self.config.state_file:
            from .config import load_json_or_path

            self.load_state(load_json_or_path(self.config.state_file))
            return
        from .seed import seed_profile

        seed_profile(self, self.config.profile)
        self._drop_unserved()

    def _drop_unserved(self) -> None:
        """A cluster without a CRD has none of its objects: seeded ones of hidden kinds go."""
        for key in self.hidden_keys:
            for obj in self.store.list(key):
                meta = obj["metadata"]
                self.store.delete(key, meta["name"], meta.get("namespace"))

    def reset(self) -> None:
        """Drop every object, pending task and fault; reseed.  Open watches end with 410."""
        with self.lock:
            self.runtime.cancel_all()
            self.watch.close_all(errors.gone("the simulator was reset; relist"))
            for hook in self._reset_hooks:
                hook()
            self.store.clear()
            self.watch.reset_history(self.store.resource_version)
            self.faults.clear()
            self.seed()

    # ------------------------------------------------------------------ state dump / load
    def dump_state(self) -> Dict[str, Any]:
        with self.lock:
            return {"apiVersion": "clustersim/v1", "kind": "State",
                    "resourceVersion": str(self.store.resource_version),
                    "objects": clone(self.store.all_objects())}

    def load_state(self, state: Any) -> int:
        """Replace every object with those of a dump (a State dict or a plain list of objects)."""
        objects = state.get("objects", state.get("items", [])) if isinstance(state, dict) else state
        if not isinstance(objects, list):
            raise errors.bad_request("state must be a list of objects or {'objects': [...]}")
        resolved = []
        for obj in objects:
            kind = self.kinds.by_gvk(obj.get("apiVersion", ""), obj.get("kind", "")) if isinstance(obj, dict) else None
            if kind is None or not (obj.get("metadata") or {}).get("name"):
                what = f"{obj.get('apiVersion')}/{obj.get('kind')}" if isinstance(obj, dict) else repr(obj)[:80]
                raise errors.bad_request(f"cannot load object of unknown kind or without a name: {what}")
            resolved.append((kind, obj))
        # Validate everything before clearing, so a bad dump leaves the cluster untouched.
        with self.lock:
            self.runtime.cancel_all()
            self.watch.close_all(errors.gone("the simulator state was replaced; relist"))
            for hook in self._reset_hooks:
                hook()
            self.store.clear()
            self.watch.reset_history(self.store.resource_version)
            # Namespaces first so namespaced objects always find theirs.
            ordered = sorted(resolved, key=lambda pair: 0 if pair[0].key == "namespaces" else 1)
            for kind, obj in ordered:
                self.store.restore(kind.key, obj)
            from .seed_rbac import ensure_bootstrap_policy

            ensure_bootstrap_policy(self)  # the apiserver's rbac/bootstrap-roles hook, as at a start
            return len(ordered)

    def status(self) -> Dict[str, Any]:
        return {"resourceVersion": str(self.store.resource_version), "config": self.config.to_dict(),
                "operators": self.operators, "operator_errors": self.operator_errors,
                "controller_errors": self.runtime.errors[-10:], "pending_tasks": self.runtime.pending(),
                "watchers": self.watch.watcher_count(),
                "objects": {key: self.store.count(key) for key in sorted(self.store.keys())}}


def build_cluster(config: Optional[Config] = None, operators: bool = True, seed: bool = True) -> Cluster:
    """A ready cluster: operators loaded, store seeded, controller thread running."""
    cluster = Cluster(config)
    if operators:
        cluster.load_operators()
    cluster.start()
    if seed:
        cluster.seed()
    return cluster
