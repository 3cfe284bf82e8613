import datetime

import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils import maintenance_lock as lock

NOW = datetime.datetime(2026, 12, 2, 7, 0, 0)
LATER = NOW + datetime.timedelta(seconds=20)


def held(campaign="c1", node="worker-1", renewed=NOW, duration=30, run="job-1"):
    lease = lock.lease_manifest(campaign, node, renewed, duration, run=run)
    lease["metadata"]["resourceVersion"] = "42"
    return lease


def test_no_lease_is_created_with_holder_run_campaign_and_node():
    plan = lock.plan_lock(None, "c1", "worker-1", NOW, 30, run="job-1")
    assert plan.action == lock.TAKE and plan.previous is None and not plan.forced
    assert plan.lease["spec"] == {"holderIdentity": "c1 (run job-1)", "leaseDurationSeconds": 30,
                                  "acquireTime": "2026-12-02T07:00:00.000000Z", "renewTime": "2026-12-02T07:00:00.000000Z",
                                  "leaseTransitions": 0}
    assert plan.lease["metadata"]["annotations"] == {lock.CAMPAIGN_ANNOTATION: "c1", lock.NODE_ANNOTATION: "worker-1",
                                                     lock.RUN_ANNOTATION: "job-1"}


def test_the_holding_run_renews_and_keeps_its_acquire_time():
    plan = lock.plan_lock(held(), "c1", "worker-2", LATER, 30, run="job-1")
    assert plan.action == lock.RENEW and plan.lease["spec"]["acquireTime"] == "2026-12-02T07:00:00.000000Z"
    assert plan.lease["spec"]["renewTime"] == "2026-12-02T07:00:20.000000Z" and plan.lease["metadata"]["resourceVersion"] == "42"
    assert plan.lease["metadata"]["annotations"][lock.NODE_ANNOTATION] == "worker-2" and plan.lease["spec"]["leaseTransitions"] == 0


def test_the_holding_run_renewing_after_expiry_says_so():
    plan = lock.plan_lock(held(), "c1", "worker-1", NOW + datetime.timedelta(seconds=31), 30, run="job-1")
    assert plan.action == lock.RENEW_EXPIRED and plan.previous is None


def test_another_run_of_the_same_campaign_is_refused_while_the_lease_is_valid():
    # The bug this fixes: the holder used to be the campaign, so a second job with the same campaign "renewed" it.
    with pytest.raises(lock.LockHeld) as refused:
        lock.plan_lock(held(), "c1", "worker-2", LATER, 30, run="job-2")
    assert refused.value.same_campaign and refused.value.holder["run"] == "job-1"
    assert refused.value.holder["renewed"] == "2026-12-02T07:00:00.000000Z"
    assert refused.value.holder["expires"] == "2026-12-02T07:00:30.000000Z"
    assert str(refused.value) == ("campaign 'c1' (node worker-1) holds the maintenance lock for run job-1 since "
                                  "2026-12-02T07:00:00.000000Z, renewed 2026-12-02T07:00:00.000000Z, until 2026-12-02T07:00:30.000000Z")


def test_another_campaign_is_refused_while_the_lease_is_valid_and_learns_the_holder():
    with pytest.raises(lock.LockHeld) as refused:
        lock.plan_lock(held(), "c2", "worker-2", NOW + datetime.timedelta(seconds=29), 30, run="job-2")
    assert not refused.value.same_campaign
    assert refused.value.holder["campaign"] == "c1" and refused.value.holder["node"] == "worker-1"
    assert "campaign 'c1' (node worker-1) holds the maintenance lock for run job-1 since 2026-12-02T07:00:00.000000Z" in str(refused.value)


def test_a_lease_of_an_older_version_named_by_campaign_alone_is_another_holder():
    old = held(run=None)
    assert old["spec"]["holderIdentity"] == "c1"
    with pytest.raises(lock.LockHeld) as refused:
        lock.plan_lock(old, "c1", "worker-1", LATER, 30, run="job-2")
    assert "campaign 'c1' (node worker-1) holds the maintenance lock since" in str(refused.value)


def test_an_expired_lease_is_taken_over_at_the_version_read_and_reported():
    plan = lock.plan_lock(held(), "c1", "worker-2", NOW + datetime.timedelta(seconds=30), 30, run="job-2")
    assert plan.action == lock.TAKE_OVER and plan.lease["spec"]["holderIdentity"] == "c1 (run job-2)"
    assert plan.lease["spec"]["leaseTransitions"] == 1 and plan.lease["metadata"]["resourceVersion"] == "42"
    assert plan.lease["spec"]["acquireTime"] == "2026-12-02T07:00:30.000000Z"
    assert plan.previous["why"] == lock.EXPIRED and plan.previous["run"] == "job-1" and not plan.forced


def test_a_live_lease_is_taken_over_only_with_the_named_override():
    plan = lock.plan_lock(held(), "c2", "worker-2", LATER, 30, run="job-2", take_over_from="c1 (run job-1)")
    assert plan.action == lock.TAKE_OVER and plan.forced and plan.previous["why"] == lock.FORCED
    assert plan.lease["metadata"]["annotations"][lock.RUN_ANNOTATION] == "job-2"
    # The override lifts nothing when the lease is free: not reported as used.
    assert not lock.plan_lock(None, "c2", "worker-2", LATER, 30, run="job-2", take_over_from="c1 (run job-1)").forced
    assert not lock.plan_lock(held(), "c1", "worker-2", LATER, 30, run="job-1", take_over_from="c1 (run job-1)").forced


