"""The kubelets' node Leases in ``kube-node-lease`` (``coordination.k8s.io/v1``).

Each kubelet keeps a Lease named after its node (kubernetes/kubernetes release-1.33,
``pkg/kubelet/nodelease.go`` and ``staging/src/k8s.io/component-helpers/apimachinery/lease/controller.go``):
``holderIdentity`` the node name, ``leaseDurationSeconds`` 40 (the kubelet's
``nodeLeaseDurationSeconds`` default), ``renewTime`` renewed every quarter of the duration (10 s),
an ownerReference to its Node (so the garbage collector removes it with the node).  Here a Lease
is created for every Ready node and renewed by a background timer while the node stays Ready (a
NotReady node's kubelet is taken as down: its Lease stops being renewed).

Durations: ``node_lease_renew`` (seconds between renewals, default 10).
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Dict, Optional

from ..controller import Controller, watches

KEY = "coordination.k8s.io/leases"
NAMESPACE = "kube-node-lease"
LEASE_DURATION_SECONDS = 40


def micro_time() -> str:
    """A ``metav1.MicroTime`` (RFC 3339 with microseconds)."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_ready(node: Dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or [])


def lease_for(node: Dict[str, Any], when: str) -> Dict[str, Any]:
    meta = node["metadata"]
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": meta["name"], "namespace": NAMESPACE,
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": meta["name"],
                                              "uid": meta.get("uid", "")}]},
            "spec": {"holderIdentity": meta["name"], "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                     "renewTime": when}}


class NodeLeases(Controller):
    name = "node-lease"

    def setup(self) -> None:
        self._timer: Optional[Any] = None
        self._schedule()

    def reset(self) -> None:
        self._schedule()

    def _schedule(self) -> None:
        self._timer = self.cluster.after(self.cluster.duration("node_lease_renew", 10.0), self.renew, background=True)

    @watches("nodes")
    def on_node(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is not None and is_ready(new) and self.store.peek(KEY, new["metadata"]["name"], NAMESPACE) is None:
            self._write(new)

    def _write(self, node: Dict[str, Any]) -> None:
        if self.store.peek("namespaces", NAMESPACE) is None:
            return  # a state without the system namespace: nothing to hold the Lease
        name = node["metadata"]["name"]
        when = micro_time()
        if self.store.peek(KEY, name, NAMESPACE) is None:
            self.store.create(KEY, lease_for(node, when), NAMESPACE)
        else:
            self.store.mutate(KEY, name, lambda lease: lease["spec"].__setitem__("renewTime", when), NAMESPACE)

    def renew(self) -> None:
        """Renew the Lease of every Ready node, then come back after the renew interval."""
        for node in self.store.list("nodes", copy=False):
            if is_ready(node):
                self._write(node)
        self._schedule()


CONTROLLERS = [NodeLeases]
