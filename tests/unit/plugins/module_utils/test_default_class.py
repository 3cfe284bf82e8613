import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils.default_class import plan_default_class
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import NotFound, Refusal

VIRT = "storageclass.kubevirt.io/is-default-virt-class"
CLUSTER = "storageclass.kubernetes.io/is-default-class"


def sc(name, **annotations):
    return {"metadata": {"name": name, "annotations": annotations}, "provisioner": "pxd.portworx.com"}


def profile(*pairs):
    return {"status": {"claimPropertySets": [{"accessModes": [m], "volumeMode": v} for m, v in pairs]}}


PROFILES = {
    "px-csi-db": profile(("ReadWriteOnce", "Filesystem"), ("ReadWriteOnce", "Block")),
    "px-rwx-block": profile(("ReadWriteMany", "Block"), ("ReadWriteOnce", "Block")),
    "px-rwx-file": profile(("ReadWriteMany", "Filesystem")),
}


def test_others_are_undefaulted_before_the_target():
    classes = [sc("px-csi-db", **{VIRT: "true", CLUSTER: "true"}), sc("px-rwx-block"), sc("px-rwx-file", **{VIRT: "true"})]
    plan = plan_default_class(classes, PROFILES, "px-rwx-block")
    assert plan.writes == [("px-csi-db", {VIRT: "false"}), ("px-rwx-file", {VIRT: "false"}), ("px-rwx-block", {VIRT: "true"})]
    assert plan.previous == {"virt": ["px-csi-db", "px-rwx-file"], "cluster": ["px-csi-db"]}
    assert plan.state(classes, after=True) == {"virt": ["px-rwx-block"], "cluster": ["px-csi-db"]}


def test_cluster_default_moves_too_when_asked():
    classes = [sc("px-csi-db", **{CLUSTER: "true"}), sc("px-rwx-block", **{VIRT: "true"})]
    plan = plan_default_class(classes, PROFILES, "px-rwx-block", cluster_default=True)
    assert plan.writes == [("px-csi-db", {CLUSTER: "false"}), ("px-rwx-block", {CLUSTER: "true"})]


def test_already_the_only_default_writes_nothing():
    classes = [sc("px-csi-db", **{VIRT: "false"}), sc("px-rwx-block", **{VIRT: "true"})]
    assert not plan_default_class(classes, PROFILES, "px-rwx-block").changes


def test_interrupted_run_converges():
    # the first write (un-default the old one) happened, the second did not
    classes = [sc("px-csi-db", **{VIRT: "false"}), sc("px-rwx-block")]
    assert plan_default_class(classes, PROFILES, "px-rwx-block").writes == [("px-rwx-block", {VIRT: "true"})]


def test_class_without_rwx_is_refused_naming_one_that_works():
    with pytest.raises(Refusal) as refused:
        plan_default_class([sc("px-csi-db"), sc("px-rwx-block"), sc("px-rwx-file")], PROFILES, "px-csi-db")
    msg = refused.value.msg
    assert "CDIDefaultStorageClassDegraded" in msg and "ReadWriteOnce/Block" in msg
    assert refused.value.details["candidates"] == ["px-rwx-block", "px-rwx-file"]


def test_require_rwx_false_accepts_and_rwx_filesystem_warns():
    assert plan_default_class([sc("px-csi-db")], PROFILES, "px-csi-db", require_rwx=False).changes
    plan = plan_default_class([sc("px-rwx-file")], PROFILES, "px-rwx-file")
    assert plan.warnings and "Block" in plan.warnings[0]


def test_missing_class_is_not_found():
    with pytest.raises(NotFound) as missing:
        plan_default_class([sc("px-csi-db")], PROFILES, "nope")
    assert missing.value.status == 404 and missing.value.reason == "NotFound"
    assert missing.value.msg.startswith("StorageClass nope not found") and "px-csi-db" in missing.value.msg


def test_defaults_now_lists_the_annotated_classes_per_kind():
    from ansible_collections.ocpvirt.portworx.plugins.module_utils.default_class import defaults_now

    classes = [
        {"metadata": {"name": "a", "annotations": {"storageclass.kubevirt.io/is-default-virt-class": "true"}}},
        {"metadata": {"name": "b", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}},
        {"metadata": {"name": "c", "annotations": {"storageclass.kubevirt.io/is-default-virt-class": "false"}}},
    ]
    assert defaults_now(classes) == {"virt": ["a"], "cluster": ["b"]}
    assert defaults_now([]) == {"virt": [], "cluster": []}
