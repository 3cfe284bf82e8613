"""The storage checkup's objects, state and the meaning of its results."""

from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage_checkup import (
    checkup_objects,
    checkup_state,
    config_data,
    interpret,
    invalid_durations,
    one_line_reasons,
    same_config,
)

PARAMS = {"timeout": "10m", "storage_class": None, "vmi_timeout": None, "num_of_vms": None, "cluster_reader": True, "image": "img"}


def test_objects_follow_the_documented_order_and_names():
    objects = checkup_objects("test", PARAMS)
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("ServiceAccount", "storage-checkup-sa"), ("Role", "storage-checkup-role"), ("RoleBinding", "storage-checkup-role"),
        ("ClusterRoleBinding", "kubevirt-storage-checkup-clustereader"), ("ConfigMap", "storage-checkup-config"), ("Job", "storage-checkup")]
    job = objects[-1]
    assert job["spec"]["backoffLimit"] == 0
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "img"
    assert {"name": "CONFIGMAP_NAMESPACE", "value": "test"} in container["env"]
    assert objects[3]["subjects"] == [{"kind": "ServiceAccount", "name": "storage-checkup-sa", "namespace": "test"}]
    assert len(checkup_objects("test", dict(PARAMS, cluster_reader=False))) == 5


def test_config_and_state():
    assert config_data(dict(PARAMS, storage_class="px", num_of_vms=3)) == {
        "spec.timeout": "10m", "spec.param.storageClass": "px", "spec.param.numOfVMs": "3"}
    done = {"data": {"spec.timeout": "10m", "status.startTimestamp": "t1", "status.completionTimestamp": "t2"}}
    assert checkup_state(done) == "complete" and same_config(done, PARAMS)
    assert checkup_state({"data": {"status.startTimestamp": "t1"}}) == "running"
    assert checkup_state(None) == "none"
    assert not same_config(done, dict(PARAMS, storage_class="px"))
    assert invalid_durations({"timeout": "10 minutes", "vmi_timeout": "1h30m"}) == ["timeout"]


def test_interpret_gives_each_failure_its_meaning_and_objects():
    outcome = interpret({"data": {
        "status.succeeded": "false",
        "status.failureReason": "no default storage class\nthere are StorageProfiles with empty ClaimPropertySets (unknown provisioners)",
        "status.result.storageProfilesWithEmptyClaimPropertySets": "a\nb",
        "status.result.storageProfileMissingVolumeSnapshotClass": "c"}})
    assert outcome["succeeded"] is False
    first, second = outcome["failed_checks"]
    assert first["objects"] == [] and "virt_default_storage_class" in first["fix"]
    assert second["objects"] == ["a", "b"] and "claimPropertySets" in second["fix"]
    assert outcome["notes"] == ["StorageProfiles cloning by snapshot without a VolumeSnapshotClass for their driver: c"]
    unknown = interpret({"data": {"status.succeeded": "false", "status.failureReason": "something new"}})
    assert unknown["failed_checks"][0]["meaning"] == "the checkup reported this failure"
    assert one_line_reasons("a\nb\n") == "a; b"
