import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Interrupted, WaitTimeout
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


def test_until_asks_interrupted_before_each_poll_and_stops_without_probing():
    clock = FakeClock()
    probes = []
    answers = iter([None, None, "the job that ran this module ended"])
    waiter = Waiter(timeout=10, sleep=1, clock=clock, pause=clock.pause)
    waiter.interrupted = lambda: next(answers)
    with pytest.raises(Interrupted) as info:
        waiter.until("claim to bind", lambda: probes.append(clock.now) or (False, "Pending"))
    assert len(probes) == 2  # the third poll never ran
    assert info.value.reason == "Interrupted" and info.value.cause == "the job that ran this module ended"
    assert info.value.msg == "Stopped waiting for claim to bind: the job that ran this module ended"


def test_until_without_interrupted_polls_as_before():
    clock = FakeClock()
    assert Waiter(timeout=10, sleep=1, clock=clock, pause=clock.pause).until("x", lambda: (True, "done")) == "done"
