import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils import expansion
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Refusal


def pvc(request="10Gi", capacity="10Gi", phase="Bound", conditions=None, storage_class="px-csi-db", volume_mode=None):
    spec = {"resources": {"requests": {"storage": request}}, "storageClassName": storage_class}
    if volume_mode:
        spec["volumeMode"] = volume_mode
    status = {"phase": phase, "conditions": conditions or []}
    if capacity:
        status["capacity"] = {"storage": capacity}
    return {"metadata": {"name": "data", "namespace": "vms"}, "spec": spec, "status": status}


def sc(expandable=True):
    return {"metadata": {"name": "px-csi-db"}, "allowVolumeExpansion": expandable}


def cond(kind):
    return {"type": kind, "status": "True", "reason": "r", "message": "m"}


def test_growing_a_bound_claim_on_an_expandable_class_needs_a_patch():
    plan = expansion.plan_expansion(pvc(), sc(), "20Gi")
    assert plan.needs_patch
    assert plan.old_request == "10Gi" and plan.old_capacity == "10Gi"
    assert expansion.expansion_patch("20Gi") == {"spec": {"resources": {"requests": {"storage": "20Gi"}}}}


def test_equal_size_in_other_units_is_no_change():
    plan = expansion.plan_expansion(pvc(request="1Gi"), sc(), "1024Mi")
    assert not plan.needs_patch


def test_shrink_is_refused_with_both_sizes():
    with pytest.raises(Refusal) as refused:
        expansion.plan_expansion(pvc(request="20Gi"), sc(), "10Gi")
    assert "10Gi" in refused.value.msg and "20Gi" in refused.value.msg
    assert "PersistentVolumeClaim vms/data" in refused.value.msg


def test_class_without_expansion_is_refused_by_name():
    with pytest.raises(Refusal) as refused:
        expansion.plan_expansion(pvc(), sc(expandable=False), "20Gi")
    assert "StorageClass px-csi-db" in refused.value.msg and "allowVolumeExpansion" in refused.value.msg


def test_missing_class_is_refused():
    with pytest.raises(Refusal):
        expansion.plan_expansion(pvc(), None, "20Gi")


def test_unbound_claim_is_refused():
    with pytest.raises(Refusal) as refused:
        expansion.plan_expansion(pvc(phase="Pending", capacity=None), sc(), "20Gi")
    assert "Pending" in refused.value.msg


def test_garbage_size_is_refused():
    with pytest.raises(Refusal):
        expansion.plan_expansion(pvc(), sc(), "twenty")


def test_progress_waits_while_resizing_and_until_capacity_reached():
    assert not expansion.expansion_progress(pvc(request="20Gi", conditions=[cond("Resizing")]), "20Gi", True)[0]
    assert not expansion.expansion_progress(pvc(request="20Gi", capacity="10Gi"), "20Gi", True)[0]
    assert expansion.expansion_progress(pvc(request="20Gi", capacity="20Gi"), "20Gi", True)[0]


def test_filesystem_pending_finishes_the_wait_only_when_nothing_mounts_the_claim():
    pending = pvc(request="20Gi", conditions=[cond("FileSystemResizePending")])
    assert not expansion.expansion_progress(pending, "20Gi", in_use=True)[0]
    assert expansion.expansion_progress(pending, "20Gi", in_use=False)[0]
    assert "start the workload" in expansion.follow_up(pending)


def test_follow_up_for_vm_disks_mentions_the_guest():
    assert "guest" in expansion.follow_up(pvc(), vm_disk=True)
    assert expansion.follow_up(pvc()) is None


