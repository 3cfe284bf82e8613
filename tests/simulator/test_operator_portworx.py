"""The simulated Portworx storage nodes (simulator/clustersim/operators/portworx.py), over HTTP."""
import pytest

from clustersim.testing import simulator_fixture
from operator_helpers import condition, eventually, items, read

PX_API = "core.libopenstorage.org/v1"
WORKERS = ["worker-0", "worker-1", "worker-2"]

sim = simulator_fixture(scope="module")


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    yield
    sim.clear_faults()


def phase(client, node_name):
    return read(client, PX_API, "StorageNode", node_name, "portworx")["status"]["phase"]


def cluster_phase(client):
    return read(client, PX_API, "StorageCluster", "px-cluster", "portworx")["status"]["phase"]


def set_unschedulable(client, node_name, value):
    client.resources.get(api_version="v1", kind="Node").patch(
        name=node_name, body={"spec": {"unschedulable": value}}, content_type="application/merge-patch+json")


def test_every_worker_has_an_online_storage_node(client):
    nodes = items(client, PX_API, "StorageNode", "portworx")
    assert sorted(n["metadata"]["name"] for n in nodes) == WORKERS
    assert all(n["status"]["phase"] == "Online" and condition(n, "NodeState")["status"] == "Online" for n in nodes)
    assert cluster_phase(client) == "Online"


def phases_seen(client, kind, name, start, final):
    """Every ``status.phase`` the object took after resourceVersion ``start``, in order, until
    ``final``: a watch replays each change, where polling can miss a short-lived phase."""
    resource = client.resources.get(api_version=PX_API, kind=kind)
    seen = []
    for event in resource.watch(namespace="portworx", field_selector="metadata.name=" + name, resource_version=start,
                                timeout=20):
        value = (event["raw_object"].get("status") or {}).get("phase")
        if not seen or seen[-1] != value:
            seen.append(value)
        if value == final:
            break
    return seen


def test_uncordoned_node_restarts_portworx_before_it_is_online(sim, client):
    set_unschedulable(client, "worker-1", True)
    assert sim.settle()  # the operator has seen the cordon
    assert phase(client, "worker-1") == "Online"  # cordoning alone does not stop Portworx
    start = client.resources.get(api_version=PX_API, kind="StorageNode").get(namespace="portworx").metadata.resourceVersion
    set_unschedulable(client, "worker-1", None)
    assert phases_seen(client, "StorageNode", "worker-1", start, "Online") == ["Initializing", "Online"]
    assert phases_seen(client, "StorageCluster", "px-cluster", start, "Online") == ["Degraded", "Online"]


def test_storage_node_offline_fault_holds_the_node_offline_until_cleared(sim, client):
    sim.add_fault(operator="storage-node-offline", target="worker-2")
    eventually("Offline", lambda: phase(client, "worker-2") == "Offline")
    assert condition(read(client, PX_API, "StorageNode", "worker-2", "portworx"), "NodeState")["status"] == "Offline"
    assert cluster_phase(client) == "Degraded"
    assert phase(client, "worker-1") == "Online"
    sim.clear_faults()
    eventually("Online", lambda: phase(client, "worker-2") == "Online")
    eventually("cluster Online", lambda: cluster_phase(client) == "Online")


def test_fault_polling_survives_a_reset(sim, client):
    sim.reset()  # cancels every queued controller task; the poll must come back
    sim.add_fault(operator="storage-node-offline", target="worker-0")
    eventually("Offline after reset", lambda: phase(client, "worker-0") == "Offline")
