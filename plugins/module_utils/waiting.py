# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Poll until the cluster really reaches a state, not just until the API accepted a write."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.ocpvirt.portworx.plugins.module_utils.backoff import doubling
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Interrupted, WaitTimeout


# The first pause after a write. Most of what day 0 waits for (an operator reconciling a patched
# CR, CDI updating a StorageProfile) follows the write within a second, so the first polls come
# early and the pause doubles up to ``sleep``: a wait that lasts minutes still polls only every
# ``sleep`` seconds, a wait of 50 ms ends after 0.2 s instead of after ``sleep``.
FIRST_PAUSE = 0.2


def pauses(longest, first=FIRST_PAUSE):
    """The pauses between polls: ``first``, doubling, never more than ``longest`` (nor less than 0)."""
    return (max(pause, 0) for pause in doubling(min(first, longest), longest))


class Waiter(object):
    """Polls ``probe()`` for at most ``timeout`` seconds, pausing at most ``sleep`` seconds between polls.

    The first poll comes at once, the next after ``FIRST_PAUSE`` seconds, then the pause doubles up
    to ``sleep`` (see ``pauses``). ``probe`` returns ``(done, state)``; ``state`` is what a timeout
    reports as "last seen", so the user learns what the cluster was doing when we gave up.
    """

    def __init__(self, timeout, sleep, clock=time.monotonic, pause=time.sleep, first=FIRST_PAUSE):
        self.timeout = timeout
        self.sleep = sleep
        self.first = first
        self.clock = clock
        self.pause = pause
        #: Asked before each poll when set (``module.py`` sets it to ``ControllerWatch.gone``): it returns None
        #: to go on, or why the wait must stop, which ends the wait with :class:`Interrupted` before the probe.
        self.interrupted = None

    def until(self, what, probe, **details):
        deadline = self.clock() + self.timeout
        intervals = pauses(self.sleep, self.first)
        while True:
            self.stop_if_interrupted(what)
            done, state = probe()
            if done:
                return state
            if self.clock() >= deadline:
                raise WaitTimeout(what, self.timeout, last_state=state, **details)
            self.pause(min(next(intervals), max(deadline - self.clock(), 0)))

    def stop_if_interrupted(self, what):
        cause = self.interrupted() if self.interrupted is not None else None
        if cause:
            raise Interrupted("Stopped waiting for {0}: {1}".format(what, cause), cause=cause)


def condition(obj, condition_type):
    """The status condition of ``condition_type`` on ``obj``, or an empty dict."""
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == condition_type:
            return cond
    return {}


def condition_is(obj, condition_type, wanted):
    return str(condition(obj, condition_type).get("status")) == str(wanted)
