import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils.retry import (
    RetryPolicy,
    call_with_retry,
    is_transient,
)


class StatusError(Exception):
    def __init__(self, status, headers=None):
        super(StatusError, self).__init__(status)
        self.status = status
        self.headers = headers or {}


def flaky(failures):
    calls = {"n": 0}

    def func():
        calls["n"] += 1
        if calls["n"] <= len(failures):
            raise failures[calls["n"] - 1]
        return "ok"

    return func, calls


def policy(sleeps, attempts=4):
    return RetryPolicy(attempts=attempts, initial_delay=0.1, max_delay=0.4, sleep=sleeps.append)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_statuses_are_retried(status):
    sleeps = []
    func, calls = flaky([StatusError(status), StatusError(status)])
    assert call_with_retry(func, policy(sleeps)) == "ok"
    assert calls["n"] == 3
    assert sleeps == [0.1, 0.2]


def test_connection_reset_is_retried():
    sleeps = []
    func, calls = flaky([ConnectionResetError("reset")])
    assert call_with_retry(func, policy(sleeps)) == "ok"
    assert calls["n"] == 2


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_permanent_errors_are_not_retried(status):
    sleeps = []
    func, calls = flaky([StatusError(status)])
    with pytest.raises(StatusError):
        call_with_retry(func, policy(sleeps))
    assert calls["n"] == 1 and sleeps == []


def test_conflict_is_retried_only_for_read_modify_write():
    assert not is_transient(StatusError(409))
    assert is_transient(StatusError(409), conflict_is_transient=True)


def test_retries_are_bounded_and_backoff_is_capped():
    sleeps = []
    func, calls = flaky([StatusError(503)] * 10)
    with pytest.raises(StatusError):
        call_with_retry(func, policy(sleeps, attempts=5))
    assert calls["n"] == 5
    assert sleeps == [0.1, 0.2, 0.4, 0.4]


def test_retry_after_header_is_honoured_within_the_cap():
    sleeps = []
    func, calls = flaky([StatusError(429, {"Retry-After": "0.3"})])
    call_with_retry(func, policy(sleeps))
    assert sleeps == [0.3]


def test_an_unresolvable_host_is_not_retried_but_a_reset_connection_is():
    import socket

    from urllib3.exceptions import MaxRetryError, NameResolutionError, ProtocolError

    unresolvable = MaxRetryError(None, "https://thanos-querier.apps.example.com/api/v1/alerts",
                                 reason=NameResolutionError("thanos-querier.apps.example.com", None, socket.gaierror(-2, "Name or service not known")))
    sleeps = []
    func, calls = flaky([unresolvable])
    with pytest.raises(MaxRetryError):
        call_with_retry(func, policy(sleeps))
    assert calls["n"] == 1 and sleeps == []
    assert is_transient(ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer")))


def test_a_single_attempt_is_never_retried():
    sleeps = []
    func, calls = flaky([StatusError(503)])
    with pytest.raises(StatusError):
        call_with_retry(func, policy(sleeps, attempts=1))
    assert calls["n"] == 1 and sleeps == []
    assert list(RetryPolicy(attempts=0).delays()) == []
