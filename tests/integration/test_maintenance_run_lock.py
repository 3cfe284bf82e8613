"""The campaign lock is held by one *run* of a campaign: two jobs with the same campaign never both work.

Real ``ansible-playbook`` runs (the node_maintenance role and the module) against one simulator. Two
runs of one campaign started together never have two workers down at once; a second run is refused
before any write, naming the run that holds the lock, when it renewed it and when it expires, until
the user takes it over explicitly (``take_over_lock``, reported). A refusal under the lock puts back
a lock the run held before the task, and releases one it had renewed after it expired. The role's
rescue of a failed kubernetes.core write stops in one line and releases the run's lock. Seed as in
test_maintenance_hardening.py: 4 workers, 4 VMs (vm-000 on worker-0 and vm-001 on worker-1 live-migrate).
"""

import calendar
import os
import signal
import time

from clustersim.testing import eventually

from fault_matrix import assert_one_line
from test_maintenance_hardening import (  # noqa: F401 - fresh_cluster and playbooks are fixtures used here
    LOCK,
    campaign,
    cordon_by_hand,
    failed_result,
    fresh_cluster,
    lease,
    lock_expired,
    module,
    node_maintenances,
    node_tasks,
    playbooks,
    progress,
    role_task,
    unschedulable_workers,
)

SIMULATOR_OPTIONS = {"workers": 4, "vms": 4}
LEASE = "{0}/{1}".format(*LOCK)


def test_two_runs_of_one_campaign_started_together_never_take_two_workers_down(sim, playbooks):
    # NodeMaintenance creates answer slowly, so both runs pass their read-only look before either node goes down;
    # with the campaign as the lock holder both "held" the lock and each took a node down (issue #11).
    sim.add_fault(verb="create", resource="nodemaintenance.medik8s.io/nodemaintenances", latency_ms=3000)
    first = playbooks.start([campaign("fw", ["worker-0", "worker-1"])])
    second = playbooks.start([campaign("fw", ["worker-1", "worker-0"])])
    polls, most_down, most_maintained = 0, 0, 0
    while first.poll() is None or second.poll() is None:
        most_down = max(most_down, len(unschedulable_workers(sim)))
        most_maintained = max(most_maintained, len(node_maintenances(sim)))
        polls += 1
        time.sleep(0.1)
    runs = [playbooks.finish(first), playbooks.finish(second)]
    print("same campaign: {0} polls, at most {1} unschedulable worker(s), {2} NodeMaintenance(s)".format(
        polls, most_down, most_maintained))
    assert most_down == 1 and most_maintained == 1 and polls > 10, (polls, most_down, most_maintained)
    assert sorted(r.ok for r in runs) == [False, True], runs
    winner, loser = runs if runs[0].ok else runs[::-1]
    winning_run = role_task(winner, "Put the node into maintenance")["lock"]["run"]
    refused = role_task(loser, "Put the node into maintenance")
    assert refused["reason"] == "Refused", refused
    # Refused by the lock (the usual case), or, had the winner's node gone down between the loser's lock read and its
    # node read, by the one-node rule: either way before any write of the loser.
    if "maintenance lock" in refused["msg"]:
        assert "one run of a campaign at a time: another run of this campaign is at work: campaign 'fw'" in refused["msg"], refused
        assert "for run {0} since".format(winning_run) in refused["msg"] and refused["lock_holder"]["run"] == winning_run
    else:
        assert "already cordoned or in maintenance" in refused["msg"], refused
    assert "this run held no campaign lock" in failed_result(loser)["msg"], failed_result(loser)
    assert progress(sim, "worker-0")["step"] == "left" and progress(sim, "worker-1")["step"] == "left"
    assert unschedulable_workers(sim) == [] and not lease(sim)["spec"].get("holderIdentity"), lease(sim)


