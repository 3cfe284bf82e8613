"""Day 0 over several clusters at once, each host with its own kubeconfig (no global auth).

One cluster that cannot be reached (its API is down) fails on its own; the others converge and the
recap reports each host.
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
