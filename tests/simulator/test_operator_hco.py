"""The simulated HyperConverged operator and CDI config controller (simulator/clustersim/operators/hco.py)."""
import pytest

from clustersim.cluster import build_cluster
from clustersim.config import Config
from clustersim.errors import ApiError

HCO = "hco.kubevirt.io/hyperconvergeds"
NS = "openshift-cnv"
NAME = "kubevirt-hyperconverged"


@pytest.fixture
def cluster():
    c = build_cluster(Config(durations={"hco_progressing": 0.05}))
    c.settle()
    yield c
    c.stop()


def conditions(obj):
    return dict((c["type"], (c["status"], c["reason"])) for c in obj["status"]["conditions"])


def patch_hco(cluster, spec, dry_run=False):
    return cluster.store.patch(HCO, NAME, {"spec": spec}, NS, internal=False, dry_run=dry_run)


def stored_states(cluster, change):
    """Every state of the HyperConverged the store commits from ``change()`` until the operators
    settle, from the watch hub (gap-free, where polling can miss a state that lasts 0.05 s)."""
    with cluster.lock:
        watcher = cluster.watch.subscribe(HCO, NS, lambda obj: obj["metadata"]["name"] == NAME)
    try:
        result = change()
        assert cluster.settle()
    finally:
        watcher.stop()
    states = []
    while not watcher.queue.empty():
        item = watcher.queue.get()
        if isinstance(item, tuple) and item[0] in ("ADDED", "MODIFIED"):
            states.append(item[1])
    return result, states


def test_spec_change_progresses_then_settles_and_reaches_cdi_and_kubevirt(cluster):
    written, states = stored_states(cluster, lambda: patch_hco(cluster, {
        "scratchSpaceStorageClass": "px-cdi-scratch", "filesystemOverhead": {"global": "0.08"},
        "liveMigrationConfig": {"parallelMigrationsPerCluster": 3}, "evictionStrategy": "LiveMigrate"}))
    generation = written["metadata"]["generation"]
    # the operator reacts on its controller thread: the first state with this generation observed
    stamped = [hco for hco in states if hco["status"].get("observedGeneration") == generation]
    assert stamped and conditions(stamped[0])["Progressing"] == ("True", "CDIProgressing")
    hco = cluster.store.get(HCO, NAME, NS)
    assert conditions(hco) == {
        "ReconcileComplete": ("True", "ReconcileCompleted"), "Available": ("True", "ReconcileCompleted"),
        "Progressing": ("False", "ReconcileCompleted"), "Degraded": ("False", "ReconcileCompleted"),
        "Upgradeable": ("True", "ReconcileCompleted")}
    config = cluster.store.get("cdi.kubevirt.io/cdiconfigs", "config")
    assert config["spec"]["scratchSpaceStorageClass"] == "px-cdi-scratch"
    assert config["status"]["scratchSpaceStorageClass"] == "px-cdi-scratch"
    assert config["status"]["filesystemOverhead"]["global"] == "0.08"
    assert config["status"]["filesystemOverhead"]["storageClass"]["px-csi-db"] == "0.08"
    cdi = cluster.store.get("cdi.kubevirt.io/cdis", "cdi-kubevirt-hyperconverged")
    assert cdi["spec"]["config"]["filesystemOverhead"] == {"global": "0.08"}
    assert cdi["spec"]["config"]["featureGates"] == ["HonorWaitForFirstConsumer"]
    kv = cluster.store.get("kubevirt.io/kubevirts", "kubevirt-kubevirt-hyperconverged", NS)
    assert kv["spec"]["configuration"]["migrations"]["parallelMigrationsPerCluster"] == 3
    assert kv["spec"]["configuration"]["evictionStrategy"] == "LiveMigrate"


def test_per_class_overhead_only_for_existing_classes_and_follows_new_classes(cluster):
    patch_hco(cluster, {"filesystemOverhead": {"global": "0.08", "storageClass": {"px-cdi-scratch": "0.1", "later": "0.2"}}})
    cluster.settle()
    status = cluster.store.get("cdi.kubevirt.io/cdiconfigs", "config")["status"]["filesystemOverhead"]
    assert status["storageClass"]["px-cdi-scratch"] == "0.1"
    assert "later" not in status["storageClass"]
    cluster.store.create("storage.k8s.io/storageclasses", {"metadata": {"name": "later"}, "provisioner": "pxd.portworx.com"})
    cluster.settle()
    status = cluster.store.get("cdi.kubevirt.io/cdiconfigs", "config")["status"]["filesystemOverhead"]
    assert status["storageClass"]["later"] == "0.2"


def test_missing_scratch_class_falls_back_to_the_default_class(cluster):
    cluster.store.patch("storage.k8s.io/storageclasses", "px-csi-db",
                        {"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}})
    patch_hco(cluster, {"scratchSpaceStorageClass": "does-not-exist"})
    cluster.settle()
    config = cluster.store.get("cdi.kubevirt.io/cdiconfigs", "config")
    assert config["spec"]["scratchSpaceStorageClass"] == "does-not-exist"
    assert config["status"]["scratchSpaceStorageClass"] == "px-csi-db"
    assert conditions(cluster.store.get(HCO, NAME, NS))["Degraded"][0] == "False"


@pytest.mark.parametrize("spec, field", [
    ({"filesystemOverhead": {"global": "abc"}}, "spec.filesystemOverhead.global"),
    ({"filesystemOverhead": {"global": "0.0801"}}, "spec.filesystemOverhead.global"),
    ({"filesystemOverhead": {"storageClass": {"x": "2"}}}, "spec.filesystemOverhead.storageClass.x"),
    ({"liveMigrationConfig": {"bandwidthPerMigration": "fast"}}, "spec.liveMigrationConfig.bandwidthPerMigration"),
    ({"evictionStrategy": "Sometimes"}, "spec.evictionStrategy"),
])
def test_schema_violations_are_rejected_with_422(cluster, spec, field):
    with pytest.raises(ApiError) as raised:
        patch_hco(cluster, spec)
    assert raised.value.code == 422
    assert field in str(raised.value)


def test_dry_run_changes_nothing(cluster):
    before = cluster.store.get(HCO, NAME, NS)
    patch_hco(cluster, {"scratchSpaceStorageClass": "px-cdi-scratch"}, dry_run=True)
    cluster.settle()
    assert cluster.store.get(HCO, NAME, NS)["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


def test_operand_fault_degrades_the_next_reconcile(cluster):
    cluster.faults.arm("hco-operand-degraded", "{0}/{1}".format(NS, NAME), message="import pods failing")
    patch_hco(cluster, {"filesystemOverhead": {"global": "0.08"}})
    cluster.settle()
    conds = conditions(cluster.store.get(HCO, NAME, NS))
    assert conds["Degraded"] == ("True", "CDIDegraded")
    assert conds["Available"][0] == "False"
