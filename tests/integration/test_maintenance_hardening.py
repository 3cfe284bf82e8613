"""Node maintenance that cannot take two nodes down, touches only what it created, and says what it left.

Real ``ansible-playbook`` runs (the module and the node_maintenance role) against the simulator:
the campaign lock Lease, control-plane and etcd-quorum refusals, someone else's NodeMaintenance
or cordon, two campaigns started together, a SIGKILLed and a SIGTERMed run, a re-run after a
failure while leaving, and a migration that always fails. Seed: 4 workers, 4 VMs; vm-000 on
worker-0 and vm-001 on worker-1 live-migrate (vm-002 on worker-2 has an RWO disk, vm-003 on
worker-3 no eviction strategy); masters master-0..2.
"""

import calendar
import json
import os
import signal
import subprocess
import time

import pytest
import yaml
from clustersim.testing import eventually

from conftest import ANSIBLE_PLAYBOOK, REPO_ROOT, PlaybookRun, run_playbook_file

SIMULATOR_OPTIONS = {"workers": 4, "vms": 4}
FAST = {"wait_sleep": 0.2}
NM_API = "nodemaintenance.medik8s.io/v1beta1"
LOCK = ("kube-system", "ocpvirt-portworx-maintenance")
PROGRESS = "ocpvirt.portworx/maintenance-progress"


def api(sim, api_version, kind):
    return sim.client().resources.get(api_version=api_version, kind=kind)


def node(sim, name):
    return api(sim, "v1", "Node").get(name=name).to_dict()


def unschedulable_workers(sim):
    return sorted(n["metadata"]["name"] for n in api(sim, "v1", "Node").get().to_dict()["items"]
                  if n["metadata"]["name"].startswith("worker-") and n["spec"].get("unschedulable"))


def node_maintenances(sim):
    return api(sim, NM_API, "NodeMaintenance").get().to_dict()["items"]


def progress(sim, name):
    raw = (node(sim, name)["metadata"].get("annotations") or {}).get(PROGRESS)
    return json.loads(raw) if raw else None


def cordon_by_hand(sim, name):
    api(sim, "v1", "Node").patch(name=name, body={"spec": {"unschedulable": True}}, content_type="application/merge-patch+json")


def vmi_node(sim, name):
    vmis = api(sim, "kubevirt.io/v1", "VirtualMachineInstance").get(namespace="vms").to_dict()["items"]
    return next((v.get("status", {}).get("nodeName") for v in vmis if v["metadata"]["name"] == name), None)


@pytest.fixture(autouse=True)
def fresh_cluster(sim):
    sim.reset()
    eventually("the seeded VMIs", lambda: vmi_node(sim, "vm-000") == "worker-0" and vmi_node(sim, "vm-001") == "worker-1")
    yield
    sim.clear_faults()


class Playbooks(object):
    """Start ``ansible-playbook`` runs as the harness does, several at once if need be, each in its own session."""

    def __init__(self, sim, tmp_path):
        self.sim = sim
        self.tmp_path = tmp_path
        self.count = 0

    def start(self, tasks):
        self.count += 1
        playbook = self.tmp_path / "playbook-{0}.yml".format(self.count)
        play = {"name": "hardening", "hosts": "localhost", "gather_facts": False,
                "module_defaults": {"ocpvirt.portworx.node_maintenance": FAST}, "tasks": tasks}
        playbook.write_text(yaml.safe_dump([play], sort_keys=False))
        env = dict(os.environ, K8S_AUTH_KUBECONFIG=self.sim.kubeconfig, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
                   ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCAL_TEMP=str(self.tmp_path / "ansible-tmp-{0}".format(self.count)))
        env.pop("ANSIBLE_CONFIG", None)
        # Output goes to files: a pipe nobody reads while the run goes on would fill up and stall it.
        out = open(str(self.tmp_path / "run-{0}.out".format(self.count)), "w+")
        err = open(str(self.tmp_path / "run-{0}.err".format(self.count)), "w+")
        process = subprocess.Popen([ANSIBLE_PLAYBOOK, str(playbook)], cwd=REPO_ROOT, env=env, stdout=out, stderr=err,
                                   text=True, start_new_session=True)
        process.outputs = (out, err)
        return process

    def finish(self, process):
        process.wait(timeout=600)
        stdout, stderr = [self.read(handle) for handle in process.outputs]
        completed = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        try:
            report = json.loads(stdout)
        except ValueError:
            report = {}
        return PlaybookRun(completed, report, None)

    @staticmethod
    def read(handle):
        handle.seek(0)
        text = handle.read()
        handle.close()
        return text

    def run(self, tasks):
        return self.finish(self.start(tasks))


