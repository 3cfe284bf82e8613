"""ocpvirt.portworx.portworx_storage_class against the simulator."""

import pytest

SIMULATOR_OPTIONS = {"vms": 1}
FAST = {"wait_sleep": 0.2, "wait_timeout": 30}
ALL_PAIRS = {("ReadWriteMany", "Block"), ("ReadWriteMany", "Filesystem"), ("ReadWriteOnce", "Block"), ("ReadWriteOnce", "Filesystem")}
FS_PAIRS = {("ReadWriteMany", "Filesystem"), ("ReadWriteOnce", "Filesystem")}


def task(**options):
    args = dict(FAST)
    args.update(options)
    return {"name": "sc", "ocpvirt.portworx.portworx_storage_class": args}


def storage_class(sim, name):
    found = [sc for sc in sim.client().resources.get(api_version="storage.k8s.io/v1", kind="StorageClass").get().items
             if sc.metadata.name == name]
    return found[0].to_dict() if found else None


def restrict_profile(sim, name, sets):
    sim.client().resources.get(api_version="cdi.kubevirt.io/v1beta1", kind="StorageProfile").patch(
        name=name, body={"spec": {"claimPropertySets": sets}}, content_type="application/merge-patch+json")
    sim.settle()


def pairs(sets):
    return set((mode, s.get("volumeMode", "Filesystem")) for s in sets for mode in s["accessModes"])


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    sim.settle()


@pytest.mark.parametrize("preset, name, repl, binding, reclaim, offered", [
    ("vm_block", "px-rwx-block-kubevirt", "3", "WaitForFirstConsumer", "Delete", ALL_PAIRS),
    ("vm_file", "portworx-rwx-kubevirt", "3", "WaitForFirstConsumer", "Delete", FS_PAIRS),
    ("vm_state", "vmstate", "3", "Immediate", "Retain", ALL_PAIRS),
    ("migration", "mtv-storage", "3", "Immediate", "Delete", ALL_PAIRS),
])
def test_preset_creates_the_documented_class_and_returns_its_profile(sim, run_playbook, preset, name, repl, binding, reclaim, offered):
    # discover: false, as the seeded Portworx classes include a vm_block and a vm_file class under other names
    run = run_playbook([task(preset=preset, discover=False)], diff=True)
    assert run.ok, run
    result = run.last
    assert result["changed"] is True and result["outcome"] == "created"
    assert result["name"] == name and result["adopted"] is False and "adoption_reason" not in result
    sc = storage_class(sim, name)
    assert sc["provisioner"] == "pxd.portworx.com"
    assert sc["parameters"]["repl"] == repl
    assert sc["volumeBindingMode"] == binding
    assert sc["reclaimPolicy"] == reclaim
    assert sc["allowVolumeExpansion"] is True
    assert pairs(result["claim_property_sets"]) == offered
    assert result["storage_profile"]["status"]["storageClass"] == name
    assert result["diff"]["before"] == {} and result["diff"]["after"]["parameters"]["repl"] == repl

    again = run_playbook([task(preset=preset, discover=False)])
    assert again.ok, again
    assert again.changed == 0 and again.writes == 0
    assert again.last["outcome"] == "unchanged"


def test_cdi_scratch_preset_matches_the_preinstalled_class(sim, run_playbook):
    run = run_playbook([task(preset="cdi_scratch")])
    assert run.ok, run
    assert run.changed == 0 and run.writes == 0
    assert run.last["adopted"] is True and run.last["name"] == "px-cdi-scratch"
    assert pairs(run.last["claim_property_sets"]) == FS_PAIRS


def rwx_block_classes(sim):
    return sorted(sc.metadata.name for sc in sim.client().resources.get(api_version="storage.k8s.io/v1", kind="StorageClass").get().items
                  if sc.provisioner == "pxd.portworx.com" and dict(sc.parameters or {}) == {"repl": "3"}
                  and sc.volumeBindingMode == "WaitForFirstConsumer")


