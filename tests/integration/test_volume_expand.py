"""ocpvirt.portworx.volume_expand against the simulator: claims and VM disks grow, refusals write nothing."""

import pytest

SIMULATOR_OPTIONS = {"vms": 2, "durations": {"pvc_resize": 0.1, "pvc_fs_resize": 0.1}}
NS = "vms"
FAST = {"wait_sleep": 0.2, "wait_timeout": 30}
VM_DISK = "vm-000-rootdisk"  # seeded: RWX Block on px-rwx-block-kubvirt, 30Gi, mounted by a running launcher pod


def task(**options):
    args = dict(FAST)
    args.update(options)
    return {"name": "expand", "ocpvirt.portworx.volume_expand": args}


def pvc(sim, name, namespace=NS):
    return sim.client().resources.get(api_version="v1", kind="PersistentVolumeClaim").get(name=name, namespace=namespace).to_dict()


def create_claim(sim, name, storage_class="px-csi-db", size="10Gi", mode="Filesystem"):
    sim.client().resources.get(api_version="v1", kind="PersistentVolumeClaim").create(namespace=NS, body={
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": NS},
        "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": mode, "storageClassName": storage_class,
                 "resources": {"requests": {"storage": size}}}})
    sim.settle()


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    sim.settle()


def test_vm_disk_grows_and_second_run_changes_nothing(sim, run_playbook):
    run = run_playbook([task(vm="vm-000", disk="rootdisk", namespace=NS, size="40Gi")], diff=True)
    assert run.ok, run
    result = run.last
    assert result["changed"] is True
    assert result["vm_disk"] == {"disk": "rootdisk", "claim": VM_DISK, "data_volume": VM_DISK}
    assert result["claim"]["old_request"] == "30Gi" and result["claim"]["capacity"] == "40Gi"
    assert result["claim"]["conditions"] == []
    assert "guest" in result["action_required"]
    assert result["diff"] == {"before": {"request": "30Gi"}, "after": {"request": "40Gi"}}
    claim = pvc(sim, VM_DISK)
    assert claim["spec"]["resources"]["requests"]["storage"] == "40Gi"
    assert claim["status"]["capacity"]["storage"] == "40Gi"

    again = run_playbook([task(vm="vm-000", disk="rootdisk", namespace=NS, size="40Gi")])
    assert again.ok, again
    assert again.changed == 0 and again.writes == 0


def test_unused_portworx_filesystem_claim_grows_without_a_pod(sim, run_playbook):
    # Portworx's ControllerExpandVolume answers NodeExpansionRequired=false (libopenstorage/openstorage
    # csi/controller.go), so a px-csi-db Filesystem claim that no pod mounts reaches the new capacity with no
    # FileSystemResizePending step and nothing left for the user to do.
    create_claim(sim, "data")
    run = run_playbook([task(name="data", namespace=NS, size="20Gi")])
    assert run.ok, run
    result = run.last
    assert result["changed"] is True
    assert result["claim"]["conditions"] == [] and result["claim"]["capacity"] == "20Gi"
    assert result["action_required"] is None
    assert pvc(sim, "data")["status"]["capacity"]["storage"] == "20Gi"
    again = run_playbook([task(name="data", namespace=NS, size="20Gi")])
    assert again.ok and again.changed == 0 and again.writes == 0


def test_check_mode_writes_nothing(sim, run_playbook):
    run = run_playbook([task(name=VM_DISK, namespace=NS, size="50Gi")], check=True)
    assert run.ok, run
    assert run.last["changed"] is True
    assert run.writes == 0
    assert pvc(sim, VM_DISK)["spec"]["resources"]["requests"]["storage"] == "30Gi"


