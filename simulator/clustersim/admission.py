"""Admission chain: built-in plugins, mutating hooks, then validating hooks, for every write
(dry-run included), between the strategy's preparation and storage (see ``store.py``).

Hooks are registered per resource key (or ``"*"`` for every kind) with
``cluster.add_admission(key, fn, mutating=False)``.  A hook receives an
:class:`AdmissionRequest`; mutating hooks may change ``req.obj`` in place; any hook rejects the
write by raising :class:`~clustersim.errors.ApiError` (see ``errors.invalid``/``errors.forbidden``).
"""
from __future__ import annotations

import traceback
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from .errors import ApiError

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster
    from .kinds import Kind


@dataclass
class AdmissionRequest:
    operation: str  # CREATE, UPDATE, DELETE
    key: str  # resource key, e.g. "persistentvolumeclaims"
    kind: "Kind"
    namespace: str  # "" for cluster-scoped objects
    name: str
    obj: Optional[Dict[str, Any]]  # the object about to be stored (None for DELETE); mutable
    old: Optional[Dict[str, Any]]  # the stored object (None for CREATE); read-only
    subresource: str  # "" or "status"
    dry_run: bool
    internal: bool  # True for writes made by simulated controllers (not over HTTP)
    cluster: "Cluster"

    def changed(self, *path: str) -> bool:
        """True when the value at ``path`` differs between old and new object."""
        return _dig(self.obj, path) != _dig(self.old, path)


def _dig(obj: Optional[Dict[str, Any]], path: Tuple[str, ...]) -> Any:
    current: Any = obj
    for key in path:
        if not isinstance(current, dict):
            return None
        current = current.get(key)
    return current


AdmissionHook = Callable[[AdmissionRequest], None]


class AdmissionChain:
    def __init__(self) -> None:
        self._plugins: List[AdmissionHook] = []
        self._mutating: Dict[str, List[AdmissionHook]] = defaultdict(list)
        self._validating: Dict[str, List[AdmissionHook]] = defaultdict(list)

    def add(self, key: str, fn: AdmissionHook, mutating: bool = False) -> None:
        (self._mutating if mutating else self._validating)[key].append(fn)

    def add_plugin(self, fn: AdmissionHook) -> None:
        """A built-in plugin that sees every request first, such as ``NamespaceLifecycle``
        (first in the apiserver's plugin order: kubernetes/kubernetes release-1.33,
        ``pkg/kubeapiserver/options/plugins.go`` ``AllOrderedPlugins``)."""
        self._plugins.append(fn)

    def run(self, req: AdmissionRequest) -> None:
        for fn in self._plugins:
            _call(fn, req)
        for registry in (self._mutating, self._validating):
            for fn in registry.get(req.key, []) + registry.get("*", []):
                _call(fn, req)


def _call(fn: AdmissionHook, req: AdmissionRequest) -> None:
    try:
        fn(req)
    except ApiError:
        raise
    except Exception as exc:  # a buggy hook must not kill the request thread
        traceback.print_exc()
        raise ApiError(500, "InternalError",
                       f"Internal error occurred: admission hook {getattr(fn, '__name__', fn)} failed: {exc}") from exc
