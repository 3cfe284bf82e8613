"""The storage checkup Job (operators/storage_checkup.py), over HTTP."""
import pytest

from clustersim.testing import simulator_fixture
from operator_helpers import condition, eventually, read

NS = "default"
IMAGE = "registry.redhat.io/container-native-virtualization/kubevirt-storage-checkup-rhel9:v4.20"

sim = simulator_fixture(scope="module", vms=1)


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    sim.settle()


def run_checkup(client, params=None):
    data = {"spec.timeout": "10m"}
    data.update(params or {})
    client.resources.get(api_version="v1", kind="ConfigMap").create(namespace=NS, body={
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "storage-checkup-config", "namespace": NS}, "data": data})
    client.resources.get(api_version="batch/v1", kind="Job").create(namespace=NS, body={
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "storage-checkup", "namespace": NS},
        "spec": {"backoffLimit": 0, "template": {"spec": {"serviceAccount": "storage-checkup-sa", "restartPolicy": "Never",
                 "containers": [{"name": "storage-checkup", "image": IMAGE, "env": [
                     {"name": "CONFIGMAP_NAMESPACE", "value": NS}, {"name": "CONFIGMAP_NAME", "value": "storage-checkup-config"}]}]}}}})
    eventually("job finished", lambda: (read(client, "batch/v1", "Job", "storage-checkup", NS).get("status") or {}).get("conditions"), timeout=10)
    return read(client, "v1", "ConfigMap", "storage-checkup-config", NS)["data"], read(client, "batch/v1", "Job", "storage-checkup", NS)


def test_seeded_cluster_fails_only_on_the_stork_snapshot_profile(client):
    # stork-snapshot-sc's provisioner is unknown to CDI, so its StorageProfile has no claimPropertySets
    data, job = run_checkup(client)
    assert data["status.succeeded"] == "false"
    assert data["status.failureReason"] == "there are StorageProfiles with empty ClaimPropertySets (unknown provisioners)"
    assert data["status.result.storageProfilesWithEmptyClaimPropertySets"] == "stork-snapshot-sc"
    assert condition(job, "Failed")["reason"] == "BackoffLimitExceeded"


def test_checkup_succeeds_once_every_profile_has_claim_property_sets(client):
    client.resources.get(api_version="cdi.kubevirt.io/v1beta1", kind="StorageProfile").patch(
        name="stork-snapshot-sc", body={"spec": {"claimPropertySets": [{"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"}]}},
        content_type="application/merge-patch+json")
    eventually("profile sets", lambda: read(client, "cdi.kubevirt.io/v1beta1", "StorageProfile", "stork-snapshot-sc")["status"].get("claimPropertySets"))
    data, job = run_checkup(client)
    assert data["status.succeeded"] == "true", {k: v for k, v in data.items() if v}
    assert data["status.failureReason"] == ""
    assert data["status.result.defaultStorageClass"] == "px-rwx-block-kubvirt"
    assert data["status.result.pvcBound"] == 'PVC "checkup-pvc" bound'
    assert data["status.result.ocpVersion"].startswith("4.20")
    assert "px-rwx-block-kubvirt" in data["status.result.storageProfilesWithRWX"].split("\n")
    assert data["status.result.vmBootFromGoldenImage"].endswith("successfully booted")
    assert condition(job, "Complete")["status"] == "True" and job["status"]["succeeded"] == 1
    assert read(client, "cdi.kubevirt.io/v1beta1", "DataVolume", "checkup-pvc", NS) is None


def test_unknown_provisioner_and_no_default_class_fail_the_checkup(client):
    client.resources.get(api_version="storage.k8s.io/v1", kind="StorageClass").create(body={
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "mystery"}, "provisioner": "csi.mystery.example.com"})
    client.resources.get(api_version="storage.k8s.io/v1", kind="StorageClass").patch(
        name="px-rwx-block-kubvirt", body={"metadata": {"annotations": {"storageclass.kubevirt.io/is-default-virt-class": "false"}}},
        content_type="application/merge-patch+json")
    eventually("profile", lambda: read(client, "cdi.kubevirt.io/v1beta1", "StorageProfile", "mystery") is not None)
    data, job = run_checkup(client)
    assert data["status.succeeded"] == "false"
    assert data["status.failureReason"].split("\n") == [
        "no default storage class", "there are StorageProfiles with empty ClaimPropertySets (unknown provisioners)"]
    assert data["status.result.storageProfilesWithEmptyClaimPropertySets"].split("\n") == ["mystery", "stork-snapshot-sc"]
    assert data["status.result.pvcBound"] == "Skip check - no default storage class"
    assert condition(job, "Failed")["reason"] == "BackoffLimitExceeded"
