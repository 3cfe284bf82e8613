"""The storage, CDI, HCO, image registry and Portworx controllers in-process, without a server:
how they are registered, and how they reach each other through ``cluster.controller(name)``."""
import ast
import os

import pytest

from clustersim.cluster import Cluster
from clustersim.config import Config
from clustersim.operators import install_controllers
from clustersim.operators.hco import CdiConfigController, HyperConvergedController, settled_conditions
from clustersim.operators.storage import SELECTED_NODE, StorageController, bind_for_consumer

PVC = "persistentvolumeclaims"
SC = "storage.k8s.io/storageclasses"
NS = "apps"
SIMULATOR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "simulator")
OWNED_MODULES = ["operators/storage.py", "operators/cdi.py", "operators/datavolume.py", "operators/hco.py",
                 "operators/image_registry.py", "operators/portworx.py", "seed.py"]


def bare_cluster(*controllers):
    """A cluster with only ``controllers`` installed, a namespace, a worker and a WaitForFirstConsumer class."""
    cluster = Cluster(Config())
    install_controllers(cluster, list(controllers))
    cluster.start()
    cluster.store.create("namespaces", {"metadata": {"name": NS}})
    cluster.store.create("nodes", {"metadata": {"name": "worker-7", "labels": {"node-role.kubernetes.io/worker": ""}}})
    cluster.store.create(SC, {"metadata": {"name": "later"}, "provisioner": "pxd.portworx.com",
                              "volumeBindingMode": "WaitForFirstConsumer", "parameters": {"repl": "2"}})
    return cluster


def waiting_claim(cluster, name="disk"):
    cluster.store.create(PVC, {"metadata": {"name": name, "namespace": NS}, "spec": {
        "accessModes": ["ReadWriteOnce"], "storageClassName": "later", "resources": {"requests": {"storage": "1Gi"}}}},
        internal=False)
    assert cluster.settle()
    return cluster.store.get(PVC, name, NS)


@pytest.fixture
def loaded():
    cluster = Cluster(Config())
    cluster.load_operators()
    yield cluster
    cluster.stop()


def test_every_operator_registers_its_controllers_and_patches_nothing_onto_the_cluster(loaded):
    assert loaded.operator_errors == []
    for name in ("storage", "cdi", "datavolume", "hco", "cdi-config", "image_registry", "monitoring", "portworx"):
        assert loaded.has_controller(name), name
    assert not {"storage_controllers", "cdi_storage"} & set(vars(loaded))


def test_bind_for_consumer_does_nothing_without_the_storage_controller():
    cluster = bare_cluster()
    try:
        waiting_claim(cluster)
        with cluster.lock:
            bind_for_consumer(cluster, NS, "disk", "worker-7")
        assert cluster.settle()
        pvc = cluster.store.get(PVC, "disk", NS)
        assert pvc["status"].get("phase") in (None, "Pending") and not pvc["spec"].get("volumeName")
    finally:
        cluster.stop()


def test_bind_for_consumer_binds_a_waiting_claim_on_a_worker_when_no_node_is_named():
    cluster = bare_cluster(StorageController)
    try:
        assert waiting_claim(cluster)["status"].get("phase") in (None, "Pending")
        with cluster.lock:
            bind_for_consumer(cluster, NS, "disk")
        assert cluster.settle()
        pvc = cluster.store.get(PVC, "disk", NS)
        assert pvc["status"]["phase"] == "Bound"
        assert pvc["metadata"]["annotations"][SELECTED_NODE] == "worker-7"
        assert cluster.store.get("persistentvolumes", pvc["spec"]["volumeName"])["spec"]["storageClassName"] == "later"
    finally:
        cluster.stop()


def test_storage_class_of_names_the_claims_class_or_none():
    cluster = bare_cluster(StorageController)
    try:
        storage = cluster.controller("storage")
        assert storage.storage_class_of(waiting_claim(cluster))["metadata"]["name"] == "later"
        assert storage.storage_class_of({"spec": {"storageClassName": "missing"}}) is None
        assert storage.storage_class_of({"spec": {}}) is None
    finally:
        cluster.stop()


