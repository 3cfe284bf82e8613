"""ocpvirt.portworx.hyperconverged against the simulator: HCO round trip visible in CDIConfig."""

import pytest

SIMULATOR_OPTIONS = {"vms": 3, "durations": {"hco_progressing": 0.1}}
HCO_API = "hco.kubevirt.io/v1beta1"
NS, NAME = "openshift-cnv", "kubevirt-hyperconverged"
FAST = {"wait_sleep": 0.2, "wait_timeout": 30}


def task(**options):
    args = dict(FAST)
    args.update(options)
    return {"name": "hco", "ocpvirt.portworx.hyperconverged": args}


def hco(sim):
    return sim.client().resources.get(api_version=HCO_API, kind="HyperConverged").get(name=NAME, namespace=NS).to_dict()


def cdi_config(sim):
    return sim.client().resources.get(api_version="cdi.kubevirt.io/v1beta1", kind="CDIConfig").get(name="config").to_dict()


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    sim.settle()
    make_vm_state_class(sim)


def make_vm_state_class(sim):
    """The vm_state preset of seed 000 (repl 3, Retain, Immediate), sharedv4 so its profile offers Filesystem."""
    sim.client().resources.get(api_version="storage.k8s.io/v1", kind="StorageClass").create(body={
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "vmstate"},
        "provisioner": "pxd.portworx.com", "reclaimPolicy": "Retain", "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": True,
        "parameters": {"repl": "3", "sharedv4": "true", "sharedv4_mount_options": "vers=3.0,nolock"}})
    sim.settle()


def make_block_only_class(sim, name):
    """A Portworx class whose StorageProfile is restricted to RWX Block, as an admin override would."""
    sim.client().resources.get(api_version="storage.k8s.io/v1", kind="StorageClass").create(body={
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
        "provisioner": "pxd.portworx.com", "parameters": {"repl": "3"}})
    sim.settle()
    sim.client().resources.get(api_version="cdi.kubevirt.io/v1beta1", kind="StorageProfile").patch(
        name=name, content_type="application/merge-patch+json",
        body={"spec": {"claimPropertySets": [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}]}})
    sim.settle()


DOCUMENTED = dict(scratch_space_storage_class="px-cdi-scratch", vm_state_storage_class="vmstate",
                  filesystem_overhead={"global": "0.08", "storage_class": {"px-cdi-scratch": "0.1"}},
                  live_migration={"parallel_migrations_per_cluster": 5, "parallel_outbound_migrations_per_node": 2},
                  eviction_strategy="LiveMigrate")


def test_round_trip_reaches_cdiconfig_and_is_idempotent(sim, run_playbook):
    run = run_playbook([task(**DOCUMENTED)], diff=True)
    assert run.ok, run
    result = run.last
    assert result["changed"] is True
    assert result["observed"]["scratch_space_storage_class"] == "px-cdi-scratch"
    assert result["observed"]["filesystem_overhead"]["global"] == "0.08"
    assert result["observed"]["filesystem_overhead"]["storageClass"]["px-cdi-scratch"] == "0.1"
    assert result["diff"]["before"]["scratchSpaceStorageClass"] is None
    assert result["diff"]["after"]["scratchSpaceStorageClass"] == "px-cdi-scratch"
    spec = hco(sim)["spec"]
    assert spec["scratchSpaceStorageClass"] == "px-cdi-scratch"
    assert spec["vmStateStorageClass"] == "vmstate"
    assert spec["evictionStrategy"] == "LiveMigrate"
    # untouched fields keep their values
    assert spec["liveMigrationConfig"]["progressTimeout"] == 150
    status = cdi_config(sim)["status"]
    assert status["scratchSpaceStorageClass"] == "px-cdi-scratch"
    assert status["filesystemOverhead"]["storageClass"]["px-csi-db"] == "0.08"
    conditions = dict((c["type"], c["status"]) for c in result["conditions"])
    assert conditions == {"ReconcileComplete": "True", "Available": "True", "Progressing": "False", "Degraded": "False",
                          "Upgradeable": "True"}

    again = run_playbook([task(**DOCUMENTED)])
    assert again.ok, again
    assert again.changed == 0 and again.writes == 0


