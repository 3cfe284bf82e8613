"""Pod update validation: what may change in a pod's spec after creation.

kubernetes/kubernetes release-1.33, ``pkg/apis/core/validation/validation.go``
``ValidatePodUpdate``: the spec is compared with the old one after the updatable fields are
copied over — ``spec.containers[*].image``, ``spec.initContainers[*].image``,
``spec.activeDeadlineSeconds`` (set, or lowered; never removed), ``spec.tolerations`` (additions
only), ``spec.terminationGracePeriodSeconds`` (only from a negative value to 1) and the removal of
``spec.schedulingGates``; anything else is ``spec: Forbidden: pod updates may not change fields
other than ...``.  Upstream follows the message with a Go ``cmp`` diff of the two specs; the
simulator lists the paths that differ instead.  ``spec.nodeName`` is set once, by the
``pods/binding`` subresource upstream; the simulator has no binding subresource, so any update
may set it while it is empty (the simulated schedulers do that).
"""
from __future__ import annotations

from typing import Any, Dict, List

from . import errors
from .util import clone

UPDATABLE = ("`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
             "`spec.tolerations` (only additions to existing tolerations),"
             "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)")


def _munged(new_spec: Dict[str, Any], old_spec: Dict[str, Any]) -> Dict[str, Any]:
    """``new_spec`` with what may change copied from ``old_spec`` (the comparison of upstream)."""
    munged = clone(new_spec)
    for field_name in ("containers", "initContainers"):
        new_list, old_list = munged.get(field_name) or [], old_spec.get(field_name) or []
        if len(new_list) == len(old_list):
            for new_c, old_c in zip(new_list, old_list):
                if isinstance(new_c, dict) and isinstance(old_c, dict) and "image" in old_c:
                    new_c["image"] = old_c["image"]
    for field_name in ("activeDeadlineSeconds", "tolerations"):
        if field_name in old_spec:
            munged[field_name] = clone(old_spec[field_name])
        elif field_name == "tolerations":
            munged.pop(field_name, None)
    if "activeDeadlineSeconds" not in old_spec:
        munged.pop("activeDeadlineSeconds", None)
    old_grace = old_spec.get("terminationGracePeriodSeconds")
    if isinstance(old_grace, int) and old_grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    if not munged.get("schedulingGates") and old_spec.get("schedulingGates"):
        munged["schedulingGates"] = clone(old_spec["schedulingGates"])
    if not old_spec.get("nodeName") and munged.get("nodeName"):
        munged["nodeName"] = old_spec.get("nodeName")
        if munged["nodeName"] is None:
            munged.pop("nodeName")
    return munged


def _differences(new: Any, old: Any, path: str, out: List[str]) -> None:
    if isinstance(new, dict) and isinstance(old, dict):
        for key in sorted(set(new) | set(old)):
            _differences(new.get(key), old.get(key), f"{path}.{key}", out)
    elif isinstance(new, list) and isinstance(old, list) and len(new) == len(old):
        for index, (a, b) in enumerate(zip(new, old)):
            _differences(a, b, f"{path}[{index}]", out)
    elif new != old:
        out.append(path)


def _tolerations_causes(new_spec: Dict[str, Any], old_spec: Dict[str, Any]) -> List[errors.FieldCause]:
    """``validateOnlyAddedTolerations``: every old toleration must still be there."""
    new_list = new_spec.get("tolerations") or []
    causes = []
    for old in old_spec.get("tolerations") or []:
        if old not in new_list:
            causes.append(errors.forbidden_field("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds"))
            break
    return causes


def _deadline_causes(new_spec: Dict[str, Any], old_spec: Dict[str, Any]) -> List[errors.FieldCause]:
    old_value, new_value = old_spec.get("activeDeadlineSeconds"), new_spec.get("activeDeadlineSeconds")
    if old_value is None:
        return []
    if new_value is None:
        return [errors.invalid_field("spec.activeDeadlineSeconds", None, "must not update from a positive integer to nil value")]
    if new_value > old_value:
        return [errors.invalid_field("spec.activeDeadlineSeconds", new_value,
                                     "must be less than or equal to previous value")]
    return []


def validate_pod_update(new: Dict[str, Any], old: Dict[str, Any], name: str) -> None:
    """Raise the apiserver's 422 when ``new`` changes the pod spec beyond what may change."""
    new_spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    if new_spec == old_spec:
        return
    causes = _deadline_causes(new_spec, old_spec) + _tolerations_causes(new_spec, old_spec)
    munged = _munged(new_spec, old_spec)
    if munged != old_spec:
        changed: List[str] = []
        _differences(munged, old_spec, "spec", changed)
        causes.append(errors.forbidden_field("spec", f"pod updates may not change fields other than {UPDATABLE}\n"
                                             + "changed: " + ", ".join(changed)))
    if causes:
        raise errors.invalid("Pod", name, causes)
