"""CSI snapshots and KubeVirt VM snapshots / restores (operators/snapshot_controller.py,
kubevirt_snapshot.py, kubevirt_restore.py), over HTTP."""
import pytest

from clustersim.testing import simulator_fixture
from operator_helpers import condition, eventually, read

NS = "vms"
SNAP_API = "snapshot.storage.k8s.io/v1"
KV_SNAP_API = "snapshot.kubevirt.io/v1beta1"
MARKER = "clustersim.io/disk-content"
DISK = "vm-000-rootdisk"

sim = simulator_fixture(scope="module", vms=2)


@pytest.fixture(autouse=True)
def fresh(sim, client):
    sim.reset()
    eventually("vm-000 runs", lambda: (read(client, "kubevirt.io/v1", "VirtualMachineInstance", "vm-000", NS) or {})
               .get("status", {}).get("phase") == "Running")
    yield
    sim.clear_faults()


def resource(client, api_version, kind):
    return client.resources.get(api_version=api_version, kind=kind)


def snapshot_class(client, name="px-csi-snapclass", default=True, driver="pxd.portworx.com"):
    annotations = {"snapshot.storage.kubernetes.io/is-default-class": "true"} if default else {}
    resource(client, SNAP_API, "VolumeSnapshotClass").create(body={
        "apiVersion": SNAP_API, "kind": "VolumeSnapshotClass", "metadata": {"name": name, "annotations": annotations},
        "driver": driver, "deletionPolicy": "Delete"})


def mark_disk(client, claim, value):
    resource(client, "v1", "PersistentVolumeClaim").patch(
        name=claim, namespace=NS, body={"metadata": {"annotations": {MARKER: value}}},
        content_type="application/merge-patch+json")


def volume_snapshot(client, name, claim=DISK, class_name=None):
    spec = {"source": {"persistentVolumeClaimName": claim}}
    if class_name:
        spec["volumeSnapshotClassName"] = class_name
    resource(client, SNAP_API, "VolumeSnapshot").create(namespace=NS, body={
        "apiVersion": SNAP_API, "kind": "VolumeSnapshot", "metadata": {"name": name, "namespace": NS}, "spec": spec})


def vm_snapshot(client, name, vm="vm-000"):
    resource(client, KV_SNAP_API, "VirtualMachineSnapshot").create(namespace=NS, body={
        "apiVersion": KV_SNAP_API, "kind": "VirtualMachineSnapshot", "metadata": {"name": name, "namespace": NS},
        "spec": {"source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": vm}}})


def vm_restore(client, name, snapshot, target, policy=None):
    spec = {"target": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": target},
            "virtualMachineSnapshotName": snapshot}
    if policy:
        spec["targetReadinessPolicy"] = policy
    resource(client, KV_SNAP_API, "VirtualMachineRestore").create(namespace=NS, body={
        "apiVersion": KV_SNAP_API, "kind": "VirtualMachineRestore", "metadata": {"name": name, "namespace": NS}, "spec": spec})


def status_of(client, api_version, kind, name, namespace=NS):
    return (read(client, api_version, kind, name, namespace) or {}).get("status") or {}


def test_volume_snapshot_binds_a_content_and_becomes_ready(client):
    snapshot_class(client)
    mark_disk(client, DISK, "v1")
    volume_snapshot(client, "snap-1")
    eventually("ready", lambda: status_of(client, SNAP_API, "VolumeSnapshot", "snap-1").get("readyToUse") is True)
    snap = read(client, SNAP_API, "VolumeSnapshot", "snap-1", NS)
    assert snap["spec"]["volumeSnapshotClassName"] == "px-csi-snapclass"
    assert snap["status"]["boundVolumeSnapshotContentName"] == "snapcontent-" + snap["metadata"]["uid"]
    assert snap["status"]["restoreSize"] == "30Gi"
    content = read(client, SNAP_API, "VolumeSnapshotContent", snap["status"]["boundVolumeSnapshotContentName"])
    assert content["spec"]["volumeSnapshotRef"]["name"] == "snap-1" and content["spec"]["driver"] == "pxd.portworx.com"
    assert content["status"]["readyToUse"] is True and content["status"]["restoreSize"] == 30 * 2 ** 30
    assert content["metadata"]["annotations"][MARKER] == "v1"

    resource(client, SNAP_API, "VolumeSnapshot").delete(name="snap-1", namespace=NS)
    eventually("snapshot and content gone", lambda: read(client, SNAP_API, "VolumeSnapshot", "snap-1", NS) is None
               and read(client, SNAP_API, "VolumeSnapshotContent", content["metadata"]["name"]) is None)


