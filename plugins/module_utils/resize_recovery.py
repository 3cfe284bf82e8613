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
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Refusal
from ansible_collections.ocpvirt.portworx.plugins.module_utils.expansion import (
    ExpansionPlan,
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


def plan_resize(pvc, storage_class, size):
    """The plan for ``size``: :func:`plan_lower_request` below the current request, else ``plan_expansion``."""
    try:
        lower = compare_quantities(size, requested_size(pvc)) < 0
    except ValueError:
        lower = False  # plan_expansion refuses what it cannot compare
    return plan_lower_request(pvc, size) if lower else plan_expansion(pvc, storage_class, size)


def controller_failure(pvc):
    """The claim's recorded controller resize failure (``"ControllerResizeError: <message>"``, or the
    infeasible status when no condition says more), or None."""
    for error in resize_errors(pvc):
        if error.startswith(CONTROLLER_ERROR + ":"):
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
