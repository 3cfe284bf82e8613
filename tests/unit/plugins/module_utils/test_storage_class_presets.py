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