@pytest.fixture
def playbooks(sim, tmp_path):
    return Playbooks(sim, tmp_path)


def module(**args):
    return {"name": "maintenance", "ocpvirt.portworx.node_maintenance": args}


def campaign(name, nodes, **role_vars):
    role_vars.update(node_maintenance_campaign=name, node_maintenance_nodes=nodes, node_maintenance_wait_timeout=60)
    return {"name": "campaign", "ansible.builtin.include_role": {"name": "ocpvirt.portworx.node_maintenance"}, "vars": role_vars}


def node_tasks(tmp_path, *tasks):
    path = tmp_path / "node_tasks.yml"
    path.write_text(yaml.safe_dump(list(tasks), sort_keys=False))
    return str(path)


def marker_task(marker):
    return {"name": "firmware (marker)", "ansible.builtin.lineinfile": {
        "path": str(marker), "line": "{{ node_maintenance_node }} {{ 99999999 | random }}", "create": True, "mode": "0644"}}


def role_task(run, name):
    """The result of the role's task ``name`` (the callback prefixes it with the role's name)."""
    return next(r for r in run.results if r["_task"].endswith(" : " + name))


def failed_result(run):
    return next(r for r in reversed(run.results) if r.get("failed"))


# --- control plane ----------------------------------------------------------------------------

def test_control_plane_node_is_refused_and_never_below_etcd_quorum(sim, playbooks):
    refused = playbooks.run([module(node="master-0", method="drain")])
    assert not refused.ok and refused.last["reason"] == "Refused", refused
    assert "master-0: is a control-plane node" in refused.last["msg"] and "allow_control_plane=true" in refused.last["msg"]
    assert not node(sim, "master-0")["spec"].get("unschedulable")

    cordon_by_hand(sim, "master-1")
    below = playbooks.run([module(node="master-0", method="drain", allow_control_plane=True)])
    assert not below.ok and "below the etcd quorum of 2" in below.last["msg"], below
    assert not node(sim, "master-0")["spec"].get("unschedulable")


# --- someone else's NodeMaintenance and cordon --------------------------------------------------

def test_someone_elses_node_maintenance_is_never_taken_over_unless_adopted(sim, playbooks):
    api(sim, NM_API, "NodeMaintenance").create(body={"apiVersion": NM_API, "kind": "NodeMaintenance", "metadata": {"name": "dimm"},
                                                     "spec": {"nodeName": "worker-1", "reason": "DIMM failure - keep out of service"}})
    eventually("worker-1 cordoned by the operator", lambda: node(sim, "worker-1")["spec"].get("unschedulable"))
    rolling = playbooks.run([campaign("fw-1", ["worker-1"])])
    assert not rolling.ok, rolling
    failed = failed_result(rolling)
    assert "NodeMaintenance dimm: was not created by campaign 'fw-1'" in failed["msg"] and "adopt=true" in failed["msg"], failed
    leaving = playbooks.run([module(node="worker-1", state="absent", campaign="fw-1")])
    assert not leaving.ok and leaving.last["reason"] == "Refused", leaving
    assert [nm["metadata"]["name"] for nm in node_maintenances(sim)] == ["dimm"]
    assert node(sim, "worker-1")["spec"].get("unschedulable")

    adopted = playbooks.run([module(node="worker-1", campaign="fw-1", adopt=True)])
    assert adopted.ok, adopted
    assert adopted.last["adopted"] == ["NodeMaintenance dimm (reason: DIMM failure - keep out of service)"]
    assert adopted.last["overrides_used"] == ["adopt"] and adopted.last["node_maintenance"] == "dimm"


