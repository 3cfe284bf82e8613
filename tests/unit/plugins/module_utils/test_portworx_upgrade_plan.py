"""The Portworx upgrade guard and the rollout readers."""

import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Refusal
from ansible_collections.ocpvirt.portworx.plugins.module_utils.portworx_upgrade_plan import (
    EVICT_VMS_ANNOTATION,
    failed_eviction,
    fresh_events,
    image_version,
    migration_failure_reason,
    plan_upgrade,
    portworx_vmis,
    rollout_state,
    vm_migratability,
)

CLUSTER = {"metadata": {"name": "px-cluster", "namespace": "portworx"},
           "spec": {"image": "portworx/oci-monitor:3.6.0", "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}},
           "status": {"version": "3.6.0"}}
NODES = [{"metadata": {"name": "w0"}, "spec": {"version": "3.6.0"}, "status": {"phase": "Online"}}]
REQUEST = {"image": "portworx/oci-monitor:3.6.1", "allow_restart_vms": [], "accept_vm_downtime": False}
STUCK = {"vm": "vms/db", "node": "w0", "live_migratable": False, "reason": "DisksNotLiveMigratable"}


def cluster_with(**changes):
    obj = {"metadata": dict(CLUSTER["metadata"]), "spec": dict(CLUSTER["spec"]), "status": dict(CLUSTER["status"])}
    for key, value in changes.items():
        obj[key].update(value)
    return obj


def test_image_version():
    assert image_version("portworx/oci-monitor:3.6.1") == "3.6.1"
    assert image_version("registry:5000/portworx/oci-monitor:3.6.1") == "3.6.1"
    assert image_version("registry:5000/portworx/oci-monitor") is None


def test_plan_patches_the_image_and_never_the_eviction_annotation():
    plan = plan_upgrade(REQUEST, CLUSTER, NODES, [])
    assert plan.patch == {"spec": {"image": "portworx/oci-monitor:3.6.1"}}
    assert plan.target == "3.6.1" and plan.current == "3.6.0"
    downtime = plan_upgrade(dict(REQUEST, accept_vm_downtime=True), CLUSTER, NODES, [STUCK])
    assert downtime.patch["metadata"] == {"annotations": {EVICT_VMS_ANNOTATION: "false"}}


def test_started_rollout_is_only_followed_even_when_a_node_is_down():
    started = cluster_with(spec={"image": "portworx/oci-monitor:3.6.1"})
    nodes = [dict(NODES[0], status={"phase": "Updating"})]
    assert plan_upgrade(REQUEST, started, nodes, [STUCK]).patch is None


@pytest.mark.parametrize("cluster, nodes, vms, request_extra, words", [
    (cluster_with(spec={"updateStrategy": {"rollingUpdate": {"maxUnavailable": "25%"}}}), NODES, [], {}, ["maxUnavailable is 25%"]),
    (cluster_with(spec={"updateStrategy": {"type": "OnDelete"}}), NODES, [], {}, ["OnDelete"]),
    (cluster_with(metadata={"annotations": {EVICT_VMS_ANNOTATION: "false"}}), NODES, [], {}, ["accept_vm_downtime"]),
    (CLUSTER, [dict(NODES[0], status={"phase": "Maintenance"})], [], {}, ["w0 (Maintenance)"]),
    (CLUSTER, NODES, [STUCK], {}, ["vms/db on w0 (DisksNotLiveMigratable)"]),
    (CLUSTER, NODES, [], {"image": "portworx/oci-monitor:3.5.0"}, ["older"]),
])
def test_refusals(cluster, nodes, vms, request_extra, words):
    with pytest.raises(Refusal) as refused:
        plan_upgrade(dict(REQUEST, **request_extra), cluster, nodes, vms)
    for word in words:
        assert word in refused.value.msg


def test_allowed_vm_passes_and_missing_max_unavailable_is_the_default_one():
    plan = plan_upgrade(dict(REQUEST, allow_restart_vms=["vms/db"]), cluster_with(spec={"updateStrategy": {}}), NODES, [STUCK])
    assert plan.patch is not None


def test_portworx_vmis_and_migratability():
    classes = {"px": {"provisioner": "pxd.portworx.com"}, "other": {"provisioner": "csi.example.com"}}
    claims = {("vms", "a"): {"spec": {"storageClassName": "px"}}, ("vms", "b"): {"spec": {"storageClassName": "other"}}}

    def vmi(name, claim, migratable="True"):
        return {"metadata": {"name": name, "namespace": "vms"}, "spec": {"volumes": [{"name": "d", "dataVolume": {"name": claim}}]},
                "status": {"phase": "Running", "nodeName": "w0",
                           "conditions": [{"type": "LiveMigratable", "status": migratable, "reason": "R", "message": "m"}]}}
    found = portworx_vmis([vmi("on-px", "a", "False"), vmi("elsewhere", "b")], claims, classes)
    assert [v["metadata"]["name"] for v in found] == ["on-px"]
    assert vm_migratability(found) == [{"vm": "vms/on-px", "node": "w0", "live_migratable": False, "reason": "R m"}]


def test_rollout_state_and_events():
    nodes = [{"metadata": {"name": "w1"}, "spec": {"version": "3.6.1"}, "status": {"phase": "Online"}},
             {"metadata": {"name": "w0"}, "spec": {"version": "3.6.0"}, "status": {"phase": "Updating"}}]
    state = rollout_state(CLUSTER, nodes, "3.6.1")
    assert state["updated"] == ["w1"] and state["done"] is False and state["nodes"][0]["name"] == "w0"
    events = [{"metadata": {"name": "e1"}, "reason": "UpdatePaused", "count": 2}, {"metadata": {"name": "e2"}, "reason": "Other"}]
    assert [e["metadata"]["name"] for e in fresh_events(events, {"e1": 1})] == ["e1"]
    assert fresh_events(events, {"e1": 2}) == []


@pytest.mark.parametrize("message", [
    "Live migration vm-000-abc failed for VM vms/vm-000 on node worker-1. Stop or migrate the VM so that the update of the storage node can proceed.",
    "Live migration vm-000-abc failed for VM vms/vm-000 on node worker-1. Please stop or migrate the VM manually to continue the update of the storage node.",
])
def test_failed_eviction_message_in_both_wordings(message):
    assert failed_eviction({"message": message}) == {"migration": "vm-000-abc", "namespace": "vms", "vm": "vm-000", "node": "worker-1"}


def test_migration_failure_reason():
    migration = {"metadata": {"uid": "m1"}, "status": {"phase": "Failed"}}
    assert migration_failure_reason(migration, {"status": {"migrationState": {"migrationUid": "m1", "failureReason": "boom"}}}) == "boom"
    assert migration_failure_reason(migration, {"status": {"migrationState": {"migrationUid": "other", "failureReason": "old"}}}) == \
        "migration phase Failed"