def test_vm_block_adopts_the_preinstalled_rwx_block_class_instead_of_creating_a_second(sim, run_playbook):
    checked = run_playbook([task(preset="vm_block")], check=True, diff=True)
    assert checked.ok, checked
    assert checked.last["changed"] is False and checked.writes == 0
    assert checked.last["adopted"] is True and checked.last["name"] == "px-rwx-block-kubvirt"

    run = run_playbook([task(preset="vm_block")], diff=True)
    assert run.ok, run
    result = run.last
    assert result["changed"] is False and run.writes == 0 and result["outcome"] == "unchanged"
    assert result["adopted"] is True and result["name"] == "px-rwx-block-kubvirt"
    assert result["storage_class"]["metadata"]["name"] == "px-rwx-block-kubvirt"
    assert result["adoption_candidates"] == ["px-rwx-block-kubvirt"]
    assert "already is the vm_block preset" in result["adoption_reason"]
    assert ("ReadWriteMany", "Block") in pairs(result["claim_property_sets"])
    assert rwx_block_classes(sim) == ["px-rwx-block-kubvirt"]
    assert storage_class(sim, "px-rwx-block-kubevirt") is None


def test_mutable_options_are_patched_on_the_adopted_class(sim, run_playbook):
    run = run_playbook([task(preset="vm_block", annotations={"example.com/owner": "platform"})], diff=True)
    assert run.ok, run
    assert run.last["adopted"] is True and run.last["outcome"] == "patched"
    assert storage_class(sim, "px-rwx-block-kubvirt")["metadata"]["annotations"]["example.com/owner"] == "platform"
    assert run.last["diff"]["before"]["metadata"]["name"] == "px-rwx-block-kubvirt"
    again = run_playbook([task(preset="vm_block", annotations={"example.com/owner": "platform"})])
    assert again.ok and again.changed == 0 and again.writes == 0


def test_no_adoption_without_an_rwx_block_profile(sim, run_playbook):
    restrict_profile(sim, "px-rwx-block-kubvirt", [{"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"}])
    run = run_playbook([task(preset="vm_block")])
    assert run.ok, run
    assert run.last["adopted"] is False and run.last["outcome"] == "created"
    assert run.last["name"] == "px-rwx-block-kubevirt" and run.last["adoption_candidates"] == []
    assert "no existing class" in run.last["adoption_reason"]


def test_of_several_candidates_the_default_virt_class_wins_and_a_given_name_skips_discovery(sim, run_playbook):
    named = run_playbook([task(preset="vm_block", name="a-rwx-block")])
    assert named.ok, named
    assert named.last["outcome"] == "created" and named.last["adopted"] is False
    assert "adoption_reason" not in named.last
    assert rwx_block_classes(sim) == ["a-rwx-block", "px-rwx-block-kubvirt"]

    run = run_playbook([task(preset="vm_block")])
    assert run.ok, run
    assert run.last["name"] == "px-rwx-block-kubvirt" and run.writes == 0
    assert run.last["adoption_candidates"] == ["px-rwx-block-kubvirt", "a-rwx-block"]
    assert "because it is annotated as the default virtualization class" in run.last["adoption_reason"]


def test_discover_false_keeps_the_preset_name(sim, run_playbook):
    run = run_playbook([task(preset="vm_block", discover=False)])
    assert run.ok, run
    assert run.last["outcome"] == "created" and run.last["adopted"] is False
    assert rwx_block_classes(sim) == ["px-rwx-block-kubevirt", "px-rwx-block-kubvirt"]


def test_check_mode_creates_nothing(sim, run_playbook):
    run = run_playbook([task(preset="migration")], check=True)
    assert run.ok, run
    assert run.last["changed"] is True
    assert run.writes == 0
    assert storage_class(sim, "mtv-storage") is None


