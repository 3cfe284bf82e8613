"""The KubeVirt and NMO controllers in-process, one piece at a time (no HTTP server, no seed).

The pure rules (placement, eviction verdict, migratability, hot-plug option checks) are called
directly; the controllers run in a bare ``Cluster`` with only the controllers under test installed.
"""
import pytest

from clustersim import eviction
from clustersim.cluster import Cluster, HttpRequest, SubresourceRequest
from clustersim.config import Config
from clustersim.errors import ApiError
from clustersim.operators import install_controllers
from clustersim.operators.kubevirt import CONTROLLERS
from clustersim.operators.kubevirt.eviction import eviction_verdict
from clustersim.operators.kubevirt.model import (migratability, next_hotplug_phase, next_migration_phase,
                                                 verify_add_volume, verify_remove_volume)
from clustersim.operators.kubevirt.placement import choose_node
from clustersim.operators.nmo import NodeMaintenance

VMS, VMIS, MIGRATIONS = "kubevirt.io/virtualmachines", "kubevirt.io/virtualmachineinstances", \
    "kubevirt.io/virtualmachineinstancemigrations"


# --- pure rules -----------------------------------------------------------------------------

def vmi_on(node, evacuating=None):
    status = {"nodeName": node}
    if evacuating:
        status["evacuationNodeName"] = evacuating
    return {"metadata": {"name": "v", "namespace": "ns"}, "status": status}


POD_ON_A = {"spec": {"nodeName": "a"}}


@pytest.mark.parametrize("strategy,migratable,allow,mark,message", [
    ("LiveMigrate", False, False, False, "VMI v is configured with an eviction strategy but is not live-migratable"),
    ("LiveMigrate", True, False, True, 'Eviction triggered evacuation of VMI "ns/v"'),
    ("LiveMigrateIfPossible", True, False, True, 'Eviction triggered evacuation of VMI "ns/v"'),
    ("LiveMigrateIfPossible", False, True, False, ""),
    ("External", False, False, True, 'Eviction triggered evacuation of VMI "ns/v"'),
    ("None", True, True, False, ""),
    (None, True, True, False, ""),
])
def test_eviction_verdict_follows_the_strategy(strategy, migratable, allow, mark, message):
    verdict = eviction_verdict(strategy, migratable, vmi_on("a"), POD_ON_A)
    assert (verdict.allow, verdict.mark, verdict.message) == (allow, mark, message)


def test_eviction_verdict_refuses_during_evacuation_and_for_a_target_pod():
    assert eviction_verdict("LiveMigrate", True, vmi_on("a", evacuating="a"), POD_ON_A).message.startswith(
        "Evacuation in progress")
    verdict = eviction_verdict("LiveMigrate", True, vmi_on("b"), POD_ON_A)
    assert (verdict.allow, verdict.mark, verdict.message) == (False, False, "Eviction request for target Pod")


def test_choose_node_prefers_the_hint_then_the_most_free_memory():
    workers = [("a", 10), ("b", 10), ("c", 10)]
    assert choose_node(workers, {"a": 1, "b": 5}, 4, hint="b") == "b"
    assert choose_node(workers, {"a": 1, "b": 5}, 4) == "c"
    assert choose_node(workers, {"a": 1, "b": 5}, 4, exclude="c") == "a"
    assert choose_node(workers, {"a": 9, "b": 9, "c": 9}, 4) is None


