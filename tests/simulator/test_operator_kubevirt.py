"""The simulated KubeVirt (simulator/clustersim/operators/kubevirt/), over HTTP.

Seeded placement (3 workers, 4 VMs): vm-000 and vm-003 on worker-0, vm-001 on worker-1, vm-002 on
worker-2; vm-002 has an RWO disk, vm-003 ``evictionStrategy: None``.
"""
import json

import pytest
from kubernetes import client as kube_client
from kubernetes.client.rest import ApiException

from operator_helpers import condition, eventually, in_order, items, read, record_until, reseed

VM_API = "kubevirt.io/v1"
MIGRATION_PHASES = ["Pending", "Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running", "Succeeded"]
HOTPLUG_PHASES = ["Pending", "Bound", "AttachedToNode", "MountedToPod", "Ready"]
SUBRESOURCES = "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/{0}/{1}"


@pytest.fixture(autouse=True)
def fresh(sim, client):
    reseed(sim, client)


@pytest.fixture(scope="module")
def core(sim):
    return kube_client.CoreV1Api(sim.api_client())


def vmi(client, name):
    return read(client, VM_API, "VirtualMachineInstance", name, "vms")


def launchers(client, vmi_obj):
    return [p for p in items(client, "v1", "Pod", "vms")
            if p["metadata"].get("labels", {}).get("kubevirt.io/created-by") == vmi_obj["metadata"]["uid"]
            and p["metadata"]["labels"].get("kubevirt.io") == "virt-launcher"]


def put_volume(client, vm, action, body):
    return client.request("put", SUBRESOURCES.format(vm, action), body=body, content_type="application/json")


def add_options(name, claim, bus="scsi", dry_run=False):
    options = {"name": name, "disk": {"disk": {"bus": bus}},
               "volumeSource": {"persistentVolumeClaim": {"claimName": claim, "hotpluggable": True}}}
    if dry_run:
        options["dryRun"] = ["All"]
    return options


def bound_rwx_claim(client, name):
    client.resources.get(api_version="v1", kind="PersistentVolumeClaim").create(namespace="vms", body={
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteMany"], "volumeMode": "Block", "storageClassName": "px-csi-db",
                 "resources": {"requests": {"storage": "1Gi"}}}})
    eventually("claim bound", lambda: read(client, "v1", "PersistentVolumeClaim", name, "vms")["status"].get("phase") == "Bound")


def evict(core, pod_name):
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod_name, "namespace": "vms"}}
    return core.create_namespaced_pod_eviction(pod_name, "vms", body)


# --- VMs, VMIs and launcher pods ------------------------------------------------------------

def test_running_vm_has_vmi_and_launcher_pod_on_its_node(client):
    instance = vmi(client, "vm-000")
    assert instance["status"]["phase"] == "Running" and instance["status"]["nodeName"] == "worker-0"
    assert instance["metadata"]["ownerReferences"][0]["kind"] == "VirtualMachine"
    [pod] = launchers(client, instance)
    assert pod["spec"]["nodeName"] == "worker-0" and pod["status"]["phase"] == "Running"
    assert pod["metadata"]["annotations"]["kubevirt.io/domain"] == "vm-000"
    assert pod["spec"]["containers"][0]["resources"]["requests"]["memory"] == "4352Mi"  # 4Gi + launcher overhead
    # virt-controller sets a phase only on hot-plugged volumes (pkg/virt-controller/watch/vmi/storage.go)
    [root] = instance["status"]["volumeStatus"]
    assert (root["name"], root["target"], "phase" in root) == ("rootdisk", "vda", False)
    assert root["persistentVolumeClaimInfo"]["claimName"] == "vm-000-rootdisk"
    assert root["persistentVolumeClaimInfo"]["accessModes"] == ["ReadWriteMany"]


def test_vmi_status_is_what_virt_handler_reports(client):
    status = vmi(client, "vm-000")["status"]
    [pod] = launchers(client, vmi(client, "vm-000"))
    [interface] = status["interfaces"]
    assert interface["name"] == "default" and interface["ipAddress"] == pod["status"]["podIP"]
    assert interface["infoSource"] == "domain, guest-agent" and interface["interfaceName"] == "enp1s0"
    assert status["guestOSInfo"]["id"] == "rhel" and condition({"status": status}, "AgentConnected")["status"] == "True"
    assert status["activePods"] == {pod["metadata"]["uid"]: "worker-0"}
    assert status["currentCPUTopology"] == {"cores": 1, "sockets": 2, "threads": 1}
    assert status["memory"]["guestCurrent"] == "4Gi" and status["qosClass"] == "Burstable"


