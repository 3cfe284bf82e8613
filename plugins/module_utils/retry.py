# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounded retries with exponential backoff for transient API errors.

Transient means: 429 (API priority and fairness, or an eviction blocked for now), any 5xx, and
transport errors such as a reset connection. A 409 Conflict is transient only for a
read-modify-write, where re-reading the object and re-applying the change is the documented cure.
A host name that does not resolve is not transient: retrying does not make DNS know it, and the
callers that read a Route (the monitoring's alerts) fall back at once instead of waiting it out.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools
import socket
import time

from ansible_collections.ocpvirt.portworx.plugins.module_utils.backoff import doubling
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import status_of

try:
    from urllib3.exceptions import HTTPError as TransportError
except ImportError:  # pragma: no cover - urllib3 always comes with the kubernetes client
    TransportError = OSError

TRANSIENT_STATUSES = frozenset([429, 500, 502, 503, 504])


class RetryPolicy(object):
    """How often and how long to retry: ``attempts`` tries in all, delays doubling up to ``max_delay``."""

    def __init__(self, attempts=6, initial_delay=0.2, max_delay=5.0, sleep=time.sleep):
        self.attempts = attempts
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.sleep = sleep

    def delays(self):
        """The pause before each retry: ``attempts - 1`` of them (none for one attempt or fewer)."""
        return itertools.islice(doubling(self.initial_delay, self.max_delay), max(self.attempts - 1, 0))


def _causes(exc):
    """``exc`` and what it wraps: ``__cause__``/``__context__`` and urllib3's ``reason``."""
    seen = []
    while exc is not None and len(seen) < 10 and all(exc is not other for other in seen):
        seen.append(exc)
        exc = getattr(exc, "reason", None) if isinstance(getattr(exc, "reason", None), BaseException) else (exc.__cause__ or exc.__context__)
    return seen


def is_unresolvable_host(exc):
    """True when ``exc`` comes from a host name that did not resolve (``socket.gaierror``)."""
    return any(isinstance(cause, socket.gaierror) or "Name or service not known" in str(cause) for cause in _causes(exc))


def is_transient(exc, conflict_is_transient=False):
    if isinstance(exc, (TransportError, ConnectionError)):
        return not is_unresolvable_host(exc)
    status = status_of(exc)
    if status in TRANSIENT_STATUSES:
        return True
    return conflict_is_transient and status == 409


def retry_after_seconds(exc):
    """The server's ``Retry-After`` hint in seconds, if it sent one."""
    headers = getattr(exc, "headers", None) or {}
    try:
        value = headers.get("Retry-After") or headers.get("retry-after")
        return float(value) if value is not None else None
    except (TypeError, ValueError, AttributeError):
        return None


def call_with_retry(func, policy, conflict_is_transient=False, on_retry=None):
    """Call ``func()`` until it succeeds, a non-transient error occurs, or the policy is spent."""
    delays = policy.delays()
    while True:
        try:
            return func()
        except Exception as exc:  # noqa: B902 - classified below, re-raised otherwise
            if not is_transient(exc, conflict_is_transient):
                raise
            delay = next(delays, None)
            if delay is None:
                raise
            hint = retry_after_seconds(exc)
            if hint is not None:
                delay = min(max(delay, hint), policy.max_delay)
            if on_retry is not None:
                on_retry(exc, delay)
            policy.sleep(delay)
