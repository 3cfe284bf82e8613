"""The end of a pod's graceful deletion when no node agent ends it.

A DELETE of a scheduled pod leaves it terminating for its grace period (``strategies.py``
``PodStrategy.graceful_period``, kubernetes/kubernetes release-1.33 ``pkg/registry/core/pod/
strategy.go`` ``CheckGracefulDelete``); the kubelet then stops the containers and deletes the
pod with grace period 0 (``pkg/kubelet/status/status_manager.go``) — as soon as the containers
have exited, which for most containers is well before the grace period ends.  When a controller
named ``kubelet`` is loaded, it does that; otherwise this controller stands in for it: the pod
goes after the duration ``pod_termination`` (default 0.1 s: containers that stop promptly on
SIGTERM), at most the grace period, both times ``--time-scale``.  ``--durations
'{"pod_termination": 1e9}'`` keeps every pod for its full grace period.  Finalizers still hold
the pod after that.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Set, Tuple

from .controller import Controller, watches
from .errors import ApiError


class PodTerminationController(Controller):
    name = "pod-termination"

    def setup(self) -> None:
        self._scheduled: Set[Tuple[str, str, str]] = set()

    def reset(self) -> None:
        self._scheduled.clear()

    @watches("pods")
    def on_pod(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is None or self.cluster.has_controller("kubelet"):
            return
        meta = new["metadata"]
        period = int(meta.get("deletionGracePeriodSeconds") or 0)
        if not meta.get("deletionTimestamp") or period <= 0:
            return
        key = (meta["namespace"], meta["name"], meta.get("uid", ""))
        if key in self._scheduled:
            return
        self._scheduled.add(key)
        delay = min(period * self.cluster.config.time_scale, self.cluster.duration("pod_termination", 0.1))
        self.cluster.after(delay, self.finish, *key, background=True)

    def finish(self, namespace: str, name: str, uid: str) -> None:
        self._scheduled.discard((namespace, name, uid))
        pod = self.store.peek("pods", name, namespace)
        if pod is None or pod["metadata"].get("uid") != uid:
            return
        try:
            self.store.delete("pods", name, namespace, grace_period_seconds=0, preconditions={"uid": uid})
        except ApiError:
            pass
