"""ocpvirt.portworx.vm_snapshot and vm_restore against the simulator: a running VM's disk content comes back."""

import time

import pytest

SIMULATOR_OPTIONS = {"vms": 2}
NS = "vms"
FAST = {"wait_sleep": 0.2, "wait_timeout": 30}
MARKER = "clustersim.io/disk-content"  # the simulator's stand-in for what is on a disk
DISK = "vm-000-rootdisk"
SNAP_API = "snapshot.kubevirt.io/v1beta1"


def snapshot_task(**options):
    args = dict(FAST, namespace=NS)
    args.update(options)
    return {"name": "snapshot", "ocpvirt.portworx.vm_snapshot": args}


def restore_task(**options):
    args = dict(FAST, namespace=NS)
    args.update(options)
    return {"name": "restore", "ocpvirt.portworx.vm_restore": args}


def resource(sim, api_version, kind):
    return sim.client().resources.get(api_version=api_version, kind=kind)


def read(sim, api_version, kind, name, namespace=NS):
    found = [o for o in resource(sim, api_version, kind).get(namespace=namespace).to_dict()["items"] if o["metadata"]["name"] == name]
    return found[0] if found else None


def mark_disk(sim, claim, value):
    resource(sim, "v1", "PersistentVolumeClaim").patch(name=claim, namespace=NS, body={"metadata": {"annotations": {MARKER: value}}},
                                                       content_type="application/merge-patch+json")


def marker(sim, claim):
    return (read(sim, "v1", "PersistentVolumeClaim", claim)["metadata"].get("annotations") or {}).get(MARKER)


def wait_for(what, probe, timeout=15):
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def day0_snapshot_class(sim, driver="pxd.portworx.com"):
    """What the portworx_storage role creates on day 0 ([000] "Snapshots")."""
    resource(sim, "snapshot.storage.k8s.io/v1", "VolumeSnapshotClass").create(body={
        "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass",
        "metadata": {"name": "px-csi-snapclass", "annotations": {"snapshot.storage.kubernetes.io/is-default-class": "true"}},
        "driver": driver, "deletionPolicy": "Delete", "parameters": {"csi.openstorage.org/snapshot-type": "local"}})


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    sim.settle()
    wait_for("vm-000 runs", lambda: (read(sim, "kubevirt.io/v1", "VirtualMachineInstance", "vm-000") or {}).get("status", {}).get("phase") == "Running")


def test_snapshot_and_restore_of_a_running_vm_bring_back_the_disk_content(sim, run_playbook):
    day0_snapshot_class(sim)
    mark_disk(sim, DISK, "before-patch")
    run = run_playbook([snapshot_task(name="before-patch", vm="vm-000", require_guest_agent=True,
                                      space_check={"hourly_change_rate": 0.1, "snapshots_retained": 7})], diff=True)
    assert run.ok, run
    snap = run.last["snapshot"]
    assert run.last["changed"] is True and snap["ready_to_use"] is True and snap["phase"] == "Succeeded"
    assert snap["consistency"] == "guest-agent-frozen" and snap["indications"] == ["GuestAgent", "Online"]
    assert snap["included_volumes"] == ["rootdisk"] and snap["volumes"][0]["snapshot_class"] == "px-csi-snapclass"
    space = run.last["space"]
    assert space["disk_gib"] == 30.0 and space["reserve_gib"] == 21.0 and space["reserve_raw_gib"] == 63.0 and space["fits"] is True

    again = run_playbook([snapshot_task(name="before-patch", vm="vm-000")])
    assert again.ok and again.changed == 0 and again.writes == 0, again

    mark_disk(sim, DISK, "after-patch")
    restore = run_playbook([restore_task(name="inspect", snapshot="before-patch", target="vm-000-inspect", start=True)])
    assert restore.ok, restore
    result = restore.last
    assert result["restore"]["complete"] is True and result["started"] is True
    claim = result["restore"]["restores"][0]["claim"]
    assert marker(sim, claim) == "before-patch"
    assert marker(sim, DISK) == "after-patch"
    wait_for("vm-000-inspect runs", lambda: (read(sim, "kubevirt.io/v1", "VirtualMachineInstance", "vm-000-inspect") or {})
             .get("status", {}).get("phase") == "Running")

    again = run_playbook([restore_task(name="inspect", snapshot="before-patch", target="vm-000-inspect", start=True)])
    assert again.ok and again.changed == 0 and again.writes == 0, again