def test_check_mode_writes_nothing(sim, run_playbook):
    before = hco(sim)
    run = run_playbook([task(**DOCUMENTED)], check=True, diff=True)
    assert run.ok, run
    assert run.last["changed"] is True
    assert run.writes == 0
    assert hco(sim)["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


@pytest.mark.parametrize("options, words", [
    ({"scratch_space_storage_class": "nope"}, "scratchSpaceStorageClass nope: no such StorageClass"),
    ({"scratch_space_storage_class": "block-only"}, "does not offer Filesystem"),
    ({"vm_state_storage_class": "block-only"}, "neither RWX nor RWO Filesystem"),
    ({"vm_state_storage_class": "missing"}, "vmStateStorageClass missing: no such StorageClass"),
    ({"filesystem_overhead": {"global": "1"}}, "not a decimal string in [0, 1)"),
    ({"filesystem_overhead": {"storage_class": {"px-cdi-scratch": "abc"}}}, "has px-cdi-scratch: 'abc', which is not a decimal string"),
    ({"live_migration": {"bandwidth_per_migration": "fast"}}, "is not a Kubernetes quantity"),
    # px-rwx-file-kubvirt reclaims Delete: VM state would go with its claim (seed 000: repl >= 2, Retain).
    ({"vm_state_storage_class": "px-rwx-file-kubvirt"}, "breaks the VM state rule: reclaimPolicy Delete"),
    ({"feature_gates": {"enableCommonBootImageImport": True}}, "deprecated and ignored since HCO 1.16"),
])
def test_refusals_write_nothing(sim, run_playbook, options, words):
    make_block_only_class(sim, "block-only")
    before = hco(sim)
    run = run_playbook([task(**options)])
    assert not run.ok
    assert run.last["reason"] == "Refused"
    assert words in run.last["msg"]
    assert run.last["msg"].startswith("HyperConverged openshift-cnv/kubevirt-hyperconverged: ")
    assert run.writes == 0
    assert hco(sim)["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


def test_low_overhead_with_filesystem_vm_volumes_and_bandwidth_cap_warn(sim, run_playbook):
    run = run_playbook([task(filesystem_overhead={"global": "0.055"}, live_migration={"bandwidth_per_migration": "64Mi"})])
    assert run.ok, run
    warnings = " ".join(run.last.get("warnings", []))
    assert "below the recommended 0.08" in warnings
    assert "advises against capping" in warnings
    assert hco(sim)["spec"]["liveMigrationConfig"]["bandwidthPerMigration"] == "64Mi"


def test_kubevirt_cr_gets_the_migration_settings(sim, run_playbook):
    run = run_playbook([task(live_migration={"parallel_migrations_per_cluster": 3, "network": "migration-net"},
                             eviction_strategy="LiveMigrateIfPossible")])
    assert run.ok, run
    kv = sim.client().resources.get(api_version="kubevirt.io/v1", kind="KubeVirt").get(
        name="kubevirt-kubevirt-hyperconverged", namespace=NS).to_dict()
    assert kv["spec"]["configuration"]["migrations"]["parallelMigrationsPerCluster"] == 3
    assert kv["spec"]["configuration"]["migrations"]["network"] == "migration-net"
    assert kv["spec"]["configuration"]["evictionStrategy"] == "LiveMigrateIfPossible"


def test_degraded_operator_fails_the_wait_with_its_message(sim, run_playbook):
    sim.add_fault(operator="hco-operand-degraded", target="{0}/{1}".format(NS, NAME), message="importer crashed")
    run = run_playbook([task(filesystem_overhead={"global": "0.09"}, wait_timeout=3)])
    assert not run.ok
    assert run.last["reason"] == "Timeout"
    assert "importer crashed" in run.last["msg"]


@pytest.mark.parametrize("code", [500, 429])
def test_transient_errors_are_retried(sim, run_playbook, code):
    sim.add_fault(verb="patch", resource="hyperconvergeds", code=code, count=1)
    run = run_playbook([task(scratch_space_storage_class="px-cdi-scratch")])
    assert run.ok, run
    assert run.last["retries"] >= 1
    assert hco(sim)["spec"]["scratchSpaceStorageClass"] == "px-cdi-scratch"


def test_missing_cr_is_a_clear_failure(sim, run_playbook):
    run = run_playbook([task(name="other", scratch_space_storage_class="px-cdi-scratch")])
    assert not run.ok
    assert run.last["status"] == 404
    assert "HyperConverged openshift-cnv/other not found" in run.last["msg"]


def test_unsafe_vm_state_class_is_accepted_only_with_the_override(sim, run_playbook):
    run = run_playbook([task(vm_state_storage_class="px-rwx-file-kubvirt", allow_unsafe_vm_state_class=True)])
    assert run.ok, run
    assert "breaks the VM state rule" in " ".join(run.last.get("warnings", []))
    assert hco(sim)["spec"]["vmStateStorageClass"] == "px-rwx-file-kubvirt"


def test_common_boot_image_import_is_a_spec_field_not_a_feature_gate(sim, run_playbook):
    run = run_playbook([task(enable_common_boot_image_import=False)])
    assert run.ok, run
    spec = hco(sim)["spec"]
    assert spec["enableCommonBootImageImport"] is False
    assert "enableCommonBootImageImport" not in (spec.get("featureGates") or {})
