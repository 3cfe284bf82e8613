"""node_maintenance through ansible-playbook against the simulator.

Seeded placement (3 workers, 4 VMs): vm-000 and vm-003 on worker-0, vm-001 on worker-1, vm-002 on
worker-2. vm-002 has an RWO disk (LiveMigrate but not migratable: it blocks a drain) and vm-003 has
``evictionStrategy: None`` (it would be shut down). Every test starts from a freshly seeded cluster,
so tests do not depend on each other's order or on which xdist worker runs them.
"""

import pytest
from clustersim.testing import eventually

SIMULATOR_OPTIONS = {"workers": 3, "vms": 4}
WAIT = {"wait_sleep": 0.2, "wait_timeout": 30}
NMO_CSV = ("node-maintenance-operator.v5.4.1", "openshift-workload-availability")


def task(**args):
    params = dict(WAIT)
    params.update(args)
    return {"name": "maintenance", "ocpvirt.portworx.node_maintenance": params}


def api(sim, api_version, kind):
    return sim.client().resources.get(api_version=api_version, kind=kind)


def node(sim, name):
    return api(sim, "v1", "Node").get(name=name).to_dict()


def storage_node_phase(sim, name):
    storage_node = api(sim, "core.libopenstorage.org/v1", "StorageNode").get(name=name, namespace="portworx").to_dict()
    return (storage_node.get("status") or {}).get("phase")


def vmis(sim):
    return api(sim, "kubevirt.io/v1", "VirtualMachineInstance").get(namespace="vms").to_dict()["items"]


def vmi_nodes(sim):
    def probe():
        items = vmis(sim)
        if len(items) == 4 and all(i.get("status", {}).get("nodeName") for i in items):
            return dict((i["metadata"]["name"], i["status"]["nodeName"]) for i in items)
        return None

    return eventually("4 running VMIs", probe)


def migrations_finished(sim):
    """Wait until no VirtualMachineInstanceMigration is in flight.  A run that gives up leaves its last
    migration going (KubeVirt carries it on); the tests let it fail under the armed fault, so the
    re-run, not a leftover migration, is what moves the VM."""
    def probe():
        items = api(sim, "kubevirt.io/v1", "VirtualMachineInstanceMigration").get(namespace="vms").to_dict()["items"]
        phases = [(m.get("status") or {}).get("phase") for m in items]
        return all(phase in ("Succeeded", "Failed") for phase in phases) or None

    eventually("every migration finished", probe)


@pytest.fixture(autouse=True)
def fresh_cluster(sim):
    sim.reset()
    assert vmi_nodes(sim) == {"vm-000": "worker-0", "vm-001": "worker-1", "vm-002": "worker-2", "vm-003": "worker-0"}
    yield
    sim.clear_faults()


def uninstall_nmo(sim):
    """The Node Maintenance Operator is not installed once its ClusterServiceVersion is gone."""
    api(sim, "operators.coreos.com/v1alpha1", "ClusterServiceVersion").delete(name=NMO_CSV[0], namespace=NMO_CSV[1])


def bare_pod(sim, name, node_name):
    pods = api(sim, "v1", "Pod")
    pods.create(namespace="default", body={"metadata": {"name": name},
                                           "spec": {"nodeName": node_name, "containers": [{"name": "c", "image": "busybox"}]}})
    pods.status.patch(namespace="default", name=name, body={"status": {"phase": "Running"}},
                      content_type="application/merge-patch+json")


def pod_names_on(sim, node_name, finished=False):
    """Pods on the node that still run or wait; with ``finished``, only those in phase Succeeded or Failed."""
    return [p["metadata"]["name"] for p in api(sim, "v1", "Pod").get().to_dict()["items"]
            if p["spec"].get("nodeName") == node_name
            and (p.get("status", {}).get("phase") in ("Succeeded", "Failed")) == finished]


WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")


def writes_besides_the_lock(sim):
    """Writes of the last run other than to the campaign lock Lease (taken and released on every run)."""
    entries = sim.requests(entries=True)["entries"]
    return [e for e in entries if e["verb"] in WRITE_VERBS and not e["dry_run"] and e["resource"] != "coordination.k8s.io/leases"]


def assert_idempotent(sim, run_playbook, tasks):
    again = run_playbook(tasks)
    assert again.ok and again.changed == 0 and not writes_besides_the_lock(sim), again


# --- the Node Maintenance Operator method ---------------------------------------------------

