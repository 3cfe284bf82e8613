"""The one shape of a simulated controller.

A controller is a class.  It keeps its state as attributes, declares what it reacts to with the
decorators below, and finds other controllers through the cluster's registry
(``cluster.controller("storage")``), never through attributes patched onto the cluster.

    class ClaimBinder(Controller):
        name = "storage"

        @watches("persistentvolumeclaims")
        def on_claim(self, event, new, old): ...

        @admits("persistentvolumeclaims", mutating=True)
        def default_class(self, req): ...

        @serves_subresource("kubevirt.io/virtualmachines", "addvolume")
        def add_volume(self, req): ...

        @serves_route("GET", "/api/v1/namespaces/x/services/y/proxy/")
        def answer(self, http): ...

        @eviction_hook
        def on_eviction(self, cluster, pod, eviction, dry_run): ...

        def reset(self): ...   # drop private state on POST /_sim/reset

An operator module lists its classes in ``CONTROLLERS``; the loader (``operators/__init__.py``)
builds each with the cluster, registers it under ``name`` and calls :meth:`Controller.install`,
which wires every declared handler and then calls :meth:`Controller.setup` for anything the
decorators do not express (timers started at boot, schema extensions).

This mirrors how controller-runtime builds a manager: each reconciler declares its watches, the
manager owns the wiring (sigs.k8s.io/controller-runtime, pkg/builder/controller.go).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Tuple

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

_MARK = "_clustersim_handlers"


def _mark(kind: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        marks: List[Tuple[str, Dict[str, Any]]] = list(getattr(fn, _MARK, ()))
        marks.append((kind, options))
        setattr(fn, _MARK, marks)
        return fn
    return decorate


def watches(*keys: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``fn(event_type, new, old)`` after each committed change of any of ``keys`` ("*" = all)."""
    return _mark("watch", keys=keys)


def admits(*keys: str, mutating: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``fn(AdmissionRequest)`` for writes of ``keys``; raise ``ApiError`` to reject."""
    return _mark("admit", keys=keys, mutating=mutating)


def serves_subresource(key: str, subresource: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``fn(SubresourceRequest)`` serves ``<key>/<subresource>`` (options as ``Cluster.add_subresource``)."""
    return _mark("subresource", key=key, subresource=subresource, options=options)


def serves_route(method: str, path_prefix: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``fn(HttpRequest)`` serves a non-Kubernetes path (a service proxy, a Route host)."""
    return _mark("route", method=method, path_prefix=path_prefix)


def eviction_hook(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn(cluster, pod, eviction, dry_run)`` before the PDB check of ``pods/eviction``."""
    return _mark("eviction")(fn)


class Controller:
    """Base class of every simulated controller; see the module docstring."""

    name: str = ""

    def __init__(self, cluster: "Cluster") -> None:
        self.cluster = cluster

    @property
    def store(self) -> Any:
        return self.cluster.store

    def install(self) -> None:
        """Wire the declared handlers into the cluster, then run :meth:`setup`."""
        for attribute in dir(type(self)):
            marks = getattr(getattr(type(self), attribute), _MARK, None)
            if marks:
                handler = getattr(self, attribute)
                for kind, options in marks:
                    self._wire(kind, options, handler)
        self.cluster.on_reset(self.reset)
        self.setup()

    def _wire(self, kind: str, options: Dict[str, Any], handler: Callable[..., Any]) -> None:
        cluster = self.cluster
        if kind == "watch":
            for key in options["keys"]:
                cluster.on_change(key, handler)
        elif kind == "admit":
            for key in options["keys"]:
                cluster.add_admission(key, handler, mutating=options["mutating"])
        elif kind == "subresource":
            cluster.add_subresource(options["key"], options["subresource"], handler, **options["options"])
        elif kind == "route":
            cluster.add_route(options["method"], options["path_prefix"], handler)
        elif kind == "eviction":
            cluster.add_eviction_hook(handler)

    def setup(self) -> None:
        """Anything the decorators do not declare (boot timers, schema extensions)."""

    def reset(self) -> None:
        """Drop private state; called with the lock held on ``POST /_sim/reset`` and state loads."""