def test_a_hand_set_cordon_is_not_undone_unless_adopted(sim, playbooks):
    cordon_by_hand(sim, "worker-2")
    leaving = playbooks.run([module(node="worker-2", state="absent")])
    assert not leaving.ok and "already cordoned by someone else" in leaving.last["msg"], leaving
    assert node(sim, "worker-2")["spec"].get("unschedulable")
    adopted = playbooks.run([module(node="worker-2", state="absent", adopt=True)])
    assert adopted.ok and adopted.last["adopted"] == ["Node worker-2"] and adopted.last["cordoned"] is False, adopted


# --- a refusal writes nothing -----------------------------------------------------------------

def lock_requests(requests):
    """The request log's calls on Leases, by verb (the lock is the one Lease the module reads and writes)."""
    return dict((key.split(" ", 1)[0], n) for key, n in requests["by_verb_resource"].items()
                if key.endswith("coordination.k8s.io/leases"))


def hold_lock_by_hand(sim, holder, node_name):
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    api(sim, "coordination.k8s.io/v1", "Lease").create(namespace=LOCK[0], body={
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": LOCK[1], "namespace": LOCK[0],
                     "annotations": {"ocpvirt.portworx/campaign": holder, "ocpvirt.portworx/node": node_name}},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 600, "acquireTime": stamp, "renewTime": stamp}})


REFUSED_AT_PREFLIGHT = [
    # (task args, words of the refusal)
    (dict(node="master-0", method="drain"), "master-0: is a control-plane node"),
    (dict(node="master-0", method="drain", allow_control_plane=True), "below the etcd quorum of 2"),
    (dict(node="worker-2", method="drain"), "already cordoned by someone else"),
    (dict(node="worker-0", method="drain"), "other node(s) already cordoned or in maintenance (master-1, worker-2)"),
    (dict(node="worker-3", method="drain", allow_insufficient_room=True), "would be shut down"),
    (dict(node="worker-2", state="absent"), "already cordoned by someone else"),
]


def test_every_refusal_at_preflight_writes_nothing_not_even_the_lock(sim, playbooks):
    cordon_by_hand(sim, "worker-2")
    cordon_by_hand(sim, "master-1")
    sim.reset_requests()
    tasks = [dict(module(**args), ignore_errors=True) for args, _words in REFUSED_AT_PREFLIGHT]
    run = playbooks.run(tasks)
    requests = sim.requests()
    assert len(run.results) == len(REFUSED_AT_PREFLIGHT), run
    for result, (args, words) in zip(run.results, REFUSED_AT_PREFLIGHT):
        assert result.get("failed") and result["reason"] == "Refused" and words in result["msg"], (args, result.get("msg"))
    # The Lease is read (to refuse while another campaign holds it), never created, updated or released.
    assert requests["writes"] == 0 and requests["dry_run_writes"] == 0, requests["by_verb_resource"]
    assert lock_requests(requests) == {"get": len(REFUSED_AT_PREFLIGHT) - 1}, lock_requests(requests)
    assert node(sim, "master-0")["spec"].get("unschedulable") is None


def test_a_lock_held_by_another_campaign_refuses_naming_it_without_a_write(sim, playbooks):
    hold_lock_by_hand(sim, "2026-12-bios", "worker-3")
    sim.reset_requests()
    run = playbooks.run([module(node="worker-0", campaign="fw", method="drain")])
    requests = sim.requests()
    assert not run.ok and run.last["reason"] == "Refused", run
    assert "one maintenance campaign at a time: campaign '2026-12-bios' (node worker-3) holds the maintenance lock" in run.last["msg"]
    assert run.last["lock_holder"]["campaign"] == "2026-12-bios"
    assert requests["writes"] == 0 and lock_requests(requests) == {"get": 1}, requests["by_verb_resource"]
    assert lease(sim)["spec"]["holderIdentity"] == "2026-12-bios" and unschedulable_workers(sim) == []


