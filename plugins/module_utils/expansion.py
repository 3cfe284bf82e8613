# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Growing a PersistentVolumeClaim: what to check before the write and when it is really done.

Used by ``volume_expand`` and by ``image_registry`` (for an existing registry claim that is
smaller than wanted), so both refuse, patch and wait in exactly the same way.

Kubernetes grows a claim in two halves: the CSI controller grows the volume (condition
``Resizing``), then, for a Filesystem volume, the kubelet of the node that mounts it grows the
filesystem (condition ``FileSystemResizePending`` until then). ``status.capacity`` reaches the new
size only when both halves are done, so a claim that no running pod mounts stays at
``FileSystemResizePending`` until one does.

When a half fails, the external-resizer (or the kubelet) sets ``ControllerResizeError`` (or
``NodeResizeError``) with the driver's message and records a Warning event on the claim
(kubernetes-csi/external-resizer ``pkg/controller/resize_status.go``, ``expand_and_recover.go``).
A final gRPC error (openstorage, the base of Portworx's CSI driver, answers a failed volume update
with ``Internal``: libopenstorage/openstorage ``csi/controller.go``) leaves
``status.allocatedResourceStatuses.storage`` at ``ControllerResizeInProgress`` and is retried with
backoff (1 s up to 5 min); an infeasible one (``InvalidArgument``, ``OutOfRange``, ``NotFound``)
sets ``ControllerResizeInfeasible`` and that size is tried again only after the resizer's
slow-retry interval (``--retry-interval-max``, 5 minutes by default). The status describes
``status.allocatedResources``, the size last tried, not necessarily the request.

