"""A rolling maintenance job cancelled as AAP cancels it, then relaunched: the relaunch reports and converges.

How a cancel reaches the job (ansible-runner 2.4.3, as installed): the controller's cancel callback
(``ansible_runner/utils/__init__.py`` ``signal_handler`` turns the runner's own SIGTERM/SIGINT into
it) makes ``runner.py`` call ``Runner.handle_termination``, which sends SIGKILL to ansible-playbook's
process group. Nothing there can catch it or print a report. ansible-core (2.19) runs each task in a
worker that calls ``os.setsid()`` (``ansible/executor/process/worker.py`` ``_detach``), so the worker
and the module it started are *not* in that process group and outlive the kill; in AAP the job's
execution-environment container ends with the job and takes them along. Outside a container nothing
would, so the module watches the ansible-playbook that ran it (``module_utils/controller_watch.py``):
once it is gone, the module's wait stops before its next poll, as on SIGTERM, and records the
interruption on the node. The test checks that the kill cannot reach the module, then that the module
ends by itself.

The job: ``playbooks/day2_node_maintenance.yml`` through ``ansible_runner.run_async`` with a private
data directory (inventory, extra vars, the K8S_AUTH_* environment of a Bearer Token credential).
The live migration of vm-000 (4 GiB of guest memory) takes about 20 s; the job is cancelled while it
runs. A second campaign is then refused by the cancelled job's lock, and the relaunch of the same
campaign (another run of it) names what the cancelled job left (node, step, campaign, since, the
interruption), takes over the lock the cancelled run left to its campaign and converges.
"""

import json
import os
import signal
import threading

import ansible_runner
from clustersim.testing import eventually

from conftest import REPO_ROOT
from test_aap_runner import private_data_dir

# As in test_maintenance_hardening.py: vm-000 on worker-0 live-migrates.
SIMULATOR_OPTIONS = {"workers": 4, "vms": 4, "durations": {"migration_transfer_per_gib": 5}}
CAMPAIGN = "2026-12-firmware"
JOB_VARS = {"node_maintenance_nodes": ["worker-0"], "node_maintenance_campaign": CAMPAIGN, "node_maintenance_method": "drain",
            "node_maintenance_wait_timeout": 120}
MODULE = "AnsiballZ_node_maintenance.py"


def resource(sim, api_version, kind):
    return sim.client().resources.get(api_version=api_version, kind=kind)


def progress(sim, name):
    node = resource(sim, "v1", "Node").get(name=name).to_dict()
    raw = (node["metadata"].get("annotations") or {}).get("ocpvirt.portworx/maintenance-progress")
    return json.loads(raw) if raw else None


def migrations_of(sim, vmi):
    items = resource(sim, "kubevirt.io/v1", "VirtualMachineInstanceMigration").get(namespace="vms").to_dict()["items"]
    return [m for m in items if m["spec"]["vmiName"] == vmi]


def vmi_node(sim, name):
    vmis = resource(sim, "kubevirt.io/v1", "VirtualMachineInstance").get(namespace="vms").to_dict()["items"]
    return next(((v.get("status") or {}).get("nodeName") for v in vmis if v["metadata"]["name"] == name), None)


def module_processes(remote_tmp):
    """PIDs of the node_maintenance module processes of this job (their AnsiballZ file is in the job's remote tmp)."""
    found = []
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            with open("/proc/{0}/cmdline".format(pid), "rb") as handle:
                argv = handle.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if len(argv) > 1 and argv[1].startswith(remote_tmp) and argv[1].endswith(MODULE):
            found.append(pid)
    return found


def parent_of(pid):
    with open("/proc/{0}/stat".format(pid)) as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[1])


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open("/proc/{0}/stat".format(pid)) as handle:
        return handle.read().rsplit(")", 1)[1].split()[0] != "Z"


def job(root, ident, **kwargs):
    return dict(private_data_dir=str(root), project_dir=REPO_ROOT, playbook="playbooks/day2_node_maintenance.yml", ident=ident,
                quiet=True, rotate_artifacts=0, **kwargs)


def stdout_of(root, ident):
    return open(os.path.join(str(root), "artifacts", ident, "stdout"), encoding="utf-8").read()


def task_results(root, ident, task):
    events = []
    directory = os.path.join(str(root), "artifacts", ident, "job_events")
    for name in sorted(os.listdir(directory)):
        event = json.loads(open(os.path.join(directory, name), encoding="utf-8").read())
        if event["event"] in ("runner_on_ok", "runner_on_failed") and event["event_data"].get("task") == task:
            events.append(event["event_data"]["res"])
    return events


