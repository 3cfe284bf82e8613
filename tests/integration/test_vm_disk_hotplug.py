"""vm_disk_hotplug through ansible-playbook against the simulator."""

import time

import pytest

SIMULATOR_OPTIONS = {"workers": 3, "vms": 3}
WAIT = {"wait_sleep": 0.2, "wait_timeout": 30}


def task(**args):
    params = dict(WAIT, vm="vm-000", namespace="vms")
    params.update(args)
    return {"name": "hotplug", "ocpvirt.portworx.vm_disk_hotplug": params}


def bound_claim(sim, name, modes=("ReadWriteMany",), storage_class="px-rwx-block-kubvirt"):
    client = sim.client()
    pvcs = client.resources.get(api_version="v1", kind="PersistentVolumeClaim")
    pvcs.create(namespace="vms", body={
        "metadata": {"name": name, "annotations": {"portworx.io/app": "kubevirt"}},
        "spec": {"accessModes": list(modes), "volumeMode": "Block", "storageClassName": storage_class,
                 "resources": {"requests": {"storage": "1Gi"}}}})
    pvcs.status.patch(namespace="vms", name=name, body={"status": {"phase": "Bound"}}, content_type="application/merge-patch+json")


def vm(sim, name="vm-000"):
    return sim.client().resources.get(api_version="kubevirt.io/v1", kind="VirtualMachine").get(namespace="vms", name=name).to_dict()


def vmi(sim, name="vm-000"):
    try:
        return sim.client().resources.get(api_version="kubevirt.io/v1", kind="VirtualMachineInstance").get(namespace="vms", name=name).to_dict()
    except Exception:
        return None


def volume_names(obj):
    return [v["name"] for v in obj["spec"]["template"]["spec"].get("volumes") or []]


@pytest.fixture(scope="module", autouse=True)
def claims(sim):
    deadline = time.time() + 10
    while vmi(sim) is None and time.time() < deadline:
        time.sleep(0.1)
    bound_claim(sim, "data-rwx")
    bound_claim(sim, "data-rwo", modes=("ReadWriteOnce",))
    bound_claim(sim, "data-check")
    bound_claim(sim, "data-retry")
    bound_claim(sim, "data-repl2", storage_class="px-csi-replicated")


def test_hotplug_to_running_vm_is_idempotent(sim, run_playbook):
    run = run_playbook([task(name="data", claim_name="data-rwx", serial="D1")], diff=True)
    assert run.ok, run
    assert run.changed == 1
    result = run.last
    assert any(d["name"] == "data" and d["hotpluggable"] and d["bus"] == "scsi" for d in result["disks"])
    volume = [v for v in vm(sim)["spec"]["template"]["spec"]["volumes"] if v["name"] == "data"][0]
    assert volume["persistentVolumeClaim"] == {"claimName": "data-rwx", "hotpluggable": True}
    status = [s for s in vmi(sim)["status"]["volumeStatus"] if s["name"] == "data"][0]
    assert status["phase"] == "Ready"

    again = run_playbook([task(name="data", claim_name="data-rwx", serial="D1")])
    assert again.ok and again.changed == 0 and again.writes == 0, again


def test_check_mode_writes_nothing(sim, run_playbook):
    run = run_playbook([task(name="check", claim_name="data-check")], check=True)
    # The addvolume PUT carries dryRun in its body (KubeVirt's way) and counts as a dry run.
    assert run.ok and run.changed == 1 and run.writes == 0, run
    assert "check" not in volume_names(vm(sim))


@pytest.mark.parametrize("args, words", [
    ({"name": "sata", "claim_name": "data-check", "bus": "sata"}, "sata bus"),
    ({"name": "rwo", "claim_name": "data-rwo"}, "not ReadWriteMany"),
    ({"name": "pr", "claim_name": "data-check", "scsi_reservation": True}, "SCSI-3"),
    ({"name": "gone", "claim_name": "no-such-claim"}, "neither a PVC nor a DataVolume"),
    ({"name": "repl", "claim_name": "data-repl2"}, "replication factor 2, but the VM's other volumes have"),
])
def test_refusals_leave_the_vm_unchanged(sim, run_playbook, args, words):
    before = vm(sim)["spec"]
    run = run_playbook([task(**args)])
    assert not run.ok and run.writes == 0, run
    assert words in run.last["msg"] and run.last["reason"] == "Refused"
    assert vm(sim)["spec"] == before


def test_replication_mismatch_is_accepted_when_the_user_says_so(sim, run_playbook):
    run = run_playbook([task(vm="vm-002", name="repl2", claim_name="data-repl2", allow_replication_mismatch=True)])
    assert run.ok and run.changed == 1, run
    assert "repl2" in volume_names(vm(sim, "vm-002"))
    # Leave vm-002 with volumes of one replication factor for the other tests.
    assert run_playbook([task(vm="vm-002", name="repl2", state="absent")]).ok


