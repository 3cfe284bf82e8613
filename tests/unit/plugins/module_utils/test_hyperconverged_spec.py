"""HyperConverged planning: option mapping, validation, patch, settling and the CDI effect."""

import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils import hyperconverged_spec as hco

FS_PROFILE = {"status": {"claimPropertySets": [{"accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem"}]}}
BLOCK_PROFILE = {"status": {"claimPropertySets": [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}]}}
VMSTATE_CLASS = {"provisioner": "pxd.portworx.com", "parameters": {"repl": "3"}, "reclaimPolicy": "Retain"}
CLASSES = {"px-cdi-scratch": {}, "vmstate": VMSTATE_CLASS, "block": {}}
PROFILES = {"px-cdi-scratch": FS_PROFILE, "vmstate": FS_PROFILE, "block": BLOCK_PROFILE}


def test_wanted_spec_maps_options_to_v1beta1_fields():
    spec = hco.wanted_spec({
        "scratch_space_storage_class": "px-cdi-scratch",
        "vm_state_storage_class": "vmstate",
        "filesystem_overhead": {"global": "0.08", "storage_class": {"px-cdi-scratch": "0.1"}},
        "live_migration": {"parallel_migrations_per_cluster": 5, "parallel_outbound_migrations_per_node": 2, "network": None},
        "eviction_strategy": "LiveMigrate",
        "feature_gates": {"downwardMetrics": True},
    })
    assert spec == {
        "scratchSpaceStorageClass": "px-cdi-scratch",
        "vmStateStorageClass": "vmstate",
        "filesystemOverhead": {"global": "0.08", "storageClass": {"px-cdi-scratch": "0.1"}},
        "liveMigrationConfig": {"parallelMigrationsPerCluster": 5, "parallelOutboundMigrationsPerNode": 2},
        "evictionStrategy": "LiveMigrate",
        "featureGates": {"downwardMetrics": True},
    }
    assert hco.wanted_spec({}) == {}


@pytest.mark.parametrize("value, valid", [("0", True), ("0.08", True), ("0.055", True), ("0.0555", False), ("1", False),
                                          ("1.5", False), ("-0.1", False), ("abc", False), (".08", False)])
def test_overhead_values(value, valid):
    assert hco.valid_overhead(value) is valid


def test_check_accepts_the_documented_setup():
    spec = {"scratchSpaceStorageClass": "px-cdi-scratch", "vmStateStorageClass": "vmstate", "filesystemOverhead": {"global": "0.08"}}
    assert hco.check(spec, CLASSES, PROFILES) == ([], [])


def test_check_refuses_missing_and_unfit_classes():
    errors = hco.check({"scratchSpaceStorageClass": "nope", "vmStateStorageClass": "block"}, CLASSES, PROFILES)[0]
    assert len(errors) == 2
    assert "no such StorageClass" in errors[0] and "neither RWX nor RWO Filesystem" in errors[1]
    errors = hco.check({"scratchSpaceStorageClass": "block"}, CLASSES, PROFILES)[0]
    assert "does not offer Filesystem" in errors[0]


def test_check_overhead_range_and_low_value_warning():
    errors = hco.check({"filesystemOverhead": {"global": "1", "storageClass": {"vmstate": "x"}}}, CLASSES, PROFILES)[0]
    assert len(errors) == 2
    errors, warnings = hco.check({"filesystemOverhead": {"global": "0.055"}}, CLASSES, PROFILES, filesystem_vm_volumes=2)
    assert errors == [] and "below the recommended 0.08" in warnings[0]
    assert hco.check({"filesystemOverhead": {"global": "0.055"}}, CLASSES, PROFILES, filesystem_vm_volumes=0) == ([], [])


def test_bandwidth_cap_warns_and_garbage_is_refused():
    errors, warnings = hco.check({"liveMigrationConfig": {"bandwidthPerMigration": "64Mi"}}, CLASSES, PROFILES)
    assert errors == [] and "advises against capping" in warnings[0]
    errors = hco.check({"liveMigrationConfig": {"bandwidthPerMigration": "fast"}}, CLASSES, PROFILES)[0]
    assert errors


def test_spec_patch_sends_only_differences_and_keeps_siblings():
    current = {"spec": {"filesystemOverhead": {"global": "0.08", "storageClass": {"other": "0.1"}},
                        "liveMigrationConfig": {"parallelMigrationsPerCluster": 5, "progressTimeout": 150}}}
    spec = {"filesystemOverhead": {"global": "0.08", "storageClass": {"mine": "0.2"}},
            "liveMigrationConfig": {"parallelMigrationsPerCluster": 5}}
    assert hco.spec_patch(current, spec) == {"spec": {"filesystemOverhead": {"storageClass": {"mine": "0.2"}}}}
    current["spec"]["filesystemOverhead"]["storageClass"]["mine"] = "0.2"
    assert hco.spec_patch(current, spec) == {}


