"""The kube-controller-manager controllers every cluster runs: namespace deletion, garbage
collection (``clustersim.garbagecollector``), the ServiceAccount and token controllers
(``clustersim.serviceaccounts``), the CA bundle ConfigMap publishers (``clustersim.cacertpublishers``), the node lifecycle controller's cordon taint
(``clustersim.nodelifecycle``) and the end of graceful pod deletion (``clustersim.podtermination``).

Namespace deletion mirrors kubernetes/kubernetes release-1.33 ``pkg/controller/namespace``
(``namespace_controller.go``, ``deletion/namespaced_resources_deleter.go``): a namespace with a
``deletionTimestamp`` is ``Terminating`` (``store.py`` via the namespace strategy); the
controller deletes every namespaced object in it (background propagation), looks again when
an object in it goes (upstream requeues with a delay), and once the namespace is empty removes its own
``kubernetes`` token from ``spec.finalizers`` (the ``/finalize`` step); with no finalizer left
the namespace goes.  Not simulated: the ``NamespaceDeletion*`` status conditions.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Set

from ..cacertpublishers import RootCACertPublisher, ServiceCABundleInjector, ServiceCACertPublisher
from ..controller import Controller, watches
from ..errors import ApiError
from ..garbagecollector import GarbageCollector
from ..nodelifecycle import NodeLifecycleController
from ..podtermination import PodTerminationController
from ..serviceaccounts import ServiceAccountController, TokensController
from ..watch import WatchEvent

FINALIZER_KUBERNETES = "kubernetes"  # v1.FinalizerKubernetes


class NamespaceController(Controller):
    name = "namespace"

    def setup(self) -> None:
        self._terminating: Set[str] = set()  # namespaces being emptied
        self._queued: Set[str] = set()
        self.store.tracker.add_listener(self._observe)

    def reset(self) -> None:
        self._terminating.clear()
        self._queued.clear()

    def _observe(self, event: WatchEvent) -> None:
        """Inside every commit: an object leaving a terminating namespace may be its last one
        (the upstream controller requeues and re-lists instead; this needs no polling)."""
        if event.type == "DELETED" and event.namespace in self._terminating:
            self._queue(event.namespace)

    @watches("namespaces")
    def on_namespace(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        name = (new or old or {}).get("metadata", {}).get("name", "")
        if event == "DELETED" or new is None or not new["metadata"].get("deletionTimestamp"):
            self._terminating.discard(name)
            return
        self._terminating.add(name)
        self._queue(name)

    def _queue(self, name: str) -> None:
        if name not in self._queued:
            self._queued.add(name)
            self.cluster.after(self.cluster.duration("namespace_finalize", 0.01), self.finalize, name)

    def finalize(self, name: str) -> None:
        self._queued.discard(name)
        namespace = self.store.peek("namespaces", name)
        if namespace is None or not namespace["metadata"].get("deletionTimestamp"):
            return
        if self._delete_content(name):
            return  # objects with finalizers are still going; their deletion brings us back

        def drop_token(obj: Dict[str, Any]) -> Any:
            spec = obj.setdefault("spec", {})
            current = spec.get("finalizers") or []
            if FINALIZER_KUBERNETES not in current:
                return False
            spec["finalizers"] = [f for f in current if f != FINALIZER_KUBERNETES]
            return None
        self.store.mutate("namespaces", name, drop_token)

    def _delete_content(self, name: str) -> bool:
        """Delete what is left in the namespace; True while anything remains."""
        store = self.store
        namespaced = [kind for kind in self.cluster.kinds.all() if kind.namespaced]
        for kind in namespaced:
            for obj in store.list(kind.key, name, copy=False):
                if obj["metadata"].get("deletionTimestamp"):
                    continue
                try:
                    # deleteCollection with background propagation and no grace period: pods
                    # get their own terminationGracePeriodSeconds (internal=False).
                    store.delete(kind.key, obj["metadata"]["name"], name, propagation="Background", internal=False)
                except ApiError:
                    pass
        return any(store.count(kind.key) and store.list(kind.key, name, copy=False) for kind in namespaced)


CONTROLLERS = [NamespaceController, GarbageCollector, ServiceAccountController, TokensController,
               NodeLifecycleController, PodTerminationController, RootCACertPublisher, ServiceCACertPublisher,
               ServiceCABundleInjector]
