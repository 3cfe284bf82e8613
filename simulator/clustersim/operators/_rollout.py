"""A Deployment's rollout arithmetic: pure functions (kubernetes/kubernetes release-1.33,
``pkg/controller/deployment``).

* ``util/deployment_util.go`` ``ResolveFenceposts``: ``maxSurge`` (default 25%) rounds up,
  ``maxUnavailable`` (default 25%) rounds down, both zero makes ``maxUnavailable`` 1;
  ``NewRSNewReplicas``: the new ReplicaSet grows while all replicas stay within
  ``replicas + maxSurge``;
* ``rolling.go`` ``reconcileOldReplicaSets``: old ReplicaSets shrink, unhealthy replicas first
  (``cleanupUnhealthyReplicas``), then healthy ones while at least ``replicas - maxUnavailable``
  stay available (``scaleDownOldReplicaSetsForRollingUpdate``), oldest first;
* ``sync.go`` ``calculateStatus`` (``unavailableReplicas`` is the sum of the ReplicaSets'
  ``spec.replicas`` minus the available pods, at least 0) and ``util`` ``DeploymentComplete`` / ``DeploymentProgressing``;
  the condition reasons and messages of ``util/deployment_util.go`` (``NewReplicaSetCreated``,
  ``FoundNewReplicaSet``, ``ReplicaSetUpdated``, ``NewReplicaSetAvailable``,
  ``MinimumReplicasAvailable`` / ``MinimumReplicasUnavailable``, ``DeploymentPaused``);
* ``progress.go`` ``getReplicaFailures``: the ``ReplicaFailure`` condition of the new ReplicaSet
  (else of any other) is copied onto the Deployment, and removed when none has one.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Tuple

from ..util import dig


def int_or_percent(value: Any, total: int, round_up: bool) -> int:
    if value is None:
        value = "25%"
    if isinstance(value, str) and value.endswith("%"):
        fraction = float(value[:-1]) * total / 100
        return int(math.ceil(fraction)) if round_up else int(math.floor(fraction))
    return int(value)


def fenceposts(deployment: Dict[str, Any]) -> Tuple[int, int]:
    """(maxSurge, maxUnavailable) as numbers of pods."""
    desired = replicas_of(deployment)
    rolling = dig(deployment, "spec", "strategy", "rollingUpdate") or {}
    surge = int_or_percent(rolling.get("maxSurge"), desired, True)
    unavailable = int_or_percent(rolling.get("maxUnavailable"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def replicas_of(obj: Dict[str, Any]) -> int:
    value = dig(obj, "spec", "replicas")
    return 1 if value is None else int(value)


def available_of(rs: Dict[str, Any]) -> int:
    return int(dig(rs, "status", "availableReplicas") or 0)


def new_replicas(deployment: Dict[str, Any], new_rs: Dict[str, Any], all_rs: List[Dict[str, Any]]) -> int:
    """The size the new ReplicaSet may have now (``NewRSNewReplicas`` for RollingUpdate)."""
    desired = replicas_of(deployment)
    current = replicas_of(new_rs)
    if current >= desired:
        return desired
    surge, _ = fenceposts(deployment)
    total = sum(replicas_of(rs) for rs in all_rs)
    room = desired + surge - total
    if room <= 0:
        return current
    return current + min(room, desired - current)


def old_scale_downs(deployment: Dict[str, Any], new_rs: Dict[str, Any], old: List[Dict[str, Any]]) -> Dict[str, int]:
    """New sizes of old ReplicaSets (name → replicas) for one RollingUpdate step; ``old`` is
    oldest first."""
    desired = replicas_of(deployment)
    _, unavailable = fenceposts(deployment)
    all_rs = old + [new_rs]
    min_available = desired - unavailable
    new_unavailable = replicas_of(new_rs) - available_of(new_rs)
    budget = sum(replicas_of(rs) for rs in all_rs) - min_available - new_unavailable
    sizes = {rs["metadata"]["name"]: replicas_of(rs) for rs in old}
    if budget <= 0:
        return sizes
    for rs in old:  # cleanupUnhealthyReplicas
        name = rs["metadata"]["name"]
        unhealthy = min(budget, max(sizes[name] - available_of(rs), 0))
        sizes[name] -= unhealthy
        budget -= unhealthy
    available = sum(available_of(rs) for rs in all_rs)
    healthy_budget = available - min_available
    for rs in old:
        name = rs["metadata"]["name"]
        down = min(max(healthy_budget, 0), sizes[name])
        sizes[name] -= down
        healthy_budget -= down
    return sizes


def is_complete(deployment: Dict[str, Any], status: Dict[str, Any]) -> bool:
    desired = replicas_of(deployment)
    return (status.get("updatedReplicas") == desired and status.get("replicas") == desired
            and status.get("availableReplicas") == desired
            and status.get("observedGeneration", 0) >= deployment["metadata"].get("generation", 1))


def counts(deployment: Dict[str, Any], new_rs: Optional[Dict[str, Any]], all_rs: List[Dict[str, Any]]) -> Dict[str, Any]:
    """``calculateStatus`` without conditions."""
    available = sum(available_of(rs) for rs in all_rs)
    status = {"observedGeneration": deployment["metadata"].get("generation", 1),
              "replicas": sum(int(dig(rs, "status", "replicas") or 0) for rs in all_rs),
              "updatedReplicas": int(dig(new_rs, "status", "replicas") or 0) if new_rs else 0,
              "readyReplicas": sum(int(dig(rs, "status", "readyReplicas") or 0) for rs in all_rs),
              "availableReplicas": available}
    # Upstream counts the replicas every ReplicaSet should have (spec, not status) minus the
    # available ones: a new ReplicaSet whose pods cannot be created keeps the rollout unavailable.
    unavailable = max(sum(replicas_of(rs) for rs in all_rs) - available, 0)
    if unavailable:
        status["unavailableReplicas"] = unavailable
    return {k: v for k, v in status.items() if v}  # every DeploymentStatus count is omitempty


def available_condition(deployment: Dict[str, Any], status: Dict[str, Any]) -> Tuple[str, str, str]:
    _, unavailable = fenceposts(deployment)
    if status.get("availableReplicas", 0) >= replicas_of(deployment) - unavailable:
        return "True", "MinimumReplicasAvailable", "Deployment has minimum availability."
    return "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."


def progressing_condition(deployment: Dict[str, Any], status: Dict[str, Any], new_rs: Optional[Dict[str, Any]],
                          created: bool, previous: Optional[Dict[str, Any]]) -> Optional[Tuple[str, str, str]]:
    """The Progressing condition to set, or None to keep the current one."""
    if dig(deployment, "spec", "paused"):
        return "Unknown", "DeploymentPaused", "Deployment is paused"
    name = new_rs["metadata"]["name"] if new_rs else ""
    if new_rs is not None and is_complete(deployment, status):
        return "True", "NewReplicaSetAvailable", f'ReplicaSet "{name}" has successfully progressed.'
    if created:
        return "True", "NewReplicaSetCreated", f'Created new replica set "{name}"'
    old = previous or {}
    if old.get("reason") == "DeploymentPaused":
        return "Unknown", "DeploymentResumed", "Deployment is resumed"
    if new_rs is not None and not old:
        return "True", "FoundNewReplicaSet", f'Found new replica set "{name}"'
    if new_rs is not None:
        return "True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.'
    return None


def replica_failure_condition(new_rs: Optional[Dict[str, Any]], all_rs: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The ReplicaSet failure a Deployment reports (``ReplicaSetToDeploymentCondition``), or None."""
    for candidates in ([new_rs] if new_rs is not None else [], all_rs):
        for rs in candidates:
            for condition in dig(rs, "status", "conditions") or []:
                if condition.get("type") == "ReplicaFailure":
                    stamp = condition.get("lastTransitionTime")
                    return {"type": "ReplicaFailure", "status": condition.get("status"), "lastUpdateTime": stamp,
                            "lastTransitionTime": stamp, "reason": condition.get("reason"),
                            "message": condition.get("message")}
    return None
