"""The simulated CDI StorageProfile controller and default-class alerts (simulator/clustersim/operators/cdi.py)."""
import pytest

from clustersim.cluster import HttpRequest, build_cluster
from clustersim.config import Config
from clustersim.operators.monitoring import ROUTE_ALERTS_PATH

SC = "storage.k8s.io/storageclasses"
SP = "cdi.kubevirt.io/storageprofiles"
VIRT = "storageclass.kubevirt.io/is-default-virt-class"


@pytest.fixture
def cluster():
    c = build_cluster(Config(vms=1, durations={"cdi_alert_for": 0.0}))
    c.settle()
    yield c
    c.stop()


def sets(cluster, name):
    return sorted((s["accessModes"][0], s["volumeMode"]) for s in cluster.store.get(SP, name)["status"]["claimPropertySets"])


def firing(cluster):
    handler = cluster.find_route("GET", ROUTE_ALERTS_PATH)
    answer = handler(HttpRequest("GET", ROUTE_ALERTS_PATH, {}, {}))
    return sorted(a["labels"]["alertname"] for a in answer["data"]["alerts"] if a["state"] == "firing" and a["labels"]["alertname"] != "Watchdog")


def annotate(cluster, name, value):
    cluster.store.patch(SC, name, {"metadata": {"annotations": {VIRT: value}}})
    cluster.settle()


def test_one_profile_per_class_with_portworx_capabilities(cluster):
    assert len(cluster.store.list(SP)) == len(cluster.store.list(SC))
    assert sets(cluster, "px-rwx-block-kubvirt") == [("ReadWriteMany", "Block"), ("ReadWriteMany", "Filesystem"),
                                                     ("ReadWriteOnce", "Block"), ("ReadWriteOnce", "Filesystem")]
    # sharedv4 with vers=3.0,nolock mount options is CDI's pxd.portworx.com/nfs key: filesystem only
    assert sets(cluster, "px-rwx-file-kubvirt") == [("ReadWriteMany", "Filesystem"), ("ReadWriteOnce", "Filesystem")]
    status = cluster.store.get(SP, "px-rwx-block-kubvirt")["status"]
    assert status["provisioner"] == "pxd.portworx.com" and status["storageClass"] == "px-rwx-block-kubvirt"
    assert status["cloneStrategy"] == "csi-clone"
    assert cluster.store.get(SP, "stork-snapshot-sc")["status"]["claimPropertySets"] == []


def test_profile_follows_class_creation_deletion_and_spec_overrides(cluster):
    cluster.store.create(SC, {"metadata": {"name": "new"}, "provisioner": "pxd.portworx.com", "parameters": {"repl": "2"}})
    cluster.settle()
    assert cluster.store.get(SP, "new") is not None
    cluster.store.patch(SP, "new", {"spec": {"claimPropertySets": [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}],
                                             "cloneStrategy": "snapshot", "dataImportCronSourceFormat": "snapshot"}})
    cluster.settle()
    status = cluster.store.get(SP, "new")["status"]
    assert sets(cluster, "new") == [("ReadWriteMany", "Block")]
    assert status["cloneStrategy"] == "snapshot" and status["dataImportCronSourceFormat"] == "snapshot"
    cluster.store.delete(SC, "new")
    cluster.settle()
    assert cluster.store.get(SP, "new") is None


def test_alerts_follow_the_default_classes(cluster):
    assert firing(cluster) == []  # stork-snapshot is unsupported by CDI, so its empty profile is complete
    annotate(cluster, "px-csi-db", "true")
    assert "CDIMultipleDefaultVirtStorageClasses" in firing(cluster)
    annotate(cluster, "px-csi-db", "false")
    assert "CDIMultipleDefaultVirtStorageClasses" not in firing(cluster)
    annotate(cluster, "px-rwx-block-kubvirt", "false")
    annotate(cluster, "stork-snapshot-sc", "true")  # no ReadWriteMany, clone strategy copy
    assert "CDIDefaultStorageClassDegraded" in firing(cluster)
    annotate(cluster, "stork-snapshot-sc", "false")
    assert "CDIDefaultStorageClassDegraded" not in firing(cluster)
    assert "CDINoDefaultStorageClass" not in firing(cluster)  # no DataVolume waits for a default
    cluster.store.create("cdi.kubevirt.io/datavolumes", {"metadata": {"name": "waiting", "namespace": "vms"},
                                                         "spec": {"storage": {"resources": {"requests": {"storage": "1Gi"}}}},
                                                         "status": {"phase": "Pending"}})
    cluster.settle()
    assert "CDINoDefaultStorageClass" in firing(cluster)
