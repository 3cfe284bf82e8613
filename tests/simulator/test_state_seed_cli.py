"""State dump/load, reset, the seeded cluster, and the CLI (start/stop/status)."""
import base64
import json
import os
import ssl
import subprocess
import sys

import pytest
import yaml
from kubernetes.dynamic.exceptions import ApiException

from clustersim.quantity import canonical_quantity
from clustersim.testing import PACKAGE_ROOT, Simulator
from api_helpers import raw, resource


# --- seeded cluster ---------------------------------------------------------------------------

def test_cluster_version_and_operators(client):
    version = resource(client, "config.openshift.io/v1", "ClusterVersion").get(name="version")
    assert version.status.desired.version.startswith("4.20.")
    assert version.status.history[0].state == "Completed"
    operators = {co.metadata.name for co in resource(client, "config.openshift.io/v1", "ClusterOperator").get().items}
    assert {"image-registry", "kube-apiserver", "storage"} <= operators


def test_namespaces(client):
    names = {ns.metadata.name for ns in resource(client, "v1", "Namespace").get().items}
    assert {"default", "kube-system", "openshift-cnv", "openshift-image-registry", "openshift-monitoring",
            "openshift-mtv", "openshift-workload-availability", "portworx", "vms"} <= names


def test_nodes_roles_labels_and_capacity(client):
    nodes = resource(client, "v1", "Node").get().items
    masters = [n for n in nodes if "node-role.kubernetes.io/master" in n.metadata.labels.to_dict()]
    workers = [n for n in nodes if "node-role.kubernetes.io/worker" in n.metadata.labels.to_dict()]
    assert len(masters) == 3 and len(workers) == 3  # SIM_WORKERS default
    for node in workers:
        labels = node.metadata.labels.to_dict()
        assert labels["kubevirt.io/schedulable"] == "true"
        assert labels["kubernetes.io/hostname"] == node.metadata.name
        assert any(key.startswith("cpu-vendor.node.kubevirt.io/") for key in labels)
        assert node.status.capacity.cpu and canonical_quantity(node.status.allocatable.memory) == node.status.allocatable.memory
        assert [c.status for c in node.status.conditions if c.type == "Ready"] == ["True"]


def test_portworx_cluster_nodes_and_classes(client):
    cluster = resource(client, "core.libopenstorage.org/v1", "StorageCluster").get(name="px-cluster", namespace="portworx")
    assert cluster.status.version == "3.6.0" and cluster.status.phase == "Online"
    storage_nodes = resource(client, "core.libopenstorage.org/v1", "StorageNode").get(namespace="portworx").items
    assert sorted(n.metadata.name for n in storage_nodes) == ["worker-0", "worker-1", "worker-2"]
    assert {n.status.phase for n in storage_nodes} == {"Online"}
    classes = {c.metadata.name: c for c in resource(client, "storage.k8s.io/v1", "StorageClass").get().items}
    for name in ("px-cdi-scratch", "px-csi-db", "px-csi-db-cloud-snapshot", "px-csi-db-encrypted",
                 "px-csi-db-local-snapshot", "px-csi-replicated", "px-csi-replicated-encrypted",
                 "px-rwx-block-kubvirt", "px-rwx-file-kubvirt", "stork-snapshot-sc"):
        assert name in classes, name
    block = classes["px-rwx-block-kubvirt"]
    assert block.provisioner == "pxd.portworx.com" and block.parameters.repl == "3"
    assert "sharedv4" not in block.parameters.to_dict()
    assert block.volumeBindingMode == "WaitForFirstConsumer" and block.allowVolumeExpansion is True
    assert block.metadata.annotations["storageclass.kubevirt.io/is-default-virt-class"] == "true"
    virt_defaults = [c for c in classes.values()
                     if (c.metadata.annotations or {}).get("storageclass.kubevirt.io/is-default-virt-class") == "true"]
    assert len(virt_defaults) == 1
    assert classes["px-rwx-file-kubvirt"].parameters.sharedv4 == "true"
    scratch = classes["px-cdi-scratch"]
    assert scratch.parameters.repl == "1" and scratch.volumeBindingMode == "Immediate"


