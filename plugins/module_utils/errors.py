# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn Kubernetes API errors into one-line, actionable failures.

Every module failure carries the object it concerns, the HTTP status and the API's reason, so an
operator reading an AAP job log knows what was refused and by whom without a traceback.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json


class ModuleFailure(Exception):
    """A failure the module reports with ``fail_json`` (no traceback).

    ``details`` are extra keys for the task result (findings, pending pods, ...).
    """

    def __init__(self, msg, status=None, reason=None, **details):
        super(ModuleFailure, self).__init__(msg)
        self.msg = msg
        self.status = status
        self.reason = reason
        self.details = details

    def result(self):
        result = dict(self.details)
        result["msg"] = self.msg
        if self.status is not None:
            result["status"] = self.status
        if self.reason is not None:
            result["reason"] = self.reason
        return result


class Refusal(ModuleFailure):
    """A request the module will not carry out; raised before anything is written."""

    def __init__(self, subject, rule, fix, **details):
        msg = "{0}: {1}. {2}".format(subject, rule.rstrip("."), fix)
        super(Refusal, self).__init__(msg, reason="Refused", **details)
        self.subject = subject
        self.rule = rule
        self.fix = fix


class NotFound(ModuleFailure):
    """An object the task names does not exist: every module reports it the same way (HTTP 404, NotFound).

    Raised before any write, like a refusal, but it is not one: nothing was judged, there was nothing
    to judge.
    """

    def __init__(self, subject, hint=None, **details):
        msg = "{0} not found".format(subject)
        if hint:
            msg = "{0}: {1}".format(msg, hint)
        super(NotFound, self).__init__(msg, status=404, reason="NotFound", **details)
        self.subject = subject


#: What a patch planner returns when nothing needs changing (never None, never a patch with an empty spec).
NO_PATCH = {}


class WaitTimeout(ModuleFailure):
    """The cluster did not reach the wanted state within ``wait_timeout``."""

    def __init__(self, what, timeout, last_state=None, **details):
        msg = "Timed out after {0}s waiting for {1}".format(timeout, what)
        if last_state:
            msg = "{0}; last seen: {1}".format(msg, last_state)
        super(WaitTimeout, self).__init__(msg, reason="Timeout", **details)


class Interrupted(ModuleFailure):
    """A wait stopped before its end: a stop signal, or the ansible-playbook that ran the module is gone.

    ``cause`` is the short why (``SIGTERM``, "the job that ran this module ended ..."), for records.
    """

    def __init__(self, msg, cause, **details):
        super(Interrupted, self).__init__(msg, reason="Interrupted", **details)
        self.cause = cause


class ApiFailure(ModuleFailure):
    """An error answer of the Kubernetes API server."""


def status_of(exc):
    """The HTTP status of a kubernetes-client exception, or None for transport errors."""
    status = getattr(exc, "status", None)
    try:
        return int(status) if status is not None else None
    except (TypeError, ValueError):
        return None


def decode_status_body(exc):
    """The ``Status`` object an API error carries, as a dict (empty when there is none)."""
    body = getattr(exc, "body", None)
    if body is None:
        return {}
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, dict):
        return body
    try:
        decoded = json.loads(body)
    except (TypeError, ValueError):
        return {"message": str(body).strip()}
    return decoded if isinstance(decoded, dict) else {}


def one_line(text):
    return " ".join(str(text).split())


def api_failure(exc, action, subject):
    """Build an :class:`ApiFailure` for ``action`` (e.g. "patch") on ``subject`` (e.g. "StorageClass x")."""
    status = status_of(exc)
    body = decode_status_body(exc)
    reason = body.get("reason") or getattr(exc, "reason", None) or type(exc).__name__
    message = body.get("message") or getattr(exc, "reason", None) or str(exc)
    causes = (body.get("details") or {}).get("causes") or []
    cause_text = "; ".join(
        "{0}: {1}".format(c.get("field"), c.get("message")) if c.get("field") else str(c.get("message"))
        for c in causes
        if c.get("message") and c.get("message") not in message
    )
    if cause_text:
        message = "{0} ({1})".format(message, cause_text)
    if status is None:
        msg = "{0} {1} failed: {2}".format(action, subject, one_line(message))
    else:
        msg = "{0} {1} failed with HTTP {2} {3}: {4}".format(action, subject, status, reason, one_line(message))
    return ApiFailure(msg, status=status, reason=reason)


def half_done(failure, done, fix="Run the task again to finish"):
    """``failure`` of a later write, saying what the step had already changed (``done``: one phrase per change).

    A run that stops between two writes leaves the cluster between two states; the message names
    that state so the reader knows what a re-run (which plans from the current state) will finish.
    """
    if not done:
        return failure
    failure.msg = "{0}. Half done: {1}. {2}".format(failure.msg.rstrip("."), "; ".join(done), fix.rstrip(".") + ".")
    failure.details.update(half_done=True, done=list(done))
    return failure