def test_a_second_run_of_the_campaign_is_refused_without_a_write_until_taken_over_explicitly(sim, playbooks, tmp_path):
    hook = node_tasks(tmp_path, {"name": "long firmware", "ansible.builtin.pause": {"seconds": 60}})
    first = playbooks.start([campaign("fw", ["worker-0"], node_maintenance_node_tasks=hook, node_maintenance_run_id="job-1")])
    eventually("worker-0 entered", lambda: (progress(sim, "worker-0") or {}).get("step") == "entered", timeout=90)
    held = lease(sim)
    assert held["spec"]["holderIdentity"] == "fw (run job-1)", held

    sim.reset_requests()  # the first run is in its node tasks now: it sends nothing until they end
    second = playbooks.run([campaign("fw", ["worker-1"], node_maintenance_run_id="job-2")])
    requests = sim.requests()
    assert not second.ok, second
    refused = role_task(second, "Put the node into maintenance")
    spec = held["spec"]
    expires = lease_expiry(held)
    assert refused["reason"] == "Refused" and refused["lock"]["action"] == "read", refused
    assert ("Lease {0}: one run of a campaign at a time: another run of this campaign is at work: campaign 'fw' (node worker-0) "
            "holds the maintenance lock for run job-1 since {1}, renewed {2}, until {3}").format(
                LEASE, spec["acquireTime"], spec["renewTime"], expires) in refused["msg"], refused["msg"]
    assert "take the lock over now with take_over_lock=true" in refused["msg"] and "expire at {0}".format(expires) in refused["msg"]
    assert "this run held no campaign lock" in failed_result(second)["msg"], failed_result(second)
    assert requests["writes"] == 0, requests["by_verb_resource"]
    assert lease(sim)["spec"] == spec and unschedulable_workers(sim) == ["worker-0"]

    # The first run is lost (SIGKILL, as with a host gone): its lock stays valid; the user knows it is dead and takes it over.
    os.killpg(first.pid, signal.SIGKILL)
    playbooks.finish(first)
    taken = playbooks.run([campaign("fw", ["worker-0"], node_maintenance_run_id="job-3", node_maintenance_take_over_lock=True)])
    assert taken.ok, taken
    entered = role_task(taken, "Put the node into maintenance")
    assert entered["overrides_used"] == ["take_over_lock"] and entered["lock"]["action"] == "take over", entered
    assert entered["lock"]["taken_over"]["why"] == "forced" and entered["lock"]["taken_over"]["run"] == "job-1", entered["lock"]
    assert entered["previous_run"]["step"] == "entered" and any("took over the maintenance lock" in w for w in entered["warnings"])
    assert unschedulable_workers(sim) == [] and progress(sim, "worker-0")["step"] == "left"
    assert not lease(sim)["spec"].get("holderIdentity"), lease(sim)


def lease_expiry(lease_object):
    """``renewTime + leaseDurationSeconds`` in the Lease's own layout (the Lease API's rule for when it expires)."""
    spec = lease_object["spec"]
    renewed = calendar.timegm(time.strptime(spec["renewTime"][:19], "%Y-%m-%dT%H:%M:%S"))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(renewed + spec["leaseDurationSeconds"])) + spec["renewTime"][19:]


def refused_under_the_lock(sim, playbooks, task):
    """Run ``task`` on worker-1 with worker-2 cordoned between its read-only look and its look under the lock."""
    sim.add_fault(verb="list", resource="poddisruptionbudgets", latency_ms=4000, count=1)
    sim.reset_requests()
    run = playbooks.start([task])
    eventually("the first look to list the nodes", lambda: sim.requests()["by_verb_resource"].get("list nodes", 0) >= 1,
               timeout=60, interval=0.05)
    cordon_by_hand(sim, "worker-2")
    refused = playbooks.finish(run)
    assert not refused.ok and refused.last["reason"] == "Refused" and refused.last["refused_under_lock"] is True, refused
    assert "1 other node(s) already cordoned or in maintenance (worker-2)" in refused.last["msg"], refused.last["msg"]
    return refused.last


def test_a_refusal_under_a_lock_this_run_held_before_puts_it_back_as_it_was(sim, playbooks):
    kept = dict(campaign="fw", run_id="job-1", release_lock=False, method="drain")
    first = playbooks.run([module(node="worker-0", **kept), module(node="worker-0", state="absent", **kept)])
    assert first.ok, first
    before = lease(sim)
    assert before["spec"]["holderIdentity"] == "fw (run job-1)" and not lock_expired(sim), before

    refused = refused_under_the_lock(sim, playbooks, module(node="worker-1", **kept))
    after = lease(sim)
    assert after["spec"] == before["spec"] and after["metadata"]["annotations"] == before["metadata"]["annotations"], (before, after)
    assert after["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"]  # renewed, then put back
    assert refused["lock"]["action"] == "put back as it was", refused["lock"]
    assert ("the maintenance lock Lease {0} stays with this run (fw (run job-1)), which held it before this task: put back as it "
            "was (renewed {1}, until {2})").format(LEASE, before["spec"]["renewTime"], lease_expiry(before)) in refused["msg"]
    assert progress(sim, "worker-1") is None


def test_a_refusal_under_a_lock_renewed_after_it_expired_releases_it(sim, playbooks):
    kept = dict(campaign="fw", run_id="job-1", release_lock=False, method="drain", lock_duration=3)
    first = playbooks.run([module(node="worker-0", **kept), module(node="worker-0", state="absent", **kept)])
    assert first.ok, first
    eventually("the lock of job-1 to expire", lambda: lock_expired(sim), timeout=30, interval=0.5)

    refused = refused_under_the_lock(sim, playbooks, module(node="worker-1", **kept))
    assert refused["lock"]["action"] == "released", refused["lock"]
    assert "the maintenance lock Lease {0} this run renewed after it had expired was released".format(LEASE) in refused["msg"], refused["msg"]
    after = lease(sim)
    assert not after["spec"].get("holderIdentity"), after
    assert after["metadata"]["annotations"]["ocpvirt.portworx/released"].startswith("fw (run job-1) at ")
    assert after["metadata"]["annotations"]["ocpvirt.portworx/released"].endswith(": refused under the lock on node worker-1")


