# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retrying a failed PVC resize with a smaller size: when a lower request is allowed and useful.

Kubernetes 1.33 (OpenShift 4.20) has ``RecoverVolumeExpansionFailure`` on by default (beta since
1.32, GA in 1.34; kubernetes/kubernetes ``pkg/features/kube_features.go``). With it the API server
accepts a bound claim's storage request lowered to a value strictly above ``status.capacity`` and
refuses one at or below it ("field can not be less than status.capacity";
``ValidatePersistentVolumeClaimUpdate``, ``pkg/apis/core/validation/validation.go``). Lowering needs
no ``allowVolumeExpansion`` (the ``PersistentVolumeClaimResize`` admission plug-in checks growth
only).

The lower request only has an effect once the resize has failed: the external-resizer
(kubernetes-csi/external-resizer ``pkg/controller/expand_and_recover.go``) takes the new request
after a final error (condition ``ControllerResizeError``) or with ``ControllerResizeInfeasible``, but
keeps asking for ``status.allocatedResources`` while an attempt may still be running. So a lower
size is planned only for a claim whose resize is unfinished and has a controller failure recorded;
every other smaller size is refused before any write.

A ``ControllerResizeError`` condition can outlive the attempt it reports (kubernetes-csi/external-resizer
``pkg/controller/resize_status.go`` at v2.1.0-41-gbeef24d, read for this check):
``markForPendingNodeExpansion`` sets the status ``NodeResizePending`` after a later attempt
succeeded at the controller but merges the conditions keeping the old resize ones, so the error
stays True; only ``markOverallExpansionAsFinished`` drops the resize conditions (and deletes the
storage status), and ``markControllerResizeInProgress`` drops them only when it starts a new size.
Once the controller expansion has finished, ``expand_and_recover.go`` no longer takes a lower
request (``NodeResize*`` keep ``allocatedResources``; a claim whose volume already has the
request is left to the kubelet). So the failure counts only while the controller expansion is
unfinished: status ``ControllerResizeInProgress`` or ``ControllerResizeInfeasible``
(``ClaimResourceStatus``, kubernetes/kubernetes ``pkg/apis/core/types.go``), or, with no status
(an API server or resizer without the recovery fields), a capacity still below
``allocatedResources``. Not verified: whether the kubelet clears the conditions when it removes
the status after the node expansion.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Refusal
from ansible_collections.ocpvirt.portworx.plugins.module_utils.expansion import (
    ExpansionPlan,
    allocated_size,
    capacity,
    claim_subject,
    phase,
    plan_expansion,
    requested_size,
    resize_errors,
    resize_status,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.quantity import compare_quantities

CONTROLLER_ERROR = "ControllerResizeError"
CONTROLLER_INFEASIBLE = "ControllerResizeInfeasible"
CONTROLLER_IN_PROGRESS = "ControllerResizeInProgress"
CONTROLLER_UNFINISHED = (CONTROLLER_IN_PROGRESS, CONTROLLER_INFEASIBLE)


def plan_resize(pvc, storage_class, size):
    """The plan for ``size``: :func:`plan_lower_request` below the current request, else ``plan_expansion``."""
    try:
        lower = compare_quantities(size, requested_size(pvc)) < 0
    except ValueError:
        lower = False  # plan_expansion refuses what it cannot compare
    return plan_lower_request(pvc, size) if lower else plan_expansion(pvc, storage_class, size)


def controller_expansion_unfinished(pvc):
    """Whether the external-resizer has not finished the controller expansion (see the module docstring)."""
    status = resize_status(pvc)
    if status is not None:
        return status in CONTROLLER_UNFINISHED
    allocated, current = allocated_size(pvc), capacity(pvc)
    if allocated is None or current is None:
        return False
    try:
        return compare_quantities(current, allocated) < 0
    except ValueError:
        return False


def recorded_controller_error(pvc):
    """The claim's ``"ControllerResizeError: <message>"`` condition, current or stale, or None."""
    for error in resize_errors(pvc):
        if error.startswith(CONTROLLER_ERROR + ":"):
            return error
    return None


def controller_failure(pvc):
    """The controller resize failure of the claim's unfinished controller expansion
    (``"ControllerResizeError: <message>"``, or the infeasible status when no condition says more), or None."""
    if not controller_expansion_unfinished(pvc):
        return None
    error = recorded_controller_error(pvc)
    if error is not None:
        return error
    return CONTROLLER_INFEASIBLE if resize_status(pvc) == CONTROLLER_INFEASIBLE else None


def plan_lower_request(pvc, size):
    """Plan to lower the request of ``pvc`` to ``size`` (smaller than the request), or raise :class:`Refusal`."""
    subject = claim_subject(pvc)
    request, current = requested_size(pvc), capacity(pvc)
    details = dict(current_request=request, capacity=current, requested=size)
    if phase(pvc) != "Bound" or current is None:
        raise Refusal(subject, "requested size {0} is smaller than the current request {1}, and the claim is {2}, not Bound; "
                               "only a bound claim's request may change".format(size, request, phase(pvc) or "not bound yet"),
                      "Give a size of at least {0}.".format(request), **details)
    if compare_quantities(size, current) <= 0:
        raise _below_capacity(subject, pvc, size, **details)
    if recorded_controller_error(pvc) is not None and not controller_expansion_unfinished(pvc):
        raise _stale_failure(subject, pvc, size, **details)
    failure = controller_failure(pvc)
    if failure is None:
        raise Refusal(
            subject,
            "requested size {0} is below the request {1} of a resize that has no failure recorded (capacity {2}); a lower "
            "request does not stop it, the external-resizer finishes the size it started".format(size, request, current),
            "Run with size {0} to wait for it; a smaller size above {1} can be asked for once the resize has failed "
            "(condition ControllerResizeError).".format(request, current),
            **details)
    plan = ExpansionPlan(pvc, size, needs_patch=True)
    plan.recovery = {"abandoned_request": request, "request": size, "capacity": current, "failure": failure}
    return plan


def _below_capacity(subject, pvc, size, **details):
    request, current = requested_size(pvc), capacity(pvc)
    if compare_quantities(request, current) > 0:
        return Refusal(
            subject,
            "requested size {0} is not above the capacity {1}: Kubernetes never shrinks a volume, and the request of the "
            "unfinished resize to {2} may be lowered only to a value above status.capacity".format(size, current, request),
            "Give a size above {0} to retry the resize smaller, or {1} to keep waiting for it.".format(current, request),
            **details)
    return Refusal(
        subject,
        "requested size {0} is smaller than the current request {1} (capacity {2}); Kubernetes never shrinks a volume".format(
            size, request, current),
        "Give a size of at least {0}.".format(request),
        **details)


def _stale_failure(subject, pvc, size, **details):
    request, current = requested_size(pvc), capacity(pvc)
    return Refusal(
        subject,
        "requested size {0} is below the request {1}, but the ControllerResizeError condition is stale: the controller "
        "expansion to {2} has finished (allocatedResourceStatuses storage {3}, capacity {4}), so the external-resizer "
        "would not take a lower request".format(size, request, allocated_size(pvc) or request,
                                                resize_status(pvc) or "not set", current),
        "Run with size {0} to let the resize finish (a pending node expansion needs the claim's pod or VM "
        "running).".format(request),
        **details)
