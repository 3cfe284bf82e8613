"""ocpvirt.portworx.portworx_upgrade against the simulator's Portworx operator: node by node, VMs migrated first."""

import time

import pytest

SIMULATOR_OPTIONS = {"vms": 4, "durations": {"portworx_update_step": 0.1, "portworx_update_restart": 0.2,
                                             "migration_step": 0.03, "migration_transfer_per_gib": 0.03}}
PX_API = "core.libopenstorage.org/v1"
NEW_IMAGE = "portworx/oci-monitor:3.6.1"
FAST = {"wait_sleep": 0.2, "wait_timeout": 60}
NOT_MIGRATABLE = "vms/vm-002"  # seeded with an RWO Filesystem disk


def upgrade_task(**options):
    args = dict(FAST, image=NEW_IMAGE)
    args.update(options)
    return {"name": "upgrade", "ocpvirt.portworx.portworx_upgrade": args}


def resource(sim, api_version, kind):
    return sim.client().resources.get(api_version=api_version, kind=kind)


def storage_cluster(sim):
    return resource(sim, PX_API, "StorageCluster").get(name="px-cluster", namespace="portworx").to_dict()


def node_versions(sim):
    return sorted((n["metadata"]["name"], n["spec"]["version"]) for n in
                  resource(sim, PX_API, "StorageNode").get(namespace="portworx").to_dict()["items"])


def patch_cluster(sim, body):
    resource(sim, PX_API, "StorageCluster").patch(name="px-cluster", namespace="portworx", body=body,
                                                   content_type="application/merge-patch+json")


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    sim.settle()
    deadline = time.monotonic() + 15
    while len([v for v in resource(sim, "kubevirt.io/v1", "VirtualMachineInstance").get(namespace="vms").to_dict()["items"]
               if v.get("status", {}).get("phase") == "Running"]) < 4:
        assert time.monotonic() < deadline, "VMIs did not start"
        time.sleep(0.1)
    yield
    sim.clear_faults()


def test_upgrade_completes_node_by_node_through_the_role(sim, run_playbook):
    run = run_playbook([{"name": "upgrade", "ansible.builtin.include_role": {"name": "ocpvirt.portworx.portworx_upgrade"},
                         "vars": {"portworx_upgrade_image": NEW_IMAGE, "portworx_upgrade_allow_restart_vms": [NOT_MIGRATABLE],
                                  "portworx_upgrade_wait_timeout": 60, "portworx_upgrade_wait_sleep": 0.2}}])
    assert run.ok, run
    result = [r for r in run.results if "update_order" in r][0]
    summary = [r for r in run.results if "portworx_upgrade_summary" in r.get("ansible_facts", {})][0]["ansible_facts"]
    assert summary["portworx_upgrade_summary"]["to_version"] == "3.6.1"
    assert result["changed"] is True
    assert result["from_version"] == "3.6.0" and result["to_version"] == "3.6.1"
    assert sorted(result["update_order"]) == ["worker-0", "worker-1", "worker-2"]
    assert result["pauses"] and all("KubeVirt VMs running on the node" in p["message"] for p in result["pauses"])
    assert result["failed_evictions"] == []
    assert node_versions(sim) == [("worker-0", "3.6.1"), ("worker-1", "3.6.1"), ("worker-2", "3.6.1")]
    cluster = storage_cluster(sim)
    assert cluster["spec"]["image"] == NEW_IMAGE and cluster["status"]["version"] == "3.6.1"
    assert "operator.libopenstorage.org/evict-vms-during-update" not in (cluster["metadata"].get("annotations") or {})

    again = run_playbook([upgrade_task(allow_restart_vms=[NOT_MIGRATABLE])])
    assert again.ok and again.changed == 0 and again.writes == 0, again


def test_upgrade_pauses_on_a_vm_that_cannot_migrate_and_reports_it(sim, run_playbook):
    sim.add_fault(operator="migration-fail", target="vms/vm-000", count=1)
    run = run_playbook([upgrade_task(allow_restart_vms=[NOT_MIGRATABLE])])
    assert not run.ok, run
    result = run.last
    assert result["reason"] == "FailedToEvictVM"
    assert "vms/vm-000" in result["msg"] and "simulated operator fault" in result["msg"]
    failure = result["failed_evictions"][0]
    assert failure["vm"] == "vms/vm-000" and failure["migration"].startswith("vm-000-")
    assert failure["reason"] == "Live migration failed: simulated operator fault"
    assert failure["node"] in ("worker-0", "worker-1", "worker-2")
    assert dict(node_versions(sim))[failure["node"]] == "3.6.0"

    # the operator never retries; the module does when asked, and the update goes on
    retried = run_playbook([upgrade_task(allow_restart_vms=[NOT_MIGRATABLE], on_failed_eviction="retry")])
    assert retried.ok, retried
    assert retried.last["changed"] is False  # the image was set by the first run
    assert [r["vm"] for r in retried.last["retried_migrations"]] == ["vms/vm-000"]
    assert retried.last["retried_migrations"][0]["phase"] == "Succeeded"
    assert [v for dummy, v in node_versions(sim)] == ["3.6.1"] * 3


def test_check_mode_writes_nothing(sim, run_playbook):
    run = run_playbook([upgrade_task(allow_restart_vms=[NOT_MIGRATABLE])], check=True)
    assert run.ok, run
    assert run.last["changed"] is True and run.writes == 0
    assert storage_cluster(sim)["spec"]["image"] == "portworx/oci-monitor:3.6.0"


@pytest.mark.parametrize("setup, options, words", [
    (None, {}, ["vms/vm-002", "cannot live-migrate", "allow_restart_vms"]),
    ({"spec": {"updateStrategy": {"rollingUpdate": {"maxUnavailable": 2}}}}, {"allow_restart_vms": [NOT_MIGRATABLE]},
     ["maxUnavailable is 2", "Set spec.updateStrategy.rollingUpdate.maxUnavailable to 1"]),
    ({"metadata": {"annotations": {"operator.libopenstorage.org/evict-vms-during-update": "false"}}},
     {"allow_restart_vms": [NOT_MIGRATABLE]}, ["evict-vms-during-update", "accept_vm_downtime"]),
    (None, {"image": "portworx/oci-monitor:3.4.0", "allow_restart_vms": [NOT_MIGRATABLE]}, ["older than the running 3.6.0"]),
    (None, {"image": "portworx/oci-monitor", "allow_restart_vms": [NOT_MIGRATABLE]}, ["no version tag"]),
])
def test_bad_input_is_refused_before_any_write(sim, run_playbook, setup, options, words):
    if setup:
        patch_cluster(sim, setup)
    run = run_playbook([upgrade_task(**options)])
    assert not run.ok, run
    assert run.writes == 0
    for word in words:
        assert word in run.last["msg"], run.last["msg"]
    assert storage_cluster(sim)["spec"]["image"] == "portworx/oci-monitor:3.6.0"


def test_accepting_vm_downtime_is_the_only_way_to_turn_eviction_off(sim, run_playbook):
    run = run_playbook([upgrade_task(accept_vm_downtime=True)])
    assert run.ok, run
    annotations = storage_cluster(sim)["metadata"].get("annotations") or {}
    assert annotations["operator.libopenstorage.org/evict-vms-during-update"] == "false"
    assert run.last["pauses"] == []
