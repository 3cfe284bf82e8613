import itertools

import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Interrupted, WaitTimeout
from ansible_collections.ocpvirt.portworx.plugins.module_utils.waiting import FIRST_PAUSE, Waiter, condition, condition_is, pauses


class FakeClock(object):
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def pause(self, seconds):
        self.now += seconds


class Recorder(FakeClock):
    def __init__(self):
        super(Recorder, self).__init__()
        self.pauses = []

    def pause(self, seconds):
        self.pauses.append(round(seconds, 6))
        super(Recorder, self).pause(seconds)


def test_until_returns_the_state_once_done():
    clock = Recorder()
    states = iter([(False, "Pending"), (False, "Pending"), (True, "Bound")])
    waiter = Waiter(timeout=10, sleep=1, clock=clock, pause=clock.pause)
    assert waiter.until("claim to bind", lambda: next(states)) == "Bound"
    assert clock.pauses == [0.2, 0.4]


def test_a_state_reached_at_once_needs_no_pause():
    clock = Recorder()
    assert Waiter(timeout=10, sleep=2, clock=clock, pause=clock.pause).until("x", lambda: (True, "ok")) == "ok"
    assert clock.pauses == []


def test_pauses_start_short_and_double_up_to_sleep():
    assert list(itertools.islice(pauses(2.0), 7)) == [0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0]
    assert FIRST_PAUSE == 0.2


def test_pauses_never_exceed_a_sleep_shorter_than_the_first_pause():
    assert list(itertools.islice(pauses(0.05), 3)) == [0.05, 0.05, 0.05]


def test_a_long_wait_polls_every_sleep_seconds():
    clock = Recorder()
    with pytest.raises(WaitTimeout):
        Waiter(timeout=60, sleep=10, clock=clock, pause=clock.pause).until("x", lambda: (False, "pending"))
    # 0.2 + 0.4 + ... + 6.4 = 12.6 s of short pauses, then every 10 s until the deadline
    assert clock.pauses[:7] == [0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10]
    assert max(clock.pauses) == 10 and clock.now == 60
    assert len(clock.pauses) == 11


def test_until_times_out_with_the_last_state():
    clock = FakeClock()
    waiter = Waiter(timeout=3, sleep=1, clock=clock, pause=clock.pause)
    with pytest.raises(WaitTimeout) as info:
        waiter.until("claim to bind", lambda: (False, "phase Pending"))
    assert "last seen: phase Pending" in info.value.msg
    assert clock.now == 3  # the last pause is cut to the deadline


def test_condition_helpers():
    obj = {"status": {"conditions": [{"type": "Available", "status": "True"}, {"type": "Degraded", "status": "False"}]}}
    assert condition(obj, "Available")["status"] == "True"
    assert condition(obj, "Missing") == {}
    assert condition_is(obj, "Degraded", False)
    assert not condition_is(obj, "Available", "False")


# --- the interrupted hook: a wait whose job is gone stops before its next poll ---------------------
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
