"""The Portworx StorageClass presets: the documents' values, the role rules and the immutable diff."""

import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils import storage_class_presets as presets


@pytest.mark.parametrize(
    "preset, name, repl, binding, reclaim",
    [
        ("vm_block", "px-rwx-block-kubevirt", "3", "WaitForFirstConsumer", "Delete"),
        ("vm_file", "portworx-rwx-kubevirt", "3", "WaitForFirstConsumer", "Delete"),
        ("cdi_scratch", "px-cdi-scratch", "1", "Immediate", "Delete"),
        ("vm_state", "vmstate", "3", "Immediate", "Retain"),
        ("migration", "mtv-storage", "3", "Immediate", "Delete"),
    ],
)
def test_presets_carry_the_documents_values_and_pass_their_own_rules(preset, name, repl, binding, reclaim):
    sc = presets.desired_class(preset)
    assert sc["metadata"]["name"] == name
    assert sc["provisioner"] == "pxd.portworx.com"
    assert sc["parameters"]["repl"] == repl
    assert sc["volumeBindingMode"] == binding
    assert sc["reclaimPolicy"] == reclaim
    assert sc["allowVolumeExpansion"] is True
    assert presets.check(preset, sc) == ([], [])


def test_sharedv4_presets_use_nfs_mount_options():
    for preset in ("vm_file", "cdi_scratch"):
        params = presets.desired_class(preset)["parameters"]
        assert params["sharedv4"] == "true"
        assert params["sharedv4_mount_options"] == "vers=3.0,nolock"


def test_overrides_win_and_parameters_become_strings():
    sc = presets.desired_class("vm_block", name="fast", repl=2, parameters={"io_profile": "db_remote", "priority_io": "high"},
                               annotations={"a": 1})
    assert sc["metadata"] == {"name": "fast", "annotations": {"a": "1"}}
    assert sc["parameters"] == {"repl": "2", "io_profile": "db_remote", "priority_io": "high"}


@pytest.mark.parametrize("repl", [0, 4])
def test_repl_outside_one_to_three_is_an_error(repl):
    errors = presets.check("vm_block", presets.desired_class("vm_block", repl=repl))[0]
    assert any("repl must be 1, 2 or 3" in e for e in errors)


def test_vm_state_needs_two_replicas_and_retain():
    errors = presets.check("vm_state", presets.desired_class("vm_state", repl=1, reclaim_policy="Delete"))[0]
    assert len(errors) == 2
    assert any("repl >= 2" in e for e in errors) and any("Retain" in e for e in errors)


def test_cdi_scratch_must_stay_filesystem():
    errors = presets.check("cdi_scratch", presets.desired_class("cdi_scratch", parameters={"sharedv4": "false"}))[0]
    assert any("Filesystem" in e for e in errors)


def test_migration_must_be_immediate():
    errors = presets.check("migration", presets.desired_class("migration", volume_binding_mode="WaitForFirstConsumer"))[0]
    assert any("Immediate" in e for e in errors)


@pytest.mark.parametrize("preset", ["vm_block", "vm_file"])
def test_vm_disk_classes_warn_unless_wffc(preset):
    errors, warnings = presets.check(preset, presets.desired_class(preset, volume_binding_mode="Immediate"))
    assert errors == []
    assert len(warnings) == 1 and "WaitForFirstConsumer" in warnings[0]


def test_compare_separates_immutable_fields_from_the_mergeable_rest():
    existing = presets.desired_class("vm_block")
    existing["metadata"]["annotations"] = {"keep": "me"}
    existing["allowVolumeExpansion"] = False
    wanted = presets.desired_class("vm_block", repl=2, annotations={"new": "x"})
    immutable, patch = presets.compare(existing, wanted)
    assert immutable == {"parameters": {"current": {"repl": "3"}, "wanted": {"repl": "2"}}}
    assert patch == {"allowVolumeExpansion": True, "metadata": {"annotations": {"new": "x"}}}