def test_restore_onto_the_running_source_stops_it_and_brings_the_content_back(sim, run_playbook):
    day0_snapshot_class(sim)
    mark_disk(sim, DISK, "good")
    assert run_playbook([snapshot_task(name="good", vm="vm-000")]).ok
    mark_disk(sim, DISK, "broken")

    refused = run_playbook([restore_task(name="rollback", snapshot="good")])
    assert not refused.ok and refused.writes == 0
    assert "running" in refused.last["msg"] and "stop_target" in refused.last["msg"]

    run = run_playbook([restore_task(name="rollback", snapshot="good", stop_target=True, start=True)])
    assert run.ok, run
    assert run.last["restore"]["target"] == "vm-000" and run.last["restore"]["target_readiness_policy"] == "StopTarget"
    vm = read(sim, "kubevirt.io/v1", "VirtualMachine", "vm-000")
    claims = [v["dataVolume"]["name"] for v in vm["spec"]["template"]["spec"]["volumes"] if v.get("dataVolume")]
    assert claims == [run.last["restore"]["restores"][0]["claim"]]
    assert marker(sim, claims[0]) == "good"
    assert vm["spec"]["runStrategy"] == "Always"


def test_check_mode_writes_nothing(sim, run_playbook):
    day0_snapshot_class(sim)
    run = run_playbook([snapshot_task(name="dry", vm="vm-000")], check=True)
    assert run.ok, run
    assert run.last["changed"] is True and run.writes == 0
    assert read(sim, SNAP_API, "VirtualMachineSnapshot", "dry") is None

    assert run_playbook([snapshot_task(name="real", vm="vm-000")]).ok
    restore = run_playbook([restore_task(name="dry-restore", snapshot="real", target="vm-000-copy")], check=True)
    assert restore.ok, restore
    assert restore.last["changed"] is True and restore.writes == 0
    assert read(sim, "kubevirt.io/v1", "VirtualMachine", "vm-000-copy") is None

    delete = run_playbook([snapshot_task(name="real", state="absent")], check=True)
    assert delete.ok and delete.last["changed"] is True and delete.writes == 0
    assert read(sim, SNAP_API, "VirtualMachineSnapshot", "real") is not None


def test_delete_is_idempotent(sim, run_playbook):
    day0_snapshot_class(sim)
    assert run_playbook([snapshot_task(name="temp", vm="vm-000")]).ok
    run = run_playbook([snapshot_task(name="temp", state="absent")])
    assert run.ok and run.last["changed"] is True, run
    assert read(sim, SNAP_API, "VirtualMachineSnapshot", "temp") is None
    again = run_playbook([snapshot_task(name="temp", state="absent")])
    assert again.ok and again.changed == 0 and again.writes == 0


@pytest.mark.parametrize("case, task, words", [
    ("no snapshot class", snapshot_task(name="s", vm="vm-000"), ["px-rwx-block-kubvirt", "pxd.portworx.com", "VolumeSnapshotClass", "rootdisk"]),
    ("wrong driver class", snapshot_task(name="s", vm="vm-000"), ["has no VolumeSnapshotClass"]),
    ("missing vm", snapshot_task(name="s", vm="nope"), ["VirtualMachine vms/nope", "does not exist"]),
    ("space", snapshot_task(name="s", vm="vm-000", space_check={"snapshots_retained": 100000, "enforce": True}),
     ["does not fit", "GiB free"]),
    ("missing snapshot", restore_task(name="r", snapshot="nope"), ["VirtualMachineSnapshot vms/nope", "does not exist"]),
])
def test_bad_input_is_refused_before_any_write(sim, run_playbook, case, task, words):
    if case == "wrong driver class":
        day0_snapshot_class(sim, driver="csi.example.com")
    elif case != "no snapshot class":
        day0_snapshot_class(sim)
    run = run_playbook([task])
    assert not run.ok, run
    assert run.writes == 0
    for word in words:
        assert word in run.last["msg"], run.last["msg"]


def test_restore_onto_another_existing_vm_is_refused(sim, run_playbook):
    day0_snapshot_class(sim)
    assert run_playbook([snapshot_task(name="s1", vm="vm-000")]).ok
    run = run_playbook([restore_task(name="r1", snapshot="s1", target="vm-001", stop_target=True)])
    assert not run.ok and run.writes == 0
    assert "not the VM the snapshot was taken of" in run.last["msg"]
