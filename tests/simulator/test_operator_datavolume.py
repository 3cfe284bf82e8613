"""The simulated CDI DataVolume controller (simulator/clustersim/operators/datavolume.py), over HTTP."""
import math

import pytest

from operator_helpers import condition, eventually, in_order, read, record_until

DV_API = "cdi.kubevirt.io/v1beta1"
NS = "default"
IMPORT_PHASES = ["Pending", "WaitForFirstConsumer", "PVCBound", "ImportScheduled", "ImportInProgress", "Succeeded"]
IMMEDIATE_CLASS = "px-csi-db"  # Immediate binding, Portworx profile: RWX Block first
WFFC_CLASS = "px-rwx-block-kubvirt"  # WaitForFirstConsumer, the default virtualization class


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()


def create_dv(client, name, spec, annotations=None):
    client.resources.get(api_version=DV_API, kind="DataVolume").create(
        namespace=NS, body={"metadata": {"name": name, "annotations": annotations or {}}, "spec": spec})


def dv(client, name):
    return read(client, DV_API, "DataVolume", name, NS)


def dv_phase(client, name):
    return ((dv(client, name) or {}).get("status") or {}).get("phase")


def claim(client, name):
    return read(client, "v1", "PersistentVolumeClaim", name, NS)


def blank(size="2Gi", storage_class=None, **storage):
    storage["resources"] = {"requests": {"storage": size}}
    if storage_class:
        storage["storageClassName"] = storage_class
    return {"source": {"blank": {}}, "storage": storage}