def test_check_mode_then_maintenance_in_and_out_with_nmo(sim, run_playbook):
    check = run_playbook([task(node="worker-1")], check=True)
    assert check.ok and check.writes == 0, check
    assert not node(sim, "worker-1")["spec"].get("unschedulable")

    run = run_playbook([task(node="worker-1", reason="BIOS")])
    assert run.ok and run.changed == 1, run
    assert run.last["method"] == "node_maintenance"
    assert run.last["vms_migrated"][0]["vm"] == "vm-001" and run.last["vms_migrated"][0]["from"] == "worker-1"
    assert node(sim, "worker-1")["spec"]["unschedulable"] is True
    assert vmi_nodes(sim)["vm-001"] != "worker-1"
    assert_idempotent(sim, run_playbook, [task(node="worker-1", reason="BIOS")])

    second = run_playbook([task(node="worker-2")])
    assert not second.ok and not writes_besides_the_lock(sim) and "max_unavailable" in second.last["msg"], second

    check_out = run_playbook([task(node="worker-1", state="absent")], check=True)
    assert check_out.ok and check_out.writes == 0, check_out
    out = run_playbook([task(node="worker-1", state="absent")])
    assert out.ok and out.changed == 1, out
    assert not node(sim, "worker-1")["spec"].get("unschedulable")
    assert out.last["storage_node_phase"] == "Online"
    assert_idempotent(sim, run_playbook, [task(node="worker-1", state="absent")])


def test_blocking_vm_is_refused_and_overridden_run_times_out_cordoned(sim, run_playbook):
    refused = run_playbook([task(node="worker-2")])
    assert not refused.ok and not writes_besides_the_lock(sim) and "DisksNotLiveMigratable" in refused.last["msg"], refused
    assert "allow_drain_blockers" in refused.last["msg"]
    forced = run_playbook([task(node="worker-2", allow_drain_blockers=True, wait_timeout=3)])
    assert not forced.ok and "stays cordoned" in forced.last["msg"] and forced.last["cordoned"] is True, forced
    assert forced.last["overrides_used"] == ["allow_drain_blockers"]
    assert "not live-migratable" in (forced.last.get("last_error") or "")
    out = run_playbook([task(node="worker-2", state="absent")])
    assert out.ok, out


# --- the drain method -----------------------------------------------------------------------

def test_auto_without_nmo_cordons_migrates_and_evicts(sim, run_playbook):
    uninstall_nmo(sim)
    bare_pod(sim, "batch-job", "worker-1")
    check = run_playbook([task(node="worker-1")], check=True)
    assert check.ok and check.writes == 0 and check.last["method"] == "drain", check
    assert "batch-job" in pod_names_on(sim, "worker-1")

    run = run_playbook([task(node="worker-1")])
    assert run.ok and run.changed == 1, run
    assert run.last["method"] == "drain" and "node_maintenance" not in run.last
    moved = run.last["vms_migrated"]
    assert [(m["vm"], m["from"]) for m in moved] == [("vm-001", "worker-1")] and moved[0]["to"] != "worker-1", run.last
    assert run.last["pods_evicted"] == ["default/batch-job"]
    assert node(sim, "worker-1")["spec"]["unschedulable"] is True
    assert pod_names_on(sim, "worker-1") == []
    assert vmi_nodes(sim)["vm-001"] == moved[0]["to"]
    migrations = api(sim, "kubevirt.io/v1", "VirtualMachineInstanceMigration").get(namespace="vms").to_dict()["items"]
    assert [(m["spec"]["vmiName"], m["status"]["phase"]) for m in migrations] == [("vm-001", "Succeeded")]
    assert api(sim, "nodemaintenance.medik8s.io/v1beta1", "NodeMaintenance").get().to_dict()["items"] == []
    assert_idempotent(sim, run_playbook, [task(node="worker-1")])

    out = run_playbook([task(node="worker-1", state="absent", method="drain")])
    assert out.ok and out.changed == 1 and out.last["cordoned"] is False, out
    assert not node(sim, "worker-1")["spec"].get("unschedulable")
    assert out.last["storage_node_phase"] == "Online"
    assert_idempotent(sim, run_playbook, [task(node="worker-1", state="absent", method="drain")])


def test_explicit_drain_method_with_nmo_installed(sim, run_playbook):
    run = run_playbook([task(node="worker-1", method="drain")])
    assert run.ok and run.last["method"] == "drain", run
    assert api(sim, "nodemaintenance.medik8s.io/v1beta1", "NodeMaintenance").get().to_dict()["items"] == []
    assert vmi_nodes(sim)["vm-001"] != "worker-1"
    assert_idempotent(sim, run_playbook, [task(node="worker-1", method="drain")])
    assert run_playbook([task(node="worker-1", state="absent", method="drain")]).ok


