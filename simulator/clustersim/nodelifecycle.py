"""The node lifecycle controller's NoSchedule pass for cordoned nodes.

kubernetes/kubernetes release-1.33 ``pkg/controller/nodelifecycle/node_lifecycle_controller.go``
``doNoScheduleTaintingPass``: a node with ``spec.unschedulable: true`` gets the taint
``node.kubernetes.io/unschedulable:NoSchedule`` (``pkg/apis/core/v1`` ``TaintNodeUnschedulable``),
and loses it when it is uncordoned.  The controller adds NoSchedule taints without
``timeAdded``.  The not-ready / unreachable taints of that pass are not simulated (simulated
nodes are always Ready).
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from .controller import Controller, watches

UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


def wants_taint(node: Dict[str, Any]) -> bool:
    return (node.get("spec") or {}).get("unschedulable") is True


def has_taint(node: Dict[str, Any]) -> bool:
    return any(isinstance(t, dict) and t.get("key") == UNSCHEDULABLE_TAINT["key"]
               and t.get("effect") == UNSCHEDULABLE_TAINT["effect"]
               for t in (node.get("spec") or {}).get("taints") or [])


class NodeLifecycleController(Controller):
    name = "nodelifecycle"

    def setup(self) -> None:
        self.cluster.after(0, self.sync_all)

    def sync_all(self) -> None:
        for node in self.store.list("nodes", copy=False):
            self.sync(node)

    @watches("nodes")
    def on_node(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is not None:
            self.sync(new)

    def sync(self, node: Dict[str, Any]) -> None:
        if wants_taint(node) == has_taint(node):
            return

        def retaint(obj: Dict[str, Any]) -> Any:
            spec = obj.setdefault("spec", {})
            kept = [t for t in spec.get("taints") or []
                    if not (isinstance(t, dict) and t.get("key") == UNSCHEDULABLE_TAINT["key"]
                            and t.get("effect") == UNSCHEDULABLE_TAINT["effect"])]
            if wants_taint(obj):
                kept.append(dict(UNSCHEDULABLE_TAINT))
            spec["taints"] = kept
            return None
        self.store.mutate("nodes", node["metadata"]["name"], retaint)