@pytest.mark.parametrize("options, words", [
    ({"preset": "vm_block", "repl": 4}, "repl = 4 must be between 1 and 3"),
    ({"preset": "vm_block", "repl": 0}, "repl = 0 must be between 1 and 3"),
    ({"preset": "vm_state", "repl": 1}, "repl >= 2"),
    ({"preset": "vm_state", "reclaim_policy": "Delete"}, "reclaimPolicy Retain"),
    ({"preset": "cdi_scratch", "name": "scratch2", "parameters": {"sharedv4": "false"}}, "must give Filesystem"),
    ({"preset": "migration", "volume_binding_mode": "WaitForFirstConsumer"}, "must bind Immediate"),
])
def test_rule_violations_are_refused_before_writing(sim, run_playbook, options, words):
    run = run_playbook([task(**options)])
    assert not run.ok
    assert run.last["reason"] == "Refused"
    assert words in run.last["msg"]
    assert run.last["msg"].startswith("StorageClass ")
    assert run.writes == 0


def test_vm_disk_class_not_wffc_warns(sim, run_playbook):
    run = run_playbook([task(preset="vm_file", name="file-immediate", volume_binding_mode="Immediate")])
    assert run.ok, run
    assert any("WaitForFirstConsumer" in w for w in run.last.get("warnings", []))
    assert storage_class(sim, "file-immediate")["volumeBindingMode"] == "Immediate"


def test_immutable_difference_is_refused_with_the_diff_then_recreated(sim, run_playbook):
    pinned = dict(name="px-rwx-block-kubevirt")
    assert run_playbook([task(preset="vm_block", **pinned)]).ok
    original = storage_class(sim, "px-rwx-block-kubevirt")

    refused = run_playbook([task(preset="vm_block", repl=2, parameters={"io_profile": "db_remote"}, **pinned)])
    assert not refused.ok
    assert refused.last["reason"] == "Refused"
    assert "recreate: true" in refused.last["msg"]
    assert refused.last["immutable_differences"]["parameters"] == {
        "current": {"repl": "3"}, "wanted": {"repl": "2", "io_profile": "db_remote"}}
    assert refused.writes == 0
    assert storage_class(sim, "px-rwx-block-kubevirt")["metadata"]["uid"] == original["metadata"]["uid"]

    checked = run_playbook([task(preset="vm_block", repl=2, recreate=True, **pinned)], check=True)
    assert checked.ok, checked
    assert checked.last["outcome"] == "recreated" and checked.writes == 0
    assert storage_class(sim, "px-rwx-block-kubevirt")["metadata"]["uid"] == original["metadata"]["uid"]

    recreated = run_playbook([task(preset="vm_block", repl=2, recreate=True, **pinned)])
    assert recreated.ok, recreated
    assert recreated.last["outcome"] == "recreated"
    assert recreated.last["immutable_differences"]["parameters"]["wanted"] == {"repl": "2"}
    sc = storage_class(sim, "px-rwx-block-kubevirt")
    assert sc["parameters"] == {"repl": "2"}
    assert sc["metadata"]["uid"] != original["metadata"]["uid"]
    assert recreated.last["claim_property_sets"]


def test_mutable_differences_are_patched_and_other_annotations_kept(sim, run_playbook):
    run = run_playbook([task(preset="vm_file", name="px-rwx-file-kubvirt", allow_volume_expansion=False,
                             annotations={"example.com/owner": "platform"})], diff=True)
    assert run.ok, run
    assert run.last["outcome"] == "patched"
    sc = storage_class(sim, "px-rwx-file-kubvirt")
    assert sc["allowVolumeExpansion"] is False
    assert sc["metadata"]["annotations"]["example.com/owner"] == "platform"
    assert sc["metadata"]["labels"]["portworx.io/created-by"] == "portworx-operator"
    assert run.last["diff"]["before"]["allowVolumeExpansion"] is True
    assert run.last["diff"]["after"]["allowVolumeExpansion"] is False