def test_compare_applies_api_defaults_to_omitted_fields():
    existing = presets.desired_class("migration")
    del existing["reclaimPolicy"]
    del existing["volumeBindingMode"]
    assert presets.compare(existing, presets.desired_class("migration")) == ({}, {})


def _existing(name, provisioner="pxd.portworx.com", parameters=None, binding="WaitForFirstConsumer", reclaim="Delete",
              virt_default=False):
    sc = {"metadata": {"name": name, "annotations": {}}, "provisioner": provisioner,
          "parameters": {"repl": "3"} if parameters is None else parameters,
          "reclaimPolicy": reclaim, "volumeBindingMode": binding, "allowVolumeExpansion": True}
    if virt_default:
        sc["metadata"]["annotations"]["storageclass.kubevirt.io/is-default-virt-class"] = "true"
    return sc


RWX_BLOCK_PROFILE = {"status": {"claimPropertySets": [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}]}}
RWX_FILE_PROFILE = {"status": {"claimPropertySets": [{"accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem"}]}}


def _names(classes):
    return [sc["metadata"]["name"] for sc in classes]


def test_vm_block_adopts_the_preinstalled_spelling_recognised_by_fields_and_profile():
    classes = [_existing("px-rwx-block-kubvirt", virt_default=True),
               _existing("px-csi-db", parameters={"repl": "3", "io_profile": "db_remote"}, binding="Immediate"),
               _existing("px-rwx-file-kubvirt", parameters={"repl": "3", "sharedv4": "true"})]
    profiles = {"px-rwx-block-kubvirt": RWX_BLOCK_PROFILE, "px-csi-db": RWX_BLOCK_PROFILE}
    candidates = presets.adoption_candidates("vm_block", presets.desired_class("vm_block"), classes, profiles)
    assert _names(candidates) == ["px-rwx-block-kubvirt"]
    chosen, reason = presets.choose_adoption("vm_block", candidates)
    assert chosen["metadata"]["name"] == "px-rwx-block-kubvirt"
    assert "already is the vm_block preset" in reason and "ReadWriteMany/Block" in reason


def test_vm_block_needs_a_profile_offering_rwx_block():
    classes = [_existing("px-rwx-block-kubvirt")]
    desired = presets.desired_class("vm_block")
    assert presets.adoption_candidates("vm_block", desired, classes, {"px-rwx-block-kubvirt": RWX_FILE_PROFILE}) == []
    assert presets.adoption_candidates("vm_block", desired, classes, {}) == []
    assert presets.adoption_candidates("vm_block", desired, classes, None) == []
    chosen, reason = presets.choose_adoption("vm_block", [])
    assert chosen is None and "px-rwx-block-kubevirt" in reason


@pytest.mark.parametrize("change", [
    {"provisioner": "example.com/other"},
    {"parameters": {"repl": "2"}},
    {"parameters": {"repl": "3", "io_profile": "db_remote"}},
    {"reclaimPolicy": "Retain"},
    {"volumeBindingMode": "Immediate"},
])
def test_any_immutable_difference_prevents_adoption(change):
    sc = _existing("candidate")
    sc.update(change)
    assert presets.adoption_candidates("vm_block", presets.desired_class("vm_block"), [sc], {"candidate": RWX_BLOCK_PROFILE}) == []


def test_parameters_are_compared_after_normalisation():
    scratch = _existing("scratch", binding="Immediate",
                        parameters={"repl": 1, "sharedv4": "True", "sharedv4_mount_options": "nolock, vers=3.0"})
    candidates = presets.adoption_candidates("cdi_scratch", presets.desired_class("cdi_scratch"), [scratch])
    assert _names(candidates) == ["scratch"]
    adopted = presets.adopt(presets.desired_class("cdi_scratch", annotations={"a": "b"}), scratch)
    assert adopted["metadata"] == {"name": "scratch", "annotations": {"a": "b"}}
    assert adopted["provisioner"] == "pxd.portworx.com"
    assert presets.compare(scratch, adopted)[0] == {}
    assert presets.check("cdi_scratch", adopted)[0] == []


