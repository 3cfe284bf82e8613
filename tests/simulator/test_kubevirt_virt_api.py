"""virt-api's start/stop/restart/migrate, pause/unpause, freeze/unfreeze and /version over HTTP,
with virt-api's answers (kubevirt/kubevirt v1.6 pkg/virt-api/rest/lifecycle.go).

Seeded: vm-000..vm-003 with ``runStrategy: Always``, all running.
"""
import pytest

from api_helpers import raw
from operator_helpers import condition, eventually, items, read, reseed

VM_API = "kubevirt.io/v1"
VM_PATH = "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/{0}/{1}"
VMI_PATH = "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachineinstances/{0}/{1}"


@pytest.fixture(autouse=True)
def fresh(sim, client):
    reseed(sim, client)


def vm(client, name):
    return read(client, VM_API, "VirtualMachine", name, "vms")


def vmi(client, name):
    return read(client, VM_API, "VirtualMachineInstance", name, "vms")


def put(sim, path, name, action, body=None):
    return raw(sim, "PUT", path.format(name, action), body if body is not None else {})


def conflict(kind, name, text):
    return f'Operation cannot be fulfilled on {kind}.kubevirt.io "{name}": {text}'


def test_stop_then_start_an_always_vm_flips_its_run_strategy(sim, client):
    code, body = put(sim, VM_PATH, "vm-001", "start")
    assert (code, body["message"]) == (409, conflict("virtualmachine", "vm-001", "VM is already running"))
    assert put(sim, VM_PATH, "vm-001", "stop") == (202, None)
    assert vm(client, "vm-001")["spec"]["runStrategy"] == "Halted"
    eventually("VMI gone", lambda: vmi(client, "vm-001") is None)
    code, body = put(sim, VM_PATH, "vm-001", "stop")
    assert (code, body["message"]) == (409, conflict("virtualmachine", "vm-001", "VM is not running"))
    code, body = put(sim, VM_PATH, "vm-001", "restart")
    assert (code, body["message"]) == (409, conflict("virtualmachine", "vm-001",
                                                     "RunStategy Halted does not support manual restart requests"))
    assert put(sim, VM_PATH, "vm-001", "start") == (202, None)
    assert vm(client, "vm-001")["spec"]["runStrategy"] == "Always"
    eventually("VMI back", lambda: (vmi(client, "vm-001") or {}).get("status", {}).get("phase") == "Running")


def test_restart_replaces_the_vmi_and_a_positive_grace_period_is_bad_request(sim, client):
    before = vmi(client, "vm-002")["metadata"]["uid"]
    code, body = put(sim, VM_PATH, "vm-002", "restart", {"gracePeriodSeconds": 5})
    assert (code, body["message"]) == (400, "For force restart, only gracePeriod=0 is supported for now")
    assert put(sim, VM_PATH, "vm-002", "restart") == (202, None)
    eventually("a new VMI", lambda: (vmi(client, "vm-002") or {}).get("metadata", {}).get("uid") not in (None, before))
    assert vm(client, "vm-002")["spec"]["runStrategy"] == "Always"
    assert not vm(client, "vm-002")["status"].get("stateChangeRequests")


def test_manual_vm_starts_and_stops_through_state_change_requests(sim, client):
    client.resources.get(api_version=VM_API, kind="VirtualMachine").create(namespace="vms", body={
        "metadata": {"name": "manual"},
        "spec": {"runStrategy": "Manual", "template": {"spec": {"domain": {"devices": {}, "resources": {"requests": {"memory": "1Gi"}}}}}}})
    code, body = put(sim, VM_PATH, "manual", "stop")
    assert (code, body["message"]) == (409, conflict("virtualmachine", "manual", "VM is not running"))
    assert put(sim, VM_PATH, "manual", "start") == (202, None)
    eventually("manual VMI runs", lambda: (vmi(client, "manual") or {}).get("status", {}).get("phase") == "Running")
    assert vm(client, "manual")["spec"]["runStrategy"] == "Manual"
    assert put(sim, VM_PATH, "manual", "stop") == (202, None)
    eventually("manual VMI gone", lambda: vmi(client, "manual") is None)
    assert vm(client, "manual")["spec"]["runStrategy"] == "Manual"


