"""What the default scheduler decides for one pod: pure functions, no store.

The filter plug-ins and their messages are those of kubernetes/kubernetes release-1.33,
``pkg/scheduler/framework/plugins``:

Filters run in the default profile's order and a node is refused by the first that fails
(``apis/config/v1/default_plugins.go``; ``framework/runtime/framework.go`` ``RunFilterPlugins``):

* ``nodeunschedulable/node_unschedulable.go``: a node with ``spec.unschedulable`` is refused
  ("node(s) were unschedulable") unless the pod tolerates ``node.kubernetes.io/unschedulable``;
* ``tainttoleration/taint_toleration.go``: every ``NoSchedule``/``NoExecute`` taint must be
  tolerated — "node(s) had untolerated taint {key: value}";
* ``nodeaffinity/node_affinity.go``: ``spec.nodeSelector`` and required node affinity
  (``matchExpressions`` on labels, ``matchFields`` on ``metadata.name``) — "node(s) didn't match
  Pod's node affinity/selector";
* ``noderesources/fit.go``: requests (containers summed, the largest init container when bigger)
  plus what is already requested on the node must fit ``status.allocatable`` — "Insufficient cpu",
  "Insufficient memory", "Too many pods".

The unschedulable message is ``schedule_one.go`` / ``framework/types.go`` ``FitError.Error``:
``0/N nodes are available: <count> <reason>, ...`` (the "<count> <reason>" strings sorted), then the preemption
post-filter's ``preemption: 0/N nodes are available: ...`` where nodes refused by an
UnschedulableAndUnresolvable plug-in (taints, affinity, unschedulable) count as "Preemption is
not helpful for scheduling" and nodes short of resources as "No preemption victims found for
incoming pod" (``framework/preemption/preemption.go``; the simulated cluster has no lower
priority pods to evict). Scoring picks the node with the least requested resources
(``noderesources/least_allocated.go``, on the non-zero requests of
``GetNonzeroRequests``, which spreads pods without requests), ties broken by name, so placement is deterministic.
Not modelled: pod (anti-)affinity, topology spread, ports, volume limits, priorities.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ..quantity import parse_quantity
from ..util import dig

UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
MSG_UNSCHEDULABLE = "node(s) were unschedulable"
MSG_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
MSG_NOT_READY = "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
RESOURCE_REASONS = ("Insufficient cpu", "Insufficient memory", "Too many pods")


def quantity(value: Any) -> Fraction:
    try:
        return parse_quantity(value)
    except (ValueError, TypeError):
        return Fraction(0)


def pod_requests(pod: Dict[str, Any]) -> Dict[str, Fraction]:
    """cpu (cores) and memory (bytes) the pod requests: containers summed, or the largest init
    container when that is bigger (``pkg/api/v1/resource`` ``PodRequests``)."""
    spec = pod.get("spec") or {}
    total: Dict[str, Fraction] = {"cpu": Fraction(0), "memory": Fraction(0)}
    for container in spec.get("containers") or []:
        for resource in total:
            total[resource] += quantity(dig(container, "resources", "requests", resource) or 0)
    for container in spec.get("initContainers") or []:
        for resource in total:
            total[resource] = max(total[resource], quantity(dig(container, "resources", "requests", resource) or 0))
    return total


def nonzero_requests(pod: Dict[str, Any]) -> Dict[str, Fraction]:
    """What scoring counts: a container without a cpu / memory request counts 100m / 200Mi
    (``pkg/scheduler/util/pod_resources.go`` ``GetNonzeroRequests``)."""
    total = {"cpu": Fraction(0), "memory": Fraction(0)}
    defaults = {"cpu": Fraction(1, 10), "memory": Fraction(200 * 1024 * 1024)}
    for container in dig(pod, "spec", "containers") or []:
        for resource in total:
            value = quantity(dig(container, "resources", "requests", resource) or 0)
            total[resource] += value or defaults[resource]
    return total


def tolerates(tolerations: Iterable[Dict[str, Any]], taint: Dict[str, Any]) -> bool:
    """``v1.Toleration.ToleratesTaint`` (staging/src/k8s.io/api/core/v1/toleration.go)."""
    for toleration in tolerations:
        effect = toleration.get("effect") or ""
        if effect and effect != taint.get("effect"):
            continue
        key = toleration.get("key") or ""
        operator = toleration.get("operator") or "Equal"
        if operator == "Exists":
            if not key or key == taint.get("key"):
                return True
        elif key == taint.get("key") and (toleration.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def untolerated_taint(pod: Dict[str, Any], node: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    tolerations = dig(pod, "spec", "tolerations") or []
    for taint in dig(node, "spec", "taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
            return taint
    return None


def _expression_matches(expression: Dict[str, Any], value: Optional[str]) -> bool:
    operator, values = expression.get("operator"), expression.get("values") or []
    if operator == "In":
        return value is not None and value in values
    if operator == "NotIn":
        return value is None or value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt") and value is not None and values:
        try:
            return int(value) > int(values[0]) if operator == "Gt" else int(value) < int(values[0])
        except ValueError:
            return False
    return False


def _term_matches(term: Dict[str, Any], node: Dict[str, Any]) -> bool:
    labels = dig(node, "metadata", "labels") or {}
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False  # an empty term matches no objects (nodeaffinity.go)
    if not all(_expression_matches(e, labels.get(e.get("key"))) for e in expressions):
        return False
    return all(_expression_matches(f, node["metadata"]["name"] if f.get("key") == "metadata.name" else None)
               for f in fields)


def matches_node_affinity(pod: Dict[str, Any], node: Dict[str, Any]) -> bool:
    labels = dig(node, "metadata", "labels") or {}
    for key, value in (dig(pod, "spec", "nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    terms = dig(pod, "spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution",
                "nodeSelectorTerms")
    if terms is None:
        return True
    return any(_term_matches(term, node) for term in terms)


def node_is_ready(node: Dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in dig(node, "status", "conditions") or [])


def filter_node(pod: Dict[str, Any], node: Dict[str, Any], requested: Dict[str, Fraction]) -> Optional[str]:
    """Why ``node`` cannot take ``pod`` (None when it can); ``requested`` is what the node's
    pods already request (cpu, memory, pods)."""
    tolerations = dig(pod, "spec", "tolerations") or []
    if dig(node, "spec", "unschedulable") and not tolerates(tolerations, {"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule"}):
        return MSG_UNSCHEDULABLE
    taint = untolerated_taint(pod, node)
    if taint is not None:
        return "node(s) had untolerated taint {%s: %s}" % (taint.get("key"), taint.get("value") or "")
    if not matches_node_affinity(pod, node):
        return MSG_AFFINITY
    if not node_is_ready(node):
        return MSG_NOT_READY
    allocatable = dig(node, "status", "allocatable") or {}
    wanted = pod_requests(pod)
    for resource in ("cpu", "memory"):
        if wanted[resource] and requested.get(resource, 0) + wanted[resource] > quantity(allocatable.get(resource) or 0):
            return f"Insufficient {resource}"
    if requested.get("pods", 0) + 1 > quantity(allocatable.get("pods") or 110):
        return "Too many pods"
    return None


def _score(node: Dict[str, Any], requested: Dict[str, Fraction], wanted: Dict[str, Fraction]) -> Fraction:
    """Least-allocated over non-zero requests: the mean free fraction of cpu and memory after
    placing the pod."""
    allocatable = dig(node, "status", "allocatable") or {}
    score = Fraction(0)
    for resource in ("cpu", "memory"):
        capacity = quantity(allocatable.get(resource) or 0)
        if capacity:
            score += (capacity - requested.get("nonzero-" + resource, 0) - wanted[resource]) / capacity
    return score / 2


def unschedulable_message(total: int, reasons: Dict[str, int]) -> str:
    listed = ", ".join(sorted(f"{count} {reason}" for reason, count in reasons.items()))
    victims = sum(count for reason, count in reasons.items() if reason in RESOURCE_REASONS)
    preemption = {NO_VICTIMS: victims, NOT_HELPFUL: total - victims}
    after = ", ".join(sorted(f"{count} {reason}" for reason, count in preemption.items() if count))
    return f"0/{total} nodes are available: {listed}. preemption: 0/{total} nodes are available: {after}."


def choose_node(pod: Dict[str, Any], nodes: List[Dict[str, Any]],
                requested: Dict[str, Dict[str, Fraction]]) -> Tuple[Optional[str], str]:
    """(node name, "") or (None, the FitError message); ``requested`` maps node → its requests."""
    if not nodes:
        return None, "no nodes available to schedule pods"
    reasons: Dict[str, int] = {}
    feasible: List[Tuple[Fraction, str]] = []
    wanted = nonzero_requests(pod)
    for node in nodes:
        name = node["metadata"]["name"]
        used = requested.get(name, {})
        reason = filter_node(pod, node, used)
        if reason is None:
            feasible.append((-_score(node, used, wanted), name))
        else:
            reasons[reason] = reasons.get(reason, 0) + 1
    if feasible:
        return min(feasible)[1], ""
    return None, unschedulable_message(len(nodes), reasons)
