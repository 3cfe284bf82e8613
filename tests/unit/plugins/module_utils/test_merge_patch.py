"""merge_patch: only the fields that differ, nested; nothing when the object already has them."""

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import NO_PATCH
from ansible_collections.ocpvirt.portworx.plugins.module_utils.merge_patch import merge_patch

WANTED = {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass",
          "metadata": {"name": "px-csi-snapclass", "annotations": {"snapshot.storage.kubernetes.io/is-default-class": "true"}},
          "driver": "pxd.portworx.com", "deletionPolicy": "Delete", "parameters": {"csi.openstorage.org/snapshot-type": "local"}}


def existing(**changes):
    obj = {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass",
           "metadata": {"name": "px-csi-snapclass", "uid": "1", "resourceVersion": "7",
                        "annotations": {"snapshot.storage.kubernetes.io/is-default-class": "true", "other": "kept"}},
           "driver": "pxd.portworx.com", "deletionPolicy": "Delete", "parameters": {"csi.openstorage.org/snapshot-type": "local"}}
    obj.update(changes)
    return obj


def test_an_object_that_has_every_wanted_field_needs_no_patch():
    assert merge_patch(existing(), WANTED) == NO_PATCH


def test_only_the_differing_nested_field_is_patched():
    current = existing(parameters={"csi.openstorage.org/snapshot-type": "cloud"})
    assert merge_patch(current, WANTED) == {"parameters": {"csi.openstorage.org/snapshot-type": "local"}}


def test_a_missing_annotation_is_added_and_others_are_left_alone():
    current = existing(metadata={"name": "px-csi-snapclass", "annotations": {"other": "kept"}})
    assert merge_patch(current, WANTED) == {"metadata": {"annotations": {"snapshot.storage.kubernetes.io/is-default-class": "true"}}}


def test_a_list_is_replaced_whole_when_it_differs():
    current = {"spec": {"values": ["-10", "10"], "keep": 1}}
    assert merge_patch(current, {"spec": {"values": ["-20", "20"]}}) == {"spec": {"values": ["-20", "20"]}}
    assert merge_patch(current, {"spec": {"values": ["-10", "10"]}}) == NO_PATCH


def test_a_field_missing_from_the_object_is_set_even_to_a_falsy_value():
    assert merge_patch({"spec": {}}, {"spec": {"enabled": False}}) == {"spec": {"enabled": False}}
    assert merge_patch({}, {"spec": None}) == {"spec": None}
