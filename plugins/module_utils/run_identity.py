# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which run a module belongs to: the same id for every task of one ``ansible-playbook`` run, another for the next run.

The campaign lock is held by one run of a campaign (``maintenance_lock``), so every module process of
that run must name the same run, and two runs (two AAP jobs launched with the same campaign, a job and
its relaunch) must name different ones. In order:

1. the module option ``run_id`` (the node_maintenance role passes one it derived once per run);
2. the AAP job: AWX/automation controller sets ``JOB_ID`` (the job's id) and ``AWX_HOST`` in the
   environment of ansible-playbook (ansible/awx ``awx/main/tasks/jobs.py`` ``RunJob.build_env``), which
   a module run on the controller host (``connection: local``) inherits. ``JOB_ID`` alone is not
   taken: other schedulers (Grid Engine, Cronicle) set it too;
3. the ansible-playbook process that ran the module (``controller_watch.find_controller``): its pid and
   its start time (a later process given the same pid starts later), with the host name (two execution
   environments may both run an ansible-playbook with the same pid);
4. else (no ``/proc``, an ``async`` task, a module run over SSH on another host) the module's own
   process: one run per task, so a lock kept across tasks (``release_lock=false``) needs ``run_id``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

RunIdentity = namedtuple("RunIdentity", "run_id source")

OPTION = "the run_id option"
AAP_JOB = "the AAP job (JOB_ID)"
CONTROLLER = "the ansible-playbook process"
MODULE_PROCESS = "this module process (no run_id and no ansible-playbook found)"


def process_run_id(hostname, pid, start_time):
    return "{0}-{1}-{2}".format(hostname or "localhost", pid, start_time if start_time is not None else "?")


def run_identity(explicit, environ, controller, hostname, own_pid, own_start_time=None):
    """The :class:`RunIdentity` of this module's run; ``controller`` is a ``controller_watch.ProcessStat`` or None."""
    if explicit:
        return RunIdentity(explicit, OPTION)
    if environ.get("JOB_ID") and environ.get("AWX_HOST"):
        return RunIdentity("aap-job-{0}".format(environ["JOB_ID"]), AAP_JOB)
    if controller is not None:
        return RunIdentity(process_run_id(hostname, controller.pid, controller.start_time), CONTROLLER)
    return RunIdentity(process_run_id(hostname, own_pid, own_start_time), MODULE_PROCESS)