def test_dry_run_start_and_stop_change_nothing(sim, client):
    before = vm(client, "vm-000")["spec"]
    assert put(sim, VM_PATH, "vm-000", "stop", {"dryRun": ["All"]}) == (202, None)
    assert vm(client, "vm-000")["spec"] == before and vmi(client, "vm-000") is not None


def test_migrate_creates_a_migration_and_answers_409_or_500_as_virt_api(sim, client):
    assert put(sim, VM_PATH, "vm-001", "migrate") == (202, None)
    [migration] = items(client, VM_API, "VirtualMachineInstanceMigration", "vms")
    assert migration["metadata"]["name"].startswith("kubevirt-migrate-vm-") and migration["spec"]["vmiName"] == "vm-001"
    code, body = put(sim, VM_PATH, "vm-002", "migrate")  # RWO disk: the migration webhook refuses
    assert code == 500 and body["reason"] == "InternalError" and "DisksNotLiveMigratable" in body["message"]
    code, body = put(sim, VM_PATH, "ghost", "migrate")
    assert (code, body["message"]) == (404, 'virtualmachine.kubevirt.io "ghost" not found')


def test_pause_sets_the_paused_condition_and_unpause_clears_it(sim, client):
    assert put(sim, VMI_PATH, "vm-000", "pause") == (200, None)
    paused = eventually("Paused condition", lambda: condition(vmi(client, "vm-000"), "Paused"))
    assert (paused["status"], paused["reason"], paused["message"]) == ("True", "PausedByUser", "VMI was paused by user")
    code, body = put(sim, VMI_PATH, "vm-000", "pause")
    assert (code, body["message"]) == (409, conflict("virtualmachineinstance", "vm-000", "VMI is already paused"))
    assert put(sim, VMI_PATH, "vm-000", "unpause") == (200, None)
    assert not condition(vmi(client, "vm-000"), "Paused")
    code, body = put(sim, VMI_PATH, "vm-000", "unpause")
    assert (code, body["message"]) == (409, conflict("virtualmachineinstance", "vm-000", "VMI is not paused"))
    code, body = put(sim, VMI_PATH, "ghost", "pause")
    assert (code, body["message"]) == (404, 'virtualmachineinstance.kubevirt.io "ghost" not found')


def test_freeze_and_unfreeze_a_running_vmi(sim, client):
    assert put(sim, VMI_PATH, "vm-000", "freeze", {"unfreezeTimeout": "5m"}) == (200, None)
    assert vmi(client, "vm-000")["status"]["fsFreezeStatus"] == "frozen"
    assert put(sim, VMI_PATH, "vm-000", "unfreeze") == (200, None)
    assert "fsFreezeStatus" not in vmi(client, "vm-000")["status"]


def test_version_answers_virt_apis_version_document(sim):
    code, body = raw(sim, "GET", "/apis/subresources.kubevirt.io/v1/version")
    assert code == 200 and body["gitVersion"] == "v1.6.2"
    assert set(body) == {"gitVersion", "gitCommit", "gitTreeState", "buildDate", "goVersion", "compiler", "platform"}


def test_guestosinfo_reports_the_agent_or_answers_virt_apis_plain_500(sim, client):
    code, body = raw(sim, "GET", VMI_PATH.format("vm-000", "guestosinfo"))
    assert code == 200 and body["os"]["id"] == "rhel" and body["hostname"] == "vm-000"
    client.resources.get(api_version=VM_API, kind="VirtualMachine").create(namespace="vms", body={
        "metadata": {"name": "agentless"},
        "spec": {"runStrategy": "Always", "template": {
            "metadata": {"annotations": {"clustersim.io/guest-agent": "false"}},
            "spec": {"domain": {"devices": {}, "resources": {"requests": {"memory": "1Gi"}}}}}}})
    eventually("agentless VMI", lambda: vmi(client, "agentless"))
    code, body = raw(sim, "GET", VMI_PATH.format("agentless", "guestosinfo"))
    assert code == 500 and body == (b'Operation cannot be fulfilled on virtualmachineinstance.kubevirt.io "agentless": '
                                    b'VMI does not have guest agent connected')