@pytest.mark.parametrize(
    "options, words",
    [
        (dict(name=VM_DISK, size="20Gi"), ["20Gi", "30Gi", "smaller"]),
        (dict(name="on-stork", size="20Gi"), ["stork-snapshot-sc", "allowVolumeExpansion"]),
        (dict(name="waiting", size="20Gi"), ["Pending", "Bound"]),
        (dict(vm="vm-000", disk="nope", size="40Gi"), ["rootdisk"]),
    ],
)
def test_refusals_leave_the_claim_unchanged(sim, run_playbook, options, words):
    create_claim(sim, "on-stork", storage_class="stork-snapshot-sc")
    create_claim(sim, "waiting", storage_class="px-rwx-file-kubvirt")  # WaitForFirstConsumer: no consumer yet
    before = {name: pvc(sim, name)["spec"] for name in (VM_DISK, "on-stork", "waiting")}
    run = run_playbook([task(namespace=NS, **options)])
    assert not run.ok
    assert run.last["reason"] == "Refused"
    for word in words:
        assert word in run.last["msg"]
    assert run.writes == 0
    assert {name: pvc(sim, name)["spec"] for name in before} == before


def test_target_options_are_declared_constraints(run_playbook):
    run = run_playbook([task(name="x", vm="y", disk="z", namespace=NS, size="1Gi")])
    assert not run.ok and "mutually exclusive" in run.last["msg"]
    run = run_playbook([task(vm="y", namespace=NS, size="1Gi")])
    assert not run.ok and "together" in run.last["msg"]


@pytest.mark.parametrize("code", [500, 429])
def test_transient_errors_are_retried(sim, run_playbook, code):
    sim.add_fault(verb="patch", resource="persistentvolumeclaims", code=code, count=1)
    run = run_playbook([task(name=VM_DISK, namespace=NS, size="35Gi")])
    assert run.ok, run
    assert run.last["retries"] == 1
    assert pvc(sim, VM_DISK)["status"]["capacity"]["storage"] == "35Gi"


@pytest.mark.parametrize("options, subject", [
    (dict(vm="no-such-vm", disk="rootdisk", size="40Gi"), "VirtualMachine vms/no-such-vm"),
    (dict(name="no-such-claim", size="40Gi"), "PersistentVolumeClaim vms/no-such-claim"),
])
def test_a_missing_vm_or_claim_is_not_found_like_in_every_module(sim, run_playbook, options, subject):
    run = run_playbook([task(namespace=NS, **options)])
    assert not run.ok
    assert run.last["reason"] == "NotFound" and run.last["status"] == 404
    assert run.last["msg"].startswith(subject + " not found")
    assert run.writes == 0


def fail_resizes(sim, code, count=1):
    """Portworx answers the next ``count`` ControllerExpandVolume calls of the VM disk with gRPC ``code`` (the
    simulator's external-resizer files it as upstream does: OutOfRange is infeasible, Internal final and retried)."""
    sim.add_fault(operator="pvc-resize-fail", target="{0}/{1}".format(NS, VM_DISK), code=code, count=count,
                  message="Failed to update volume size: pool has not enough free space")


def failed_at_40gi(sim, run_playbook):
    fail_resizes(sim, "OutOfRange")
    run = run_playbook([task(vm="vm-000", disk="rootdisk", namespace=NS, size="40Gi")])
    assert not run.ok
    return run


def test_failed_resize_names_the_claim_the_driver_error_its_events_and_the_fix(sim, run_playbook):
    result = failed_at_40gi(sim, run_playbook).last
    msg = result["msg"]
    assert msg.startswith("PersistentVolumeClaim vms/{0}: the resize to 40Gi failed".format(VM_DISK))
    assert result["reason"] == "ControllerResizeInfeasible"
    assert "ControllerResizeError: failed to expand pvc with rpc error: code = OutOfRange" in msg
    assert "pool has not enough free space" in msg and "keeps its capacity 30Gi" in msg
    # The fix Kubernetes 1.33 offers: make room (the resizer retries), or a smaller size above the capacity.
    assert "free or add capacity in the Portworx storage pool" in msg and "smaller size above 30Gi" in msg
    assert "RecoverVolumeExpansionFailure" in msg and "\n" not in msg
    # The Warning event is the simulated external-resizer's own (VolumeResizeFailed).
    assert any(e.startswith('VolumeResizeFailed: resize volume "pvc-') and 'by resizer "pxd.portworx.com" failed' in e
               for e in result["warning_events"])
    claim = pvc(sim, VM_DISK)
    assert claim["status"]["capacity"]["storage"] == "30Gi"
    assert claim["status"]["allocatedResourceStatuses"] == {"storage": "ControllerResizeInfeasible"}


