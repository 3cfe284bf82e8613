"""The default scheduler (kube-scheduler, kubernetes/kubernetes release-1.33, ``pkg/scheduler``).

A pod without ``spec.nodeName`` whose ``schedulerName`` is unset or ``default-scheduler`` is
placed by the filters and the least-allocated score of :mod:`._scheduling`, then bound as the
``pods/binding`` subresource does (``pkg/registry/core/pod/storage/storage.go`` ``assignPod``:
``spec.nodeName`` set and condition PodScheduled True) with a ``Scheduled`` event
"Successfully assigned ns/pod to node". A pod no node fits gets PodScheduled False, reason
``Unschedulable`` and the FitError message (``schedule_one.go`` ``handleSchedulingFailure``)
and a ``FailedScheduling`` warning; it is retried whenever a node changes or a pod leaves a
node (the scheduling queue's move-on-event, ``internal/queue/scheduling_queue.go``).

Requests already on each node are kept as a store tally (cpu in millicores, memory in bytes,
pod count) over pods bound to a node that are not terminal.

Pods annotated ``clustersim.io/managed-by`` (see :mod:`._workloads`) are left alone.
Durations: ``pod_schedule`` (default 0).
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ..controller import Controller, watches
from ..errors import ApiError
from ..util import dig, now_rfc3339
from ._scheduling import choose_node, nonzero_requests, pod_requests
from ._workloads import POD_KEY, managed_elsewhere, record_event

TALLY = "scheduler-requests"
SCHEDULER_NAME = "default-scheduler"


def requested_on_node(pod: Dict[str, Any]) -> Iterable[Tuple[str, int]]:
    node = dig(pod, "spec", "nodeName")
    if not node or dig(pod, "status", "phase") in ("Succeeded", "Failed"):
        return ()
    requests = pod_requests(pod)
    scored = nonzero_requests(pod)
    return ((f"{node}\0cpu", int(requests["cpu"] * 1000)), (f"{node}\0memory", int(requests["memory"])),
            (f"{node}\0nonzero-cpu", int(scored["cpu"] * 1000)), (f"{node}\0nonzero-memory", int(scored["memory"])),
            (f"{node}\0pods", 1))


def wants_scheduling(pod: Optional[Dict[str, Any]]) -> bool:
    if pod is None or dig(pod, "spec", "nodeName") or pod["metadata"].get("deletionTimestamp"):
        return False
    if dig(pod, "status", "phase") in ("Succeeded", "Failed") or managed_elsewhere(pod):
        return False
    return (dig(pod, "spec", "schedulerName") or SCHEDULER_NAME) == SCHEDULER_NAME


class Scheduler(Controller):
    name = "scheduler"

    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        self.queued: set = set()

    def setup(self) -> None:
        self.store.add_tally(POD_KEY, TALLY, requested_on_node)

    def reset(self) -> None:
        self.queued = set()

    @watches(POD_KEY)
    def on_pod(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if wants_scheduling(new):
            self.enqueue(new["metadata"]["namespace"], new["metadata"]["name"])
        elif old is not None and dig(old, "spec", "nodeName") and (
                new is None or dig(new, "status", "phase") in ("Succeeded", "Failed")):
            self.retry_unschedulable()  # room was freed on a node

    @watches("nodes")
    def on_node(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is not None and old is not None and new.get("spec") == old.get("spec") and \
                dig(new, "metadata", "labels") == dig(old, "metadata", "labels") and \
                dig(new, "status", "conditions") == dig(old, "status", "conditions"):
            return
        self.retry_unschedulable()

    def retry_unschedulable(self) -> None:
        for pod in self.store.list(POD_KEY, field_selector="spec.nodeName=", copy=False):
            if wants_scheduling(pod):
                self.enqueue(pod["metadata"]["namespace"], pod["metadata"]["name"])

    def enqueue(self, namespace: str, name: str) -> None:
        if (namespace, name) not in self.queued:
            self.queued.add((namespace, name))
            self.cluster.after(self.cluster.duration("pod_schedule", 0), self.schedule, namespace, name)

    def node_requests(self) -> Dict[str, Dict[str, Fraction]]:
        result: Dict[str, Dict[str, Fraction]] = {}
        for group, amount in self.store.tally(POD_KEY, TALLY).items():
            node, resource = group.split("\0")
            value = Fraction(amount, 1000) if resource.endswith("cpu") else Fraction(amount)
            result.setdefault(node, {})[resource] = value
        return result

    def schedule(self, namespace: str, name: str) -> None:
        self.queued.discard((namespace, name))
        pod = self.store.peek(POD_KEY, name, namespace)
        if not wants_scheduling(pod):
            return
        nodes: List[Dict[str, Any]] = self.store.list("nodes", copy=False)
        node, message = choose_node(pod, nodes, self.node_requests())
        if node is None:
            self.mark_unschedulable(pod, message)
        else:
            self.bind(pod, node)

    def bind(self, pod: Dict[str, Any], node: str) -> None:
        def assign(obj: Dict[str, Any]) -> Any:
            if dig(obj, "spec", "nodeName"):
                return False
            obj["spec"]["nodeName"] = node
            status = obj.setdefault("status", {})
            conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
            conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                               "lastTransitionTime": now_rfc3339()})
            status["conditions"] = conditions
            return None
        meta = pod["metadata"]
        try:
            bound = self.store.mutate(POD_KEY, meta["name"], assign, meta["namespace"])
        except ApiError:
            return
        record_event(self.store, bound, "Scheduled", f"Successfully assigned {meta['namespace']}/{meta['name']} to {node}",
                     SCHEDULER_NAME)

    def mark_unschedulable(self, pod: Dict[str, Any], message: str) -> None:
        changed: List[bool] = []

        def condition(obj: Dict[str, Any]) -> Any:
            status = obj.setdefault("status", {})
            current = [c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"]
            if current and current[0].get("status") == "False" and current[0].get("message") == message:
                return False
            status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"] + [
                {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message,
                 "lastProbeTime": None, "lastTransitionTime": now_rfc3339()}]
            changed.append(True)
            return None
        meta = pod["metadata"]
        try:
            after = self.store.mutate(POD_KEY, meta["name"], condition, meta["namespace"])
        except ApiError:
            return
        if changed and after is not None:
            record_event(self.store, after, "FailedScheduling", message, SCHEDULER_NAME, "Warning")


CONTROLLERS = [Scheduler]