@pytest.mark.parametrize("code", [500, 429])
def test_transient_errors_are_retried(sim, run_playbook, code):
    sim.add_fault(verb="create", resource="storageclasses", code=code, count=1)
    run = run_playbook([task(preset="migration")])
    assert run.ok, run
    assert run.last["retries"] >= 1
    assert storage_class(sim, "mtv-storage") is not None


def test_in_tree_provisioner_class_is_not_adopted_and_is_warned_about(sim, run_playbook):
    # Seed 000 recommends the CSI provisioner: a class on the in-tree kubernetes.io/portworx-volume with the
    # cdi_scratch preset's fields is not the preset, so the preinstalled CSI class is adopted instead.
    sim.client().resources.get(api_version="storage.k8s.io/v1", kind="StorageClass").create(body={
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "aaa-in-tree-scratch"},
        "provisioner": "kubernetes.io/portworx-volume", "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": True,
        "parameters": {"repl": "1", "sharedv4": "true", "sharedv4_mount_options": "vers=3.0,nolock"}})
    run = run_playbook([task(preset="cdi_scratch")])
    assert run.ok, run
    assert run.last["name"] == "px-cdi-scratch"
    assert run.last["adoption_candidates"] == ["px-cdi-scratch"]
    warnings = " ".join(run.last.get("warnings", []))
    assert "aaa-in-tree-scratch" in warnings and "deprecated in-tree provisioner" in warnings


def test_classes_configures_several_presets_in_one_run_and_a_second_run_writes_nothing(sim, run_playbook):
    classes = [{"preset": "vm_block"}, {"preset": "cdi_scratch", "name": "scratch-for-vms"}, {"preset": "vm_state", "name": "vmstate", "repl": 2}]
    run = run_playbook([task(classes=classes)], diff=True)
    assert run.ok, run
    results = run.last["classes"]
    assert [r["preset"] for r in results] == ["vm_block", "cdi_scratch", "vm_state"]
    # the seeded px-rwx-block-kubvirt already is the vm_block preset: adopted, not duplicated
    assert results[0]["adopted"] is True and results[0]["outcome"] == "unchanged"
    assert [r["outcome"] for r in results[1:]] == ["created", "created"]
    assert storage_class(sim, "vmstate")["parameters"]["repl"] == "2"
    assert results[1]["claim_property_sets"] and run.last["diff"]["after"]["vmstate"]["reclaimPolicy"] == "Retain"
    again = run_playbook([task(classes=classes)])
    assert again.ok and again.changed == 0 and again.writes == 0, again


def test_classes_refuses_before_any_write_when_one_item_breaks_a_rule(sim, run_playbook):
    run = run_playbook([task(classes=[{"preset": "cdi_scratch", "name": "scratch-for-vms"},
                                      {"preset": "vm_state", "name": "vmstate", "repl": 1}])])
    assert not run.ok
    assert run.last["reason"] == "Refused" and "StorageClass vmstate" in run.last["msg"]
    assert run.writes == 0 and storage_class(sim, "scratch-for-vms") is None


def test_classes_items_are_validated_like_the_single_class_options(sim, run_playbook):
    unknown = run_playbook([task(classes=[{"preset": "vm_block", "replicas": 3}])])
    assert not unknown.ok and "classes[0] (vm_block)" in unknown.last["msg"] and "replicas" in unknown.last["msg"]
    no_preset = run_playbook([task(classes=[{"name": "x"}])])
    assert not no_preset.ok and "preset" in no_preset.last["msg"]
    both = run_playbook([task(preset="vm_block", classes=[{"preset": "vm_file"}])])
    assert not both.ok and "mutually exclusive" in both.last["msg"]
    beside = run_playbook([task(parameters={"io_profile": "db_remote"}, classes=[{"preset": "vm_file"}])])
    assert not beside.ok and beside.last["reason"] == "Refused" and "per-class options" in beside.last["msg"]
    assert unknown.writes == no_preset.writes == both.writes == beside.writes == 0