def test_a_cancelled_maintenance_job_is_reported_and_converged_by_its_relaunch(sim, tmp_path, monkeypatch, run_playbook):
    for key in list(os.environ):
        if key.startswith("K8S_AUTH_") or key == "ANSIBLE_CONFIG":
            monkeypatch.delenv(key)
    sim.reset()
    eventually("vm-000 on worker-0", lambda: vmi_node(sim, "vm-000") == "worker-0", timeout=60)
    root = private_data_dir(tmp_path, sim, JOB_VARS)
    remote_tmp = str(tmp_path / "remote-tmp")
    envvars = root / "env" / "envvars"
    envvars.write_text(envvars.read_text() + "ANSIBLE_REMOTE_TMP: {0}\n".format(remote_tmp))

    cancel = threading.Event()
    thread, cancelled = ansible_runner.run_async(**job(root, "cancelled", cancel_callback=cancel.is_set))
    def migrating():
        assert thread.is_alive(), stdout_of(root, "cancelled")[-3000:]
        return any((m.get("status") or {}).get("phase") == "Running" for m in migrations_of(sim, "vm-000"))

    eventually("the migration of vm-000 running", migrating, timeout=90, interval=0.2)
    modules = eventually("the module process", lambda: module_processes(remote_tmp), timeout=30)
    # ansible-runner's SIGKILL goes to ansible-playbook's process group; the module is in its worker's own session.
    sessions = set(os.getsid(pid) for pid in modules)
    playbook_groups = set(os.getpgid(parent_of(session)) for session in sessions)
    assert not sessions & playbook_groups and all(os.getpgid(pid) in sessions for pid in modules), (sessions, playbook_groups)
    cancel.set()
    thread.join(timeout=120)
    assert cancelled.status == "canceled" and cancelled.rc == 254, (cancelled.status, cancelled.rc)
    # Killed, not stopped: the job's output has no result of the module, so it cannot say what was left.
    assert task_results(root, "cancelled", "Put the node into maintenance") == []
    try:
        # No signal reached the module: it found its ansible-playbook gone before its next poll (2 s apart) and stopped.
        eventually("the module processes ending by themselves", lambda: not any(alive(pid) for pid in modules), timeout=30)
    finally:
        for session in sessions:  # whatever is left of the job (its worker), as the end of the job's container would
            try:
                os.killpg(session, signal.SIGKILL)
            except ProcessLookupError:
                pass
    left = progress(sim, "worker-0")
    assert left["campaign"] == CAMPAIGN and left["step"] == "entering", left
    assert left["interrupted"].startswith("the job that ran this module ended (its ansible-playbook, pid "), left

    # Another campaign meanwhile: the cancelled job's lock is still valid, so it is refused and writes nothing.
    other = run_playbook([{"name": "other", "ocpvirt.portworx.node_maintenance": {
        "node": "worker-1", "campaign": "other", "method": "drain"}}])
    assert not other.ok and other.writes == 0, other
    assert "campaign '{0}' (node worker-0) holds the maintenance lock".format(CAMPAIGN) in other.last["msg"]

    relaunch = ansible_runner.run(**job(root, "relaunch"))
    assert relaunch.status == "successful" and relaunch.rc == 0, stdout_of(root, "relaunch")[-3000:]
    told = stdout_of(root, "relaunch")
    said = "Previous run left node worker-0 at step 'entering' since {0} (campaign '{1}', interrupted: {2}); this campaign resumes there".format(
        left["since"], CAMPAIGN, left["interrupted"])
    assert said in " ".join(told.split()), told[-3000:]
    entered = task_results(root, "relaunch", "Put the node into maintenance")[0]
    assert entered["previous_run"] == {"node": "worker-0", "campaign": CAMPAIGN, "step": "entering", "since": left["since"],
                                       "method": "drain", "interrupted": left["interrupted"]}, entered["previous_run"]
    # A relaunch is another run of the campaign (the lock holder is the run, issue #11): it takes over the lock the
    # cancelled run left to its campaign, at once, and says so.
    assert entered["lock"]["action"] == "take over" and entered["lock"]["campaign"] == CAMPAIGN, entered["lock"]
    taken = entered["lock"]["taken_over"]
    assert taken["why"] == "stopped" and taken["campaign"] == CAMPAIGN and taken["run"] != entered["lock"]["run"], taken
    assert "interrupted (the job that ran this module ended" in taken["stopped"], taken
    # Converged: vm-000 moved by the one migration the cancelled job created, the node back, the lock released.
    assert vmi_node(sim, "vm-000") != "worker-0" and len(migrations_of(sim, "vm-000")) == 1
    assert progress(sim, "worker-0")["step"] == "left"
    assert not resource(sim, "v1", "Node").get(name="worker-0").to_dict()["spec"].get("unschedulable")
    lease = resource(sim, "coordination.k8s.io/v1", "Lease").get(namespace="kube-system", name="ocpvirt-portworx-maintenance").to_dict()
    assert not lease["spec"].get("holderIdentity"), lease
