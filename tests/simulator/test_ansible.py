"""kubernetes.core modules through a real ansible-playbook run against the simulator."""
import json
import os
import subprocess
import sys

import pytest
import yaml

from clustersim.testing import Simulator

ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


@pytest.fixture(scope="module")
def sim():
    with Simulator(vms=2) as simulator:
        yield simulator


def run_playbook(sim, tmp_path, tasks, check=False):
    playbook = [{"hosts": "localhost", "gather_facts": False, "connection": "local",
                 "module_defaults": {"group/kubernetes.core.k8s": {"kubeconfig": sim.kubeconfig}},
                 "tasks": tasks}]
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump(playbook))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", 
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
               ANSIBLE_HOME=str(tmp_path / "home"))
    command = [ANSIBLE_PLAYBOOK, "-i", "localhost,", str(path)] + (["--check"] if check else [])
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300,
                               cwd=tmp_path)  # not the repo: its ansible.cfg is not under test here
    try:
        report = json.loads(completed.stdout)
    except ValueError:
        pytest.fail(f"ansible-playbook output is not JSON (rc {completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    results = [task["hosts"]["localhost"] for play in report["plays"] for task in play["tasks"]]
    return completed.returncode, results


def test_k8s_info_lists_seeded_objects(sim, tmp_path):
    rc, results = run_playbook(sim, tmp_path, [
        {"name": "storage classes", "kubernetes.core.k8s_info": {"api_version": "storage.k8s.io/v1", "kind": "StorageClass"},
         "register": "classes"},
        {"name": "vms", "kubernetes.core.k8s_info": {"api_version": "kubevirt.io/v1", "kind": "VirtualMachine",
                                                     "namespace": "vms", "label_selectors": ["app=vm-00"]}},
        {"name": "one node", "kubernetes.core.k8s_info": {"kind": "Node", "name": "worker-0"}},
        {"name": "pods on a node", "kubernetes.core.k8s_info": {"kind": "Pod", "field_selectors": ["spec.nodeName=worker-0"]}},
    ])
    assert rc == 0, results
    names = {r["metadata"]["name"] for r in results[0]["resources"]}
    assert "px-rwx-block-kubvirt" in names
    assert results[1]["resources"] == []
    assert results[2]["resources"][0]["metadata"]["name"] == "worker-0"
    assert sim.requests()["writes"] == 0


def test_k8s_create_is_idempotent_and_check_mode_writes_nothing(sim, tmp_path):
    task = {"name": "configmap", "kubernetes.core.k8s": {
        "state": "present", "definition": {"apiVersion": "v1", "kind": "ConfigMap",
                                           "metadata": {"name": "from-ansible", "namespace": "default"},
                                           "data": {"key": "value"}}}}
    sim.reset_requests()
    rc, results = run_playbook(sim, tmp_path, [task], check=True)
    assert rc == 0 and results[0]["changed"] is True
    assert sim.writes() == 0

    rc, results = run_playbook(sim, tmp_path, [task])
    assert rc == 0 and results[0]["changed"] is True
    assert sim.writes() == 1

    sim.reset_requests()
    path = "/api/v1/namespaces/default/configmaps/from-ansible"
    before = sim.request("GET", path)["metadata"]["resourceVersion"]
    rc, results = run_playbook(sim, tmp_path, [task])
    assert rc == 0 and results[0]["changed"] is False
    # kubernetes.core.k8s sends its (no-op) patch even when nothing differs: a write request that
    # changes nothing, exactly what a real apiserver sees.  (The cluster-wide resourceVersion moves
    # meanwhile, as on a real cluster: the kubelets renew their node Leases.)
    assert sim.writes() == 1 and sim.changing_writes() == 0
    assert sim.request("GET", path)["metadata"]["resourceVersion"] == before


def test_k8s_patches_a_custom_resource_falling_back_from_strategic_merge(sim, tmp_path):
    rc, results = run_playbook(sim, tmp_path, [
        {"name": "label a VM", "kubernetes.core.k8s": {
            "state": "present", "definition": {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                                               "metadata": {"name": "vm-000", "namespace": "vms",
                                                            "labels": {"team": "storage"}}}}},
    ])
    assert rc == 0 and results[0]["changed"] is True
    assert results[0]["result"]["metadata"]["labels"]["team"] == "storage"
    counts = sim.requests()["by_code"]
    assert counts.get("415", 0) >= 1  # strategic merge refused for the CR, then merge patch


def test_k8s_reports_admission_errors(sim, tmp_path):
    rc, results = run_playbook(sim, tmp_path, [
        {"name": "change an immutable StorageClass field", "kubernetes.core.k8s": {
            "state": "present", "definition": {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                                               "metadata": {"name": "px-csi-db"}, "provisioner": "pxd.portworx.com",
                                               "parameters": {"repl": "1"}}}},
    ])
    assert rc != 0
    assert results[0]["failed"] is True and "updates to parameters are forbidden" in results[0]["msg"]