What a user can do then, on Kubernetes 1.33 (OpenShift 4.20), where ``RecoverVolumeExpansionFailure``
is beta and on by default (kubernetes/kubernetes ``pkg/features/kube_features.go``: beta 1.32, GA
1.34): make room (free or add Portworx pool capacity) and let the resizer retry, or lower the
request to a size strictly above ``status.capacity`` (``ValidatePersistentVolumeClaimUpdate`` in
``pkg/apis/core/validation/validation.go`` refuses a value at or below it: "field can not be less
than status.capacity"), which the resizer then tries instead. A request can never go back to the
old capacity, and a finished resize can never be undone. ``resize_recovery.py`` plans that retry.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.cluster import describe
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure, Refusal, one_line
from ansible_collections.ocpvirt.portworx.plugins.module_utils.quantity import compare_quantities
from ansible_collections.ocpvirt.portworx.plugins.module_utils.waiting import condition

RESIZING = "Resizing"
FILESYSTEM_RESIZE_PENDING = "FileSystemResizePending"
RESIZE_ERRORS = ("ControllerResizeError", "NodeResizeError")
RESIZE_CONDITIONS = (RESIZING, FILESYSTEM_RESIZE_PENDING) + RESIZE_ERRORS
INFEASIBLE = ("ControllerResizeInfeasible", "NodeResizeInfeasible")
RECENT_EVENTS = 3


def requested_size(pvc):
    return (((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")


def capacity(pvc):
    return ((pvc.get("status") or {}).get("capacity") or {}).get("storage")


def phase(pvc):
    return (pvc.get("status") or {}).get("phase")


def volume_mode(pvc):
    return (pvc.get("spec") or {}).get("volumeMode") or "Filesystem"


def claim_name(pvc):
    return pvc["metadata"]["name"]


def claim_subject(pvc):
    return describe("PersistentVolumeClaim", pvc["metadata"]["name"], pvc["metadata"].get("namespace"))


def storage_class_name(pvc):
    return (pvc.get("spec") or {}).get("storageClassName")


def resize_conditions(pvc):
    """The claim's resize conditions that are True, as ``[{type, reason, message}]``."""
    found = []
    for wanted in RESIZE_CONDITIONS:
        cond = condition(pvc, wanted)
        if cond and str(cond.get("status")) == "True":
            found.append({"type": wanted, "reason": cond.get("reason"), "message": cond.get("message")})
    return found


def resize_errors(pvc):
    """``"ControllerResizeError: <driver message>"`` for each resize error condition of the claim."""
    return ["{0}: {1}".format(c["type"], one_line(c.get("message") or c.get("reason") or "no message"))
            for c in resize_conditions(pvc) if c["type"] in RESIZE_ERRORS]


def resize_status(pvc):
    return (((pvc or {}).get("status") or {}).get("allocatedResourceStatuses") or {}).get("storage")


def allocated_size(pvc):
    return (((pvc or {}).get("status") or {}).get("allocatedResources") or {}).get("storage")


def infeasible_for(pvc, size):
    """Whether Kubernetes marks the resize to ``size`` infeasible.

    The status describes ``allocatedResources``: one left from a larger size that the request was
    lowered from does not count (the resizer has not picked the new size up yet).
    """
    if resize_status(pvc) not in INFEASIBLE:
        return False
    allocated = allocated_size(pvc)
    try:
        return allocated is None or compare_quantities(allocated, size) == 0
    except ValueError:
        return True


def failed_resize_fix(pvc):
    """What a user can do about a failed controller resize of ``pvc`` on Kubernetes 1.33 (see the module docstring)."""
    current = capacity(pvc)
    return ("Fix: free or add capacity in the Portworx storage pool, and the external-resizer retries the same size by itself "
            "(with backoff; an infeasible size only after its slow-retry interval, 5 minutes by default), which a later run "
            "with that size reports; or retry with a smaller size above {0} (ocpvirt.portworx.volume_expand with that size "
            "lowers the request): Kubernetes 1.33 lets the request be lowered to a value above status.capacity to recover "
            "(RecoverVolumeExpansionFailure) and the resizer tries that size at once; the request can never go back to {0} "
            "or below".format(current))


def warning_events(events, limit=RECENT_EVENTS):
    """The most recent Warning events as ``["Reason: message"]``, newest first."""
    warnings = [e for e in events or [] if e.get("type") == "Warning"]
    warnings.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or (e.get("metadata") or {}).get("creationTimestamp") or ""),
                  reverse=True)
    return ["{0}: {1}".format(e.get("reason") or "Warning", one_line(e.get("message") or "")) for e in warnings[:limit]]


def expansion_patch(size):
    """The merge patch that asks for ``size``: the only field an expansion ever changes."""
    return {"spec": {"resources": {"requests": {"storage": size}}}}


class ExpansionPlan(object):
    """Whether a claim needs a new request, and what it was before."""

    def __init__(self, pvc, size, needs_patch):
        self.pvc = pvc
        self.size = size
        self.needs_patch = needs_patch
        self.old_request = requested_size(pvc)
        self.old_capacity = capacity(pvc)
        self.recovery = None  # set by resize_recovery.plan_lower_request: the failed resize this plan retries smaller

    def facts(self, current=None):
        """What the task returns about the claim: old and new request and capacity, conditions."""
        current = current or self.pvc
        return {
            "name": claim_name(current),
            "namespace": current["metadata"].get("namespace"),
            "storage_class": storage_class_name(current),
            "volume_mode": volume_mode(current),
            "old_request": self.old_request,
            "old_capacity": self.old_capacity,
            "request": requested_size(current),
            "capacity": capacity(current),
            "phase": phase(current),
            "conditions": resize_conditions(current),
        }


def plan_expansion(pvc, storage_class, size):
    """Check that ``pvc`` may grow to ``size`` and say whether a write is needed.

    Raises :class:`Refusal` for a shrink, a class without ``allowVolumeExpansion`` and a claim
    that is not Bound; a size equal to the current request is no change (a resize that an earlier
    run started is then only waited for).
    """
    subject = claim_subject(pvc)
    current = requested_size(pvc)
    try:
        order = compare_quantities(size, current)
    except ValueError as exc:
        raise Refusal(subject, "cannot compare the sizes ({0})".format(exc), "Give the size as a Kubernetes quantity such as 20Gi.")
    if order < 0:
        raise Refusal(
            subject,
            "requested size {0} is smaller than the current request {1}; Kubernetes never shrinks a volume".format(size, current),
            "Give a size of at least {0}.".format(current),
            current_request=current,
            requested=size,
        )
    if order == 0:
        return ExpansionPlan(pvc, size, needs_patch=False)
    if phase(pvc) != "Bound":
        raise Refusal(
            subject,
            "the claim is {0}, not Bound; only a bound claim has a volume to grow".format(phase(pvc) or "not bound yet"),
            "Wait until it is Bound (a WaitForFirstConsumer claim binds when a pod or VM uses it), then run again.",
        )
    class_name = storage_class_name(pvc)
    if storage_class is None:
        raise Refusal(
            subject,
            "its StorageClass {0} does not exist, so nothing says the volume may grow".format(class_name or "(none)"),
            "Recreate the StorageClass with allowVolumeExpansion: true, then run again.",
        )
    if not storage_class.get("allowVolumeExpansion"):
        raise Refusal(
            subject,
            "StorageClass {0} does not set allowVolumeExpansion: true, so the API server would refuse the resize".format(class_name),
            "Use a class that allows expansion; allowVolumeExpansion is the only StorageClass field that may be changed in place.",
            storage_class=class_name,
        )
    return ExpansionPlan(pvc, size, needs_patch=True)


def expansion_progress(pvc, size, in_use):
    """Probe for the wait: ``(done, state)``.

    Done when the capacity reached ``size`` with no resize condition left, or when only the
    filesystem half remains on a claim that no running pod mounts (it cannot progress until one
    does; the caller reports what to do).
    """
    conditions = [c["type"] for c in resize_conditions(pvc)]
    current_capacity = capacity(pvc)
    state = "capacity {0}, requested {1}, conditions {2}".format(current_capacity, requested_size(pvc), conditions or "none")
    errors = resize_errors(pvc)
    if errors:
        state = "{0}; {1}".format(state, "; ".join(errors))
    if infeasible_for(pvc, size):
        raise ModuleFailure(
            "{0}: the resize to {1} failed and Kubernetes marks it {2}, so that size is not retried now ({3}); the claim "
            "keeps its capacity {4}. {5}".format(
                claim_subject(pvc), size, resize_status(pvc), "; ".join(errors) or "no error condition", current_capacity,
                failed_resize_fix(pvc)),
            reason=resize_status(pvc),
            claim_conditions=resize_conditions(pvc),
        )
    if RESIZING in conditions:
        return False, state
    if FILESYSTEM_RESIZE_PENDING in conditions:
        return (not in_use), state
    grown = current_capacity is not None and compare_quantities(current_capacity, size) >= 0
    return grown, state


def unfinished_resize(pvc):
    """A resize asked for earlier and not finished: the request is above the capacity, or a resize condition is
    still set. ``{claim, requested, capacity, conditions, since, summary}``, or None.

    ``since`` is the ``lastTransitionTime`` of the oldest resize condition (the claim records no time of the
    request itself).
    """
    requested, current = requested_size(pvc), capacity(pvc)
    conditions = resize_conditions(pvc)
    try:
        pending = requested is not None and current is not None and compare_quantities(requested, current) > 0
    except ValueError:
        pending = False
    if not pending and not conditions:
        return None
    times = sorted(str(c.get("lastTransitionTime")) for c in ((pvc.get("status") or {}).get("conditions") or [])
                   if c.get("type") in RESIZE_CONDITIONS and str(c.get("status")) == "True" and c.get("lastTransitionTime"))
    since = times[0] if times else None
    summary = "{0}: a resize to {1} was requested earlier and is not finished (capacity {2}, conditions {3}{4})".format(
        claim_subject(pvc), requested, current, ", ".join(c["type"] for c in conditions) or "none",
        ", since {0}".format(since) if since else "")
    return {"claim": "{0}/{1}".format(pvc["metadata"].get("namespace"), claim_name(pvc)), "requested": requested,
            "capacity": current, "conditions": [c["type"] for c in conditions], "since": since, "summary": summary}


def claim_in_use(pods, claim):
    """Whether a running pod mounts ``claim``; the kubelet finishes a filesystem resize only then."""
    for pod in pods:
        if (pod.get("status") or {}).get("phase") != "Running":
            continue
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            if (volume.get("persistentVolumeClaim") or {}).get("claimName") == claim:
                return True
    return False


def follow_up(pvc, vm_disk=False):
    """What the user still has to do after the claim has grown, or None."""
    notes = []
    if any(c["type"] == FILESYSTEM_RESIZE_PENDING for c in resize_conditions(pvc)):
        notes.append(
            "The volume has grown but its filesystem has not: the kubelet grows it when a pod (or the VM) "
            "using the claim runs; start the workload, or restart it if it is running."
        )
    if vm_disk:
        notes.append("Grow the partition and filesystem inside the guest operating system to use the new space.")
    return " ".join(notes) or None