def test_a_campaign_refused_at_preflight_by_the_playbook_writes_nothing(sim, tmp_path):
    cordon_by_hand(sim, "worker-2")
    extra = {"node_maintenance_nodes": ["worker-0", "worker-1"], "node_maintenance_campaign": "fw",
             "node_maintenance_method": "drain", "node_maintenance_wait_timeout": 60}
    run = run_playbook_file(sim, tmp_path, "playbooks/day2_node_maintenance.yml",
                            ["-e", "ocpvirt_target=localhost", "-e", json.dumps(extra)])
    requests = sim.requests()
    assert not run.ok, run
    failed = failed_result(run)
    assert "Rolling maintenance stopped at node worker-0, step 'enter maintenance" in failed["msg"], failed
    assert "1 other node(s) already cordoned or in maintenance (worker-2)" in failed["msg"], failed
    assert run.writes == 0 and requests["dry_run_writes"] == 0, requests["by_verb_resource"]
    assert unschedulable_workers(sim) == ["worker-2"] and progress(sim, "worker-0") is None


def test_a_change_between_the_first_look_and_the_lock_is_refused_under_the_lock(sim, playbooks):
    # The first (read-only) look lists the nodes, then waits 4 s on the PodDisruptionBudgets; meanwhile
    # worker-2 is cordoned. The look under the lock sees it, refuses, and releases the lock it took.
    sim.add_fault(verb="list", resource="poddisruptionbudgets", latency_ms=4000, count=1)
    sim.reset_requests()
    run = playbooks.start([module(node="worker-0", campaign="fw", method="drain")])
    eventually("the first look to list the nodes", lambda: sim.requests()["by_verb_resource"].get("list nodes", 0) >= 1,
               timeout=60, interval=0.05)
    cordon_by_hand(sim, "worker-2")
    refused = playbooks.finish(run)
    requests = sim.requests()
    assert not refused.ok and refused.last["reason"] == "Refused", refused
    assert "1 other node(s) already cordoned or in maintenance (worker-2)" in refused.last["msg"]
    assert "found under the maintenance lock after the first check had passed" in refused.last["msg"]
    assert "the maintenance lock Lease kube-system/ocpvirt-portworx-maintenance this run took was released" in refused.last["msg"]
    assert refused.last["refused_under_lock"] is True and refused.last["lock"]["action"] == "released"
    # Writes: the Lease (create, release) and the test's own cordon; nothing on worker-0.
    assert lock_requests(requests) == {"get": 3, "create": 1, "update": 1}, lock_requests(requests)
    assert requests["by_verb_resource"].get("patch nodes") == 1 and requests["writes"] == 3, requests["by_verb_resource"]
    assert not lease(sim)["spec"].get("holderIdentity") and progress(sim, "worker-0") is None


# --- two campaigns at once --------------------------------------------------------------------

def test_two_campaigns_started_together_never_take_two_workers_down(sim, playbooks, tmp_path):
    # As measured: NodeMaintenance creates answer slowly, so a read-then-write preflight would let both through.
    sim.add_fault(verb="create", resource="nodemaintenance.medik8s.io/nodemaintenances", latency_ms=3000)
    hook = node_tasks(tmp_path, {"name": "work", "ansible.builtin.pause": {"seconds": 2}})
    first = playbooks.start([campaign("campaign-a", ["worker-0"], node_maintenance_node_tasks=hook)])
    second = playbooks.start([campaign("campaign-b", ["worker-1"], node_maintenance_node_tasks=hook)])
    polls, most = 0, 0
    while first.poll() is None or second.poll() is None:
        most = max(most, len(unschedulable_workers(sim)))
        polls += 1
        time.sleep(0.1)
    runs = [playbooks.finish(first), playbooks.finish(second)]
    print("concurrency: {0} polls, at most {1} unschedulable worker(s)".format(polls, most))
    assert most == 1 and polls > 10, (polls, most)
    assert sorted(r.ok for r in runs) == [False, True], runs
    refused = failed_result([r for r in runs if not r.ok][0])
    winner = "campaign-a" if runs[0].ok else "campaign-b"
    assert "one maintenance campaign at a time: campaign '{0}'".format(winner) in refused["msg"], refused
    assert unschedulable_workers(sim) == []
    assert not lease(sim)["spec"].get("holderIdentity"), lease(sim)  # released at the end of the winning campaign


# --- interruptions ----------------------------------------------------------------------------

