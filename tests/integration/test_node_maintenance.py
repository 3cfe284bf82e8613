"""node_maintenance through ansible-playbook against the simulator."""

import time

SIMULATOR_OPTIONS = {"workers": 3, "vms": 4}
WAIT = {"wait_sleep": 0.2, "wait_timeout": 30}


def task(**args):
    params = dict(WAIT)
    params.update(args)
    return {"name": "maintenance", "ocpvirt.portworx.node_maintenance": params}


def node(sim, name):
    return sim.client().resources.get(api_version="v1", kind="Node").get(name=name).to_dict()


def vmi_nodes(sim):
    deadline = time.time() + 10
    while time.time() < deadline:
        items = sim.client().resources.get(api_version="kubevirt.io/v1", kind="VirtualMachineInstance").get(namespace="vms").to_dict()["items"]
        if len(items) == 4:
            return dict((i["metadata"]["name"], i["status"]["nodeName"]) for i in items)
        time.sleep(0.1)
    raise AssertionError("VMIs did not start")


def test_check_mode_then_maintenance_in_and_out_with_nmo(sim, run_playbook):
    assert vmi_nodes(sim)["vm-001"] == "worker-1"
    check = run_playbook([task(node="worker-1")], check=True)
    assert check.ok and check.writes == 0, check
    assert not node(sim, "worker-1")["spec"].get("unschedulable")

    run = run_playbook([task(node="worker-1", reason="BIOS")])
    assert run.ok and run.changed == 1, run
    assert run.last["method"] == "node_maintenance"
    assert run.last["vms_migrated"][0]["vm"] == "vm-001" and run.last["vms_migrated"][0]["from"] == "worker-1"
    assert node(sim, "worker-1")["spec"]["unschedulable"] is True
    assert vmi_nodes(sim)["vm-001"] != "worker-1"
    again = run_playbook([task(node="worker-1", reason="BIOS")])
    assert again.ok and again.changed == 0 and again.writes == 0, again

    second = run_playbook([task(node="worker-0")])
    assert not second.ok and second.writes == 0 and "max_unavailable" in second.last["msg"], second

    out = run_playbook([task(node="worker-1", state="absent")])
    assert out.ok and out.changed == 1, out
    assert not node(sim, "worker-1")["spec"].get("unschedulable")
    assert out.last["storage_node_phase"] == "Online"
    again = run_playbook([task(node="worker-1", state="absent")])
    assert again.ok and again.changed == 0 and again.writes == 0, again


def test_blocking_vm_is_refused_and_forced_run_times_out_cordoned(sim, run_playbook):
    refused = run_playbook([task(node="worker-2")])
    assert not refused.ok and refused.writes == 0 and "DisksNotLiveMigratable" in refused.last["msg"], refused
    forced = run_playbook([task(node="worker-2", force=True, wait_timeout=3)])
    assert not forced.ok and "stays cordoned" in forced.last["msg"] and forced.last["cordoned"] is True, forced
    assert "not live-migratable" in (forced.last.get("last_error") or "")
    out = run_playbook([task(node="worker-2", state="absent")])
    assert out.ok, out