def test_the_role_stops_in_one_line_when_a_kubernetes_core_write_fails_and_releases_its_lock(sim, playbooks, tmp_path):
    # The node tasks arm the fault, so it hits the role's own kubernetes.core patch that follows them, not the module's.
    # Two 403s: kubernetes.core's state=patched tries a strategic-merge patch, then a merge patch, on any error
    # (kubernetes.core plugins/module_utils/k8s/service.py, K8sService.update); a 403 is not retried (not transient).
    arm = {"name": "arm a 403 on the next node patch", "ansible.builtin.uri": {
        "url": sim.url + "/_sim/faults", "method": "POST", "validate_certs": False, "body_format": "json",
        "headers": {"Authorization": "Bearer " + sim.token},
        "body": {"verb": "patch", "resource": "nodes", "code": 403, "count": 2}, "status_code": [200, 201]}}
    hook = node_tasks(tmp_path, arm)
    run = playbooks.run([campaign("fw", ["worker-1", "worker-0"], node_maintenance_node_tasks=hook, node_maintenance_run_id="job-1")])
    assert not run.ok, run
    assert_one_line(run, anywhere=False)
    msg = run.last["msg"]
    assert msg.startswith("Rolling maintenance stopped at node worker-1, step 'run the node tasks "), msg
    assert "Record that the node tasks are done failed with HTTP 403" in msg, msg
    assert "Completed in this run: none; not started: worker-0." in msg, msg
    assert "the campaign lock of this run (job-1) was released" in msg, msg
    assert sim.faults()["rules"] == []  # the fault fired on the role's patch
    assert progress(sim, "worker-1")["step"] == "entered" and unschedulable_workers(sim) == ["worker-1"]
    assert not lease(sim)["spec"].get("holderIdentity"), lease(sim)


def test_leaving_is_refused_without_a_write_while_a_live_run_of_the_same_campaign_holds_the_lock(sim, playbooks):
    # Job A (campaign fw) has worker-0 down and holds the lock; job B of fw must not bring worker-0 back under it.
    kept = dict(campaign="fw", release_lock=False, method="drain")
    assert playbooks.run([module(node="worker-0", run_id="job-1", **kept)]).ok
    held = lease(sim)
    sim.reset_requests()
    leaving = playbooks.run([module(node="worker-0", state="absent", run_id="job-2", **kept)])
    requests = sim.requests()
    assert not leaving.ok and leaving.last["reason"] == "Refused", leaving
    assert ("Lease {0}: one run of a campaign at a time: another run of this campaign is at work: campaign 'fw' (node worker-0) "
            "holds the maintenance lock for run job-1").format(LEASE) in leaving.last["msg"], leaving.last["msg"]
    assert requests["writes"] == 0, requests["by_verb_resource"]
    assert lease(sim)["spec"] == held["spec"] and unschedulable_workers(sim) == ["worker-0"]

    # Job A certainly dead: the named override takes the lock from it, reported.
    taken = playbooks.run([module(node="worker-0", state="absent", run_id="job-2", take_over_lock=True, **kept)])
    assert taken.ok and taken.last["overrides_used"] == ["take_over_lock"], taken
    assert taken.last["lock"]["taken_over"]["run"] == "job-1" and taken.last["lock"]["taken_over"]["why"] == "forced", taken.last
    assert unschedulable_workers(sim) == [] and lease(sim)["spec"]["holderIdentity"] == "fw (run job-2)"


def test_take_over_lock_is_spent_on_the_first_lock_of_the_run_not_on_a_campaign_that_takes_it_later(sim, playbooks, tmp_path):
    # Given to get past a dead holder, the override must not take the lock from a campaign that took it between two nodes.
    another_campaign = {"name": "another campaign takes the lock", "kubernetes.core.k8s": {
        "state": "patched", "api_version": "coordination.k8s.io/v1", "kind": "Lease", "namespace": LOCK[0], "name": LOCK[1],
        "definition": {"metadata": {"annotations": {"ocpvirt.portworx/campaign": "other", "ocpvirt.portworx/run": "job-9",
                                                    "ocpvirt.portworx/node": "worker-3"}},
                       "spec": {"holderIdentity": "other (run job-9)", "leaseDurationSeconds": 300,
                                "renewTime": "{{ now(utc=true).strftime('%Y-%m-%dT%H:%M:%S.000000Z') }}"}}},
        "when": "node_maintenance_node == 'worker-0'"}
    run = playbooks.run([campaign("fw", ["worker-0", "worker-1"], node_maintenance_run_id="job-2", node_maintenance_take_over_lock=True,
                                  node_maintenance_node_tasks=node_tasks(tmp_path, another_campaign))])
    assert not run.ok, run
    entered, refused = [r for r in run.results if r["_task"].endswith(" : Put the node into maintenance")]
    assert entered["overrides_used"] == [] and entered["lock"]["action"] == "create", entered
    assert refused["reason"] == "Refused" and "one maintenance campaign at a time: campaign 'other'" in refused["msg"], refused
    assert "Rolling maintenance stopped at node worker-1" in failed_result(run)["msg"], failed_result(run)
    assert progress(sim, "worker-0")["step"] == "left" and progress(sim, "worker-1") is None
    assert unschedulable_workers(sim) == [] and lease(sim)["spec"]["holderIdentity"] == "other (run job-9)", lease(sim)
