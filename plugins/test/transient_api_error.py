# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja test: did a kubernetes.core task fail for a reason worth retrying?

The roles' ``kubernetes.core.k8s_info`` / ``k8s`` tasks retry like this collection's own modules
(``module_utils/retry.py``): on HTTP 429 and 5xx answers and on transport errors (refused, reset
or dropped connections, timeouts), never on other 4xx answers, which a retry cannot change::

    register: result
    retries: 5
    delay: 2
    until: result is not ocpvirt.portworx.transient_api_error

kubernetes.core reports an API error either with ``status`` (``k8s`` apply errors) or only in
``msg``, as the kubernetes client's exception text (``Exception '500\\nReason: ...'``) or the API's
``Status`` as JSON (``Failed to retrieve requested object: {"kind":"Status",...,"code":500}``, which
``k8s`` says when its read before the write fails); ``module_utils/task_errors.py`` reads them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.retry import TRANSIENT_STATUSES
from ansible_collections.ocpvirt.portworx.plugins.module_utils.task_errors import task_status

# What urllib3 / http.client say when the connection itself failed.
_TRANSPORT_MARKERS = (
    "MaxRetryError",
    "NewConnectionError",
    "ProtocolError",
    "RemoteDisconnected",
    "Connection refused",
    "Connection reset",
    "Connection aborted",
    "ConnectionResetError",
    "ReadTimeoutError",
    "timed out",
)


def transient_api_error(result):
    """True when ``result`` (a registered task result) failed with a 429, a 5xx or a transport error."""
    if not isinstance(result, dict) or not result.get("failed"):
        return False
    status = task_status(result)
    if status is not None:
        return status in TRANSIENT_STATUSES
    message = str(result.get("msg") or "") + str(result.get("exception") or "")
    return any(marker in message for marker in _TRANSPORT_MARKERS)


class TestModule(object):
    def tests(self):
        return {"transient_api_error": transient_api_error}
