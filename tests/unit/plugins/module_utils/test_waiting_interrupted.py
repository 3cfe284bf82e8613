"""The Waiter's ``interrupted`` hook: a wait whose job is gone stops before its next poll."""

import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Interrupted
from ansible_collections.ocpvirt.portworx.plugins.module_utils.waiting import Waiter


class FakeClock(object):
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def pause(self, seconds):
        self.now += seconds


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