def test_hco_settles_and_cdi_config_follows_through_the_registry():
    cluster = bare_cluster(HyperConvergedController, CdiConfigController)
    try:
        cluster.store.create("namespaces", {"metadata": {"name": "openshift-cnv"}})
        cluster.store.create("hco.kubevirt.io/hyperconvergeds", {
            "metadata": {"name": "kubevirt-hyperconverged", "namespace": "openshift-cnv"},
            "spec": {"filesystemOverhead": {"global": "0.1"}}})
        assert cluster.settle()
        config = cluster.store.get("cdi.kubevirt.io/cdiconfigs", "config")
        assert config["status"]["filesystemOverhead"] == {"global": "0.1", "storageClass": {"later": "0.1"}}
        hco = cluster.store.get("hco.kubevirt.io/hyperconvergeds", "kubevirt-hyperconverged", "openshift-cnv")
        assert {c["type"]: c["status"] for c in hco["status"]["conditions"]}["Available"] == "True"
    finally:
        cluster.stop()


def test_settled_conditions_report_an_armed_operand_fault():
    healthy = {c["type"]: (c["status"], c["reason"]) for c in settled_conditions(None)}
    assert healthy["Degraded"] == ("False", "ReconcileCompleted") and healthy["Upgradeable"][0] == "True"
    degraded = {c["type"]: c for c in settled_conditions({"message": "importer failing"})}
    assert (degraded["Degraded"]["status"], degraded["Degraded"]["reason"]) == ("True", "CDIDegraded")
    assert degraded["Available"]["status"] == "False" and "importer failing" in degraded["Available"]["message"]


@pytest.mark.parametrize("module", OWNED_MODULES)
def test_no_function_is_longer_than_80_lines(module):
    with open(os.path.join(SIMULATOR, "clustersim", module), encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    long = [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 80]
    assert long == []


# --------------------------------------------------------------------------- the Portworx CSI volume context
def test_rwx_filesystem_claim_becomes_a_sharedv4_volume_and_rwo_is_not_shared():
    from clustersim.operators._csi_drivers import volume_attributes

    rwx = volume_attributes("pxd.portworx.com", "id", {"repl": "3"}, ["ReadWriteMany"], "Filesystem")
    assert (rwx["sharedv4"], rwx["shared"]) == ("true", "false")
    assert rwx["storage.kubernetes.io/csiProvisionerIdentity"] == "id" and "repl" not in rwx
    # resolveSharedSpec sets sharedv4 from the access mode, even on a sharedv4 class
    rwo = volume_attributes("pxd.portworx.com", "id", {"sharedv4": "true", "secure": "true"}, ["ReadWriteOnce"], "Filesystem")
    assert (rwo["sharedv4"], rwo["secure"]) == ("false", "true")
    legacy = volume_attributes("pxd.portworx.com", "id", {"shared": "true"}, ["ReadWriteMany"], "Filesystem")
    assert (legacy["shared"], legacy["sharedv4"]) == ("true", "false")
    pure = volume_attributes("pxd.portworx.com", "id", {"backend": "pure_file"}, ["ReadWriteMany"], "Filesystem")
    assert pure["sharedv4"] == "false"
    block = volume_attributes("pxd.portworx.com", "id", {"repl": "3"}, ["ReadWriteMany"], "Block")
    assert block["sharedv4"] == "false"  # RWX Block is Portworx Enterprise's own (non-public) path
    other = volume_attributes("csi.example.com", "id", {"tier": "gold"}, ["ReadWriteMany"], "Filesystem")
    assert other == {"storage.kubernetes.io/csiProvisionerIdentity": "id", "tier": "gold"}


def test_provisioned_rwx_filesystem_volume_carries_the_portworx_context():
    cluster = bare_cluster(StorageController)
    try:
        cluster.store.create(PVC, {"metadata": {"name": "shared", "namespace": NS}, "spec": {
            "accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem", "storageClassName": "later",
            "resources": {"requests": {"storage": "1Gi"}}}}, internal=False)
        assert cluster.settle()
        with cluster.lock:
            bind_for_consumer(cluster, NS, "shared", "worker-7")
        assert cluster.settle()
        pv_name = cluster.store.get(PVC, "shared", NS)["spec"]["volumeName"]
        attributes = cluster.store.get("persistentvolumes", pv_name)["spec"]["csi"]["volumeAttributes"]
        assert attributes["sharedv4"] == "true" and attributes["state"] == "VOLUME_STATE_DETACHED"
        assert attributes["storage.kubernetes.io/csiProvisionerIdentity"].endswith("-pxd.portworx.com")
    finally:
        cluster.stop()
