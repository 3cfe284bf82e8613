# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja filter: a failed kubernetes.core task result as one line, the way the collection's modules fail.

kubernetes.core's own message for an API error runs over many lines (response headers, the
client's "Original traceback"); a role that stops on it rescues the failure and fails with::

    msg: "{{ ansible_failed_result | ocpvirt.portworx.api_error_line('read StorageClass x') }}"
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.task_errors import task_failure_line


def api_error_line(result, action="the task"):
    """``<action> failed with HTTP <status> <reason>: <message>`` from a registered failed result."""
    return task_failure_line(result or {}, action)


class FilterModule(object):
    def filters(self):
        return {"api_error_line": api_error_line}