@pytest.mark.parametrize("classes, message", [
    ([], "cannot find default snapshot class"),
    ([("a", True), ("b", True)], "2 default snapshot classes were found"),
])
def test_volume_snapshot_without_one_default_class_reports_the_error(client, classes, message):
    for name, default in classes:
        snapshot_class(client, name, default)
    volume_snapshot(client, "snap-x")
    eventually("error", lambda: status_of(client, SNAP_API, "VolumeSnapshot", "snap-x").get("error", {}).get("message") == message)
    assert status_of(client, SNAP_API, "VolumeSnapshot", "snap-x").get("readyToUse") is False


def test_claim_restored_from_a_snapshot_gets_the_disk_content(client):
    snapshot_class(client)
    mark_disk(client, DISK, "before")
    volume_snapshot(client, "snap-2")
    eventually("ready", lambda: status_of(client, SNAP_API, "VolumeSnapshot", "snap-2").get("readyToUse") is True)
    mark_disk(client, DISK, "after")
    resource(client, "v1", "PersistentVolumeClaim").create(namespace=NS, body={
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "from-snap", "namespace": NS},
        "spec": {"accessModes": ["ReadWriteMany"], "volumeMode": "Block", "storageClassName": "px-rwx-block-kubvirt",
                 "resources": {"requests": {"storage": "30Gi"}},
                 "dataSource": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "snap-2"}}})
    eventually("marker", lambda: (read(client, "v1", "PersistentVolumeClaim", "from-snap", NS)["metadata"].get("annotations") or {})
               .get(MARKER) == "before")


def test_online_vm_snapshot_freezes_snapshots_each_disk_and_succeeds(client):
    snapshot_class(client)
    frozen = []
    vm_snapshot(client, "vmsnap-1")

    def done():
        vmi = read(client, "kubevirt.io/v1", "VirtualMachineInstance", "vm-000", NS)
        frozen.append(vmi["status"].get("fsFreezeStatus"))
        return status_of(client, KV_SNAP_API, "VirtualMachineSnapshot", "vmsnap-1").get("phase") == "Succeeded"
    eventually("succeeded", done)
    status = status_of(client, KV_SNAP_API, "VirtualMachineSnapshot", "vmsnap-1")
    assert status["readyToUse"] is True
    assert status["indications"] == ["GuestAgent", "Online"]
    assert condition({"status": status}, "Ready")["status"] == "True"
    assert condition({"status": status}, "Progressing")["reason"] == "Operation complete"
    assert status["snapshotVolumes"] == {"includedVolumes": ["rootdisk"]}
    content = read(client, KV_SNAP_API, "VirtualMachineSnapshotContent", status["virtualMachineSnapshotContentName"], NS)
    assert [b["volumeName"] for b in content["spec"]["volumeBackups"]] == ["rootdisk"]
    assert content["spec"]["source"]["virtualMachine"]["metadata"]["name"] == "vm-000"
    vm = read(client, "kubevirt.io/v1", "VirtualMachine", "vm-000", NS)
    assert "snapshotInProgress" not in vm["status"]
    assert read(client, "kubevirt.io/v1", "VirtualMachineInstance", "vm-000", NS)["status"].get("fsFreezeStatus") is None

    resource(client, KV_SNAP_API, "VirtualMachineSnapshot").delete(name="vmsnap-1", namespace=NS)
    eventually("content gone", lambda: read(client, KV_SNAP_API, "VirtualMachineSnapshotContent", content["metadata"]["name"], NS) is None
               and read(client, KV_SNAP_API, "VirtualMachineSnapshot", "vmsnap-1", NS) is None)


