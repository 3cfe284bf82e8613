import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import WaitTimeout
from ansible_collections.ocpvirt.portworx.plugins.module_utils.waiting import Waiter, condition, condition_is


class FakeClock(object):
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def pause(self, seconds):
        self.now += seconds


def test_until_returns_the_state_once_done():
    clock = FakeClock()
    states = iter([(False, "Pending"), (False, "Pending"), (True, "Bound")])
    waiter = Waiter(timeout=10, sleep=1, clock=clock, pause=clock.pause)
    assert waiter.until("claim to bind", lambda: next(states)) == "Bound"
    assert clock.now == 2


def test_until_times_out_with_the_last_state():
    clock = FakeClock()
    waiter = Waiter(timeout=3, sleep=1, clock=clock, pause=clock.pause)
    with pytest.raises(WaitTimeout) as info:
        waiter.until("claim to bind", lambda: (False, "phase Pending"))
    assert "last seen: phase Pending" in info.value.msg
    assert clock.now == 3


def test_condition_helpers():
    obj = {"status": {"conditions": [{"type": "Available", "status": "True"}, {"type": "Degraded", "status": "False"}]}}
    assert condition(obj, "Available")["status"] == "True"
    assert condition(obj, "Missing") == {}
    assert condition_is(obj, "Degraded", False)
    assert not condition_is(obj, "Available", "False")