def test_blank_import_creates_an_owned_claim_and_walks_to_succeeded(client):
    create_dv(client, "blank", blank(storage_class=IMMEDIATE_CLASS), {"portworx.io/app": "kubevirt"})
    seen = record_until("Succeeded", lambda: dv_phase(client, "blank"), "Succeeded")
    assert in_order(seen, IMPORT_PHASES), seen
    final = dv(client, "blank")["status"]
    assert final["claimName"] == "blank" and final["progress"] == "100.0%"
    assert [(c["type"], c["status"], c["reason"]) for c in final["conditions"]] == [
        ("Bound", "True", "Bound"), ("Ready", "True", ""), ("Running", "False", "Completed")]
    pvc = claim(client, "blank")
    owner = pvc["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("DataVolume", "blank", True)
    assert pvc["metadata"]["annotations"]["portworx.io/app"] == "kubevirt"
    assert pvc["metadata"]["annotations"]["cdi.kubevirt.io/storage.import.source"] == "none"
    # accessModes and volumeMode come from the StorageProfile's first claim property set.
    assert (pvc["spec"]["accessModes"], pvc["spec"]["volumeMode"]) == (["ReadWriteMany"], "Block")
    assert pvc["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert read(client, "v1", "Pod", "importer-blank", NS) is None


def test_wait_for_first_consumer_until_a_pod_uses_the_claim(client):
    create_dv(client, "wffc", blank())  # no class: the default virtualization class
    eventually("WaitForFirstConsumer", lambda: dv_phase(client, "wffc") == "WaitForFirstConsumer")
    waiting = dv(client, "wffc")
    assert claim(client, "wffc")["spec"]["storageClassName"] == WFFC_CLASS
    assert waiting["status"]["progress"] == "N/A"
    assert (condition(waiting, "Bound")["reason"], condition(waiting, "Bound")["message"]) == ("Pending", "PVC wffc Pending")
    assert condition(waiting, "Ready")["status"] == "False"
    client.resources.get(api_version="v1", kind="Pod").create(namespace=NS, body={
        "metadata": {"name": "consumer"},
        "spec": {"nodeName": "worker-1", "containers": [{"name": "c", "image": "i"}],
                 "volumes": [{"name": "disk", "persistentVolumeClaim": {"claimName": "wffc"}}]}})
    eventually("Succeeded", lambda: dv_phase(client, "wffc") == "Succeeded")
    assert claim(client, "wffc")["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == "worker-1"


def test_bind_immediate_annotation_overrides_wait_for_first_consumer(client):
    create_dv(client, "now", blank(), {"cdi.kubevirt.io/storage.bind.immediate.requested": "true"})
    eventually("Succeeded", lambda: dv_phase(client, "now") == "Succeeded")
    assert claim(client, "now")["metadata"]["annotations"]["cdi.kubevirt.io/storage.bind.immediate.requested"] == "true"


def test_spec_pvc_is_used_as_is_and_filesystem_storage_gets_the_overhead(client):
    create_dv(client, "raw", {"source": {"blank": {}}, "pvc": {
        "accessModes": ["ReadWriteOnce"], "storageClassName": IMMEDIATE_CLASS, "resources": {"requests": {"storage": "1Gi"}}}})
    create_dv(client, "fs", blank(size="10Gi", storage_class=IMMEDIATE_CLASS, volumeMode="Filesystem"))
    eventually("both claims", lambda: claim(client, "raw") and claim(client, "fs"))
    raw_spec = claim(client, "raw")["spec"]
    assert raw_spec["accessModes"] == ["ReadWriteOnce"] and raw_spec["resources"]["requests"]["storage"] == "1Gi"
    overhead = float(read(client, DV_API, "CDIConfig", "config")["status"]["filesystemOverhead"]["global"])
    mib = 2 ** 20
    expected = math.ceil(math.ceil(10 * 2 ** 30 / (1 - overhead)) / mib)
    assert claim(client, "fs")["spec"]["resources"]["requests"]["storage"] == "{0}Mi".format(expected)


def test_incomplete_storage_profile_leaves_the_data_volume_pending(client):
    client.resources.get(api_version="storage.k8s.io/v1", kind="StorageClass").create(body={
        "metadata": {"name": "unknown"}, "provisioner": "example.com/unknown", "volumeBindingMode": "Immediate"})
    eventually("StorageProfile", lambda: read(client, DV_API, "StorageProfile", "unknown"))
    create_dv(client, "orphan", blank(storage_class="unknown"))
    eventually("Bound condition", lambda: condition(dv(client, "orphan"), "Bound").get("reason") == "ErrClaimNotValid")
    assert dv_phase(client, "orphan") == "Pending"
    assert condition(dv(client, "orphan"), "Bound")["message"] == "no accessMode specified in StorageProfile unknown"
    assert claim(client, "orphan") is None


def test_clone_waits_for_its_source(client):
    create_dv(client, "copy", {"source": {"pvc": {"name": "origin", "namespace": NS}},
                               "storage": {"storageClassName": IMMEDIATE_CLASS}})
    eventually("CloneScheduled", lambda: dv_phase(client, "copy") == "CloneScheduled")
    assert condition(dv(client, "copy"), "Running")["reason"] == "CloneWithoutSource"
    create_dv(client, "origin", blank(size="3Gi", storage_class=IMMEDIATE_CLASS))
    eventually("clone Succeeded", lambda: dv_phase(client, "copy") == "Succeeded", timeout=15)
    assert condition(dv(client, "copy"), "Running")["message"] == "Clone Complete"


def test_clone_without_size_takes_the_source_size(client):
    create_dv(client, "origin", blank(size="3Gi", storage_class=IMMEDIATE_CLASS))
    eventually("source Succeeded", lambda: dv_phase(client, "origin") == "Succeeded")
    create_dv(client, "copy", {"source": {"pvc": {"name": "origin", "namespace": NS}},
                               "storage": {"storageClassName": IMMEDIATE_CLASS}})
    seen = record_until("clone Succeeded", lambda: dv_phase(client, "copy"), "Succeeded")
    # Portworx StorageProfiles advise csi-clone: no host-assisted CloneInProgress.
    assert in_order(seen, ["Pending", "PVCBound", "CSICloneInProgress", "Succeeded"]), seen
    assert claim(client, "copy")["spec"]["resources"]["requests"]["storage"] == "3Gi"


def test_deleting_the_data_volume_deletes_its_claim(client):
    create_dv(client, "gone", blank(storage_class=IMMEDIATE_CLASS))
    eventually("Succeeded", lambda: dv_phase(client, "gone") == "Succeeded")
    client.resources.get(api_version=DV_API, kind="DataVolume").delete(namespace=NS, name="gone")

    # The garbage collector deletes the owned claim; no pod mounts it, so pvc-protection lets it go.
    eventually("claim deleted", lambda: claim(client, "gone") is None)
