import json

from ansible_collections.ocpvirt.portworx.plugins.module_utils import maintenance_overrides as overrides
from ansible_collections.ocpvirt.portworx.plugins.module_utils import maintenance_progress as progress
from ansible_collections.ocpvirt.portworx.plugins.module_utils.maintenance_preflight import finding


def node(name, role="worker", ready=True, cordoned=False, annotations=None):
    return {"metadata": {"name": name, "labels": {"node-role.kubernetes.io/" + role: ""}, "annotations": annotations or {}},
            "spec": {"unschedulable": True} if cordoned else {},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


MASTERS = [node("master-0", "master"), node("master-1", "master"), node("master-2", "master")]


def test_a_control_plane_node_is_refused_with_its_override():
    findings = overrides.control_plane_findings("master-0", MASTERS + [node("worker-0")], [])
    assert [f.get("override") for f in findings] == ["allow_control_plane"]
    assert overrides.control_plane_findings("worker-0", MASTERS + [node("worker-0")], []) == []


def test_never_below_etcd_quorum_whatever_the_overrides():
    degraded = [MASTERS[0], node("master-1", "master", ready=False), MASTERS[2]]
    findings = overrides.control_plane_findings("master-0", degraded, [])
    quorum = [f for f in findings if "etcd quorum of 2" in f["rule"]]
    assert quorum and "override" not in quorum[0] and "1 healthy control-plane node(s) (master-2) of 3" in quorum[0]["rule"]
    in_maintenance = overrides.control_plane_findings("master-0", MASTERS, [{"spec": {"nodeName": "master-2"}}])
    assert len(in_maintenance) == 2
    blocking, used = overrides.apply_overrides(findings, {"allow_control_plane": True})
    assert blocking == quorum and used == ["allow_control_plane"]
    assert overrides.etcd_quorum(3) == 2 and overrides.etcd_quorum(5) == 3 and overrides.etcd_quorum(1) == 1


def test_overrides_lift_only_their_own_refusals_and_are_reported():
    findings = [finding("refusal", "VMI a", "would be shut down", override="allow_vm_shutdown"),
                finding("refusal", "Node w", "other node down"),
                finding("warning", "Node w", "vendor")]
    blocking, used = overrides.apply_overrides(findings, {"allow_vm_shutdown": True, "allow_insufficient_room": True})
    assert [f["rule"] for f in blocking] == ["other node down"] and used == ["allow_vm_shutdown"]
    blocking, used = overrides.apply_overrides(findings, {})
    assert len(blocking) == 2 and used == []


def record(campaign, step="entering"):
    return {progress.PROGRESS_ANNOTATION: json.dumps({"campaign": campaign, "step": step, "since": "t"})}


def test_someone_elses_node_maintenance_or_cordon_is_refused_with_adopt():
    theirs = {"metadata": {"name": "dimm"}, "spec": {"nodeName": "worker-1", "reason": "DIMM failure - keep out of service"}}
    findings = overrides.ownership_findings(node("worker-1", cordoned=True), theirs, None, "c1")
    assert findings[0]["subject"] == "NodeMaintenance dimm" and findings[0]["override"] == "adopt"
    assert "DIMM failure" in findings[0]["rule"]
    ours = {"metadata": {"name": "w1", "annotations": {progress.OWNER_ANNOTATION: "c1"}}, "spec": {"nodeName": "worker-1"}}
    assert overrides.ownership_findings(node("worker-1", cordoned=True), ours, None, "c1") == []

    by_hand = node("worker-1", cordoned=True)
    assert "someone else" in overrides.ownership_findings(by_hand, None, None, "c1")[0]["rule"]
    other = node("worker-1", cordoned=True, annotations=record("c0"))
    assert "campaign 'c0'" in overrides.ownership_findings(other, None, progress.read_progress(other), "c1")[0]["rule"]
    mine = node("worker-1", cordoned=True, annotations=record("c1"))
    assert overrides.ownership_findings(mine, None, progress.read_progress(mine), "c1") == []
    assert overrides.ownership_findings(node("worker-1"), None, None, "c1") == []


def test_progress_is_parsed_and_reported_until_the_node_left():
    assert progress.read_progress(node("w", annotations={progress.PROGRESS_ANNOTATION: "not json"})) is None
    assert progress.read_progress(node("w", annotations=record("c1", "bogus"))) is None
    entering = progress.read_progress(node("w", annotations=record("c1")))
    report = progress.previous_run("w", entering)
    assert report == {"node": "w", "campaign": "c1", "step": "entering", "since": "t"}
    assert progress.describe_previous_run(report) == "previous run left node w at step 'entering' since t (campaign 'c1')"
    assert progress.previous_run("w", progress.read_progress(node("w", annotations=record("c1", "left")))) is None
    patch = progress.progress_patch("c1", "left", "t", interrupted="SIGTERM at t")
    stopped = progress.read_progress(node("w", annotations=patch["metadata"]["annotations"]))
    assert progress.previous_run("w", stopped)["interrupted"] == "SIGTERM at t"
    assert not progress.owns_cordon(progress.read_progress(node("w", annotations=record("c1", "left"))), "c1")
