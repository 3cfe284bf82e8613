"""Lowering the request of a failed resize (plugins/module_utils/resize_recovery.py)."""
import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils import resize_recovery
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Refusal

POOL_FULL = "failed to expand pvc with rpc error: code = Internal desc = pool has not enough free space"


def claim(request="40Gi", capacity="30Gi", status=None, error=True, phase="Bound", allocated=None):
    conditions = [{"type": "Resizing", "status": "True"}]
    if error:
        conditions.append({"type": "ControllerResizeError", "status": "True", "message": POOL_FULL})
    pvc = {"metadata": {"name": "data", "namespace": "vms"},
           "spec": {"resources": {"requests": {"storage": request}}, "storageClassName": "px-csi-db"},
           "status": {"phase": phase, "conditions": conditions, "allocatedResources": {"storage": allocated or request}}}
    if capacity:
        pvc["status"]["capacity"] = {"storage": capacity}
    if status:
        pvc["status"]["allocatedResourceStatuses"] = {"storage": status}
    return pvc


EXPANDABLE = {"metadata": {"name": "px-csi-db"}, "allowVolumeExpansion": True}


def test_a_failed_resize_may_be_retried_smaller_above_the_capacity():
    plan = resize_recovery.plan_resize(claim(status="ControllerResizeInProgress"), EXPANDABLE, "35Gi")
    assert plan.needs_patch and plan.old_request == "40Gi"
    assert plan.recovery == {"abandoned_request": "40Gi", "request": "35Gi", "capacity": "30Gi",
                             "failure": "ControllerResizeError: " + POOL_FULL}
    # Just above the capacity is enough (the API server's rule is strictly above), and no StorageClass is needed.
    assert resize_recovery.plan_resize(claim(status="ControllerResizeInfeasible"), None, "30721Mi").needs_patch


def test_an_infeasible_status_alone_counts_as_the_failure():
    plan = resize_recovery.plan_resize(claim(status="ControllerResizeInfeasible", error=False), EXPANDABLE, "35Gi")
    assert plan.recovery["failure"] == "ControllerResizeInfeasible"


@pytest.mark.parametrize("size", ["30Gi", "30720Mi", "20Gi"])
def test_a_size_at_or_below_the_capacity_is_refused_with_both_ways_out(size):
    with pytest.raises(Refusal) as refused:
        resize_recovery.plan_resize(claim(status="ControllerResizeInfeasible"), EXPANDABLE, size)
    message = refused.value.msg
    assert message.startswith("PersistentVolumeClaim vms/data: requested size {0} is not above the capacity 30Gi".format(size))
    assert "never shrinks" in message and "Give a size above 30Gi" in message and "or 40Gi" in message
    assert refused.value.details["capacity"] == "30Gi"


def test_a_finished_resize_is_never_undone():
    with pytest.raises(Refusal) as refused:
        resize_recovery.plan_resize(claim(request="40Gi", capacity="40Gi", error=False), EXPANDABLE, "35Gi")
    assert "smaller than the current request 40Gi" in refused.value.msg and "Give a size of at least 40Gi" in refused.value.msg


def test_a_smaller_size_while_the_resize_runs_without_a_failure_is_refused():
    with pytest.raises(Refusal) as refused:
        resize_recovery.plan_resize(claim(status="ControllerResizeInProgress", error=False), EXPANDABLE, "35Gi")
    assert "no failure recorded" in refused.value.msg and "Run with size 40Gi" in refused.value.msg


def test_an_unbound_claim_is_refused():
    with pytest.raises(Refusal) as refused:
        resize_recovery.plan_resize(claim(capacity=None, phase="Pending"), EXPANDABLE, "35Gi")
    assert "Pending, not Bound" in refused.value.msg


def test_sizes_at_or_above_the_request_are_planned_as_before():
    assert not resize_recovery.plan_resize(claim(), EXPANDABLE, "40960Mi").needs_patch
    grown = resize_recovery.plan_resize(claim(), EXPANDABLE, "50Gi")
    assert grown.needs_patch and grown.recovery is None


@pytest.mark.parametrize("status", ["NodeResizePending", "NodeResizeInProgress", "NodeResizeInfeasible"])
def test_an_error_condition_left_from_an_attempt_the_controller_finished_is_refused(status):
    # external-resizer keeps the old resize conditions when it marks NodeResizePending (resize_status.go).
    pvc = claim(status=status)
    assert resize_recovery.controller_failure(pvc) is None
    with pytest.raises(Refusal) as refused:
        resize_recovery.plan_resize(pvc, EXPANDABLE, "35Gi")
    message = refused.value.msg
    assert message.startswith("PersistentVolumeClaim vms/data: requested size 35Gi is below the request 40Gi, "
                              "but the ControllerResizeError condition is stale")
    assert "allocatedResourceStatuses storage {0}, capacity 30Gi".format(status) in message
    assert "Run with size 40Gi" in message and "\n" not in message


@pytest.mark.parametrize("allocated", ["30Gi", "30720Mi", "25Gi"])
def test_a_stale_error_without_a_status_once_the_capacity_reached_the_allocated_size_is_refused(allocated):
    # No status and capacity at or above allocatedResources: the controller expansion is done (request 40Gi still above).
    pvc = claim(allocated=allocated)
    assert resize_recovery.controller_failure(pvc) is None
    with pytest.raises(Refusal) as refused:
        resize_recovery.plan_resize(pvc, EXPANDABLE, "35Gi")
    assert "condition is stale" in refused.value.msg and "storage not set" in refused.value.msg


def test_a_stale_error_without_a_status_or_an_allocated_size_is_refused():
    pvc = claim()
    del pvc["status"]["allocatedResources"]
    with pytest.raises(Refusal) as refused:
        resize_recovery.plan_resize(pvc, EXPANDABLE, "35Gi")
    assert "condition is stale" in refused.value.msg and "expansion to 40Gi has finished" in refused.value.msg


def test_an_error_without_a_status_while_the_capacity_is_below_the_allocated_size_counts():
    plan = resize_recovery.plan_resize(claim(), EXPANDABLE, "35Gi")
    assert plan.recovery["failure"] == "ControllerResizeError: " + POOL_FULL


def test_a_node_status_without_an_error_condition_is_refused_as_no_failure():
    with pytest.raises(Refusal) as refused:
        resize_recovery.plan_resize(claim(status="NodeResizePending", error=False), EXPANDABLE, "35Gi")
    assert "no failure recorded" in refused.value.msg