def test_in_tree_provisioner_is_never_adopted_but_named_in_a_warning():
    # Seed 000 recommends the CSI provisioner; kubernetes.io/portworx-volume is the deprecated in-tree plugin.
    scratch = _existing("scratch", provisioner="kubernetes.io/portworx-volume", binding="Immediate",
                        parameters={"repl": 1, "sharedv4": "True", "sharedv4_mount_options": "nolock, vers=3.0"})
    desired = presets.desired_class("cdi_scratch")
    assert presets.adoption_candidates("cdi_scratch", desired, [scratch]) == []
    assert presets.in_tree_lookalikes("cdi_scratch", desired, [scratch]) == ["scratch"]
    warning = presets.in_tree_warning("cdi_scratch", ["scratch"])
    assert "scratch" in warning and "kubernetes.io/portworx-volume" in warning and "pxd.portworx.com" in warning
    assert presets.in_tree_lookalikes("cdi_scratch", desired, [_existing("csi", binding="Immediate",
                                      parameters={"repl": "1", "sharedv4": "true", "sharedv4_mount_options": "vers=3.0,nolock"})]) == []


def test_overrides_take_part_in_the_match():
    classes = [_existing("repl2", parameters={"repl": "2"}), _existing("repl3")]
    profiles = {"repl2": RWX_BLOCK_PROFILE, "repl3": RWX_BLOCK_PROFILE}
    assert _names(presets.adoption_candidates("vm_block", presets.desired_class("vm_block", repl=2), classes, profiles)) == ["repl2"]


def test_missing_fields_take_the_api_defaults():
    sc = _existing("mtv")
    del sc["reclaimPolicy"]
    sc["volumeBindingMode"] = None
    assert _names(presets.adoption_candidates("migration", presets.desired_class("migration"), [sc])) == ["mtv"]


def test_several_candidates_prefer_the_virt_default_then_the_preset_name_then_by_name():
    profiles = dict((n, RWX_BLOCK_PROFILE) for n in ("a-class", "px-rwx-block-kubevirt", "px-rwx-block-kubvirt", "z-class"))
    desired = presets.desired_class("vm_block")
    plain = [_existing(n) for n in ("z-class", "px-rwx-block-kubvirt", "a-class", "px-rwx-block-kubevirt")]
    candidates = presets.adoption_candidates("vm_block", desired, plain, profiles)
    assert _names(candidates) == ["px-rwx-block-kubevirt", "a-class", "px-rwx-block-kubvirt", "z-class"]
    chosen, reason = presets.choose_adoption("vm_block", candidates)
    assert chosen["metadata"]["name"] == "px-rwx-block-kubevirt" and "the preset's name" in reason

    with_default = [_existing("px-rwx-block-kubevirt"), _existing("z-class", virt_default=True), _existing("a-class")]
    candidates = presets.adoption_candidates("vm_block", desired, with_default, profiles)
    assert _names(candidates) == ["z-class", "px-rwx-block-kubevirt", "a-class"]
    chosen, reason = presets.choose_adoption("vm_block", candidates)
    assert chosen["metadata"]["name"] == "z-class"
    assert "chosen over px-rwx-block-kubevirt, a-class because it is annotated as the default virtualization class" in reason

    by_name = presets.adoption_candidates("vm_block", desired, [_existing("z-class"), _existing("a-class")], profiles)
    assert presets.choose_adoption("vm_block", by_name)[1].endswith("because it comes first by name")


def test_terminating_classes_are_not_adopted():
    sc = _existing("going")
    sc["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    assert presets.adoption_candidates("vm_block", presets.desired_class("vm_block"), [sc], {"going": RWX_BLOCK_PROFILE}) == []