def test_a_retried_final_error_times_out_with_the_fix(sim, run_playbook):
    fail_resizes(sim, "Internal", count=1000)  # the pool stays full: every backoff retry fails again
    run = run_playbook([task(name=VM_DISK, namespace=NS, size="40Gi", wait_timeout=3)])
    assert not run.ok
    msg = run.last["msg"]
    assert run.last["reason"] == "Timeout" and "ControllerResizeError" in msg and "code = Internal" in msg
    assert "free or add capacity in the Portworx storage pool" in msg and "smaller size above 30Gi" in msg
    assert "\n" not in msg


def test_a_failed_resize_retried_smaller_recovers_and_converges(sim, run_playbook):
    failed_at_40gi(sim, run_playbook)
    rerun = run_playbook([task(vm="vm-000", disk="rootdisk", namespace=NS, size="40Gi")])
    assert not rerun.ok and rerun.writes == 0  # the same infeasible size: reported at once, nothing written
    assert rerun.last["previous_run"]["requested"] == "40Gi"

    checked = run_playbook([task(vm="vm-000", disk="rootdisk", namespace=NS, size="35Gi")], check=True, diff=True)
    assert checked.ok, checked
    assert checked.last["changed"] is True and checked.writes == 0
    assert any("check mode: would lower the request from 40Gi to 35Gi" in w for w in checked.last["warnings"]), checked.last
    assert pvc(sim, VM_DISK)["spec"]["resources"]["requests"]["storage"] == "40Gi"

    run = run_playbook([task(vm="vm-000", disk="rootdisk", namespace=NS, size="35Gi")], diff=True)
    assert run.ok, run
    result = run.last
    assert result["changed"] is True
    assert any("lowering the request from 40Gi to 35Gi" in w for w in result["warnings"]), result
    assert result["recovery"]["abandoned_request"] == "40Gi" and result["recovery"]["request"] == "35Gi"
    assert result["recovery"]["capacity"] == "30Gi" and "ControllerResizeError" in result["recovery"]["failure"]
    assert result["diff"] == {"before": {"request": "40Gi"}, "after": {"request": "35Gi"}}
    assert result["claim"]["capacity"] == "35Gi" and result["claim"]["conditions"] == []
    claim = pvc(sim, VM_DISK)
    assert claim["spec"]["resources"]["requests"]["storage"] == "35Gi"
    assert claim["status"]["capacity"]["storage"] == "35Gi" and "allocatedResourceStatuses" not in claim["status"]

    again = run_playbook([task(vm="vm-000", disk="rootdisk", namespace=NS, size="35Gi")])
    assert again.ok and again.changed == 0 and again.writes == 0


def test_shrinking_a_failed_resize_to_its_capacity_is_refused_with_zero_writes(sim, run_playbook):
    failed_at_40gi(sim, run_playbook)
    before = pvc(sim, VM_DISK)["spec"]
    run = run_playbook([task(vm="vm-000", disk="rootdisk", namespace=NS, size="30Gi")])
    assert not run.ok
    assert run.last["reason"] == "Refused" and run.writes == 0
    assert run.last["msg"].startswith(
        "PersistentVolumeClaim vms/{0}: requested size 30Gi is not above the capacity 30Gi".format(VM_DISK))
    assert "Give a size above 30Gi to retry the resize smaller, or 40Gi to keep waiting for it." in run.last["msg"]
    assert pvc(sim, VM_DISK)["spec"] == before