def test_vm_conditions_follow_the_vmi(client):
    running = read(client, VM_API, "VirtualMachine", "vm-000", "vms")["status"]
    assert condition({"status": running}, "Ready")["status"] == "True"
    assert condition({"status": running}, "LiveMigratable")["status"] == "True"
    assert condition({"status": running}, "AgentConnected")["status"] == "True"
    vms = client.resources.get(api_version=VM_API, kind="VirtualMachine")
    vms.patch(namespace="vms", name="vm-000", body={"spec": {"runStrategy": "Halted"}}, content_type="application/merge-patch+json")
    eventually("VM stopped", lambda: read(client, VM_API, "VirtualMachine", "vm-000", "vms")["status"]["printableStatus"] == "Stopped")
    stopped = read(client, VM_API, "VirtualMachine", "vm-000", "vms")["status"]
    assert [(c["type"], c["status"], c.get("reason")) for c in stopped["conditions"]] == [("Ready", "False", "VMINotExists")]
    assert stopped["ready"] is False and stopped["created"] is False and stopped["runStrategy"] == "Halted"


def test_stopping_a_vm_removes_its_vmi(client):
    vms = client.resources.get(api_version=VM_API, kind="VirtualMachine")
    vms.patch(namespace="vms", name="vm-001", body={"spec": {"runStrategy": "Halted"}}, content_type="application/merge-patch+json")
    eventually("VMI gone", lambda: vmi(client, "vm-001") is None)
    assert read(client, VM_API, "VirtualMachine", "vm-001", "vms")["status"]["printableStatus"] == "Stopped"


def test_live_migratable_condition_and_reasons(client):
    assert condition(vmi(client, "vm-000"), "LiveMigratable")["status"] == "True"
    rwo = condition(vmi(client, "vm-002"), "LiveMigratable")
    assert (rwo["status"], rwo["reason"]) == ("False", "DisksNotLiveMigratable")
    assert "ReadWriteMany" in rwo["message"]
    client.resources.get(api_version=VM_API, kind="VirtualMachine").create(namespace="vms", body={
        "metadata": {"name": "bridged"},
        "spec": {"runStrategy": "Always", "template": {"spec": {
            "domain": {"resources": {"requests": {"memory": "1Gi"}},
                       "devices": {"interfaces": [{"name": "default", "bridge": {}}]}},
            "networks": [{"name": "default", "pod": {}}]}}}})
    bridged = eventually("bridged VMI", lambda: vmi(client, "bridged"))
    assert condition(bridged, "LiveMigratable")["reason"] == "InterfaceNotLiveMigratable"


# --- volume hot-plug ------------------------------------------------------------------------

def test_addvolume_walks_the_phases_and_removevolume_detaches(client):
    bound_rwx_claim(client, "hot")
    put_volume(client, "vm-000", "addvolume", add_options("hot", "hot"))
    template = read(client, VM_API, "VirtualMachine", "vm-000", "vms")["spec"]["template"]["spec"]
    assert {"name": "hot", "persistentVolumeClaim": {"claimName": "hot", "hotpluggable": True}} in template["volumes"]

    def phase():
        entry = [s for s in vmi(client, "vm-000")["status"]["volumeStatus"] if s["name"] == "hot"]
        return entry[0]["phase"] if entry else None

    seen = record_until("volume Ready", phase, "Ready")
    assert in_order(seen, HOTPLUG_PHASES), seen
    entry = [s for s in vmi(client, "vm-000")["status"]["volumeStatus"] if s["name"] == "hot"][0]
    attach_pod = read(client, "v1", "Pod", entry["hotplugVolume"]["attachPodName"], "vms")
    assert attach_pod["spec"]["nodeName"] == "worker-0"

    put_volume(client, "vm-000", "removevolume", {"name": "hot"})
    eventually("volume gone", lambda: phase() is None)
    assert read(client, "v1", "Pod", entry["hotplugVolume"]["attachPodName"], "vms") is None
    assert all(v["name"] != "hot" for v in read(client, VM_API, "VirtualMachine", "vm-000", "vms")["spec"]["template"]["spec"]["volumes"])


def test_sata_hotplug_is_refused_with_kubevirts_message(client):
    bound_rwx_claim(client, "sata")
    with pytest.raises(Exception) as info:
        put_volume(client, "vm-000", "addvolume", add_options("sata", "sata", bus="sata"))
    assert info.value.status == 422
    assert "requires bus to be 'scsi' or 'virtio'. [sata] is not permitted" in json.loads(info.value.body)["message"]