def test_node_maintenance_method_refused_without_nmo(sim, run_playbook):
    uninstall_nmo(sim)
    run = run_playbook([task(node="worker-1", method="node_maintenance")])
    assert not run.ok and not writes_besides_the_lock(sim) and run.last["reason"] == "NotInstalled", run


# --- refusals and interruptions -------------------------------------------------------------

def test_other_portworx_node_offline_is_refused_before_any_write(sim, run_playbook):
    sim.add_fault(operator="storage-node-offline", target="worker-2")
    eventually("StorageNode worker-2 Offline", lambda: storage_node_phase(sim, "worker-2") == "Offline")
    run = run_playbook([task(node="worker-1")])
    assert not run.ok and not writes_besides_the_lock(sim) and run.last["reason"] == "Refused", run
    assert "StorageNode portworx/worker-2" in run.last["msg"] and "Offline" in run.last["msg"]
    assert not node(sim, "worker-1")["spec"].get("unschedulable")
    assert vmi_nodes(sim)["vm-001"] == "worker-1"


def cordon_by_hand(sim, name, unschedulable=True):
    api(sim, "v1", "Node").patch(name=name, body={"spec": {"unschedulable": True if unschedulable else None}},
                                 content_type="application/merge-patch+json")


@pytest.mark.parametrize("method", ["node_maintenance", "drain"])
def test_hand_cordoned_node_with_a_blocking_vm_is_refused_without_force(sim, run_playbook, method):
    cordon_by_hand(sim, "worker-2")
    sim.reset_requests()
    run = run_playbook([task(node="worker-2", method=method)])
    assert not run.ok and not writes_besides_the_lock(sim) and run.last["reason"] == "Refused", run
    assert "vms/vm-002: would block the drain" in run.last["msg"]
    assert api(sim, "nodemaintenance.medik8s.io/v1beta1", "NodeMaintenance").get().to_dict()["items"] == []
    assert vmi_nodes(sim)["vm-002"] == "worker-2"


def test_hand_cordoned_other_node_is_refused_on_a_cordoned_node(sim, run_playbook):
    cordon_by_hand(sim, "worker-0")
    cordon_by_hand(sim, "worker-1")
    run = run_playbook([task(node="worker-1")])
    assert not run.ok and not writes_besides_the_lock(sim) and "max_unavailable" in run.last["msg"], run


def memory_hog(sim, name, node_name, memory):
    pods = api(sim, "v1", "Pod")
    pods.create(namespace="default", body={"metadata": {"name": name}, "spec": {
        "nodeName": node_name,
        "containers": [{"name": "c", "image": "busybox", "resources": {"requests": {"memory": memory}}}]}})
    pods.status.patch(namespace="default", name=name, body={"status": {"phase": "Running"}},
                      content_type="application/merge-patch+json")


@pytest.mark.parametrize("method", ["node_maintenance", "drain"])
def test_no_memory_left_on_the_other_workers_is_refused_before_any_write(sim, run_playbook, method):
    # worker-0 and worker-2 have 510.5Gi allocatable; these pods leave each far less than vm-001's 4Gi.
    memory_hog(sim, "hog-0", "worker-0", "510Gi")
    memory_hog(sim, "hog-2", "worker-2", "510Gi")
    run = run_playbook([task(node="worker-1", method=method)])
    assert not run.ok and not writes_besides_the_lock(sim) and run.last["reason"] == "Refused", run
    assert "lack memory or CPU for VM(s) vms/vm-001" in run.last["msg"], run.last["msg"]
    memory = [f for f in run.last["findings"] if f.get("vms")]
    assert memory and memory[0]["severity"] == "refusal" and memory[0]["vms"] == ["vms/vm-001"], run.last["findings"]
    assert not node(sim, "worker-1")["spec"].get("unschedulable")
    assert vmi_nodes(sim)["vm-001"] == "worker-1"


def test_check_mode_reports_the_real_cordon_state(sim, run_playbook):
    uninstall_nmo(sim)
    check_in = run_playbook([task(node="worker-1")], check=True)
    assert check_in.ok and check_in.writes == 0 and check_in.last["cordoned"] is False, check_in
    assert run_playbook([task(node="worker-1")]).ok
    check_out = run_playbook([task(node="worker-1", state="absent")], check=True, diff=True)
    assert check_out.ok and check_out.changed == 1 and check_out.writes == 0, check_out
    assert check_out.last["cordoned"] is True, check_out.last
    assert check_out.last["diff"]["after"]["unschedulable"] is False
    assert node(sim, "worker-1")["spec"]["unschedulable"] is True


