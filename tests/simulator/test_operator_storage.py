"""The simulated volume binding and expansion controllers (simulator/clustersim/operators/storage.py)."""
import pytest

from clustersim.cluster import build_cluster
from clustersim.config import Config
from clustersim.errors import ApiError
from clustersim.operators.storage import bind_for_consumer

PVC = "persistentvolumeclaims"
NS = "vms"


@pytest.fixture
def cluster():
    c = build_cluster(Config(vms=1, durations={"pvc_bind": 0.01, "pvc_resize": 0.02, "pvc_fs_resize": 0.02,
                                               "pvc_resize_retry": 60.0}))
    c.settle()
    yield c
    c.stop()


def claim(cluster, name, storage_class, size="10Gi", mode="Filesystem", access="ReadWriteOnce"):
    spec = {"accessModes": [access], "volumeMode": mode, "resources": {"requests": {"storage": size}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    cluster.store.create(PVC, {"metadata": {"name": name, "namespace": NS}, "spec": spec}, internal=False)
    cluster.settle()
    return cluster.store.get(PVC, name, NS)


def pod(cluster, name, claim_name, phase="Running"):
    cluster.store.create("pods", {"metadata": {"name": name, "namespace": NS},
                                  "spec": {"nodeName": "worker-1", "containers": [{"name": "c", "image": "x"}],
                                           "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim_name}}]},
                                  "status": {"phase": phase}})
    cluster.settle()


def grow(cluster, name, size):
    cluster.store.patch(PVC, name, {"spec": {"resources": {"requests": {"storage": size}}}}, NS, internal=False)


def types(pvc):
    return [c["type"] for c in pvc["status"].get("conditions") or []]


def test_immediate_class_binds_at_once_with_a_pv(cluster):
    pvc = claim(cluster, "a", "px-csi-db")
    assert pvc["status"]["phase"] == "Bound" and pvc["status"]["capacity"]["storage"] == "10Gi"
    pv = cluster.store.get("persistentvolumes", pvc["spec"]["volumeName"])
    assert pv["spec"]["claimRef"]["name"] == "a" and pv["spec"]["csi"]["driver"] == "pxd.portworx.com"


def test_wait_for_first_consumer_binds_for_a_pod_or_a_vmi(cluster):
    assert claim(cluster, "b", "px-rwx-file-kubvirt")["status"]["phase"] == "Pending"
    pod(cluster, "user", "b", phase="Pending")
    pvc = cluster.store.get(PVC, "b", NS)
    assert pvc["status"]["phase"] == "Bound"
    assert pvc["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == "worker-1"
    claim(cluster, "c", "px-rwx-file-kubvirt")
    with cluster.lock:
        bind_for_consumer(cluster, NS, "c", "worker-2")
    cluster.settle()
    assert cluster.store.get(PVC, "c", NS)["status"]["phase"] == "Bound"


def test_default_class_is_filled_in_and_missing_class_stays_pending(cluster):
    assert claim(cluster, "d", None)["status"]["phase"] == "Pending"  # no cluster default in the seed
    cluster.store.patch("storage.k8s.io/storageclasses", "px-csi-db",
                        {"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}})
    assert claim(cluster, "e", None)["spec"]["storageClassName"] == "px-csi-db"
    assert claim(cluster, "f", "no-such-class")["status"]["phase"] == "Pending"


def test_block_claim_grows_after_resizing(cluster):
    claim(cluster, "g", "px-csi-db", mode="Block")
    grow(cluster, "g", "20Gi")
    cluster.settle()
    pvc = cluster.store.get(PVC, "g", NS)
    assert pvc["status"]["capacity"]["storage"] == "20Gi" and types(pvc) == []
    assert cluster.store.get("persistentvolumes", pvc["spec"]["volumeName"])["spec"]["capacity"]["storage"] == "20Gi"


def node_expanding_class(cluster, name="test-csi"):
    """A class of a CSI driver whose ControllerExpandVolume leaves the kubelet a node step."""
    cluster.store.create("storage.k8s.io/storageclasses", {
        "metadata": {"name": name}, "provisioner": "csi.example.com", "allowVolumeExpansion": True,
        "volumeBindingMode": "Immediate"}, internal=False)
    return name


def test_filesystem_claim_of_a_node_expanding_driver_waits_for_a_running_pod(cluster):
    claim(cluster, "h", node_expanding_class(cluster))
    grow(cluster, "h", "20Gi")
    cluster.settle()
    pvc = cluster.store.get(PVC, "h", NS)
    assert types(pvc) == ["FileSystemResizePending"] and pvc["status"]["capacity"]["storage"] == "10Gi"
    assert pvc["status"]["allocatedResourceStatuses"] == {"storage": "NodeResizePending"}
    pod(cluster, "mounter", "h")
    pvc = cluster.store.get(PVC, "h", NS)
    assert types(pvc) == [] and pvc["status"]["capacity"]["storage"] == "20Gi"


def test_portworx_filesystem_claim_grows_without_a_pod(cluster):
    # Portworx's ControllerExpandVolume answers NodeExpansionRequired: false.
    claim(cluster, "unmounted", "px-csi-db")
    grow(cluster, "unmounted", "20Gi")
    cluster.settle()
    pvc = cluster.store.get(PVC, "unmounted", NS)
    assert types(pvc) == [] and pvc["status"]["capacity"]["storage"] == "20Gi"
    assert "allocatedResourceStatuses" not in pvc["status"]
    assert pvc["status"]["allocatedResources"] == {"storage": "20Gi"}
    assert pvc["metadata"]["annotations"]["volume.kubernetes.io/node-expansion-not-required"] == "true"


def test_portworx_reports_sizes_rounded_up_to_whole_gib(cluster):
    pvc = claim(cluster, "odd", "px-csi-db", size="1500Mi")
    assert pvc["status"]["capacity"]["storage"] == "2Gi"
    assert cluster.store.get("persistentvolumes", pvc["spec"]["volumeName"])["spec"]["capacity"]["storage"] == "2Gi"
    grow(cluster, "odd", "2500Mi")
    cluster.settle()
    assert cluster.store.get(PVC, "odd", NS)["status"]["capacity"]["storage"] == "3Gi"
    other = claim(cluster, "exact", node_expanding_class(cluster), size="1500Mi")
    assert other["status"]["capacity"]["storage"] == "1500Mi"


def test_resize_fault_reports_a_controller_error(cluster):
    claim(cluster, "i", "px-csi-db", mode="Block")
    cluster.faults.add({"operator": "pvc-resize-fail", "target": f"{NS}/i"})
    grow(cluster, "i", "20Gi")
    cluster.settle()
    pvc = cluster.store.get(PVC, "i", NS)
    # The default fault is openstorage's codes.Internal: a final error, so Resizing stays beside the error and the
    # external-resizer retries with backoff (tests/simulator/test_pvc_resize_recovery.py covers the error classes).
    assert types(pvc) == ["Resizing", "ControllerResizeError"] and pvc["status"]["capacity"]["storage"] == "10Gi"
    assert pvc["status"]["allocatedResourceStatuses"] == {"storage": "ControllerResizeInProgress"}


def test_apiserver_refuses_shrink_and_non_expandable_class(cluster):
    claim(cluster, "j", "px-csi-db")
    with pytest.raises(ApiError) as shrink:
        grow(cluster, "j", "5Gi")
    assert shrink.value.code == 422
    claim(cluster, "k", "stork-snapshot-sc")
    with pytest.raises(ApiError) as fixed:
        grow(cluster, "k", "20Gi")
    assert fixed.value.code == 403


def test_claim_in_use_stays_terminating_until_its_pod_goes_then_its_volume_is_reclaimed(cluster):
    pv_name = claim(cluster, "used", "px-csi-db")["spec"]["volumeName"]
    pod(cluster, "user", "used")
    cluster.store.delete(PVC, "used", NS, internal=False)
    cluster.settle()
    assert cluster.store.get(PVC, "used", NS)["metadata"]["deletionTimestamp"]
    cluster.store.delete("pods", "user", NS, internal=False, grace_period_seconds=0)
    cluster.settle()
    assert cluster.store.get(PVC, "used", NS) is None
    assert cluster.store.get("persistentvolumes", pv_name) is None


def test_retained_volume_is_released_not_deleted(cluster):
    cluster.store.create("storage.k8s.io/storageclasses", {
        "metadata": {"name": "px-retain"}, "provisioner": "pxd.portworx.com", "reclaimPolicy": "Retain",
        "volumeBindingMode": "Immediate", "parameters": {"repl": "2"}}, internal=False)
    pv_name = claim(cluster, "kept", "px-retain")["spec"]["volumeName"]
    cluster.store.delete(PVC, "kept", NS, internal=False)
    cluster.settle()
    assert cluster.store.get(PVC, "kept", NS) is None
    assert cluster.store.get("persistentvolumes", pv_name)["status"]["phase"] == "Released"
