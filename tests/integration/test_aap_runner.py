"""Day 0 the way the automation controller runs it: through ansible-runner, with a private data dir.

AAP's controller hands a job to ansible-runner: a private data directory with the inventory, the
extra vars (survey answers) and the credentials' injected environment, then reads the artifacts
(status, rc, job events) back. Here the credential is the built-in "OpenShift or Kubernetes API
Bearer Token" type, which injects K8S_AUTH_HOST, K8S_AUTH_API_KEY, K8S_AUTH_VERIFY_SSL and
K8S_AUTH_SSL_CA_CERT; the inventory host carries no auth of its own.
"""

import glob
import json
import os
import sys

import ansible_runner
import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.dirname(sys.executable)
SIMULATOR_OPTIONS = {"vms": 2, "durations": {"hco_progressing": 0.05, "registry_rollout": 0.05}}


def private_data_dir(tmp_path, sim, extra_vars):
    """inventory/, env/extravars and env/envvars as the controller writes them for a job."""
    root = tmp_path / "job"
    (root / "inventory").mkdir(parents=True)
    (root / "env").mkdir()
    inventory = {"clusters": {"hosts": {"ocp-sim": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}
    (root / "inventory" / "hosts.yml").write_text(yaml.safe_dump(inventory))
    (root / "env" / "extravars").write_text(yaml.safe_dump(extra_vars))
    envvars = {
        "K8S_AUTH_HOST": sim.url,
        "K8S_AUTH_API_KEY": sim.token,
        "K8S_AUTH_VERIFY_SSL": "true",
        "K8S_AUTH_SSL_CA_CERT": sim.ca_file,
        "PATH": VENV_BIN + os.pathsep + os.environ.get("PATH", ""),
        "ANSIBLE_NOCOLOR": "1",
    }
    (root / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    return root


def events(root, job):
    return [json.loads(open(path, encoding="utf-8").read())
            for path in sorted(glob.glob(os.path.join(str(root), "artifacts", job, "job_events", "*.json")))]


def run_day0(root, job):
    return ansible_runner.run(private_data_dir=str(root), project_dir=REPO_ROOT, playbook="playbooks/day0.yml", ident=job,
                              quiet=True, rotate_artifacts=0)


def test_day0_through_ansible_runner_with_token_credential_and_survey_vars(sim, tmp_path, monkeypatch):
    # ansible-runner starts ansible-playbook with this process's environment plus env/envvars: nothing
    # of the test's own environment may stand in for the credential.
    for key in list(os.environ):
        if key.startswith("K8S_AUTH_") or key == "ANSIBLE_CONFIG":
            monkeypatch.delenv(key)
    sim.reset()
    sim.settle()
    root = private_data_dir(tmp_path, sim, {"day0_enable_image_registry": True, "portworx_storage_px_security": False})
    first = run_day0(root, "day0-first")
    assert first.status == "successful" and first.rc == 0, first.stdout.read()[-3000:]
    artifacts = os.path.join(str(root), "artifacts", "day0-first")
    assert open(os.path.join(artifacts, "status"), encoding="utf-8").read().strip() == "successful"
    assert open(os.path.join(artifacts, "rc"), encoding="utf-8").read().strip() == "0"

    job_events = events(root, "day0-first")
    stats = [e for e in job_events if e["event"] == "playbook_on_stats"][0]["event_data"]
    assert "ocp-sim" in stats["changed"] and not stats["failures"] and not stats["dark"]
    summary = [e for e in job_events if e["event"] == "runner_on_ok" and e["event_data"]["task"] == "Show what day 0 configured"]
    assert summary, [e["event_data"].get("task") for e in job_events if e["event"] == "runner_on_ok"]
    configured = summary[0]["event_data"]["res"]["msg"]
    assert configured["cluster"] == "ocp-sim" and configured["image_registry"]["state"] == "managed"
    # The injected token never shows up in what the controller stores (job events, stdout).
    stored = open(os.path.join(artifacts, "stdout"), encoding="utf-8").read() + json.dumps(job_events)
    assert sim.token not in stored

    sim.reset_requests()
    again = run_day0(root, "day0-again")
    assert again.status == "successful" and again.rc == 0
    again_stats = [e for e in events(root, "day0-again") if e["event"] == "playbook_on_stats"][0]["event_data"]
    assert again_stats["changed"] == {} and not again_stats["failures"] and sim.writes() == 0
