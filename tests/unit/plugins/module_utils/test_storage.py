from ansible_collections.ocpvirt.portworx.plugins.module_utils import storage


def sc(name, provisioner="pxd.portworx.com", **parameters):
    return {"metadata": {"name": name}, "provisioner": provisioner, "parameters": parameters}


def profile(*pairs):
    sets = [{"accessModes": [mode], "volumeMode": vmode} for mode, vmode in pairs]
    return {"status": {"claimPropertySets": sets}}


def test_replication_factor_and_sharedv4():
    assert storage.replication_factor(sc("a", repl="3")) == 3
    assert storage.replication_factor(sc("b")) is None
    assert storage.replication_factor(sc("c", repl="x")) is None
    assert storage.is_sharedv4(sc("d", sharedv4="true"))
    assert not storage.is_sharedv4(sc("e"))


def test_offers_and_describe_modes():
    p = profile(("ReadWriteMany", "Block"), ("ReadWriteOnce", "Filesystem"))
    assert storage.offers(p, "ReadWriteMany", "Block")
    assert storage.offers(p, "ReadWriteMany")
    assert not storage.offers(p, "ReadWriteMany", "Filesystem")
    assert storage.describe_modes(p) == "ReadWriteMany/Block, ReadWriteOnce/Filesystem"
    assert "nothing" in storage.describe_modes({})


def test_classes_offering_prefers_portworx_and_higher_replication():
    classes = [sc("px-1", repl="1"), sc("px-3", repl="3"), sc("ceph", provisioner="rbd.csi.ceph.com")]
    rwx_fs = profile(("ReadWriteMany", "Filesystem"))
    profiles = {"px-1": rwx_fs, "px-3": rwx_fs, "ceph": rwx_fs}
    assert storage.classes_offering(classes, profiles, "ReadWriteMany", "Filesystem") == ["px-3", "px-1"]
    assert storage.classes_offering(classes, profiles, "ReadWriteMany", "Filesystem", portworx_only=False)[-1] == "px-1"
    assert storage.classes_offering(classes, profiles, "ReadWriteMany", "Block") == []


def test_default_annotations():
    obj = {"metadata": {"annotations": {storage.VIRT_DEFAULT_ANNOTATION: "True"}}}
    assert storage.is_annotated_default(obj, storage.VIRT_DEFAULT_ANNOTATION)
    assert not storage.is_annotated_default(obj, storage.CLUSTER_DEFAULT_ANNOTATION)