def test_stopped_vm_gets_disk_in_spec_only_and_removal(sim, run_playbook):
    vms = sim.client().resources.get(api_version="kubevirt.io/v1", kind="VirtualMachine")
    vms.patch(namespace="vms", name="vm-001", body={"spec": {"runStrategy": "Halted"}}, content_type="application/merge-patch+json")
    deadline = time.time() + 10
    while vmi(sim, "vm-001") is not None and time.time() < deadline:
        time.sleep(0.1)
    assert vmi(sim, "vm-001") is None
    run = run_playbook([task(vm="vm-001", name="cold", claim_name="data-check")])
    assert run.ok and run.changed == 1 and run.last["running"] is False, run
    assert "cold" in volume_names(vm(sim, "vm-001"))

    removed = run_playbook([task(vm="vm-001", name="cold", state="absent")])
    assert removed.ok and removed.changed == 1, removed
    assert "cold" not in volume_names(vm(sim, "vm-001"))


def test_unplug_from_running_vm_and_refuse_permanent_volume(sim, run_playbook):
    # Plug first: under xdist this test may run in a simulator of its own.
    assert run_playbook([task(vm="vm-002", name="data", claim_name="data-rwx")]).ok
    run = run_playbook([task(vm="vm-002", name="data", state="absent")])
    assert run.ok and run.changed == 1, run
    assert "data" not in volume_names(vm(sim, "vm-002"))
    assert all(s["name"] != "data" for s in vmi(sim, "vm-002")["status"]["volumeStatus"])
    again = run_playbook([task(vm="vm-002", name="data", state="absent")])
    assert again.ok and again.changed == 0 and again.writes == 0
    refused = run_playbook([task(name="rootdisk", state="absent")])
    assert not refused.ok and "not a hot-plugged volume" in refused.last["msg"] and refused.writes == 0


def test_claim_used_by_another_volume_is_refused(sim, run_playbook):
    # KubeVirt answers 409 "Unable to add volume source [data-rwx] because it already exists";
    # the module refuses before writing anything.
    assert run_playbook([task(name="data", claim_name="data-rwx", serial="D1")]).ok
    before = vm(sim)["spec"]
    run = run_playbook([task(name="twice", claim_name="data-rwx")])
    assert not run.ok and run.writes == 0, run
    assert "already used by volume 'data'" in run.last["msg"] and run.last["reason"] == "Refused"
    assert vm(sim)["spec"] == before


def test_transient_error_on_addvolume_is_retried(sim, run_playbook):
    sim.add_fault(resource="virtualmachines", subresource="addvolume", code=500, count=1)
    run = run_playbook([task(name="retry", claim_name="data-retry")])
    assert run.ok and run.changed == 1, run
    assert run.last.get("retries", 0) >= 1
    assert "retry" in volume_names(vm(sim))


def test_new_blank_data_volume_is_hot_plugged_once_populated(sim, run_playbook):
    # The default virtualization class is WaitForFirstConsumer: KubeVirt's trigger pod binds the
    # claim on the VM's node, CDI populates it, then the disk is attached.
    run = run_playbook([task(name="scratch", size="2Gi")])
    assert run.ok and run.changed == 1 and run.last["data_volume_created"] is True, run
    assert run.last["claim_name"] == "vm-000-scratch"
    data_volume = sim.client().resources.get(api_version="cdi.kubevirt.io/v1beta1", kind="DataVolume").get(
        namespace="vms", name="vm-000-scratch").to_dict()
    assert data_volume["status"]["phase"] == "Succeeded"
    assert [c["status"] for c in data_volume["status"]["conditions"] if c["type"] == "Ready"] == ["True"]
    claim = sim.client().resources.get(api_version="v1", kind="PersistentVolumeClaim").get(
        namespace="vms", name="vm-000-scratch").to_dict()
    assert claim["metadata"]["annotations"]["portworx.io/app"] == "kubevirt"
    assert "cdi.kubevirt.io/storage.bind.immediate.requested" not in claim["metadata"]["annotations"]
    assert claim["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == vmi(sim)["status"]["nodeName"]
    status = [s for s in vmi(sim)["status"]["volumeStatus"] if s["name"] == "scratch"][0]
    assert status["phase"] == "Ready"

    again = run_playbook([task(name="scratch", size="2Gi")])
    assert again.ok and again.changed == 0 and again.writes == 0, again


def test_a_missing_vm_is_not_found_like_in_every_module(sim, run_playbook):
    run = run_playbook([task(vm="no-such-vm", name="data", size="1Gi")])
    assert not run.ok
    assert run.last["reason"] == "NotFound" and run.last["status"] == 404
    assert run.last["msg"].startswith("VirtualMachine vms/no-such-vm not found")
    assert run.writes == 0