def lease(sim):
    return api(sim, "coordination.k8s.io/v1", "Lease").get(namespace=LOCK[0], name=LOCK[1]).to_dict()


def lock_expired(sim):
    spec = lease(sim)["spec"]
    renewed = calendar.timegm(time.strptime(spec["renewTime"][:19], "%Y-%m-%dT%H:%M:%S"))
    return time.time() > renewed + spec["leaseDurationSeconds"] + 1


def age_lock(sim):
    """The lock as it stands once its duration has passed since its last renewal."""
    spec = lease(sim)["spec"]
    stale = time.gmtime(time.time() - spec["leaseDurationSeconds"] - 60)
    api(sim, "coordination.k8s.io/v1", "Lease").patch(
        namespace=LOCK[0], name=LOCK[1], content_type="application/merge-patch+json",
        body={"spec": {"renewTime": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", stale)}})


def test_lock_of_a_killed_campaign_expires_and_its_node_is_reported(sim, playbooks, tmp_path):
    hook = node_tasks(tmp_path, {"name": "long firmware", "ansible.builtin.pause": {"seconds": 60}})
    killed = playbooks.start([campaign("c1", ["worker-1"], node_maintenance_node_tasks=hook)])
    eventually("worker-1 entered", lambda: (progress(sim, "worker-1") or {}).get("step") == "entered", timeout=60)
    os.killpg(killed.pid, signal.SIGKILL)
    playbooks.finish(killed)

    held = playbooks.run([module(node="worker-1", campaign="c2")])
    assert not held.ok and "campaign 'c1' (node worker-1) holds the maintenance lock" in held.last["msg"], held
    assert held.last["lock_holder"]["campaign"] == "c1"
    # The Lease's own rule: valid until renewTime + leaseDurationSeconds. Rather than wait that out (a short duration
    # raced the run above on a loaded machine), its renewTime moves back past it, as the clock would move on.
    age_lock(sim)
    assert lock_expired(sim)
    not_ours = playbooks.run([campaign("c2", ["worker-1"], node_maintenance_lock_duration=4)])
    assert not not_ours.ok and "was not created by campaign 'c2'" in failed_result(not_ours)["msg"], not_ours
    taken = playbooks.run([campaign("c2", ["worker-1"], node_maintenance_adopt=True)])
    assert taken.ok, taken
    entered = role_task(taken, "Put the node into maintenance")
    assert entered["previous_run"]["campaign"] == "c1" and entered["previous_run"]["step"] == "entered", entered
    assert entered["lock"]["action"] == "take over" and entered["adopted"], entered
    assert unschedulable_workers(sim) == [] and node_maintenances(sim) == []


def parent_of(pid):
    with open("/proc/{0}/stat".format(pid)) as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[1])


def descends_from(pid, ancestor):
    while pid > 1:
        if pid == ancestor:
            return True
        pid = parent_of(pid)
    return False


def module_process(run):
    """The module process of a run (a python running AnsiballZ_node_maintenance.py below it), or None yet."""
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            with open("/proc/{0}/cmdline".format(pid), "rb") as handle:
                argv = handle.read().decode(errors="replace").split("\0")
            # Not the /bin/sh -c that starts it: the python whose script is the module's AnsiballZ wrapper.
            if len(argv) > 1 and argv[1].endswith("AnsiballZ_node_maintenance.py") and descends_from(pid, run.pid):
                return pid
        except (OSError, IndexError, ValueError):
            continue
    return None


def test_sigterm_stops_the_wait_with_a_report_and_the_rerun_says_what_was_left(sim, playbooks):
    sim.add_fault(operator="migration-fail", target="vms/vm-001", count=1000)
    stuck = [module(node="worker-1", method="drain", campaign="c1", migration_attempts=1000, wait_timeout=120)]

    # The module alone gets SIGTERM: it stops the wait and fails with what it leaves behind.
    run = playbooks.start(stuck)
    eventually("worker-1 cordoned", lambda: unschedulable_workers(sim) == ["worker-1"], timeout=60)
    os.kill(eventually("the module process", lambda: module_process(run)), signal.SIGTERM)
    stopped = playbooks.finish(run)
    assert not stopped.ok and stopped.last.get("reason") == "Interrupted", (stopped.last, stopped.stderr[-2000:])
    assert "stopped by SIGTERM; left behind: node worker-1 at step 'entering' of campaign 'c1', cordoned" in stopped.last["msg"]
    assert "maintenance lock Lease kube-system/ocpvirt-portworx-maintenance held by 'c1' until" in stopped.last["msg"]

    # SIGTERM to ansible-playbook (kill, systemd; not how AAP cancels, see test_aap_cancel.py): it passes it on to
    # its workers and ends without output.
    run = playbooks.start(stuck)
    # Its module records step 'entering' afresh (dropping the first run's 'interrupted') once its SIGTERM handler is in
    # place, so the interruption found on the node afterwards is this run's.
    eventually("the second run's step recorded", lambda: "interrupted" not in (progress(sim, "worker-1") or {"interrupted": 1}),
               timeout=60)
    run.send_signal(signal.SIGTERM)
    playbooks.finish(run)
    eventually("the interruption recorded on the node", lambda: "SIGTERM" in (progress(sim, "worker-1") or {}).get("interrupted", ""))

    sim.clear_faults()
    rerun = playbooks.run([module(node="worker-1", method="drain", campaign="c1")])
    assert rerun.ok, rerun
    assert rerun.last["previous_run"]["step"] == "entering" and rerun.last["previous_run"]["interrupted"].startswith("SIGTERM at")
    assert any("previous run left node worker-1 at step 'entering'" in w for w in rerun.last["warnings"])
    assert vmi_node(sim, "vm-001") != "worker-1" and rerun.last["progress"]["step"] == "entered"
    # Another run of c1 (another ansible-playbook): it took over at once the lock the stopped run left to its campaign,
    # and released it at its end.
    taken = rerun.last["lock"]["taken_over"]
    assert rerun.last["lock"]["action"] == "released" and taken["why"] == "stopped" and "interrupted (SIGTERM)" in taken["stopped"], taken


def test_a_rerun_after_a_failure_while_leaving_does_not_run_the_node_tasks_again(sim, playbooks, tmp_path):
    marker = tmp_path / "ran.txt"
    hook = node_tasks(tmp_path, marker_task(marker))
    sim.add_fault(verb="delete", resource="nodemaintenance.medik8s.io/nodemaintenances", code=403, count=1)
    first = playbooks.run([campaign("fw", ["worker-1"], node_maintenance_node_tasks=hook)])
    assert not first.ok and "step 'leave maintenance" in failed_result(first)["msg"], first
    assert len(marker.read_text().splitlines()) == 1
    assert progress(sim, "worker-1")["step"] == "leaving"

    rerun = playbooks.run([campaign("fw", ["worker-1"], node_maintenance_node_tasks=hook)])
    assert rerun.ok, rerun
    assert len(marker.read_text().splitlines()) == 1, marker.read_text()
    assert role_task(rerun, "Put the node into maintenance").get("skipped"), rerun
    assert role_task(rerun, "Bring the node back into service")["previous_run"]["step"] == "leaving"
    assert unschedulable_workers(sim) == [] and progress(sim, "worker-1")["step"] == "left"


# --- a migration that always fails -------------------------------------------------------------

def test_a_migration_that_always_fails_is_tried_a_bounded_number_of_times(sim, playbooks):
    sim.add_fault(operator="migration-fail", target="vms/vm-001", count=1000)
    run = playbooks.run([module(node="worker-1", method="drain", migration_attempts=3, wait_timeout=120)])
    assert not run.ok and run.last["reason"] == "MigrationFailed", run
    failed = run.last["failed_migrations"]
    assert [f["vmi"] for f in failed] == ["vms/vm-001"] and failed[0]["reason"] == "Live migration failed: simulated operator fault"
    assert failed[0]["migration"] in run.last["msg"] and "stays cordoned" in run.last["msg"]
    migrations = api(sim, "kubevirt.io/v1", "VirtualMachineInstanceMigration").get(namespace="vms").to_dict()["items"]
    assert len([m for m in migrations if m["spec"]["vmiName"] == "vm-001"]) == 3
    assert len(run.last["migrations_created"]) == 3
