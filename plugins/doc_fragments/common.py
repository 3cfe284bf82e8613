# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Options every waiting module of ocpvirt.portworx shares."""

    WAIT = r"""
options:
  wait:
    description:
      - Wait until the cluster has really reached the requested state, not only until the API
        accepted the change.
      - Never waits in check mode, where nothing is written.
      - A wait also stops, failing with reason C(Interrupted), once the ansible-playbook process that ran the
        task is gone (a cancelled AAP job kills it, but not the task's worker and module, which run in a
        session of their own), as nobody is left to read the result; no further poll is made. It is checked
        through C(/proc) before each poll, on Linux only; elsewhere a wait runs on to its end.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait at most (0 or more). On timeout the task fails and reports what it
        last saw.
    type: int
    default: 300
  wait_sleep:
    description:
      - The longest pause, in seconds, between two polls of the cluster while waiting; more than 0.
      - The first poll follows the change at once, the next after 0.2 seconds; the pause then doubles until it
        reaches O(wait_sleep), so a change the cluster reflects within a second ends the wait within a second,
        and a long wait polls every O(wait_sleep) seconds.
    type: float
    default: 2.0
"""
