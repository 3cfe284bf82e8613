"""The VM snapshot planner, the restore planner and the snapshot space formula."""

import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure, Refusal
from ansible_collections.ocpvirt.portworx.plugins.module_utils.snapshot_space import snapshot_space, space_warning
from ansible_collections.ocpvirt.portworx.plugins.module_utils.vm_restore_plan import needs_start, plan_restore, restore_progress
from ansible_collections.ocpvirt.portworx.plugins.module_utils.vm_snapshot_plan import (
    plan_snapshot,
    snapshot_class_for,
    snapshot_progress,
)

PX = {"metadata": {"name": "px"}, "provisioner": "pxd.portworx.com", "parameters": {"repl": "3"}}
VSC = {"metadata": {"name": "px-csi-snapclass"}, "driver": "pxd.portworx.com"}
REQUEST = {"name": "s", "namespace": "vms", "vm": "vm", "require_guest_agent": False}


def vm(*volumes):
    return {"metadata": {"name": "vm", "namespace": "vms", "uid": "u1"},
            "spec": {"template": {"spec": {"volumes": list(volumes)}}}}


def dv_volume(name, claim):
    return {"name": name, "dataVolume": {"name": claim}}


def claim(name, phase="Bound", storage_class="px"):
    return {"metadata": {"name": name, "namespace": "vms"}, "spec": {"storageClassName": storage_class},
            "status": {"phase": phase, "capacity": {"storage": "30Gi"}}}


def vmi(agent=True):
    conditions = [{"type": "AgentConnected", "status": "True"}] if agent else []
    return {"status": {"phase": "Running", "conditions": conditions}}


def test_snapshot_class_follows_kubevirt_choice():
    assert snapshot_class_for(PX, None, [VSC]) == "px-csi-snapclass"
    assert snapshot_class_for(PX, None, [{"metadata": {"name": "other"}, "driver": "csi.example.com"}]) is None
    second = {"metadata": {"name": "b", "annotations": {"snapshot.storage.kubernetes.io/is-default-class": "true"}}, "driver": "pxd.portworx.com"}
    assert snapshot_class_for(PX, None, [VSC, second]) == "b"
    with pytest.raises(ValueError, match="2 VolumeSnapshotClasses"):
        snapshot_class_for(PX, None, [VSC, dict(VSC, metadata={"name": "c"})])
    profile = {"status": {"snapshotClass": "px-csi-snapclass"}}
    assert snapshot_class_for(PX, profile, [VSC, second]) == "px-csi-snapclass"
    assert snapshot_class_for(PX, {"status": {"snapshotClass": "gone"}}, [VSC]) is None