def test_migratability_names_the_unshared_claim_or_the_bridge():
    vmi = {"spec": {"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "rwo"}}]}}
    rwo = migratability(vmi, lambda name: {"spec": {"accessModes": ["ReadWriteOnce"]}})
    assert (rwo["status"], rwo["reason"]) == ("False", "DisksNotLiveMigratable") and "PVC rwo" in rwo["message"]
    assert migratability(vmi, lambda name: {"spec": {"accessModes": ["ReadWriteMany"]}})["status"] == "True"
    bridged = {"spec": {"networks": [{"name": "n", "pod": {}}], "domain": {"devices": {"interfaces": [{"name": "n", "bridge": {}}]}}}}
    assert migratability(bridged, lambda name: None)["reason"] == "InterfaceNotLiveMigratable"


def test_volume_option_checks_are_conflicts():
    volumes = [{"name": "root", "dataVolume": {"name": "root-dv"}},
               {"name": "hot", "persistentVolumeClaim": {"claimName": "hot-pvc", "hotpluggable": True}}]
    for add in ({"name": "root", "volumeSource": {"persistentVolumeClaim": {"claimName": "x"}}},
                {"name": "new", "volumeSource": {"persistentVolumeClaim": {"claimName": "root-dv"}}}):
        with pytest.raises(ApiError) as info:
            verify_add_volume("vm", volumes, add)
        assert info.value.code == 409
    verify_add_volume("vm", volumes, {"name": "new", "volumeSource": {"persistentVolumeClaim": {"claimName": "new"}}})
    assert verify_remove_volume("vm", volumes, "hot-pvc")["name"] == "hot"
    for name, text in (("root", "not hotpluggable"), ("ghost", "does not exist")):
        with pytest.raises(ApiError, match=text):
            verify_remove_volume("vm", volumes, name)


def test_phases_advance_in_order_and_stop_at_the_end():
    assert next_hotplug_phase("Pending") == "Bound" and next_hotplug_phase("Ready") is None
    assert next_hotplug_phase("Detaching") is None
    assert next_migration_phase("TargetReady") == "Running" and next_migration_phase("Succeeded") is None
    assert next_migration_phase("Failed") is None


# --- controllers in-process -----------------------------------------------------------------

def node(name):
    return {"metadata": {"name": name, "labels": {"kubevirt.io/schedulable": "true"}},
            "status": {"allocatable": {"memory": "16Gi"}, "conditions": [{"type": "Ready", "status": "True"}]}}


def vm(name, node_hint, claim, strategy="LiveMigrate"):
    return {"metadata": {"name": name},
            "spec": {"runStrategy": "Always", "template": {
                "metadata": {"annotations": {"clustersim.io/node": node_hint}},
                "spec": {"domain": {"resources": {"requests": {"memory": "1Gi"}}}, "evictionStrategy": strategy,
                         "volumes": [{"name": "root", "persistentVolumeClaim": {"claimName": claim}}]}}}}


def claim(name, mode="ReadWriteMany"):
    return {"metadata": {"name": name}, "spec": {"accessModes": [mode], "resources": {"requests": {"storage": "1Gi"}}},
            "status": {"phase": "Bound"}}


@pytest.fixture()
def cluster():
    built = Cluster(Config(time_scale=0.1))
    install_controllers(built, CONTROLLERS + [NodeMaintenance])
    built.start()
    store = built.store
    store.create("namespaces", {"metadata": {"name": "ns"}})
    for name in ("a", "b"):
        store.create("nodes", node(name))
    for name, mode in (("shared", "ReadWriteMany"), ("hot", "ReadWriteMany"), ("local", "ReadWriteOnce")):
        store.create("persistentvolumeclaims", claim(name, mode), "ns")
    store.create(VMS, vm("mover", "a", "shared"), "ns")
    store.create(VMS, vm("stuck", "b", "local"), "ns")
    assert built.settle()
    yield built
    built.stop()


def launchers(cluster, vmi):
    return [
        p for p in cluster.store.list("pods", "ns")
        if p["metadata"]["labels"].get("kubevirt.io/created-by") == vmi["metadata"]["uid"]
        and p["metadata"]["labels"].get("kubevirt.io") == "virt-launcher"]


def test_lifecycle_places_the_vmi_on_the_hinted_node_with_one_launcher(cluster):
    vmi = cluster.store.get(VMIS, "mover", "ns")
    assert vmi["status"]["nodeName"] == "a"
    assert [p["spec"]["nodeName"] for p in launchers(cluster, vmi)] == ["a"]
    conditions = {c["type"]: c["status"] for c in vmi["status"]["conditions"]}
    assert conditions == {"Ready": "True", "LiveMigratable": "True", "AgentConnected": "True"}
    assert cluster.store.get(VMS, "stuck", "ns")["status"]["printableStatus"] == "Running"


def test_migration_controller_moves_the_vmi(cluster):
    cluster.store.create(MIGRATIONS, {"metadata": {"name": "m"}, "spec": {"vmiName": "mover"}}, "ns")
    assert cluster.settle()
    migration = cluster.store.get(MIGRATIONS, "m", "ns")
    assert [t["phase"] for t in migration["status"]["phaseTransitionTimestamps"]] == [
        "Pending", "Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running", "Succeeded"]
    moved = cluster.store.get(VMIS, "mover", "ns")
    assert moved["status"]["nodeName"] == "b"
    phases = sorted((p["spec"]["nodeName"], p["status"]["phase"]) for p in launchers(cluster, moved))
    assert phases == [("a", "Succeeded"), ("b", "Running")]
    [target] = [p for p in launchers(cluster, moved) if p["spec"]["nodeName"] == "b"]
    assert moved["status"]["activePods"] == {target["metadata"]["uid"]: "b"}
    state = moved["status"]["migrationState"]
    assert (state["sourceNode"], state["targetPod"], state["completed"]) == ("a", target["metadata"]["name"], True)
    assert state["sourcePod"].startswith("virt-launcher-mover-")


def test_a_migrated_vmi_keeps_its_hotplugged_volume_attached_on_the_target(cluster):
    put(cluster, "mover", "addvolume", {"name": "hot", "disk": {"disk": {"bus": "scsi"}},
                                        "volumeSource": {"persistentVolumeClaim": {"claimName": "hot"}}})
    assert cluster.settle()
    cluster.store.create(MIGRATIONS, {"metadata": {"name": "m"}, "spec": {"vmiName": "mover"}}, "ns")
    assert cluster.settle()
    [entry] = [e for e in cluster.store.get(VMIS, "mover", "ns")["status"]["volumeStatus"] if e["name"] == "hot"]
    attachment = cluster.store.get("pods", entry["hotplugVolume"]["attachPodName"], "ns")
    assert entry["phase"] == "Ready" and attachment["spec"]["nodeName"] == "b"
    owner = cluster.store.get("pods", attachment["metadata"]["ownerReferences"][0]["name"], "ns")
    assert (owner["spec"]["nodeName"], owner["status"]["phase"]) == ("b", "Running")
    assert [p for p in cluster.store.list("pods", "ns") if p["metadata"]["labels"].get("kubevirt.io") == "hotplug-disk"] == [attachment]


def test_migration_admission_refuses_a_non_migratable_vmi(cluster):
    with pytest.raises(ApiError, match="Reason: DisksNotLiveMigratable"):
        cluster.store.create(MIGRATIONS, {"metadata": {"name": "m"}, "spec": {"vmiName": "stuck"}}, "ns")


def test_eviction_layer_runs_the_kubevirt_hook_then_the_evacuation_migrates(cluster):
    pod = launchers(cluster, cluster.store.get(VMIS, "mover", "ns"))[0]
    with pytest.raises(ApiError) as info:
        eviction.evict_pod(cluster, pod)
    assert info.value.code == 429 and 'Eviction triggered evacuation of VMI "ns/mover"' in info.value.message
    assert cluster.settle()
    moved = cluster.store.get(VMIS, "mover", "ns")
    assert moved["status"]["nodeName"] == "b" and "evacuationNodeName" not in moved["status"]
    assert [m["metadata"]["generateName"] for m in cluster.store.list(MIGRATIONS, "ns")] == ["kubevirt-evacuation-"]


def put(cluster, vm_name, action, body):
    http = HttpRequest("PUT", "/", {}, {})
    request = SubresourceRequest(cluster, "PUT", VMS, cluster.kinds.get(VMS), "ns", vm_name, action, body, False, http)
    with cluster.lock:
        return cluster.subresource_handler(VMS, action)(request)


def test_hotplug_controller_attaches_and_detaches(cluster):
    answer = put(cluster, "mover", "addvolume", {"name": "hot", "disk": {"disk": {"bus": "scsi"}},
                                                  "volumeSource": {"persistentVolumeClaim": {"claimName": "hot"}}})
    assert answer.code == 202
    assert cluster.settle()
    entry = [e for e in cluster.store.get(VMIS, "mover", "ns")["status"]["volumeStatus"] if e["name"] == "hot"][0]
    assert entry["phase"] == "Ready" and entry["hotplugVolume"]["attachPodName"].startswith("hp-volume-")
    assert cluster.store.get("pods", entry["hotplugVolume"]["attachPodName"], "ns")["spec"]["nodeName"] == "a"
    put(cluster, "mover", "removevolume", {"name": "hot"})
    assert cluster.settle()
    assert all(e["name"] != "hot" for e in cluster.store.get(VMIS, "mover", "ns")["status"]["volumeStatus"])
    assert cluster.store.get("pods", entry["hotplugVolume"]["attachPodName"], "ns") is None


def test_nmo_drains_through_the_eviction_layer(cluster):
    cluster.store.create("nodemaintenance.medik8s.io/nodemaintenances", {"metadata": {"name": "a"}, "spec": {"nodeName": "a"}})
    assert cluster.settle()
    status = cluster.store.get("nodemaintenance.medik8s.io/nodemaintenances", "a")["status"]
    assert (status["phase"], status["drainProgress"], status["lastError"]) == ("Succeeded", 100, "")
    assert cluster.store.get(VMIS, "mover", "ns")["status"]["nodeName"] == "b"
    assert cluster.store.get("nodes", "a")["spec"]["unschedulable"] is True
    # the completed source launcher pod was evicted too (a finished pod passes KubeVirt's webhook)
    assert cluster.store.list("pods", field_selector="spec.nodeName=a") == []


def test_nmo_reports_a_refused_eviction_and_keeps_retrying(cluster):
    cluster.store.create("nodemaintenance.medik8s.io/nodemaintenances", {"metadata": {"name": "b"}, "spec": {"nodeName": "b"}})
    cluster.settle(timeout=0.5)  # the drain retries forever: it never settles
    with cluster.lock:
        status = cluster.store.get("nodemaintenance.medik8s.io/nodemaintenances", "b")["status"]
    assert status["phase"] == "Running" and "is not live-migratable" in status["lastError"]


def test_cluster_wide_external_strategy_marks_without_migrating(cluster):
    cluster.store.create("kubevirt.io/kubevirts", {"metadata": {"name": "kv"},
                                                    "spec": {"configuration": {"evictionStrategy": "External"}}}, "ns")
    cluster.store.create(VMS, vm("outside", "a", "shared", strategy=None), "ns")
    assert cluster.settle()
    pod = launchers(cluster, cluster.store.get(VMIS, "outside", "ns"))[0]
    with pytest.raises(ApiError, match='Eviction triggered evacuation of VMI "ns/outside"'):
        eviction.evict_pod(cluster, pod)
    assert cluster.settle()
    assert cluster.store.get(VMIS, "outside", "ns")["status"]["evacuationNodeName"] == "a"
    assert cluster.store.list(MIGRATIONS, "ns") == []


def test_a_launcher_without_its_vmi_and_a_hotplug_pod_in_use_are_refused(cluster):
    orphan = {"metadata": {"name": "virt-launcher-ghost-x", "labels": {"kubevirt.io": "virt-launcher"},
                           "annotations": {"kubevirt.io/domain": "ghost"}},
              "spec": {"nodeName": "a", "containers": [{"name": "compute"}]}, "status": {"phase": "Running"}}
    cluster.store.create("pods", orphan, "ns")
    with pytest.raises(ApiError) as info:
        eviction.evict_pod(cluster, cluster.store.get("pods", "virt-launcher-ghost-x", "ns"))
    assert info.value.code == 429 and info.value.to_status()["message"] == (
        'admission webhook "virt-launcher-eviction-interceptor.kubevirt.io" denied the request: '
        'kubevirt failed getting the vmi: virtualmachineinstances.kubevirt.io "ghost" not found')
    put(cluster, "mover", "addvolume", {"name": "hot", "disk": {"disk": {"bus": "scsi"}},
                                        "volumeSource": {"persistentVolumeClaim": {"claimName": "hot"}}})
    assert cluster.settle()
    [entry] = [e for e in cluster.store.get(VMIS, "mover", "ns")["status"]["volumeStatus"] if e["name"] == "hot"]
    attachment = cluster.store.get("pods", entry["hotplugVolume"]["attachPodName"], "ns")
    with pytest.raises(ApiError, match="cannot evict hotplug pod: .* associated with running vmi: mover in namespace ns"):
        eviction.evict_pod(cluster, attachment)
    assert "reason" not in info.value.to_status() and "Retry-After" not in info.value.headers


def test_migration_time_follows_guest_memory_durations_and_time_scale():
    scaled = Cluster(Config(time_scale=2.0, durations={"migration_transfer_per_gib": 0.5, "migration_step": 0.25}))
    install_controllers(scaled, CONTROLLERS)
    migration = scaled.controller("kubevirt-migration")
    guest = {"spec": {"domain": {"resources": {"requests": {"memory": "4Gi"}}}}}
    assert migration.transfer_delay(guest) == 4.0 and migration.step_delay() == 0.5
    defaults = Cluster(Config())
    install_controllers(defaults, CONTROLLERS)
    assert defaults.controller("kubevirt-migration").transfer_delay(guest) == pytest.approx(0.6)


# --- virt-api run strategy rules ------------------------------------------------------------

from clustersim.operators.kubevirt.run_strategy import plan_restart, plan_start, plan_stop, run_strategy  # noqa: E402


def a_vm(**spec):
    return {"metadata": {"name": "v"}, "spec": spec, "status": {}}


RUNNING_VMI = {"metadata": {"uid": "u1"}, "status": {"phase": "Running"}}


def test_run_strategy_reads_running_then_run_strategy_and_defaults_to_halted():
    assert [run_strategy(a_vm(running=True)), run_strategy(a_vm(running=False)), run_strategy(a_vm()),
            run_strategy(a_vm(runStrategy="Manual"))] == ["Always", "Halted", "Halted", "Manual"]


def test_start_stop_restart_plans_follow_the_run_strategy():
    assert plan_start(a_vm(runStrategy="Halted"), None).spec == {"runStrategy": "Always"}
    assert plan_start(a_vm(running=False), None).spec == {"running": True}
    assert plan_start(a_vm(runStrategy="Manual"), None).requests == [{"action": "Start"}]
    assert plan_stop(a_vm(runStrategy="Always"), None).spec == {"runStrategy": "Halted"}
    assert plan_stop(a_vm(runStrategy="RerunOnFailure"), RUNNING_VMI).requests == [{"action": "Stop", "uid": "u1"}]
    assert plan_restart(a_vm(runStrategy="Always"), RUNNING_VMI).requests == [
        {"action": "Stop", "uid": "u1"}, {"action": "Start"}]


@pytest.mark.parametrize("call,message", [
    (lambda: plan_start(a_vm(runStrategy="Always"), None), "Always does not support manual start requests"),
    (lambda: plan_start(a_vm(runStrategy="Halted"), RUNNING_VMI), "VM is already running"),
    (lambda: plan_stop(a_vm(runStrategy="Manual"), None), "VM is not running"),
    (lambda: plan_stop(a_vm(runStrategy="Halted"), RUNNING_VMI, None), "Halted only supports manual stop requests"),
    (lambda: plan_restart(a_vm(runStrategy="Once"), RUNNING_VMI), "RunStategy Once does not support manual restart"),
    (lambda: plan_restart(a_vm(runStrategy="Always"), None), "VM is not running: Halted"),
])
def test_unsupported_requests_are_conflicts_on_the_vm(call, message):
    with pytest.raises(ApiError, match=message) as info:
        call()
    assert info.value.code == 409


def test_a_second_request_while_one_is_pending_is_refused():
    pending = a_vm(runStrategy="Manual")
    pending["status"]["stateChangeRequests"] = [{"action": "Start"}]
    with pytest.raises(ApiError, match="stop/start already underway"):
        plan_start(pending, None)
    assert plan_stop(pending, RUNNING_VMI, None).requests == [{"action": "Stop", "uid": "u1"}]


def test_vm_status_mirrors_the_vmi_and_says_why_when_there_is_none(cluster):
    status = cluster.store.get(VMS, "mover", "ns")["status"]
    assert (status["printableStatus"], status["ready"], status["created"]) == ("Running", True, True)
    assert sorted(c["type"] for c in status["conditions"]) == ["AgentConnected", "LiveMigratable", "Ready"]
    cluster.store.patch(VMS, "mover", {"spec": {"runStrategy": "Halted"}}, "ns")
    assert cluster.settle()
    status = cluster.store.get(VMS, "mover", "ns")["status"]
    assert status["printableStatus"] == "Stopped"
    assert [(c["type"], c["status"], c["reason"], c["message"]) for c in status["conditions"]] == [
        ("Ready", "False", "VMINotExists", "VMI does not exist")]


def test_a_vmi_annotated_without_guest_agent_reports_no_guest_info(cluster):
    spec = vm("quiet", "b", "shared")
    spec["spec"]["template"]["metadata"]["annotations"]["clustersim.io/guest-agent"] = "false"
    cluster.store.create(VMS, spec, "ns")
    assert cluster.settle()
    status = cluster.store.get(VMIS, "quiet", "ns")["status"]
    assert status["guestOSInfo"] == {} and all(c["type"] != "AgentConnected" for c in status["conditions"])
