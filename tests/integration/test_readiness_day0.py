"""A cluster configured by playbooks/day0.yml passes the readiness audit with no critical finding.

What is left after day 0 is what day 0 does not touch: the seeded VMs (one without eviction
strategy, one RWO disk), the SSP-managed common template without usePopulator "false", and the
storage checkup that has not run.
"""

import os
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

SIMULATOR_OPTIONS = {"vms": 4}
LEFT_AFTER_DAY0 = {"R4", "R7", "R8", "STORAGE-CHECKUP"}


def run_day0(sim, tmp_path):
    env = dict(os.environ, K8S_AUTH_KUBECONFIG=sim.kubeconfig, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    env.pop("ANSIBLE_CONFIG", None)
    return subprocess.run([ANSIBLE_PLAYBOOK, "playbooks/day0.yml"], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=900)


def test_day0_cluster_scores_without_critical_findings(sim, run_playbook, tmp_path):
    day0 = run_day0(sim, tmp_path)
    assert day0.returncode == 0, day0.stdout[-4000:] + day0.stderr[-2000:]
    sim.settle()
    run = run_playbook([{"name": "audit", "ocpvirt.portworx.readiness_info": {}}])
    assert run.ok, run
    result = run.last
    assert result["summary"]["critical"] == 0
    assert set(f["rule"] for f in result["findings"]) == LEFT_AFTER_DAY0
    assert result["scores"]["portworx"] == 100 and result["scores"]["platform"] == 100
    assert result["scores"]["storage"] > 90  # only the storage checkup (info) is left