def test_interrupted_drain_is_continued_by_a_rerun(sim, run_playbook):
    uninstall_nmo(sim)
    # Every migration of vm-001 fails while the fault is armed.
    sim.add_fault(operator="migration-fail", target="vms/vm-001", count=1000)
    first = run_playbook([task(node="worker-1", wait_timeout=3, migration_attempts=1000)])
    assert not first.ok and first.last["reason"] == "Timeout", first
    assert "stays cordoned" in first.last["msg"] and first.last["cordoned"] is True
    assert node(sim, "worker-1")["spec"]["unschedulable"] is True
    assert vmi_nodes(sim)["vm-001"] == "worker-1"

    migrations_finished(sim)
    sim.clear_faults()
    rerun = run_playbook([task(node="worker-1")])
    assert rerun.ok and rerun.changed == 1, rerun
    assert [m["vm"] for m in rerun.last["vms_migrated"]] == ["vm-001"]
    assert vmi_nodes(sim)["vm-001"] != "worker-1"
    assert_idempotent(sim, run_playbook, [task(node="worker-1")])


def test_interrupted_node_maintenance_is_continued_by_a_rerun(sim, run_playbook):
    sim.add_fault(operator="migration-fail", target="vms/vm-001", count=1000)
    first = run_playbook([task(node="worker-1", wait_timeout=3)])
    assert not first.ok and "stays cordoned" in first.last["msg"], first
    sim.clear_faults()
    rerun = run_playbook([task(node="worker-1")])
    assert rerun.ok and rerun.last["node_maintenance"] == first.last["node_maintenance"], rerun
    assert vmi_nodes(sim)["vm-001"] != "worker-1"
    assert_idempotent(sim, run_playbook, [task(node="worker-1")])


def test_transient_api_errors_are_retried(sim, run_playbook):
    uninstall_nmo(sim)
    sim.add_fault(verb="list", resource="virtualmachineinstances", code=500, count=1)
    sim.add_fault(verb="patch", resource="nodes", code=429, count=1)
    run = run_playbook([task(node="worker-1")])
    assert run.ok and run.changed == 1 and run.last["retries"] >= 2, run
    assert node(sim, "worker-1")["spec"]["unschedulable"] is True
    sim.add_fault(verb="patch", resource="nodes", code=503, count=1)
    out = run_playbook([task(node="worker-1", state="absent")])
    assert out.ok and out.last["retries"] >= 1, out
    assert not node(sim, "worker-1")["spec"].get("unschedulable")


# --- a VM without an eviction strategy ------------------------------------------------------

@pytest.mark.parametrize("method", ["node_maintenance", "drain"])
def test_vm_without_eviction_strategy_is_shut_down_only_with_its_override(sim, run_playbook, method):
    refused = run_playbook([task(node="worker-0", method=method)])
    assert not refused.ok and not writes_besides_the_lock(sim), refused
    assert "vms/vm-003: would be shut down" in refused.last["msg"]
    plan = dict((entry["vm"], entry["outcome"]) for entry in refused.last["vms"])
    assert plan == {"vm-000": "migrate", "vm-003": "shut down"}
    assert vmi_nodes(sim)["vm-003"] == "worker-0"

    forced = run_playbook([task(node="worker-0", method=method, allow_vm_shutdown=True)])
    assert forced.ok and forced.changed == 1 and forced.last["overrides_used"] == ["allow_vm_shutdown"], forced
    assert forced.last["vms_stopped"] == ["vms/vm-003"], forced.last
    assert [m["vm"] for m in forced.last["vms_migrated"]] == ["vm-000"]
    assert "worker-0" not in vmi_nodes(sim).values()  # vm-003 (runStrategy Always) restarted elsewhere
    assert_idempotent(sim, run_playbook, [task(node="worker-0", method=method, allow_vm_shutdown=True)])



# --- real-cluster behaviour (correctness issue) ------------------------------------------------

def test_leaving_with_method_node_maintenance_works_without_the_operator(sim, run_playbook):
    # state=absent ends whatever maintenance is in place; it must not need NMO to resolve a method.
    uninstall_nmo(sim)
    cordon_by_hand(sim, "worker-1")
    out = run_playbook([task(node="worker-1", state="absent", method="node_maintenance", adopt=True)])
    assert out.ok and out.last["method"] == "drain" and out.last["cordoned"] is False, out
    assert out.last["adopted"] == ["Node worker-1"], out.last
    assert not node(sim, "worker-1")["spec"].get("unschedulable")


