# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether the ansible-playbook process that started this module is still there (Linux ``/proc`` only).

Why: a cancelled AAP job gets SIGKILL on ansible-playbook's process group (ansible-runner 2.4.3,
``ansible_runner/runner.py`` ``Runner.handle_termination``), but the task's worker left that group:
ansible-core 2.19 forks it from ansible-playbook (``ansible/utils/multiprocessing.py``, the ``fork``
context) and the worker calls ``os.setsid()`` (``ansible/executor/process/worker.py`` ``_detach``).
So the module (below the worker, through the connection plugin's ``/bin/sh``) outlives the job and
nobody reads its result. A module that watches its controller can stop its wait instead.

How the controller is found: walk up the parent chain from the module to the nearest process that
leads its own session (the worker), and take that process's parent - only when the worker is a fork
of it (the same ``/proc/<pid>/cmdline``). Where the worker leads no session of its own (ansible-core
before 2.19, or worker session isolation turned off), the nearest session leader is a login shell
or a daemon, not a fork of its parent, and nothing is watched: a shell's parent ending (a dropped
SSH session under ``nohup``) must never stop a job that still runs. The name of a command is never
looked at. A process that cannot be read for another reason than not existing (EACCES, EMFILE) is
taken as still running. The controller is remembered with its start time (field 22 of ``/proc/<pid>/stat``), so a
pid the kernel hands to a new process later is not taken for it. Without ``/proc`` (not Linux), or
when the chain ends at pid 1 (the module was started by a daemon, e.g. an ``async`` task), there is
nothing to watch and :meth:`ControllerWatch.gone` always answers ``None``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
from collections import namedtuple

PROC = "/proc"
#: How far up the chain to look; Ansible's is module python <- /bin/sh <- worker <- ansible-playbook.
MAX_DEPTH = 16
#: States of a process that has ended but was not reaped yet (``man 5 proc``).
ENDED_STATES = ("Z", "X", "x")

ProcessStat = namedtuple("ProcessStat", "pid state ppid session start_time cmdline")


def parse_stat(pid, text, cmdline=None):
    """The fields of ``/proc/<pid>/stat`` we need. The command name (field 2) may hold spaces and ')'."""
    fields = text.rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); field N is fields[N - 3].
    return ProcessStat(pid=pid, state=fields[0], ppid=int(fields[1]), session=int(fields[3]), start_time=int(fields[19]),
                       cmdline=cmdline)


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def read_stat(pid, proc=PROC):
    """The stat (and argv) of ``pid``, or None when there is no such process (or no ``/proc``).

    Any other error reading it (EACCES, EMFILE) is raised: "gone" must be certain.
    """
    base = os.path.join(proc, str(pid))
    try:
        stat = _read(os.path.join(base, "stat")).decode("utf-8", "replace")
        try:
            cmdline = _read(os.path.join(base, "cmdline"))
        except (IOError, OSError):
            cmdline = None
        return parse_stat(pid, stat, cmdline=cmdline)
    except (ValueError, IndexError):
        return None
    except (IOError, OSError) as error:
        if error.errno in (errno.ENOENT, errno.ESRCH):
            return None
        raise


def find_controller(pid, read=read_stat, max_depth=MAX_DEPTH):
    """The stat of the parent of the nearest session leader above ``pid`` (itself excluded), or None."""
    stat = read(pid)
    for dummy in range(max_depth):
        if stat is None or stat.ppid <= 1:
            return None
        stat = read(stat.ppid)
        if stat is not None and stat.session == stat.pid:
            parent = read(stat.ppid) if stat.ppid > 1 else None
            # The worker is a fork of ansible-playbook: the same argv. A login shell or daemon is not.
            forked = parent is not None and stat.cmdline is not None and stat.cmdline == parent.cmdline
            return parent if forked else None
    return None


class ControllerWatch(object):
    """Remembers the controller at the module's start; :meth:`gone` says, at each poll, whether it ended."""

    def __init__(self, controller, read=read_stat):
        self.controller = controller
        self.read = read

    @classmethod
    def start(cls, pid=None, read=read_stat):
        try:
            controller = find_controller(os.getpid() if pid is None else pid, read=read)
        except (IOError, OSError):
            controller = None  # cannot tell: watch nothing
        return cls(controller, read=read)

    def gone(self):
        """None while the controller runs (or when there is none to watch), else why the wait must stop."""
        if self.controller is None:
            return None
        try:
            now = self.read(self.controller.pid)
        except (IOError, OSError):
            return None  # unreadable is not gone
        if now is not None and now.start_time == self.controller.start_time and now.state not in ENDED_STATES:
            return None
        return "the job that ran this module ended (its ansible-playbook, pid {0}, is gone: cancelled or killed)".format(
            self.controller.pid)
