"""The ReplicaSet controller (kubernetes/kubernetes release-1.33, ``pkg/controller/replicaset``).

``replica_set.go`` ``manageReplicas``: the active pods a ReplicaSet controls (its controller
reference, not terminal, not being deleted) are brought to ``spec.replicas`` — missing ones
created from ``spec.template`` (``generateName: <rs>-``), surplus ones deleted in the order of
``getPodsToDelete`` / ``controller.ActivePods`` (unscheduled before scheduled, Pending before
Running, not ready before ready, most restarts first, newest first).
``replica_set_utils.go`` ``calculateStatus``: ``replicas``, ``fullyLabeledReplicas``,
``readyReplicas``, ``availableReplicas`` (ready for ``minReadySeconds``), ``observedGeneration``.
Events ``SuccessfulCreate`` / ``SuccessfulDelete``. A refused pod create (a missing
ServiceAccount, quota, a terminating namespace) is the Warning event ``FailedCreate`` "Error
creating: <the API error>" (``controller_utils.go`` ``CreatePods``) and the condition
``ReplicaFailure`` True, reason ``FailedCreate``, message the error, which ``calculateStatus``
removes once a sync succeeds; the controller retries after ``replicaset_retry`` seconds (default
1, times ``--time-scale``), doubling per failure up to 300 s (upstream the work queue's
per-item exponential rate limiter). Not modelled: adoption and release
of pods by label, slow-start batches, expectations.
"""
from __future__ import annotations

import calendar
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..controller import Controller, watches
from ..errors import ApiError
from ..util import dig
from ._workloads import (POD_KEY, delete_quietly, is_active, is_ready, managed_elsewhere, owned, pod_from_template,
                         record_event, set_conditions)

KEY = "apps/replicasets"
MAX_RETRY = 300.0
COMPONENT = "replicaset-controller"


def parse_time(stamp: Optional[str]) -> float:
    if not stamp:
        return 0.0
    try:
        return float(calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return 0.0


def ready_since(pod: Dict[str, Any]) -> Optional[float]:
    for condition in dig(pod, "status", "conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            return parse_time(condition.get("lastTransitionTime"))
    return None


def is_available(pod: Dict[str, Any], min_ready_seconds: int, now: float) -> bool:
    """``podutil.IsPodAvailable``."""
    since = ready_since(pod)
    return since is not None and (min_ready_seconds <= 0 or since + min_ready_seconds <= now)


def deletion_rank(pod: Dict[str, Any]) -> Tuple[Any, ...]:
    """Sort key of ``controller.ActivePods``: the first pods are deleted first."""
    phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}.get(dig(pod, "status", "phase") or "Pending", 0)
    restarts = sum(s.get("restartCount", 0) for s in dig(pod, "status", "containerStatuses") or [])
    return (bool(dig(pod, "spec", "nodeName")), phase_rank, is_ready(pod), -restarts,
            [-ord(ch) for ch in pod["metadata"].get("creationTimestamp") or ""], pod["metadata"]["name"])


def replica_failure(status: Dict[str, Any], error: Optional[str], reason: str = "FailedCreate") -> None:
    """``calculateStatus``: a failed sync sets ``ReplicaFailure`` (kept as first set while it
    lasts), a good one removes it."""
    current = [dict(c) for c in status.get("conditions") or []]  # the stored list is a read-only snapshot
    conditions = [c for c in current if c.get("type") != "ReplicaFailure"]
    if error is not None:
        status["conditions"] = current
        if len(conditions) == len(current):
            set_conditions(status, "ReplicaFailure", "True", reason, error)
        return
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)


def replica_status(rs: Dict[str, Any], pods: List[Dict[str, Any]], now: float) -> Dict[str, Any]:
    template_labels = dig(rs, "spec", "template", "metadata", "labels") or {}
    min_ready = int(dig(rs, "spec", "minReadySeconds") or 0)
    active = [p for p in pods if is_active(p)]
    status = dict(rs.get("status") or {})
    status.update(
        replicas=len(active),
        fullyLabeledReplicas=sum(1 for p in active if all((p["metadata"].get("labels") or {}).get(k) == v
                                                          for k, v in template_labels.items())),
        readyReplicas=sum(1 for p in active if is_ready(p)),
        availableReplicas=sum(1 for p in active if is_available(p, min_ready, now)),
        observedGeneration=rs["metadata"].get("generation", 1))
    for field in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):  # omitempty; replicas is not
        if not status[field]:
            status.pop(field)
    return status


