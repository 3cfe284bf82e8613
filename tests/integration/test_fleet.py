"""Day 0 over several clusters at once, each host with its own kubeconfig (no global auth).

One cluster that cannot be reached (its API is down) fails on its own; the others converge and the
recap reports each host. Each host's day-0 fast path acts on its own cluster's verdicts only.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "simulator"))

from clustersim.testing import Simulator  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
SIMULATOR_OPTIONS = {"vms": 2, "durations": {"hco_progressing": 0.05, "registry_rollout": 0.05}}


def fleet_run(tmp_path, hosts):
    """day0.yml on ``hosts`` (``{host: kubeconfig}``) with -f 2 and no global auth: the exit code and the JSON report."""
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"clusters": {"hosts": dict((host, {"k8s_kubeconfig": kubeconfig}) for host, kubeconfig in hosts.items()),
                                                  "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_NOCOLOR="1")
    for key in [k for k in env if k.startswith("K8S_AUTH_")] + ["ANSIBLE_CONFIG"]:
        env.pop(key, None)
    completed = subprocess.run([ANSIBLE_PLAYBOOK, "playbooks/day0.yml", "-i", str(inventory), "-f", "2"],
                               cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert completed.stdout.strip(), completed.stderr[-2000:]
    return completed.returncode, json.loads(completed.stdout)


def host_result(report, host, task_name):
    for play in report["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"].endswith(" : " + task_name) and host in task["hosts"]:
                return task["hosts"][host]
    raise KeyError(task_name)


HCO = "/apis/hco.kubevirt.io/v1beta1/namespaces/openshift-cnv/hyperconvergeds/kubevirt-hyperconverged"


def test_each_cluster_of_a_fleet_skips_only_on_its_own_verdicts(sim, tmp_path):
    sim.reset()
    sim.settle()
    with Simulator(**SIMULATOR_OPTIONS) as other:
        hosts = {"cluster-a": sim.kubeconfig, "cluster-b": other.kubeconfig}
        rc, dummy = fleet_run(tmp_path, hosts)
        assert rc == 0
        # Only cluster-b drifts: its re-run fixes the HyperConverged, cluster-a's skips it as converged.
        other.client().request("patch", HCO, body={"spec": {"liveMigrationConfig": {"parallelMigrationsPerCluster": 9}}},
                               content_type="application/merge-patch+json")
        other.settle()
        rc, report = fleet_run(tmp_path, hosts)
        assert rc == 0
        assert host_result(report, "cluster-a", "Tune the HyperConverged CR for Portworx").get("skipped") is True
        fixed = host_result(report, "cluster-b", "Tune the HyperConverged CR for Portworx")
        assert fixed.get("skipped") is not True and fixed["changed"] is True
        assert other.client().request("get", HCO)["spec"]["liveMigrationConfig"]["parallelMigrationsPerCluster"] == 5
        assert sim.client().request("get", HCO)["spec"]["liveMigrationConfig"]["parallelMigrationsPerCluster"] == 5


def test_day0_on_two_clusters_in_parallel_with_one_down(sim, tmp_path):
    sim.reset()
    sim.settle()
    with Simulator(**SIMULATOR_OPTIONS) as down:
        down_kubeconfig = tmp_path / "down.kubeconfig"
        down_kubeconfig.write_text(open(down.kubeconfig, encoding="utf-8").read())
    # `down` is stopped now: its kubeconfig points at a port nobody listens on.
    hosts = {"cluster-up": {"k8s_kubeconfig": sim.kubeconfig}, "cluster-down": {"k8s_kubeconfig": str(down_kubeconfig)}}
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"clusters": {"hosts": hosts, "vars": {"ansible_connection": "local",
                                                                            "ansible_python_interpreter": sys.executable}}}))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_NOCOLOR="1")
    for key in [k for k in env if k.startswith("K8S_AUTH_")] + ["ANSIBLE_CONFIG"]:
        env.pop(key, None)
    completed = subprocess.run([ANSIBLE_PLAYBOOK, "playbooks/day0.yml", "-i", str(inventory), "-f", "2"],
                               cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
    stats = json.loads(completed.stdout)["stats"]
    assert completed.returncode == 2, completed.stderr[-2000:]
    assert stats["cluster-down"]["failures"] == 1 and stats["cluster-down"]["changed"] == 0
    assert stats["cluster-up"]["failures"] == 0 and stats["cluster-up"]["changed"] > 0
    assert sim.writes() > 0
