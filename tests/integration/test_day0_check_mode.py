"""playbooks/day0.yml --check --diff on a fresh cluster: the whole preview completes and writes nothing.

Later tasks need StorageClasses that earlier tasks would create (vmstate for the HyperConverged
VM-state class); in check mode they plan as if those existed and say so in a warning.
"""

import json
import os
import subprocess

from conftest import ANSIBLE_PLAYBOOK, REPO_ROOT, PlaybookRun

SIMULATOR_OPTIONS = {"vms": 1}


def run_day0(sim, tmp_path):
    env = dict(os.environ)
    env.update(
        K8S_AUTH_KUBECONFIG=sim.kubeconfig,
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
    )
    env.pop("ANSIBLE_CONFIG", None)
    sim.reset_requests()
    command = [ANSIBLE_PLAYBOOK, "playbooks/day0.yml", "-i", "inventory/localhost.yml", "-e", "ocpvirt_target=all", "--check", "--diff"]
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    return PlaybookRun(completed, json.loads(completed.stdout), sim.writes())


def test_day0_check_mode_previews_every_change_on_a_fresh_cluster(sim, tmp_path):
    run = run_day0(sim, tmp_path)
    assert run.ok, run
    assert run.writes == 0 and sim.requests()["dry_run_writes"] > 0
    hco = run.task("ocpvirt.portworx.virtualization : Tune the HyperConverged CR for Portworx")
    assert hco["changed"] is True
    assert hco["diff"]["after"]["vmStateStorageClass"] == "vmstate"
    assert any("StorageClass vmstate" in w and "would exist" in w for w in hco.get("warnings", []))
    classes = run.task("ocpvirt.portworx.portworx_storage : Create or update the Portworx StorageClasses from their presets")
    assert any(item["outcome"] == "created" and item["name"] == "vmstate" for item in classes["results"])
    names = [sc["metadata"]["name"] for sc in sim.client().resources.get(api_version="storage.k8s.io/v1", kind="StorageClass").get().to_dict()["items"]]
    assert "vmstate" not in names
