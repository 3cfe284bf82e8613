# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a failed kubernetes.core task result says: its HTTP status and a one-line account of it.

kubernetes.core reports an API error in one of three shapes: with ``status`` (and ``reason``) keys
(``k8s`` apply errors), as the kubernetes client's exception text in ``msg``
(``Exception '500\\nReason: ...\\nHTTP response body: {...}\\nOriginal traceback: ...'``, what
``k8s_info`` says), or as ``Failed to retrieve requested object: {"kind":"Status",...}`` with the
API's ``Status`` as JSON (``k8s`` reading the object before it writes). The roles retry on the
status (the ``transient_api_error`` test) and stop with one line (the ``api_error_line`` filter).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

# The status line of a kubernetes-client ApiException as kubernetes.core quotes it in msg.
_STATUS_IN_MESSAGE = re.compile(r"(?:^|Exception ')\(?(\d{3})\)?\s*\n?\s*Reason:", re.MULTILINE)
# A Status object in the text: {"kind":"Status", ... "code":500}
_STATUS_OBJECT = re.compile(r"\{\s*\"kind\"\s*:\s*\"Status\".*?\}(?=\s*(?:\n|'|$))", re.DOTALL)
# Where kubernetes.core's exception text stops being about the API's answer.
_NOISE = re.compile(r"\s*(?:HTTP response headers:|Original traceback:).*", re.DOTALL)


def status_object(message):
    """The API ``Status`` quoted in ``message``, as a dict (empty when there is none)."""
    for match in _STATUS_OBJECT.finditer(str(message or "")):
        try:
            decoded = json.loads(match.group(0))
        except ValueError:
            continue
        if isinstance(decoded, dict):
            return decoded
    return {}


def task_status(result):
    """The HTTP status of a failed kubernetes.core result, or None (a transport error, or none given)."""
    for key in ("status", "error"):
        value = result.get(key)
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return int(value)
    message = str(result.get("msg") or "")
    match = _STATUS_IN_MESSAGE.search(message)
    if match:
        return int(match.group(1))
    code = status_object(message).get("code")
    return int(code) if isinstance(code, int) else None


def task_failure_line(result, action):
    """``<action> failed with HTTP 500 InternalError: <the API's message>`` — one line, no traceback."""
    message = str(result.get("msg") or "") if isinstance(result, dict) else str(result)
    status = task_status(result) if isinstance(result, dict) else None
    body = status_object(message)
    if body.get("message"):
        detail = body["message"]
    else:
        detail = _NOISE.sub("", message)
        detail = re.sub(r"^Exception '\(?\d{3}\)?\s*Reason:\s*", "", detail.strip())
    reason = body.get("reason") or (result.get("reason") if isinstance(result, dict) else None)
    head = "{0} failed".format(action)
    if status is not None:
        head = "{0} with HTTP {1}{2}".format(head, status, " " + str(reason) if reason else "")
    return "{0}: {1}".format(head, " ".join(detail.split()) or "no message")