def test_virtualization_registry_and_nmo(client):
    hco = resource(client, "hco.kubevirt.io/v1beta1", "HyperConverged").get(name="kubevirt-hyperconverged",
                                                                             namespace="openshift-cnv")
    assert hco.spec.liveMigrationConfig.parallelMigrationsPerCluster == 5
    assert hco.spec.liveMigrationConfig.parallelOutboundMigrationsPerNode == 2
    assert resource(client, "cdi.kubevirt.io/v1beta1", "CDIConfig").get(name="config")
    registry = resource(client, "imageregistry.operator.openshift.io/v1", "Config").get(name="cluster")
    assert registry.spec.managementState == "Removed"
    csvs = resource(client, "operators.coreos.com/v1alpha1", "ClusterServiceVersion").get(
        namespace="openshift-workload-availability").items
    assert [c.status.phase for c in csvs if c.metadata.name.startswith("node-maintenance-operator")] == ["Succeeded"]


def test_vm_mix(client):
    vms = resource(client, "kubevirt.io/v1", "VirtualMachine").get(namespace="vms").items
    assert len(vms) == 4
    strategies = [vm.spec.template.spec.evictionStrategy for vm in vms]
    assert strategies == ["LiveMigrate", "LiveMigrate", "LiveMigrate", "None"]
    pvcs = {p.metadata.name: p for p in resource(client, "v1", "PersistentVolumeClaim").get(namespace="vms").items}
    modes = [pvcs[vm.spec.dataVolumeTemplates[0].metadata.name].spec.accessModes[0] for vm in vms]
    assert modes == ["ReadWriteMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteMany"]
    for vm in vms:
        assert vm.spec.runStrategy == "Always"
        pvc = pvcs[vm.spec.dataVolumeTemplates[0].metadata.name]
        assert pvc.spec.storageClassName == "px-rwx-block-kubvirt" and pvc.status.phase == "Bound"
        assert vm.spec.dataVolumeTemplates[0].metadata.annotations["cdi.kubevirt.io/storage.usePopulator"] == "false"
    hints = {vm.spec.template.metadata.annotations["clustersim.io/node"] for vm in vms}
    assert hints == {"worker-0", "worker-1", "worker-2"}


def test_large_seed_in_process():
    """100 workers and 5,000 VMs seed without operators (their reconcile is theirs to measure)."""
    from clustersim.cluster import Cluster
    from clustersim.config import Config

    cluster = Cluster(Config(workers=100, vms=5000))
    cluster.seed()
    assert cluster.store.count("kubevirt.io/virtualmachines") == 5000
    assert cluster.store.count("nodes") == 103
    assert len(cluster.store.list("persistentvolumeclaims", "vms", label_selector="app=containerized-data-importer",
                                  copy=False)) == 5000


# --- state dump / load / reset ----------------------------------------------------------------

def test_dump_load_and_reset(sim, client):
    cms = resource(client, "v1", "ConfigMap")
    cms.create(namespace="default", body={"metadata": {"name": "state-a"}, "data": {"v": "1"}})
    state = sim.dump()
    assert state["kind"] == "State" and any(o["metadata"]["name"] == "state-a" for o in state["objects"])
    cms.delete(namespace="default", name="state-a")
    cms.create(namespace="default", body={"metadata": {"name": "state-b"}})
    sim.load(state)
    assert cms.get(namespace="default", name="state-a").data.v == "1"
    with pytest.raises(ApiException):
        cms.get(namespace="default", name="state-b")
    sim.reset()
    with pytest.raises(ApiException):
        cms.get(namespace="default", name="state-a")
    assert resource(client, "kubevirt.io/v1", "VirtualMachine").get(namespace="vms", name="vm-000")
    assert sim.requests()["total"] <= 2  # reset also cleared the request log


def test_reset_clears_faults(sim):
    sim.add_fault(verb="get", resource="nodes", code=500)
    sim.reset()
    assert sim.faults() == {"rules": [], "operator": []}


