"""The Portworx operator's rolling update of a new image (operators/portworx.py PortworxRollout), over HTTP."""
import pytest

from clustersim.testing import simulator_fixture
from operator_helpers import condition, eventually, items, read

PX_API = "core.libopenstorage.org/v1"
NS = "portworx"

sim = simulator_fixture(scope="module", vms=4, durations={"portworx_update_step": 0.05, "portworx_update_restart": 0.1,
                                                          "migration_step": 0.02, "migration_transfer_per_gib": 0.02})


@pytest.fixture(autouse=True)
def fresh(sim, client):
    sim.reset()
    eventually("4 VMIs run", lambda: len([v for v in items(client, "kubevirt.io/v1", "VirtualMachineInstance", "vms")
                                          if v.get("status", {}).get("phase") == "Running"]) == 4)
    yield
    sim.clear_faults()


def set_image(client, image, annotations=None):
    body = {"spec": {"image": image}}
    if annotations:
        body["metadata"] = {"annotations": annotations}
    client.resources.get(api_version=PX_API, kind="StorageCluster").patch(
        name="px-cluster", namespace=NS, body=body, content_type="application/merge-patch+json")


def versions(client):
    return {n["metadata"]["name"]: (n["spec"].get("version"), n["status"]["phase"]) for n in items(client, PX_API, "StorageNode", NS)}


def events(client, reason):
    return [e for e in items(client, "v1", "Event", NS) if e["reason"] == reason]


def most_nodes_down_until(client, wanted, change):
    """The most StorageNodes not Online at once from ``change()`` until every node is ``wanted``
    (version, phase), from a watch: it replays every change, where polling can miss a restart."""
    nodes = client.resources.get(api_version=PX_API, kind="StorageNode")
    listed = nodes.get(namespace=NS).to_dict()
    state = {n["metadata"]["name"]: (n["spec"].get("version"), n["status"]["phase"]) for n in listed["items"]}
    change()
    most = 0
    for event in nodes.watch(namespace=NS, resource_version=listed["metadata"]["resourceVersion"], timeout=60):
        node = event["raw_object"]
        state[node["metadata"]["name"]] = (node["spec"].get("version"), (node.get("status") or {}).get("phase"))
        most = max(most, sum(1 for version_phase in state.values() if version_phase[1] != "Online"))
        if all(version_phase == wanted for version_phase in state.values()):
            return most
    raise AssertionError("timed out waiting for every StorageNode to be {0}: {1}".format(wanted, state))


def test_rollout_updates_one_node_at_a_time_after_migrating_its_vms(client):
    most = most_nodes_down_until(client, ("3.6.1", "Online"), lambda: set_image(client, "portworx/oci-monitor:3.6.1"))
    assert most == 1
    # the operator reports the update at its next step after the last node is back
    cluster = eventually("the update completed", lambda: (lambda found: found if condition(found, "Update").get(
        "status") == "Completed" else None)(read(client, PX_API, "StorageCluster", "px-cluster", NS)))
    assert cluster["status"]["version"] == "3.6.1"
    paused = events(client, "UpdatePaused")
    assert paused and all("KubeVirt VMs running on the node" in e["message"] for e in paused)
    assert all(e["involvedObject"]["kind"] == "StorageNode" for e in paused)
    migrations = items(client, "kubevirt.io/v1", "VirtualMachineInstanceMigration", "vms")
    assert migrations and all("operator.libopenstorage.org/vmi-migration-source-node" in m["metadata"]["annotations"] for m in migrations)
    nodes = items(client, "v1", "Node")
    assert not any("operator.libopenstorage.org/unschedulable" in (n["metadata"].get("annotations") or {}) for n in nodes)


def test_failed_migration_pauses_the_node_with_failed_to_evict_vm(client, sim):
    sim.add_fault(operator="migration-fail", target="vms/vm-000", count=1)
    set_image(client, "portworx/oci-monitor:3.6.1")
    eventually("FailedToEvictVM", lambda: events(client, "FailedToEvictVM"), timeout=30)
    event = events(client, "FailedToEvictVM")[0]
    assert "failed for VM vms/vm-000 on node" in event["message"]
    assert event["message"].endswith("Stop or migrate the VM so that the update of the storage node can proceed.")
    node = event["involvedObject"]["name"]
    eventually("event repeats", lambda: events(client, "FailedToEvictVM")[0].get("count", 1) > 1)
    assert versions(client)[node][0] == "3.6.0"


def test_no_eviction_when_the_cluster_opts_out(client):
    set_image(client, "portworx/oci-monitor:3.6.1", {"operator.libopenstorage.org/evict-vms-during-update": "false"})
    eventually("all nodes on 3.6.1", lambda: all(v == ("3.6.1", "Online") for v in versions(client).values()), timeout=30)
    assert events(client, "UpdatePaused") == []
    assert items(client, "kubevirt.io/v1", "VirtualMachineInstanceMigration", "vms") == []