def test_claim_in_use_only_counts_live_pods():
    pod = {"status": {"phase": "Running"}, "spec": {"volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}]}}
    done = {"status": {"phase": "Pending"}, "spec": pod["spec"]}
    assert expansion.claim_in_use([pod], "data")
    assert not expansion.claim_in_use([done], "data")
    assert not expansion.claim_in_use([pod], "other")


def test_facts_report_old_and_new():
    plan = expansion.plan_expansion(pvc(), sc(), "20Gi")
    facts = plan.facts(pvc(request="20Gi", capacity="20Gi"))
    assert facts["old_request"] == "10Gi" and facts["request"] == "20Gi" and facts["capacity"] == "20Gi"
    assert facts["conditions"] == []


POOL_FULL = "resize volume failed: rpc error: code = Internal desc = pool has not enough free space"


def failed_resize(infeasible):
    claim = pvc(request="20Gi", capacity="10Gi",
                conditions=[{"type": "ControllerResizeError", "status": "True", "reason": "", "message": POOL_FULL}])
    claim["status"]["allocatedResourceStatuses"] = {"storage": "ControllerResizeInfeasible" if infeasible else "ControllerResizeInProgress"}
    return claim


def test_a_resize_error_is_named_in_the_wait_state():
    done, state = expansion.expansion_progress(failed_resize(infeasible=False), "20Gi", in_use=True)
    assert not done
    assert "ControllerResizeError: " + POOL_FULL in state and "conditions none" not in state


def test_an_infeasible_resize_fails_at_once_with_the_driver_message_and_both_fixes():
    with pytest.raises(expansion.ModuleFailure) as failed:
        expansion.expansion_progress(failed_resize(infeasible=True), "20Gi", in_use=True)
    assert failed.value.reason == "ControllerResizeInfeasible"
    assert POOL_FULL in failed.value.msg and "PersistentVolumeClaim vms/data" in failed.value.msg
    assert failed.value.details["claim_conditions"][0]["type"] == "ControllerResizeError"
    # The fix Kubernetes 1.33 really offers: make room and let the resizer retry, or a smaller size above the capacity.
    assert "free or add capacity in the Portworx storage pool" in failed.value.msg
    assert "smaller size above 10Gi" in failed.value.msg and "RecoverVolumeExpansionFailure" in failed.value.msg
    assert "\n" not in failed.value.msg


def test_an_infeasible_status_left_from_a_larger_size_does_not_fail_the_wait_for_the_lower_one():
    claim = failed_resize(infeasible=True)
    claim["status"]["allocatedResources"] = {"storage": "40Gi"}  # the request was lowered to 20Gi since
    done, state = expansion.expansion_progress(claim, "20Gi", in_use=True)
    assert not done and "ControllerResizeError" in state
    claim["status"]["allocatedResources"] = {"storage": "20480Mi"}  # the resizer tried 20Gi too, and it failed
    with pytest.raises(expansion.ModuleFailure):
        expansion.expansion_progress(claim, "20Gi", in_use=True)


def test_warning_events_newest_first_normal_events_left_out():
    events = [
        {"type": "Warning", "reason": "VolumeResizeFailed", "message": "old", "lastTimestamp": "2026-12-02T06:00:00Z"},
        {"type": "Normal", "reason": "Resizing", "message": "started", "lastTimestamp": "2026-12-02T06:05:00Z"},
        {"type": "Warning", "reason": "VolumeResizeFailed", "message": "new\nline", "lastTimestamp": "2026-12-02T06:10:00Z"},
    ]
    assert expansion.warning_events(events) == ["VolumeResizeFailed: new line", "VolumeResizeFailed: old"]
    assert expansion.warning_events(events, limit=1) == ["VolumeResizeFailed: new line"]
    assert expansion.warning_events([]) == []


def test_an_unfinished_resize_is_reported_with_its_oldest_condition_time():
    assert expansion.unfinished_resize(pvc()) is None
    assert expansion.unfinished_resize(pvc(request="20Gi", capacity="20480Mi")) is None
    resizing = [{"type": "Resizing", "status": "True", "lastTransitionTime": "2026-12-02T09:00:05Z"},
                {"type": "FileSystemResizePending", "status": "False", "lastTransitionTime": "2026-12-02T08:00:00Z"}]
    left = expansion.unfinished_resize(pvc(request="20Gi", capacity="10Gi", conditions=resizing))
    assert left["claim"] == "vms/data" and left["requested"] == "20Gi" and left["capacity"] == "10Gi"
    assert left["conditions"] == ["Resizing"] and left["since"] == "2026-12-02T09:00:05Z"
    assert "a resize to 20Gi was requested earlier and is not finished (capacity 10Gi, conditions Resizing, since" in left["summary"]
    # Request above capacity without any condition yet (the resizer has not picked it up): still unfinished.
    assert expansion.unfinished_resize(pvc(request="20Gi", capacity="10Gi"))["since"] is None
    # A condition alone (capacity already reached, filesystem half pending) counts too.
    pending = [{"type": "FileSystemResizePending", "status": "True"}]
    assert expansion.unfinished_resize(pvc(request="20Gi", capacity="20Gi", conditions=pending))["conditions"] == ["FileSystemResizePending"]
