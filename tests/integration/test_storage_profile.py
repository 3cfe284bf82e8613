"""ocpvirt.portworx.storage_profile and storage_profile_info against the simulator."""

import pytest

SIMULATOR_OPTIONS = {"vms": 1}
FAST = {"wait_sleep": 0.2, "wait_timeout": 30}
RWX_BLOCK = [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}]


def task(**options):
    args = dict(FAST)
    args.update(options)
    return {"name": "profile", "ocpvirt.portworx.storage_profile": args}


def info(**options):
    return {"name": "info", "ocpvirt.portworx.storage_profile_info": options}


def profile(sim, name):
    return sim.client().resources.get(api_version="cdi.kubevirt.io/v1beta1", kind="StorageProfile").get(name=name).to_dict()


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    sim.settle()


def test_default_rwx_block_with_csi_clone_is_set_reflected_and_idempotent(sim, run_playbook):
    run = run_playbook([task(name="px-rwx-block-kubvirt", clone_strategy="csi-clone")], diff=True)
    assert run.ok, run
    result = run.last
    assert result["changed"] is True
    assert result["spec"] == {"claimPropertySets": RWX_BLOCK, "cloneStrategy": "csi-clone"}
    assert result["status"]["claimPropertySets"] == RWX_BLOCK
    assert result["status"]["cloneStrategy"] == "csi-clone"
    assert result["diff"]["after"]["spec"]["claimPropertySets"] == RWX_BLOCK
    stored = profile(sim, "px-rwx-block-kubvirt")
    assert stored["spec"]["claimPropertySets"] == RWX_BLOCK
    assert stored["status"]["claimPropertySets"] == RWX_BLOCK

    again = run_playbook([task(name="px-rwx-block-kubvirt", clone_strategy="csi-clone")])
    assert again.ok, again
    assert again.changed == 0 and again.writes == 0


def test_filesystem_sets_and_source_format(sim, run_playbook):
    sets = [{"access_modes": ["ReadWriteMany"], "volume_mode": "Filesystem"}, {"access_modes": ["ReadWriteOnce"]}]
    run = run_playbook([task(name="px-rwx-file-kubvirt", claim_property_sets=sets, data_import_cron_source_format="snapshot")])
    assert run.ok, run
    status = profile(sim, "px-rwx-file-kubvirt")["status"]
    assert status["claimPropertySets"] == [{"accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem"},
                                           {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"}]
    assert status["dataImportCronSourceFormat"] == "snapshot"


def test_check_mode_writes_nothing(sim, run_playbook):
    before = profile(sim, "px-rwx-block-kubvirt")
    run = run_playbook([task(name="px-rwx-block-kubvirt", clone_strategy="copy")], check=True)
    assert run.ok, run
    assert run.last["changed"] is True
    assert run.writes == 0
    assert profile(sim, "px-rwx-block-kubvirt")["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


def test_mode_the_provisioner_cannot_give_is_refused(sim, run_playbook):
    before = profile(sim, "px-rwx-file-kubvirt")
    run = run_playbook([task(name="px-rwx-file-kubvirt")])
    assert not run.ok
    assert run.last["reason"] == "Refused"
    assert run.last["unsupported"] == ["ReadWriteMany/Block"]
    assert run.last["msg"].startswith("StorageProfile px-rwx-file-kubvirt: ")
    assert run.writes == 0
    assert profile(sim, "px-rwx-file-kubvirt")["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


def test_missing_class_is_not_found(sim, run_playbook):
    run = run_playbook([task(name="no-such-class")])
    assert not run.ok
    assert run.last["reason"] == "NotFound" and run.last["status"] == 404
    assert run.last["msg"].startswith("StorageClass no-such-class not found")
    assert run.writes == 0


@pytest.mark.parametrize("code", [500, 429])
def test_transient_errors_are_retried(sim, run_playbook, code):
    sim.add_fault(verb="patch", resource="storageprofiles", code=code, count=1)
    run = run_playbook([task(name="px-rwx-block-kubvirt", clone_strategy="csi-clone")])
    assert run.ok, run
    assert run.last["retries"] >= 1
    assert profile(sim, "px-rwx-block-kubvirt")["status"]["claimPropertySets"] == RWX_BLOCK


def test_info_lists_what_each_profile_lacks_for_vms(sim, run_playbook):
    run = run_playbook([info()])
    assert run.ok, run
    assert run.writes == 0 and run.changed == 0
    by_name = dict((p["name"], p) for p in run.last["storage_profiles"])
    assert by_name["px-rwx-block-kubvirt"]["ready_for_vms"] is True
    assert by_name["px-rwx-file-kubvirt"]["missing_for_vm_use"] == ["Block"]
    assert "px-rwx-file-kubvirt" in run.last["not_ready_for_vms"]
    assert set(by_name["stork-snapshot-sc"]["missing_for_vm_use"]) >= {"RWX", "Block"}
    assert "px-rwx-block-kubvirt" not in run.last["not_ready_for_vms"]

    one = run_playbook([info(name="px-cdi-scratch")])
    assert [p["name"] for p in one.last["storage_profiles"]] == ["px-cdi-scratch"]


def test_info_sees_a_profile_fixed_by_the_module(sim, run_playbook):
    # a Filesystem-only override makes the class unfit; putting RWX Block back makes it fit again
    run = run_playbook([
        task(name="px-csi-db", claim_property_sets=[{"access_modes": ["ReadWriteOnce"], "volume_mode": "Filesystem"}]),
        info(name="px-csi-db"),
    ])
    assert run.ok, run
    assert run.last["storage_profiles"][0]["missing_for_vm_use"] == ["RWX", "Block"]
    fixed = run_playbook([task(name="px-csi-db"), info(name="px-csi-db")])
    assert fixed.ok, fixed
    assert fixed.last["storage_profiles"][0]["ready_for_vms"] is True


def test_check_mode_plans_for_a_class_an_earlier_task_would_create(sim, run_playbook):
    run = run_playbook([task(name="not-created-yet")], check=True, diff=True)
    assert run.ok, run
    result = run.last
    assert result["changed"] is True and run.writes == 0
    assert result["diff"]["after"]["spec"]["claimPropertySets"] == RWX_BLOCK
    assert any("StorageClass not-created-yet" in w and "would exist" in w for w in result["warnings"])
    real = run_playbook([task(name="not-created-yet")])
    assert not real.ok and real.last["reason"] == "NotFound" and real.last["status"] == 404 and real.writes == 0
