"""``pods/eviction`` as the apiserver serves it: hooks, then the PodDisruptionBudget check.

Eviction hooks (``cluster.add_eviction_hook``) run first, as validating webhooks on
``pods/eviction`` do: KubeVirt answers 429 "Eviction triggered evacuation of VMI" for
virt-launcher pods it evacuates.  ``evict_pod`` is the one eviction path: the HTTP subresource and
in-cluster drains (the Node Maintenance Operator) both use it.
Then every PDB of the namespace whose selector matches the pod must allow one disruption;
otherwise 429 "Cannot evict pod as it would violate the pod's disruption budget.".  Budgets are
computed from the live pods on each call (the disruption controller's ``status`` may be stale
or absent).  A successful eviction deletes the pod and answers 201 with a Success Status.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from . import errors
from .errors import ApiError, FieldCause
from .kinds import EVICTION_SCHEMA
from .schema import check_fields, prune_object, warning_header
from .selectors import Requirement, labels_match
from .util import dig

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster, SubresourceRequest


def register(cluster: "Cluster") -> None:
    cluster.add_subresource("pods", "eviction", evict, discover=False)


def selector_requirements(selector: Optional[Dict[str, Any]]) -> Optional[Tuple[Requirement, ...]]:
    """A ``LabelSelector`` (matchLabels/matchExpressions) as requirements; None selects nothing."""
    if selector is None:
        return None
    reqs: List[Requirement] = [Requirement(k, "=", frozenset([v])) for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        op = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}[expr["operator"]]
        reqs.append(Requirement(expr["key"], op, frozenset(expr.get("values") or [])))
    return tuple(reqs)


def _is_healthy(pod: Dict[str, Any]) -> bool:
    if pod["metadata"].get("deletionTimestamp") or dig(pod, "status", "phase") != "Running":
        return False
    conditions = dig(pod, "status", "conditions") or []
    ready = [c for c in conditions if c.get("type") == "Ready"]
    return not ready or ready[0].get("status") == "True"


def _resolve(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        scaled = int(value[:-1]) * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return int(value)


def check_disruption_budgets(cluster: "Cluster", pod: Dict[str, Any]) -> None:
    ns = pod["metadata"]["namespace"]
    labels = pod["metadata"].get("labels") or {}
    for pdb in cluster.store.list("policy/poddisruptionbudgets", ns, copy=False):
        reqs = selector_requirements(dig(pdb, "spec", "selector"))
        if reqs is None or not reqs or not labels_match(reqs, labels):
            continue
        covered = [p for p in cluster.store.list("pods", ns, label_selector=reqs, copy=False)]
        expected = len(covered)
        healthy = sum(1 for p in covered if _is_healthy(p))
        spec = pdb.get("spec") or {}
        if "minAvailable" in spec:
            desired = _resolve(spec["minAvailable"], expected, round_up=True)
        elif "maxUnavailable" in spec:
            desired = expected - _resolve(spec["maxUnavailable"], expected, round_up=True)
        else:
            desired = expected
        allowed = healthy - desired
        if allowed <= 0 and _is_healthy(pod):
            raise ApiError(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.",
                           causes=[FieldCause("", f"The disruption budget {pdb['metadata']['name']} needs {desired} "
                                              f"healthy pods and has {healthy} currently", "DisruptionBudget")],
                           retry_after=None)


def evict(req: "SubresourceRequest") -> Tuple[int, Dict[str, Any]]:
    if req.method != "POST":
        raise errors.method_not_allowed()
    cluster = req.cluster
    pod = cluster.store.get("pods", req.name, req.namespace)
    if pod is None:
        raise errors.not_found("pods", req.name)
    eviction = req.body if isinstance(req.body, dict) else {}
    # policy/v1 Eviction is decoded like any built-in type: unknown fields are dropped, reported
    # or refused according to fieldValidation.
    unknown = check_fields(req.http.param("fieldValidation"), "Eviction", "v1", eviction, EVICTION_SCHEMA)
    eviction = prune_object(eviction, EVICTION_SCHEMA)
    body_name = dig(eviction, "metadata", "name")
    if body_name and body_name != req.name:
        raise errors.bad_request(f"name in URL does not match name in Eviction object")
    options = eviction.get("deleteOptions") or {}
    dry_run = req.dry_run or "All" in (options.get("dryRun") or [])  # DeleteOptions may carry it
    evict_pod(cluster, pod, eviction, dry_run=dry_run, internal=False, preconditions=options.get("preconditions"))
    return 201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}, \
        warning_header(unknown)


def evict_pod(cluster: "Cluster", pod: Dict[str, Any], eviction: Optional[Dict[str, Any]] = None, *,
              dry_run: bool = False, internal: bool = True, preconditions: Optional[Dict[str, Any]] = None) -> None:
    """Evict ``pod`` as the eviction subresource does: the eviction hooks (KubeVirt's webhook) may
    refuse (ApiError) or take it over; else a pod that is not terminal must pass its
    PodDisruptionBudgets, and the pod is deleted.  The HTTP ``pods/eviction`` path and in-cluster
    drains (the Node Maintenance Operator) both come here."""
    for hook in list(cluster.eviction_hooks):
        if hook(cluster, pod, eviction or {}, dry_run):
            return
    if dig(pod, "status", "phase") not in ("Succeeded", "Failed"):
        check_disruption_budgets(cluster, pod)
    cluster.store.delete("pods", pod["metadata"]["name"], pod["metadata"]["namespace"], dry_run=dry_run,
                         internal=internal, preconditions=preconditions)
