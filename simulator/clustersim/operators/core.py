"""Core controllers every Kubernetes cluster runs: namespace lifecycle and event TTL-free basics.

* Namespace deletion: a namespace with ``spec.finalizers: [kubernetes]`` goes ``Terminating``;
  this controller deletes everything in it, then clears the finalizer so the namespace goes.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional

from ..errors import ApiError

if TYPE_CHECKING:  # pragma: no cover
    from ..cluster import Cluster


def setup(cluster: "Cluster") -> None:
    def on_namespace(event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if event == "DELETED" or new is None or not new["metadata"].get("deletionTimestamp"):
            return
        cluster.after(cluster.duration("namespace_finalize", 0.01), finalize_namespace, new["metadata"]["name"])

    def finalize_namespace(name: str) -> None:
        store = cluster.store
        namespace = store.peek("namespaces", name)
        if namespace is None:
            return
        remaining = 0
        for kind in cluster.kinds.all():
            if not kind.namespaced:
                continue
            for obj in store.list(kind.key, name, copy=False):
                remaining += 1
                if obj["metadata"].get("deletionTimestamp"):
                    continue
                try:
                    store.delete(kind.key, obj["metadata"]["name"], name)
                except ApiError:
                    pass
        if remaining and any(store.list(k.key, name, copy=False) for k in cluster.kinds.all() if k.namespaced):
            # Objects with finalizers are still going away; look again shortly.
            cluster.after(cluster.duration("namespace_finalize", 0.05), finalize_namespace, name)
            return

        def clear(obj: Dict[str, Any]) -> None:
            obj.setdefault("spec", {})["finalizers"] = []
        store.mutate("namespaces", name, clear)

    cluster.on_change("namespaces", on_namespace)
