"""Where virt-controller may place a VMI: schedulable KubeVirt workers with room for the launcher pod.

Derived from the nodes only and rebuilt when a node changed (placing thousands of VMs must not
re-read every node per VM); the memory already requested per node comes from a store tally kept
up to date on every pod commit (rescanning every pod per VM was O(VMs x pods)).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ...quantity import QuantityError
from ...util import dig
from .model import PODS, quantity_bytes

TALLY = "kubevirt-memory"


def pod_memory(pod: Dict[str, Any]) -> List[Tuple[str, int]]:
    """[(node, memory requested)] of a pod that holds memory on its node (for the tally)."""
    node_name = dig(pod, "spec", "nodeName")
    if not node_name or not isinstance(node_name, str) or dig(pod, "status", "phase") in ("Succeeded", "Failed"):
        return []
    total = 0
    for container in dig(pod, "spec", "containers") or []:
        value = dig(container, "resources", "requests", "memory")
        if value:
            try:
                total += quantity_bytes(value)
            except (QuantityError, TypeError):  # runs inside every pod commit: must not raise
                continue
    return [(node_name, total)] if total else []


def is_schedulable_worker(node: Dict[str, Any]) -> bool:
    """Not cordoned, labelled ``kubevirt.io/schedulable=true`` by virt-handler, and not NotReady."""
    labels = node["metadata"].get("labels") or {}
    if dig(node, "spec", "unschedulable") or labels.get("kubevirt.io/schedulable") != "true":
        return False
    ready = [c for c in dig(node, "status", "conditions") or [] if c.get("type") == "Ready"]
    return not ready or ready[0].get("status") == "True"


def choose_node(workers: List[Tuple[str, int]], used: Dict[str, int], need: int,
                hint: Optional[str] = None, exclude: Optional[str] = None) -> Optional[str]:
    """The hinted node when it has room, else the one with the most free memory (ties by name)."""
    candidates = []
    for name, allocatable in workers:
        free = allocatable - used.get(name, 0)
        if name != exclude and free >= need:
            candidates.append((name != hint, -free, name))
    return min(candidates)[2] if candidates else None


class Placement:
    def __init__(self, store: Any) -> None:
        self.store = store
        self._workers_at = -1
        self._workers: List[Tuple[str, int]] = []
        store.add_tally(PODS, TALLY, pod_memory)

    def schedulable_workers(self) -> List[Tuple[str, int]]:
        """(name, allocatable memory) of the nodes KubeVirt may place VMIs on, sorted by name."""
        at = self.store.last_change("nodes")
        if self._workers_at != at:
            self._workers = [(node["metadata"]["name"], quantity_bytes(dig(node, "status", "allocatable", "memory") or "0"))
                             for node in self.store.list("nodes", copy=False) if is_schedulable_worker(node)]
            self._workers_at = at
        return self._workers

    def pick_node(self, need: int, hint: Optional[str] = None, exclude: Optional[str] = None) -> Optional[str]:
        return choose_node(self.schedulable_workers(), self.store.tally(PODS, TALLY), need, hint, exclude)