def test_a_pod_held_by_a_disruption_budget_is_named(sim, run_playbook):
    uninstall_nmo(sim)
    pods = api(sim, "v1", "Pod")
    pods.create(namespace="default", body={"metadata": {"name": "db-0", "labels": {"app": "db"}}, "spec": {
        "nodeName": "worker-1", "containers": [{"name": "c", "image": "busybox"}]}})
    pods.status.patch(namespace="default", name="db-0", body={"status": {"phase": "Running"}},
                      content_type="application/merge-patch+json")
    budgets = api(sim, "policy/v1", "PodDisruptionBudget")
    budgets.create(namespace="default", body={"metadata": {"name": "db-pdb"}, "spec": {"minAvailable": 1,
                                                                                     "selector": {"matchLabels": {"app": "db"}}}})
    # What kube-controller-manager's disruption controller writes for one healthy pod and minAvailable 1.
    budgets.status.patch(namespace="default", name="db-pdb", content_type="application/merge-patch+json",
                         body={"status": {"disruptionsAllowed": 0, "currentHealthy": 1, "desiredHealthy": 1, "expectedPods": 1}})
    run = run_playbook([task(node="worker-1", wait_timeout=3)])
    assert not run.ok and run.last["reason"] == "Timeout", run
    named = [f for f in run.last["findings"] if f["subject"] == "Pod default/db-0"]
    assert named and named[0]["budgets"] == ["db-pdb"] and named[0]["severity"] == "warning"
    assert "db-pdb" in run.last["blocked_pods"]["default/db-0"], run.last["blocked_pods"]
    assert any("db-pdb" in w for w in run.last.get("warnings", []))



def set_eviction_strategy(sim, vmi_name, strategy):
    api(sim, "kubevirt.io/v1", "VirtualMachineInstance").patch(
        namespace="vms", name=vmi_name, body={"spec": {"evictionStrategy": strategy}}, content_type="application/merge-patch+json")


def vmi(sim, name):
    return api(sim, "kubevirt.io/v1", "VirtualMachineInstance").get(namespace="vms", name=name).to_dict()


def migrations_of(sim, vmi_name):
    items = api(sim, "kubevirt.io/v1", "VirtualMachineInstanceMigration").get(namespace="vms").to_dict()["items"]
    return [m["metadata"]["name"] for m in items if m["spec"].get("vmiName") == vmi_name]


@pytest.mark.parametrize("method", ["drain", "node_maintenance"])
def test_external_vm_is_left_to_its_external_controller(sim, run_playbook, method):
    # Upstream KubeVirt: eviction of an External VMI's launcher pod is refused, status.evacuationNodeName is set, and
    # no migration is created; an external controller moves the VM. Without one the run times out, cordoned.
    set_eviction_strategy(sim, "vm-001", "External")
    run = run_playbook([task(node="worker-1", method=method, wait_timeout=4)])
    assert not run.ok and run.last["reason"] == "Timeout", run
    external = [f for f in run.last["findings"] if f["subject"] == "VirtualMachineInstance vms/vm-001"]
    assert external[0]["severity"] == "warning" and "External" in external[0]["rule"]
    assert [v for v in run.last["vms"] if v["vm"] == "vm-001"][0]["outcome"] == "external"
    assert migrations_of(sim, "vm-001") == []
    assert vmi(sim, "vm-001")["status"].get("evacuationNodeName") == "worker-1"
    assert vmi_nodes(sim)["vm-001"] == "worker-1"


def test_source_launcher_left_succeeded_after_migration_does_not_hold_the_drain(sim, run_playbook):
    # After a live migration KubeVirt leaves the source virt-launcher pod on the node in phase Succeeded.
    uninstall_nmo(sim)
    run = run_playbook([task(node="worker-1")])
    assert run.ok, run
    assert [m["vm"] for m in run.last["vms_migrated"]] == ["vm-001"]
    assert pod_names_on(sim, "worker-1") == []
    finished = pod_names_on(sim, "worker-1", finished=True)
    assert any(name.startswith("virt-launcher-vm-001") for name in finished), finished
    assert not any(p.startswith("vms/virt-launcher") for p in run.last["pods_evicted"]), run.last["pods_evicted"]
    assert_idempotent(sim, run_playbook, [task(node="worker-1")])
