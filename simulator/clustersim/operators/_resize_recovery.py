"""Which size the external-resizer asks the CSI driver for, and how it files a failed
``ControllerExpandVolume`` (pure decisions, used by the ``storage`` plug-in).

Facts from kubernetes-csi/external-resizer (v2.x, master beef24d, July 2026), with the
``RecoverVolumeExpansionFailure`` feature that Kubernetes 1.33 has on by default (beta since 1.32,
GA and locked in 1.34: kubernetes/kubernetes ``pkg/features/kube_features.go``):

* **Size to expand to** (``pkg/controller/expand_and_recover.go`` ``expandAndRecover``). The resizer
  looks only at claims whose request is above ``status.capacity`` (``controller.go``
  ``pvcNeedResize``). While the PV is smaller than the request it normally asks for the request;
  it keeps asking for ``status.allocatedResources`` instead while a node step is pending or in
  progress, and while a controller resize is ``ControllerResizeInProgress`` without a final error
  (an uncertain RPC may still complete). After a final error, or with
  ``ControllerResizeInfeasible``, it takes the request as it is now: a user who lowered the request
  (the API server allows it down to just above ``status.capacity``) gets the smaller size tried.
  When the PV already covers the request (the user lowered it below what was reached) a controller
  resize that was in progress or infeasible is resumed at ``allocatedResources``.
* **Which updates it looks at** (``controller.go`` ``updatePVC``, with the feature on): a claim is
  queued again when its request changed (up or down), its capacity grew or its
  ``allocatedResourceStatuses`` entry changed; other updates (its own condition changes, labels)
  are not acted on until a backoff retry or the informer's periodic resync (not simulated).
* **Infeasible sizes are not retried at once**: asking again for the same ``allocatedResources``
  after ``ControllerResizeInfeasible`` waits for the slow-retry set (``markForSlowRetry``; its
  interval is ``--retry-interval-max``, 5 minutes by default, ``cmd/csi-resizer/main.go``).
* **Error classes** (``pkg/util/util.go``): gRPC ``Canceled``, ``DeadlineExceeded``,
  ``Unavailable``, ``ResourceExhausted`` and ``Aborted`` are not final (the operation may still be in
  progress: nothing is recorded on the claim, the resize is retried at ``allocatedResources``);
  ``InvalidArgument``, ``OutOfRange`` and ``NotFound`` are infeasible (``IsInfeasibleError``); every
  other code is final. A final error sets the condition ``ControllerResizeError`` ("failed to
  expand pvc with <error>", ``resize_status.go``) and keeps the older resize conditions
  (``Resizing`` stays); an infeasible one also sets ``allocatedResourceStatuses.storage:
  ControllerResizeInfeasible``. Failed resizes are requeued with exponential backoff
  (``--retry-interval-start`` 1 s up to ``--retry-interval-max``).
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from ..quantity import QuantityError, parse_quantity

NOT_FINAL_CODES = frozenset({"Canceled", "DeadlineExceeded", "Unavailable", "ResourceExhausted", "Aborted"})
INFEASIBLE_CODES = frozenset({"InvalidArgument", "OutOfRange", "NotFound"})

CONTROLLER_IN_PROGRESS = "ControllerResizeInProgress"
CONTROLLER_INFEASIBLE = "ControllerResizeInfeasible"
NODE_PENDING = "NodeResizePending"
NODE_IN_PROGRESS = "NodeResizeInProgress"
NODE_INFEASIBLE = "NodeResizeInfeasible"


def error_class(code: str) -> str:
    """``"uncertain"``, ``"infeasible"`` or ``"final"`` for a gRPC status code name."""
    if code in NOT_FINAL_CODES:
        return "uncertain"
    if code in INFEASIBLE_CODES:
        return "infeasible"
    return "final"


def _size(value: Any) -> Optional[float]:
    try:
        return parse_quantity(value) if value is not None else None
    except QuantityError:
        return None


def size_to_expand(request: Any, pv_size: Any, allocated: Any, status: Optional[str], final_error: bool) -> Optional[Any]:
    """The size to ask the driver for (a quantity string as given), or None for nothing to do now.

    ``request`` is ``spec.resources.requests.storage`` (already above ``status.capacity``),
    ``pv_size`` the PV's capacity, ``allocated`` / ``status`` the claim's ``allocatedResources`` /
    ``allocatedResourceStatuses`` for storage, ``final_error`` whether the last attempt for this
    claim ended in a final error.
    """
    wanted, pv_bytes, allocated_bytes = _size(request), _size(pv_size), _size(allocated)
    if wanted is None:
        return None
    if pv_bytes is None or pv_bytes < wanted:
        if status in (NODE_PENDING, NODE_IN_PROGRESS, NODE_INFEASIBLE) and allocated is not None:
            if status != NODE_INFEASIBLE and pv_bytes is not None and allocated_bytes is not None and pv_bytes >= allocated_bytes:
                return None  # the node step of the earlier size goes first
            return allocated
        if status == CONTROLLER_IN_PROGRESS and not final_error and allocated is not None:
            return allocated
        return request
    if status in (CONTROLLER_IN_PROGRESS, CONTROLLER_INFEASIBLE) and allocated is not None:
        return allocated
    return None


def update_queues_claim(new: Dict[str, Any], old: Optional[Dict[str, Any]]) -> bool:
    """Whether the resizer acts on this add or update of a claim (``updatePVC``)."""
    if old is None:
        return True
    if _size(_storage(new, "spec", "resources", "requests")) != _size(_storage(old, "spec", "resources", "requests")):
        return True
    new_capacity, old_capacity = _size(_storage(new, "status", "capacity")), _size(_storage(old, "status", "capacity"))
    if new_capacity is not None and (old_capacity is None or new_capacity > old_capacity):
        return True
    return _storage(new, "status", "allocatedResourceStatuses") != _storage(old, "status", "allocatedResourceStatuses")


def _storage(obj: Dict[str, Any], *path: str) -> Any:
    value: Any = obj
    for step in path:
        value = value.get(step) if isinstance(value, dict) else None
    return value.get("storage") if isinstance(value, dict) else None


def waits_for_slow_retry(new_size: Any, allocated: Any, status: Optional[str]) -> bool:
    """The same infeasible size again: the resizer holds it back in its slow-retry set."""
    return status == CONTROLLER_INFEASIBLE and allocated is not None and _size(new_size) == _size(allocated)