def test_online_snapshot_with_agent_is_planned_as_frozen():
    plan = plan_snapshot(REQUEST, vm(dv_volume("rootdisk", "c1")), vmi(), {"c1": claim("c1")}, {"px": PX}, {}, [VSC], None)
    assert plan.needs_create and plan.consistency() == "guest-agent-frozen"
    assert plan.volumes == [{"volume": "rootdisk", "claim": "c1", "storage_class": "px", "driver": "pxd.portworx.com",
                             "snapshot_class": "px-csi-snapclass", "size": "30Gi"}]
    assert plan.definition()["spec"]["source"] == {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": "vm"}


def test_disk_without_snapshot_class_is_refused_naming_claim_class_and_driver():
    with pytest.raises(Refusal) as refused:
        plan_snapshot(REQUEST, vm(dv_volume("rootdisk", "c1")), None, {"c1": claim("c1")}, {"px": PX}, {}, [], None)
    assert "PersistentVolumeClaim vms/c1" in refused.value.msg
    assert "px" in refused.value.msg and "pxd.portworx.com" in refused.value.msg and "rootdisk" in refused.value.msg


@pytest.mark.parametrize("claims, vmi_obj, request_extra, words", [
    ({"c1": claim("c1", phase="Pending")}, None, {}, ["Pending"]),
    ({}, None, {}, ["missing"]),
    ({"c1": claim("c1")}, vmi(agent=False), {"require_guest_agent": True}, ["guest agent"]),
])
def test_other_refusals(claims, vmi_obj, request_extra, words):
    request = dict(REQUEST, **request_extra)
    with pytest.raises(Refusal) as refused:
        plan_snapshot(request, vm(dv_volume("rootdisk", "c1")), vmi_obj, claims, {"px": PX}, {}, [VSC], None)
    for word in words:
        assert word in refused.value.msg


def test_existing_snapshot_of_the_same_vm_is_no_change_and_of_another_is_refused():
    existing = {"spec": {"source": {"kind": "VirtualMachine", "name": "vm"}}}
    plan = plan_snapshot(REQUEST, vm(), None, {}, {}, {}, [VSC], existing)
    assert not plan.needs_create
    with pytest.raises(Refusal, match="not of VirtualMachine vm"):
        plan_snapshot(REQUEST, vm(), None, {}, {}, {}, [VSC], {"spec": {"source": {"kind": "VirtualMachine", "name": "x"}}})
    with pytest.raises(Refusal, match="does not exist"):
        plan_snapshot(REQUEST, None, None, {}, {}, {}, [VSC], None)


def test_snapshot_progress():
    assert snapshot_progress({"status": {"phase": "InProgress", "readyToUse": False}})[0] is False
    assert snapshot_progress({"status": {"phase": "Succeeded", "readyToUse": True}})[0] is True
    with pytest.raises(ModuleFailure, match="driver failure"):
        snapshot_progress({"metadata": {"name": "s"}, "status": {"error": {"message": "driver failure"}}})


def test_space_formula_of_the_document():
    nodes = [{"metadata": {"name": "n"}, "status": {"storage": {"totalSize": "100Gi", "usedSize": "50Gi"}}}]
    report = snapshot_space([{"size": "30Gi", "repl": 1}], 0.1, 7, nodes)
    assert report["reserve_gib"] == 21.0 and report["fits"] is True and space_warning(report) is None
    tight = snapshot_space([{"size": "30Gi", "repl": 3}], 0.1, 7, nodes)
    assert tight["reserve_raw_gib"] == 63.0 and tight["fits"] is False
    assert "50.0 GiB free" in space_warning(tight)
    unknown = snapshot_space([{"size": "30Gi"}], 0.1, 7, [])
    assert unknown["fits"] is False and "could not be checked" in space_warning(unknown)


SNAPSHOT = {"metadata": {"name": "s"}, "spec": {"source": {"name": "vm"}}, "status": {"readyToUse": True, "sourceUID": "u1"}}
RESTORE_REQUEST = {"name": "r", "namespace": "vms", "snapshot": "s", "target": None, "stop_target": False}


def test_restore_plans():
    plan = plan_restore(RESTORE_REQUEST, SNAPSHOT, None, vm(), None)
    assert plan.target == "vm" and plan.definition()["spec"]["targetReadinessPolicy"] == "FailImmediate"
    new = plan_restore(dict(RESTORE_REQUEST, target="copy"), SNAPSHOT, None, None, None)
    assert new.target == "copy" and new.needs_create
    stop = plan_restore(dict(RESTORE_REQUEST, stop_target=True), SNAPSHOT, None, vm(), vmi())
    assert stop.definition()["spec"]["targetReadinessPolicy"] == "StopTarget"


@pytest.mark.parametrize("request_extra, snapshot, target, target_vmi, words", [
    ({}, None, None, None, ["does not exist"]),
    ({}, dict(SNAPSHOT, status={"readyToUse": False, "phase": "InProgress"}), vm(), None, ["not readyToUse"]),
    ({"target": "other"}, SNAPSHOT, {"metadata": {"name": "other", "uid": "u2"}}, None, ["not the VM the snapshot was taken of"]),
    ({}, SNAPSHOT, vm(), vmi(), ["running", "stop_target"]),
])
def test_restore_refusals(request_extra, snapshot, target, target_vmi, words):
    with pytest.raises(Refusal) as refused:
        plan_restore(dict(RESTORE_REQUEST, **request_extra), snapshot, None, target, target_vmi)
    for word in words:
        assert word in refused.value.msg


def test_existing_restore_must_match_and_not_have_failed():
    existing = {"spec": {"virtualMachineSnapshotName": "s", "target": {"name": "vm"}}, "status": {"complete": True}}
    assert not plan_restore(RESTORE_REQUEST, SNAPSHOT, existing, vm(), vmi()).needs_create
    with pytest.raises(Refusal, match="already exists"):
        plan_restore(dict(RESTORE_REQUEST, target="x"), SNAPSHOT, existing, None, None)
    failed = dict(existing, status={"conditions": [{"type": "Failure", "status": "True", "reason": "boom"}]})
    with pytest.raises(Refusal, match="boom"):
        plan_restore(RESTORE_REQUEST, SNAPSHOT, failed, vm(), None)


def test_restore_progress_and_start():
    assert restore_progress({"metadata": {}, "status": {"complete": True}})[0] is True
    assert restore_progress({"metadata": {}, "status": {"complete": False}})[0] is False
    with pytest.raises(ModuleFailure):
        restore_progress({"metadata": {}, "status": {"conditions": [{"type": "Failure", "status": "True", "reason": "x"}]}})
    assert needs_start({"spec": {"runStrategy": "Halted"}}) and not needs_start({"spec": {"runStrategy": "Always"}})
    assert needs_start({"spec": {"running": False}})