def test_dry_run_in_the_body_changes_nothing_and_is_logged_as_dry_run(sim, client):
    bound_rwx_claim(client, "dry")
    before = read(client, VM_API, "VirtualMachine", "vm-000", "vms")["spec"]
    sim.reset_requests()
    put_volume(client, "vm-000", "addvolume", add_options("dry", "dry", dry_run=True))
    assert read(client, VM_API, "VirtualMachine", "vm-000", "vms")["spec"] == before
    log = sim.requests()
    assert log["writes"] == 0 and log["dry_run_writes"] == 1


# --- migrations -----------------------------------------------------------------------------

def create_migration(client, vmi_name):
    return client.resources.get(api_version=VM_API, kind="VirtualMachineInstanceMigration").create(
        namespace="vms", body={"metadata": {"generateName": "test-"}, "spec": {"vmiName": vmi_name}}).to_dict()


def migration_phase(client, name):
    return (read(client, VM_API, "VirtualMachineInstanceMigration", name, "vms").get("status") or {}).get("phase")


def test_migration_walks_its_phases_and_moves_the_vmi(client):
    old_pod = launchers(client, vmi(client, "vm-001"))[0]["metadata"]["name"]
    name = create_migration(client, "vm-001")["metadata"]["name"]
    seen = record_until("migration Succeeded", lambda: migration_phase(client, name), "Succeeded")
    assert in_order(seen, MIGRATION_PHASES), seen
    moved = vmi(client, "vm-001")
    assert moved["status"]["nodeName"] != "worker-1" and moved["status"]["migrationState"]["completed"] is True
    running = [p["spec"]["nodeName"] for p in launchers(client, moved) if p["status"]["phase"] == "Running"]
    assert running == [moved["status"]["nodeName"]]
    # The source launcher pod stays on its node, completed, until the VMI goes.
    source = read(client, "v1", "Pod", old_pod, "vms")
    assert (source["spec"]["nodeName"], source["status"]["phase"]) == ("worker-1", "Succeeded")
    assert source["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    client.resources.get(api_version=VM_API, kind="VirtualMachine").patch(
        namespace="vms", name="vm-001", body={"spec": {"runStrategy": "Halted"}}, content_type="application/merge-patch+json")
    eventually("both launcher pods gone with the VMI", lambda: read(client, "v1", "Pod", old_pod, "vms") is None
               and not launchers(client, moved))


def test_migration_fail_fault_fails_the_migration_and_the_vmi_stays(sim, client):
    sim.add_fault(operator="migration-fail", target="vms/vm-001")
    name = create_migration(client, "vm-001")["metadata"]["name"]
    eventually("migration Failed", lambda: migration_phase(client, name) == "Failed")
    stayed = vmi(client, "vm-001")
    assert stayed["status"]["nodeName"] == "worker-1" and stayed["status"]["migrationState"]["failed"] is True
    again = create_migration(client, "vm-001")["metadata"]["name"]  # the fault was one-shot
    eventually("second migration Succeeded", lambda: migration_phase(client, again) == "Succeeded")


def test_migration_of_a_non_migratable_vmi_and_a_second_in_flight_one_are_refused(client):
    with pytest.raises(Exception) as info:
        create_migration(client, "vm-002")
    assert info.value.status == 422 and "Reason: DisksNotLiveMigratable" in json.loads(info.value.body)["message"]
    create_migration(client, "vm-001")
    with pytest.raises(Exception) as info:
        create_migration(client, "vm-001")
    assert "in-flight migration detected" in json.loads(info.value.body)["message"]


# --- eviction -------------------------------------------------------------------------------

def test_evicting_a_migratable_launcher_answers_429_and_evacuates(client, core):
    pod = launchers(client, vmi(client, "vm-001"))[0]["metadata"]["name"]
    with pytest.raises(ApiException) as info:
        evict(core, pod)
    assert info.value.status == 429
    assert 'Eviction triggered evacuation of VMI "vms/vm-001"' in json.loads(info.value.body)["message"]
    eventually("VMI evacuated", lambda: vmi(client, "vm-001")["status"]["nodeName"] != "worker-1")
    migrations = items(client, VM_API, "VirtualMachineInstanceMigration", "vms")
    assert [m["metadata"]["name"].startswith("kubevirt-evacuation-") for m in migrations] == [True]
    assert "evacuationNodeName" not in vmi(client, "vm-001")["status"]


