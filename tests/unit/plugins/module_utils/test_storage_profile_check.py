"""StorageProfile planning: provisioner capabilities, patches, status reflection, VM fitness."""

from ansible_collections.ocpvirt.portworx.plugins.module_utils import storage_profile_check as check

PX = {"provisioner": "pxd.portworx.com", "parameters": {"repl": "3"}}
PX_NFS = {"provisioner": "pxd.portworx.com", "parameters": {"sharedv4": "true", "sharedv4_mount_options": "vers=3.0,nolock"}}
RWX_BLOCK = [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}]


def test_portworx_gives_every_pair_but_nfs_classes_only_filesystem():
    assert check.unsupported_pairs(PX, RWX_BLOCK) == []
    assert check.unsupported_pairs(PX_NFS, RWX_BLOCK) == [("ReadWriteMany", "Block")]
    assert check.unsupported_pairs(PX_NFS, [{"accessModes": ["ReadWriteMany"]}]) == []


def test_pure_backends_follow_cdi():
    pure_file = {"provisioner": "pxd.portworx.com", "parameters": {"backend": "pure_fa_file"}}
    pure_block = {"provisioner": "pxd.portworx.com", "parameters": {"backend": "pure_block"}}
    assert check.unsupported_pairs(pure_file, RWX_BLOCK) == [("ReadWriteMany", "Block")]
    assert check.unsupported_pairs(pure_block, [{"accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem"}]) == [
        ("ReadWriteMany", "Filesystem")]


def test_unknown_provisioners_are_not_judged():
    assert check.provisioner_capabilities({"provisioner": "example.com/x"}) is None
    assert check.unsupported_pairs({"provisioner": "example.com/x"}, RWX_BLOCK) == []


def test_spec_patch_only_when_spec_differs():
    wanted = check.desired_spec(RWX_BLOCK, "csi-clone")
    assert check.spec_patch({"spec": {}}, wanted) == {"spec": {"claimPropertySets": RWX_BLOCK, "cloneStrategy": "csi-clone"}}
    assert check.spec_patch({"spec": {"claimPropertySets": RWX_BLOCK, "cloneStrategy": "csi-clone"}}, wanted) == {}


def test_options_in_snake_case_are_normalized_with_filesystem_default():
    assert check.normalize_sets([{"access_modes": ["ReadWriteOnce"]}]) == [{"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"}]


def test_status_reflects_spec():
    wanted = check.desired_spec(RWX_BLOCK, "csi-clone")
    assert not check.status_reflects({"status": {"claimPropertySets": RWX_BLOCK}}, wanted)
    assert check.status_reflects({"status": {"claimPropertySets": RWX_BLOCK, "cloneStrategy": "csi-clone"}}, wanted)


def test_missing_for_vm_use():
    assert check.missing_for_vm_use({"status": {}}) == ["RWX", "Block", "cloneStrategy"]
    rwx_fs = {"status": {"claimPropertySets": [{"accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem"}], "cloneStrategy": "copy"}}
    assert check.missing_for_vm_use(rwx_fs) == ["Block"]
    good = {"status": {"claimPropertySets": RWX_BLOCK, "cloneStrategy": "csi-clone"}}
    assert check.missing_for_vm_use(good) == []
    summary = check.profile_summary(dict(good, metadata={"name": "x"}), PX)
    assert summary["ready_for_vms"] and summary["modes"] == ["ReadWriteMany/Block"]