def test_the_override_takes_the_lock_only_from_the_holder_it_was_given_for():
    # The user overrode dead run job-1; a live run (another campaign, or the winner of a race) holds it now.
    for winner in (held("c3", run="job-3"), held("c2", run="job-7")):
        with pytest.raises(lock.LockHeld) as refused:
            lock.plan_lock(winner, "c2", "worker-2", LATER, 30, run="job-2", take_over_from="c1 (run job-1)")
        assert refused.value.holder["run"] == winner["metadata"]["annotations"][lock.RUN_ANNOTATION]
    with pytest.raises(lock.LockHeld):
        lock.plan_lock(held(), "c2", "worker-2", LATER, 30, run="job-2", take_over_from=None)


def test_a_lease_left_by_a_stopped_run_is_free_for_its_campaign_only():
    left = lock.plan_hand_over(held(), "c1", "job-1", NOW, "run job-1 interrupted (SIGTERM)")
    assert left["spec"] == held()["spec"]  # still held, still valid against other campaigns
    assert left["metadata"]["annotations"][lock.STOPPED_ANNOTATION] == "run job-1 interrupted (SIGTERM) at 2026-12-02T07:00:00.000000Z"
    with pytest.raises(lock.LockHeld) as refused:
        lock.plan_lock(left, "c2", "worker-2", LATER, 30, run="job-9")
    assert "that run stopped: run job-1 interrupted (SIGTERM)" in str(refused.value)
    plan = lock.plan_lock(left, "c1", "worker-1", LATER, 30, run="job-2")
    assert plan.action == lock.TAKE_OVER and plan.previous["why"] == lock.STOPPED and plan.previous["run"] == "job-1"
    assert lock.STOPPED_ANNOTATION not in plan.lease["metadata"]["annotations"]
    assert lock.plan_hand_over(held(), "c1", "job-2", NOW, "x") is None  # only the holder hands over


def test_a_released_lease_is_free_and_only_the_holding_run_releases():
    assert lock.plan_release(held(), "c2", "job-1") is None and lock.plan_release(None, "c1", "job-1") is None
    assert lock.plan_release(held(), "c1", "job-2") is None  # the same campaign, another run: not ours
    released = lock.plan_release(held(), "c1", "job-1", LATER, "released at the end of the run")
    annotations = released["metadata"]["annotations"]
    assert "holderIdentity" not in released["spec"] and lock.NODE_ANNOTATION not in annotations
    assert annotations[lock.RELEASED_ANNOTATION] == "c1 (run job-1) at 2026-12-02T07:00:20.000000Z: released at the end of the run"
    plan = lock.plan_lock(released, "c2", "worker-3", LATER, 30, run="job-3")
    assert plan.action == lock.TAKE_OVER and plan.lease["spec"]["holderIdentity"] == "c2 (run job-3)"
    assert plan.previous["why"] == lock.RELEASED and plan.previous["released"].startswith("c1 (run job-1) at")
    assert lock.RELEASED_ANNOTATION not in plan.lease["metadata"]["annotations"]


def test_restore_puts_spec_and_annotations_back_at_the_current_version():
    before = held()
    renewed = lock.plan_lock(before, "c1", "worker-2", LATER, 30, run="job-1").lease
    renewed["metadata"]["resourceVersion"] = "43"
    restored = lock.plan_restore(renewed, before)
    assert restored["spec"] == before["spec"] and restored["metadata"]["annotations"] == before["metadata"]["annotations"]
    assert restored["metadata"]["resourceVersion"] == "43"


def test_times_parse_in_both_api_layouts():
    assert lock.parse_time("2026-12-02T07:00:00Z") == NOW
    assert lock.parse_time("2026-12-02T07:00:00.000000Z") == NOW
    assert lock.parse_time("garbage") is None and lock.parse_time(None) is None


def test_a_lease_another_run_created_is_not_held_by_this_run():
    # A retried create that meets 409 AlreadyExists answers with the Lease as it stands: the winner's, not this run's.
    assert lock.holds(held("c1", run="job-1"), "c1", run="job-1")
    assert not lock.holds(held("c1", run="job-1"), "c1", run="job-2")
    assert not lock.holds(held("c2", run="job-2"), "c1", run="job-2")
    assert not lock.holds(None, "c1", run="job-1")


def test_leaving_sees_a_live_run_of_its_own_campaign_as_such_and_a_stopped_or_expired_one_as_free():
    with pytest.raises(lock.LockHeld) as same:
        lock.plan_lock(held("c1", run="job-1"), "c1", "worker-1", LATER, 30, run="job-2")
    assert same.value.same_campaign  # leaving refuses on this
    with pytest.raises(lock.LockHeld) as other:
        lock.plan_lock(held("c2", run="job-1"), "c1", "worker-1", LATER, 30, run="job-2")
    assert not other.value.same_campaign  # leaving only warns on this
    left = lock.plan_hand_over(held("c1", run="job-1"), "c1", "job-1", NOW, "run job-1 failed")
    assert lock.plan_lock(left, "c1", "worker-1", LATER, 30, run="job-2").previous["why"] == lock.STOPPED
    expired = lock.plan_lock(held("c1", run="job-1"), "c1", "worker-1", NOW + datetime.timedelta(seconds=30), 30, run="job-2")
    assert expired.previous["why"] == lock.EXPIRED