def test_load_state_rejects_unknown_kinds(sim):
    code, body = raw(sim, "PUT", "/_sim/state", {"objects": [{"apiVersion": "x/v1", "kind": "Nope", "metadata": {"name": "a"}}]})
    assert code == 400


def test_state_file_at_start_json_and_yaml(tmp_path):
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}},
               {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-file", "namespace": "default"},
                "data": {"k": "v"}}]
    for path, dump in ((tmp_path / "state.json", json.dumps({"objects": objects})),
                       (tmp_path / "state.yaml", yaml.safe_dump({"objects": objects}))):
        path.write_text(dump)
        with Simulator(state=str(path)) as sim:
            code, body = raw(sim, "GET", "/api/v1/namespaces/default/configmaps/from-file")
            assert code == 200 and body["data"] == {"k": "v"}
            code, _ = raw(sim, "GET", "/api/v1/nodes/worker-0")
            assert code == 404  # the state replaces the profile


def test_empty_profile():
    with Simulator(profile="empty") as sim:
        code, body = raw(sim, "GET", "/api/v1/namespaces")
        assert sorted(n["metadata"]["name"] for n in body["items"]) == ["default", "kube-node-lease", "kube-public", "kube-system"]


def test_status_endpoint(sim):
    status = sim.status()
    assert "core" in status["operators"] and status["objects"]["kubevirt.io/virtualmachines"] == 4
    assert status["operator_errors"] == []


# --- CLI --------------------------------------------------------------------------------------

def cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT)
    return subprocess.run([sys.executable, "-m", "clustersim", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


def test_cli_start_status_stop(tmp_path):
    directory = tmp_path / ".sim"
    started = cli("start", "--dir", str(directory), "--workers", "2", "--vms", "2", cwd=tmp_path)
    try:
        assert started.returncode == 0, started.stderr
        for name in ("kubeconfig", "ca.crt", "pid", "port", "server.log"):
            assert (directory / name).exists(), name
        kubeconfig = yaml.safe_load((directory / "kubeconfig").read_text())
        cluster = kubeconfig["clusters"][0]["cluster"]
        assert cluster["server"] == "https://127.0.0.1:" + (directory / "port").read_text().strip()
        assert base64.b64decode(cluster["certificate-authority-data"]) == (directory / "ca.crt").read_bytes()
        status = cli("status", "--dir", str(directory), cwd=tmp_path)
        assert status.returncode == 0 and "running" in status.stdout
        from kubernetes import config as kube_config
        from kubernetes import client as kube_client

        api = kube_config.new_client_from_config(config_file=str(directory / "kubeconfig"))
        workers = kube_client.CoreV1Api(api).list_node(label_selector="node-role.kubernetes.io/worker").items
        assert len(workers) == 2
        again = cli("start", "--dir", str(directory), cwd=tmp_path)
        assert again.returncode == 0 and "already running" in again.stdout
    finally:
        stopped = cli("stop", "--dir", str(directory), cwd=tmp_path)
    assert stopped.returncode == 0
    assert not (directory / "pid").exists() and not (directory / "ca.crt").exists()
    assert cli("status", "--dir", str(directory), cwd=tmp_path).returncode == 3


def test_cli_serve_with_fixed_token_and_durations(tmp_path):
    import time
    import urllib.request

    ready = tmp_path / "ready.json"
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT)
    process = subprocess.Popen([sys.executable, "-m", "clustersim", "serve", "--port", "0", "--token", "fixed",
                                "--durations", '{"migration_step": 0.01}', "--ready-file", str(ready),
                                "--vms", "1", "--workers", "1"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        info = json.loads(ready.read_text())
        request = urllib.request.Request(info["url"] + "/_sim/status", headers={"Authorization": "Bearer fixed"})
        context = ssl.create_default_context(cadata=info["certificate_authority"])
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            status = json.loads(response.read())
        assert status["config"]["durations"] == {"migration_step": 0.01}
    finally:
        process.terminate()
        process.wait(10)