class PodSetController(Controller):
    """Shared queue plumbing of the controllers that own pods: sync each owner once per batch."""

    key = ""
    owner_kind = ""
    component = ""

    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        self.queued: set = set()

    def reset(self) -> None:
        self.queued = set()

    def enqueue(self, namespace: str, name: str, delay: float = 0.0) -> None:
        if delay > 0:
            self.cluster.after(delay, self.enqueue, namespace, name)
            return
        if (namespace, name) not in self.queued:
            self.queued.add((namespace, name))
            self.cluster.after(0, self._run, namespace, name)

    def _run(self, namespace: str, name: str) -> None:
        self.queued.discard((namespace, name))
        obj = self.store.peek(self.key, name, namespace)
        if obj is not None and not managed_elsewhere(obj):
            self.sync(obj)

    def sync(self, obj: Dict[str, Any]) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def on_owner(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        obj = new or old or {}
        if new is not None:
            self.enqueue(obj["metadata"]["namespace"], obj["metadata"]["name"])

    def on_dependent(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        obj = new or old or {}
        for ref in dig(obj, "metadata", "ownerReferences") or []:
            if ref.get("controller") and ref.get("kind") == self.owner_kind:
                self.enqueue(obj["metadata"]["namespace"], ref.get("name"))

    def write_status(self, obj: Dict[str, Any], status: Dict[str, Any]) -> None:
        if obj.get("status") == status:
            return

        def write(current: Dict[str, Any]) -> Any:
            if current.get("status") == status:
                return False
            current["status"] = status
            return None
        self.store.mutate(self.key, obj["metadata"]["name"], write, obj["metadata"]["namespace"])

    def create_pods(self, owner: Dict[str, Any], count: int, build: Callable[[], Dict[str, Any]]) -> Optional[str]:
        """Create ``count`` pods over the API; the first refusal stops the batch and is returned
        (its message), after the Warning event ``FailedCreate``."""
        namespace = owner["metadata"]["namespace"]
        for _ in range(count):
            try:
                pod = self.store.create(POD_KEY, build(), namespace, internal=False)
            except ApiError as exc:
                record_event(self.store, owner, "FailedCreate", f"Error creating: {exc.message}", self.component,
                             event_type="Warning")
                return exc.message
            record_event(self.store, owner, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}", self.component)
        return None

    def delete_pods(self, owner: Dict[str, Any], pods: List[Dict[str, Any]]) -> None:
        namespace = owner["metadata"]["namespace"]
        for pod in pods:
            delete_quietly(self.store, POD_KEY, pod["metadata"]["name"], namespace)
            record_event(self.store, owner, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}", self.component)


class ReplicaSetController(PodSetController):
    name = "replicaset"
    key = KEY
    owner_kind = "ReplicaSet"
    component = COMPONENT

    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        self.failures: Dict[Tuple[str, str], int] = {}  # consecutive failed syncs per ReplicaSet

    def reset(self) -> None:
        super().reset()
        self.failures = {}

    @watches(KEY)
    def on_replicaset(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        self.on_owner(event, new, old)

    @watches(POD_KEY)
    def on_pod(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        self.on_dependent(event, new, old)

    def sync(self, rs: Dict[str, Any]) -> None:
        pods = owned(self.store, POD_KEY, rs)
        active = [p for p in pods if is_active(p)]
        error = None
        if not rs["metadata"].get("deletionTimestamp"):
            wanted = int(dig(rs, "spec", "replicas", default=1))
            template = dig(rs, "spec", "template") or {}
            if len(active) < wanted:
                error = self.create_pods(rs, wanted - len(active), lambda: pod_from_template(rs, template, {}))
            elif len(active) > wanted:
                self.delete_pods(rs, sorted(active, key=deletion_rank)[:len(active) - wanted])
            pods = owned(self.store, POD_KEY, rs)
        now = time.time()
        status = replica_status(rs, pods, now)
        replica_failure(status, error)
        self.write_status(rs, status)
        key = (rs["metadata"]["namespace"], rs["metadata"]["name"])
        if error is None:
            self.failures.pop(key, None)
        else:
            self.failures[key] = self.failures.get(key, 0) + 1
            delay = min(self.cluster.duration("replicaset_retry", 1.0) * 2 ** (self.failures[key] - 1), MAX_RETRY)
            self.enqueue(*key, delay=delay)
        min_ready = int(dig(rs, "spec", "minReadySeconds") or 0)
        if min_ready and status.get("readyReplicas", 0) > status.get("availableReplicas", 0):
            self.enqueue(rs["metadata"]["namespace"], rs["metadata"]["name"], delay=1.0)


CONTROLLERS = [ReplicaSetController]