def _hco(generation, observed, **statuses):
    return {"metadata": {"generation": generation},
            "status": {"observedGeneration": observed,
                       "conditions": [{"type": t, "status": s, "message": "m"} for t, s in statuses.items()]}}


def test_settled_needs_all_four_conditions_and_the_current_generation():
    good = dict(Available="True", Progressing="False", Degraded="False", ReconcileComplete="True")
    assert hco.settled(_hco(2, 2, **good))[0]
    assert not hco.settled(_hco(3, 2, **good))[0]
    degraded = dict(good)
    degraded["Degraded"] = "True"
    done, state = hco.settled(_hco(2, 2, **degraded))
    assert not done and state["degraded_message"] == "m"


def test_effect_missing_compares_cdiconfig_status():
    spec = {"scratchSpaceStorageClass": "px-cdi-scratch", "filesystemOverhead": {"global": "0.08", "storageClass": {"gone": "0.1"}}}
    cfg = {"status": {"scratchSpaceStorageClass": "px-cdi-scratch", "filesystemOverhead": {"global": "0.08", "storageClass": {"a": "0.08"}}}}
    assert hco.effect_missing(spec, cfg) == []
    cfg["status"]["scratchSpaceStorageClass"] = "default"
    assert len(hco.effect_missing(spec, cfg)) == 1


def test_filesystem_vm_volumes_counts_datavolume_filesystem_pvcs_only():
    dv_owner = {"ownerReferences": [{"kind": "DataVolume", "name": "d"}]}
    pvcs = [
        {"metadata": dv_owner, "spec": {"volumeMode": "Filesystem"}},
        {"metadata": dv_owner, "spec": {}},
        {"metadata": dv_owner, "spec": {"volumeMode": "Block"}},
        {"metadata": {}, "spec": {"volumeMode": "Filesystem"}},
    ]
    assert hco.filesystem_vm_volumes(pvcs) == 2


@pytest.mark.parametrize("storage_class, words", [
    ({"provisioner": "pxd.portworx.com", "parameters": {"repl": "3"}, "reclaimPolicy": "Delete"}, ["reclaimPolicy Delete"]),
    ({"provisioner": "pxd.portworx.com", "parameters": {"repl": "3"}}, ["reclaimPolicy Delete"]),
    ({"provisioner": "pxd.portworx.com", "parameters": {"repl": "1"}, "reclaimPolicy": "Retain"}, ["repl 1"]),
    ({"provisioner": "pxd.portworx.com", "parameters": {}, "reclaimPolicy": "Retain"}, ["repl 1"]),
    ({"provisioner": "pxd.portworx.com", "parameters": {"repl": "1"}, "reclaimPolicy": "Delete"}, ["repl 1", "reclaimPolicy Delete"]),
])
def test_check_refuses_a_vm_state_class_that_breaks_the_seed_rule(storage_class, words):
    classes = dict(CLASSES, unsafe=storage_class)
    profiles = dict(PROFILES, unsafe=FS_PROFILE)
    errors, warnings = hco.check({"vmStateStorageClass": "unsafe"}, classes, profiles)
    assert len(errors) == 1 and warnings == []
    assert all(word in errors[0] for word in words), errors
    assert "allow_unsafe_vm_state_class" in errors[0]
    errors, warnings = hco.check({"vmStateStorageClass": "unsafe"}, classes, profiles, allow_unsafe_vm_state_class=True)
    assert errors == [] and len(warnings) == 1 and all(word in warnings[0] for word in words)


def test_vm_state_rule_holds_for_the_vm_state_preset():
    assert hco.vm_state_class_problems(VMSTATE_CLASS) == []
    assert hco.vm_state_class_problems({"provisioner": "pxd.portworx.com", "parameters": {"repl": "2"}, "reclaimPolicy": "Retain"}) == []


def test_common_boot_image_import_is_the_spec_field_and_the_gate_is_refused():
    assert hco.wanted_spec({"enable_common_boot_image_import": False}) == {"enableCommonBootImageImport": False}
    errors = hco.check({"featureGates": {"enableCommonBootImageImport": True}}, CLASSES, PROFILES)[0]
    assert len(errors) == 1 and "enable_common_boot_image_import" in errors[0] and "HCO 1.16" in errors[0]
    assert hco.check({"featureGates": {"downwardMetrics": True}}, CLASSES, PROFILES) == ([], [])
