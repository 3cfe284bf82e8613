"""virt-api's start / stop / restart rules (kubevirt/kubevirt v1.6, ``pkg/virt-api/rest/lifecycle.go``).

Each planner takes the VM and its VMI (None when there is none) and returns a :class:`StatePlan`
-- a new ``spec.runStrategy`` (or ``spec.running``) for the VM, or state change requests for
virt-controller (``status.stateChangeRequests``) -- or raises the ``ApiError`` virt-api answers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ... import errors
from ...errors import ApiError
from ...util import dig

VM_NOT_RUNNING = "VM is not running"


@dataclass(frozen=True)
class StatePlan:
    spec: Dict[str, Any] = field(default_factory=dict)  # merged into the VM spec
    requests: List[Dict[str, Any]] = field(default_factory=list)  # status.stateChangeRequests to add


def run_strategy(vm: Dict[str, Any]) -> str:
    """``VirtualMachine.RunStrategy()``: ``spec.running`` maps to Always/Halted; the default is Halted."""
    spec = vm.get("spec") or {}
    if spec.get("running") is not None:
        return "Always" if spec["running"] else "Halted"
    return spec.get("runStrategy") or "Halted"


def running_patch(vm: Dict[str, Any], running: bool) -> Dict[str, Any]:
    """``getRunningPatch``: the field the VM uses (runStrategy, else the deprecated running)."""
    if (vm.get("spec") or {}).get("runStrategy") is not None:
        return {"runStrategy": "Always" if running else "Halted"}
    return {"running": running}


def is_final(vmi: Optional[Dict[str, Any]]) -> bool:
    return dig(vmi, "status", "phase") in ("Succeeded", "Failed")


def vm_conflict(vm: Dict[str, Any], message: str) -> ApiError:
    return errors.conflict("virtualmachine", vm["metadata"]["name"], "kubevirt.io", message)


def change_requests(vm: Dict[str, Any], changes: List[Dict[str, Any]]) -> StatePlan:
    """``getChangeRequestJson``: pending requests may only be replaced by a lone stop request."""
    pending = dig(vm, "status", "stateChangeRequests") or []
    if pending and not (len(changes) == 1 and changes[0]["action"] == "Stop"):
        raise errors.internal_error("Internal error occurred: unable to complete request: stop/start already underway")
    return StatePlan(requests=changes)


def stop_request(vmi: Dict[str, Any]) -> Dict[str, Any]:
    return {"action": "Stop", "uid": vmi["metadata"]["uid"]}


def plan_start(vm: Dict[str, Any], vmi: Optional[Dict[str, Any]]) -> StatePlan:
    if vmi is not None and not is_final(vmi) and dig(vmi, "status", "phase") not in (None, "", "Unknown"):
        raise vm_conflict(vm, "VM is already running")
    strategy = run_strategy(vm)
    if strategy == "Halted":
        return StatePlan(spec=running_patch(vm, True))
    if strategy in ("RerunOnFailure", "Manual"):
        return start_requests(vm, vmi, strategy)
    raise vm_conflict(vm, f"{strategy} does not support manual start requests")


def start_requests(vm: Dict[str, Any], vmi: Optional[Dict[str, Any]], strategy: str) -> StatePlan:
    """Manual / RerunOnFailure: a start request, preceded by a stop of a finished VMI."""
    phase = dig(vmi, "status", "phase")
    if strategy == "RerunOnFailure" and phase == "Failed":
        raise vm_conflict(vm, "RerunOnFailure does not support starting VM from failed state")
    finished = phase == "Succeeded" if strategy == "RerunOnFailure" else is_final(vmi)
    start = [{"action": "Start"}]
    return change_requests(vm, [stop_request(vmi)] + start if vmi is not None and finished else start)


def plan_stop(vm: Dict[str, Any], vmi: Optional[Dict[str, Any]], grace_period: Optional[int] = None) -> StatePlan:
    strategy = run_strategy(vm)
    if strategy in ("Always", "Once"):
        return StatePlan(spec=running_patch(vm, False))
    if vmi is None or is_final(vmi):
        raise vm_conflict(vm, VM_NOT_RUNNING)
    if strategy == "Halted":
        old = dig(vmi, "spec", "terminationGracePeriodSeconds")
        if grace_period is None or (old is not None and grace_period >= old):
            raise vm_conflict(vm, "Halted only supports manual stop requests with a shorter graceperiod")
    return change_requests(vm, [stop_request(vmi)])


def check_restart_options(grace_period: Optional[int]) -> None:
    if grace_period is not None and grace_period > 0:
        raise errors.bad_request("For force restart, only gracePeriod=0 is supported for now")
    if grace_period is not None and grace_period < 0:
        raise errors.bad_request("gracePeriod has to be greater or equal to 0")


def plan_restart(vm: Dict[str, Any], vmi: Optional[Dict[str, Any]]) -> StatePlan:
    strategy = run_strategy(vm)
    if strategy in ("Halted", "Once"):
        # upstream's message spells it "RunStategy"
        raise vm_conflict(vm, f"RunStategy {strategy} does not support manual restart requests")
    if vmi is None:
        raise vm_conflict(vm, "VM is not running: Halted")
    return change_requests(vm, [stop_request(vmi), {"action": "Start"}])
