"""Check mode over a whole playbook: planning against an object an earlier task would create."""

from ansible_collections.ocpvirt.portworx.plugins.module_utils.check_mode import planned_storage_class, would_exist_warning


def test_warning_says_what_is_assumed_and_what_is_not_checked():
    text = would_exist_warning("StorageClass vmstate", "its volume modes")
    assert text.startswith("StorageClass vmstate does not exist; check mode plans as if it would exist")
    assert "real run refuses" in text and text.endswith("not checked until then: its volume modes.")
    assert would_exist_warning("StorageClass x").endswith("still missing.")


def test_planned_class_has_a_name_and_nothing_else_known():
    planned = planned_storage_class("vmstate")
    assert planned["metadata"] == {"name": "vmstate", "annotations": {}}
    assert "provisioner" not in planned and "parameters" not in planned