def test_the_webhook_refusal_is_the_apiservers_status_for_a_webhook_429_without_retry_after(client, core):
    """The apiserver answers a webhook denial with the webhook's code and message only (no reason,
    no details), so no Retry-After: the client sees the 429 itself instead of retrying."""
    pod = launchers(client, vmi(client, "vm-001"))[0]["metadata"]["name"]
    with pytest.raises(ApiException) as info:
        evict(core, pod)
    assert json.loads(info.value.body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "code": 429,
        "message": 'admission webhook "virt-launcher-eviction-interceptor.kubevirt.io" denied the request: '
                   'Eviction triggered evacuation of VMI "vms/vm-001"'}
    assert "Retry-After" not in (info.value.headers or {})


def test_external_eviction_strategy_marks_the_vmi_and_kubevirt_does_not_migrate(sim, client, core):
    client.resources.get(api_version=VM_API, kind="VirtualMachine").create(namespace="vms", body={
        "metadata": {"name": "external"},
        "spec": {"runStrategy": "Always", "template": {"spec": {
            "evictionStrategy": "External", "domain": {"devices": {}, "resources": {"requests": {"memory": "1Gi"}}}}}}})
    instance = eventually("external VMI", lambda: vmi(client, "external"))
    pod = launchers(client, instance)[0]
    with pytest.raises(ApiException) as info:
        evict(core, pod["metadata"]["name"])
    assert info.value.status == 429
    assert json.loads(info.value.body)["message"].endswith('Eviction triggered evacuation of VMI "vms/external"')
    assert vmi(client, "external")["status"]["evacuationNodeName"] == pod["spec"]["nodeName"]
    assert sim.settle()  # an evacuation would be a controller task (after evacuation_start): none is left
    assert items(client, VM_API, "VirtualMachineInstanceMigration", "vms") == []
    assert vmi(client, "external")["status"]["nodeName"] == pod["spec"]["nodeName"]
    with pytest.raises(ApiException) as info:
        evict(core, pod["metadata"]["name"])
    assert "Evacuation in progress" in json.loads(info.value.body)["message"]


def test_evicting_a_live_migrate_launcher_that_cannot_migrate_is_refused(client, core):
    pod = launchers(client, vmi(client, "vm-002"))[0]["metadata"]["name"]
    with pytest.raises(ApiException) as info:
        evict(core, pod)
    assert info.value.status == 429 and "is not live-migratable" in json.loads(info.value.body)["message"]
    assert vmi(client, "vm-002")["status"]["nodeName"] == "worker-2"
    assert read(client, "v1", "Pod", pod, "vms") is not None


def test_evicting_a_vm_without_eviction_strategy_shuts_it_down(client, core):
    before = vmi(client, "vm-003")
    pod = launchers(client, before)[0]["metadata"]["name"]
    evict(core, pod)
    # The eviction deletes the pod gracefully (pkg/registry/core/pod/strategy.go CheckGracefulDelete);
    # it goes once the simulated kubelet stopped its containers (operators/kubelet.py).
    eventually("launcher pod gone", lambda: read(client, "v1", "Pod", pod, "vms") is None)
    # runStrategy Always: the VM controller starts a new VMI (a restart, not a migration).
    eventually("a new VMI", lambda: (vmi(client, "vm-003") or {}).get("metadata", {}).get("uid") not in (None, before["metadata"]["uid"]))


def test_data_volume_templates_become_data_volumes_owned_by_the_vm(client):
    client.resources.get(api_version=VM_API, kind="VirtualMachine").create(namespace="vms", body={
        "metadata": {"name": "templated"},
        "spec": {"runStrategy": "Halted",
                 "dataVolumeTemplates": [{"metadata": {"name": "templated-root", "annotations": {"portworx.io/app": "kubevirt"}},
                                          "spec": {"source": {"blank": {}},
                                                   "storage": {"storageClassName": "px-csi-db",
                                                               "resources": {"requests": {"storage": "1Gi"}}}}}],
                 "template": {"spec": {"domain": {"devices": {}, "resources": {"requests": {"memory": "1Gi"}}},
                                       "volumes": [{"name": "root", "dataVolume": {"name": "templated-root"}}]}}}})
    data_volume = eventually("DataVolume", lambda: read(client, "cdi.kubevirt.io/v1beta1", "DataVolume", "templated-root", "vms"))
    owner = data_volume["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("VirtualMachine", "templated", True)
    assert data_volume["metadata"]["annotations"]["portworx.io/app"] == "kubevirt"
    eventually("populated", lambda: (read(client, "cdi.kubevirt.io/v1beta1", "DataVolume", "templated-root", "vms")
                                     .get("status") or {}).get("phase") == "Succeeded")
