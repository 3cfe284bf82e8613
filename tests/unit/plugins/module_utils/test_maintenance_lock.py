import datetime

import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils import maintenance_lock as lock

NOW = datetime.datetime(2026, 12, 2, 7, 0, 0)


def held(campaign="c1", node="worker-1", renewed=NOW, duration=30):
    lease = lock.lease_manifest(campaign, node, renewed, duration)
    lease["metadata"]["resourceVersion"] = "42"
    return lease


def test_no_lease_is_created_with_holder_campaign_and_node():
    action, lease = lock.plan_lock(None, "c1", "worker-1", NOW, 30)
    assert action == lock.TAKE
    assert lease["spec"] == {"holderIdentity": "c1", "leaseDurationSeconds": 30, "acquireTime": "2026-12-02T07:00:00.000000Z",
                             "renewTime": "2026-12-02T07:00:00.000000Z", "leaseTransitions": 0}
    assert lease["metadata"]["annotations"] == {lock.CAMPAIGN_ANNOTATION: "c1", lock.NODE_ANNOTATION: "worker-1"}


def test_the_holder_renews_and_keeps_its_acquire_time():
    later = NOW + datetime.timedelta(seconds=20)
    action, lease = lock.plan_lock(held(), "c1", "worker-2", later, 30)
    assert action == lock.RENEW and lease["spec"]["acquireTime"] == "2026-12-02T07:00:00.000000Z"
    assert lease["spec"]["renewTime"] == "2026-12-02T07:00:20.000000Z" and lease["metadata"]["resourceVersion"] == "42"
    assert lease["metadata"]["annotations"][lock.NODE_ANNOTATION] == "worker-2"


def test_another_campaign_is_refused_while_the_lease_is_valid_and_learns_the_holder():
    with pytest.raises(lock.LockHeld) as refused:
        lock.plan_lock(held(), "c2", "worker-2", NOW + datetime.timedelta(seconds=29), 30)
    assert refused.value.holder["campaign"] == "c1" and refused.value.holder["node"] == "worker-1"
    assert refused.value.holder["expires"] == "2026-12-02T07:00:30.000000Z"
    assert "campaign 'c1' (node worker-1) holds the maintenance lock since 2026-12-02T07:00:00.000000Z" in str(refused.value)


def test_an_expired_lease_is_taken_over_at_the_version_read():
    action, lease = lock.plan_lock(held(), "c2", "worker-2", NOW + datetime.timedelta(seconds=30), 30)
    assert action == lock.TAKE_OVER and lease["spec"]["holderIdentity"] == "c2"
    assert lease["spec"]["leaseTransitions"] == 1 and lease["metadata"]["resourceVersion"] == "42"
    assert lease["spec"]["acquireTime"] == "2026-12-02T07:00:30.000000Z"


def test_a_released_lease_is_free_and_only_the_holder_releases():
    assert lock.plan_release(held(), "c2") is None and lock.plan_release(None, "c1") is None
    released = lock.plan_release(held(), "c1")
    assert "holderIdentity" not in released["spec"] and lock.NODE_ANNOTATION not in released["metadata"]["annotations"]
    action, lease = lock.plan_lock(released, "c2", "worker-3", NOW, 30)
    assert action == lock.TAKE_OVER and lease["spec"]["holderIdentity"] == "c2"


def test_times_parse_in_both_api_layouts():
    assert lock.parse_time("2026-12-02T07:00:00Z") == NOW
    assert lock.parse_time("2026-12-02T07:00:00.000000Z") == NOW
    assert lock.parse_time("garbage") is None and lock.parse_time(None) is None
