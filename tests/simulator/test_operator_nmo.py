"""The simulated Node Maintenance Operator (simulator/clustersim/operators/nmo.py), over HTTP.

Seeded placement (3 workers, 4 VMs): vm-001 alone on worker-1 (migratable), vm-002 on worker-2
(RWO disk with LiveMigrate: its eviction is refused, so the drain blocks).
"""
import json

import pytest

from operator_helpers import eventually, read, reseed

NM_API = "nodemaintenance.medik8s.io/v1beta1"
WEBHOOK = 'admission webhook "vnodemaintenance.kb.io" denied the request: '


@pytest.fixture(autouse=True)
def fresh(sim, client):
    reseed(sim, client)


def node_maintenances(client):
    return client.resources.get(api_version=NM_API, kind="NodeMaintenance")


def start(client, node_name, name=None):
    return node_maintenances(client).create(body={"metadata": {"name": name or node_name},
                                                  "spec": {"nodeName": node_name, "reason": "test"}}).to_dict()


def status(client, name):
    return (read(client, NM_API, "NodeMaintenance", name) or {}).get("status") or {}


def refusal(call):
    with pytest.raises(Exception) as info:
        call()
    assert info.value.status == 403
    return json.loads(info.value.body)["message"]


def test_webhook_refuses_a_missing_node_a_second_cr_and_a_node_name_change(client):
    assert refusal(lambda: start(client, "ghost")) == WEBHOOK + "invalid nodeName, no node with name ghost found"
    start(client, "worker-1")
    message = refusal(lambda: start(client, "worker-1", name="again"))
    assert message == WEBHOOK + "invalid nodeName, a NodeMaintenance for node worker-1 already exists"
    message = refusal(lambda: node_maintenances(client).patch(name="worker-1", body={"spec": {"nodeName": "worker-0"}},
                                                              content_type="application/merge-patch+json"))
    assert message == WEBHOOK + "updating spec.NodeName isn't allowed"


def taken(client, name):
    """The NodeMaintenance once the operator took it up: it adds its finalizer, writes the first
    status and cordons the node in one pass, asynchronously after the create."""
    def probe():
        nm = read(client, NM_API, "NodeMaintenance", name)
        return nm if nm and "foregroundDeleteNodeMaintenance" in (nm["metadata"].get("finalizers") or []) else None
    return eventually("the operator's finalizer on NodeMaintenance " + name, probe)


def test_maintenance_cordons_taints_and_drains_then_delete_uncordons(client):
    start(client, "worker-1")
    nm = taken(client, "worker-1")
    node = read(client, "v1", "Node", "worker-1")
    assert node["spec"]["unschedulable"] is True
    assert {(t["key"], t["effect"]) for t in node["spec"]["taints"]} >= {
        ("node.kubernetes.io/unschedulable", "NoSchedule"), ("medik8s.io/drain", "NoSchedule")}
    assert nm["status"]["totalpods"] == 1 and nm["status"]["evictionPods"] == 1

    eventually("phase Succeeded", lambda: status(client, "worker-1").get("phase") == "Succeeded")
    final = status(client, "worker-1")
    assert final["drainProgress"] == 100 and final["pendingPods"] == [] and final["lastError"] == ""
    assert read(client, "kubevirt.io/v1", "VirtualMachineInstance", "vm-001", "vms")["status"]["nodeName"] != "worker-1"

    node_maintenances(client).delete(name="worker-1")
    eventually("NodeMaintenance gone", lambda: read(client, NM_API, "NodeMaintenance", "worker-1") is None)
    node = read(client, "v1", "Node", "worker-1")
    assert not node["spec"].get("unschedulable") and not node["spec"].get("taints")


def test_blocked_vm_keeps_the_phase_running_with_last_error(client):
    start(client, "worker-2")
    eventually("lastError", lambda: status(client, "worker-2").get("lastError"))
    blocked = status(client, "worker-2")
    assert blocked["phase"] == "Running" and blocked["drainProgress"] < 100
    assert "not live-migratable" in blocked["lastError"] and blocked["lastError"].startswith('error when evicting pods/"virt-launcher-vm-002')
    assert [p.startswith("virt-launcher-vm-002") for p in blocked["pendingPods"]] == [True]
    assert read(client, "kubevirt.io/v1", "VirtualMachineInstance", "vm-002", "vms")["status"]["nodeName"] == "worker-2"