def test_vm_snapshot_leaves_out_disks_without_a_snapshot_class(client):
    snapshot_class(client, driver="csi.example.com")
    vm_snapshot(client, "vmsnap-2")
    eventually("succeeded", lambda: status_of(client, KV_SNAP_API, "VirtualMachineSnapshot", "vmsnap-2").get("phase") == "Succeeded")
    assert status_of(client, KV_SNAP_API, "VirtualMachineSnapshot", "vmsnap-2")["snapshotVolumes"] == {"excludedVolumes": ["rootdisk"]}


def test_restore_to_a_new_vm_brings_back_the_disk_content(client):
    snapshot_class(client)
    mark_disk(client, DISK, "v1")
    vm_snapshot(client, "vmsnap-3")
    eventually("succeeded", lambda: status_of(client, KV_SNAP_API, "VirtualMachineSnapshot", "vmsnap-3").get("readyToUse") is True)
    mark_disk(client, DISK, "v2")
    vm_restore(client, "restore-1", "vmsnap-3", "vm-000-copy")
    eventually("complete", lambda: status_of(client, KV_SNAP_API, "VirtualMachineRestore", "restore-1").get("complete") is True)
    restore = read(client, KV_SNAP_API, "VirtualMachineRestore", "restore-1", NS)
    claim_name = restore["status"]["restores"][0]["persistentVolumeClaim"]
    assert claim_name == "restore-{0}-rootdisk".format(restore["metadata"]["uid"])
    copy = read(client, "kubevirt.io/v1", "VirtualMachine", "vm-000-copy", NS)
    assert copy["spec"]["runStrategy"] == "Halted"
    assert copy["spec"]["dataVolumeTemplates"][0]["metadata"]["name"] == claim_name
    eventually("marker", lambda: read(client, "v1", "PersistentVolumeClaim", claim_name, NS)["metadata"]["annotations"].get(MARKER) == "v1")
    assert read(client, "cdi.kubevirt.io/v1beta1", "DataVolume", claim_name, NS)["status"]["phase"] == "Succeeded"


def test_restore_to_the_running_source_waits_or_stops_it(client):
    snapshot_class(client)
    vm_snapshot(client, "vmsnap-4")
    eventually("succeeded", lambda: status_of(client, KV_SNAP_API, "VirtualMachineSnapshot", "vmsnap-4").get("readyToUse") is True)
    vm_restore(client, "restore-wait", "vmsnap-4", "vm-000")
    eventually("waiting", lambda: condition({"status": status_of(client, KV_SNAP_API, "VirtualMachineRestore", "restore-wait")},
                                            "Progressing").get("reason", "").startswith("Waiting for target VM to be powered off"))
    resource(client, KV_SNAP_API, "VirtualMachineRestore").delete(name="restore-wait", namespace=NS)
    eventually("gone", lambda: read(client, KV_SNAP_API, "VirtualMachineRestore", "restore-wait", NS) is None)
    vm_restore(client, "restore-stop", "vmsnap-4", "vm-000", policy="StopTarget")
    eventually("complete", lambda: status_of(client, KV_SNAP_API, "VirtualMachineRestore", "restore-stop").get("complete") is True)
    vm = read(client, "kubevirt.io/v1", "VirtualMachine", "vm-000", NS)
    assert vm["spec"]["runStrategy"] == "Halted"
    assert vm["metadata"]["annotations"]["restore.kubevirt.io/lastRestoreUID"].startswith("restore-stop-")


def test_restore_onto_another_existing_vm_is_an_error(client):
    snapshot_class(client)
    vm_snapshot(client, "vmsnap-5")
    eventually("succeeded", lambda: status_of(client, KV_SNAP_API, "VirtualMachineSnapshot", "vmsnap-5").get("readyToUse") is True)
    vm_restore(client, "restore-x", "vmsnap-5", "vm-001", policy="StopTarget")
    eventually("error", lambda: condition({"status": status_of(client, KV_SNAP_API, "VirtualMachineRestore", "restore-x")},
                                          "Progressing").get("reason") ==
               "restore source and restore target are different but restore target already exists")
