"""Shared fixtures for the simulator's own tests: every test talks to a real server over HTTP."""
import os
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO_ROOT, "simulator"))

from clustersim.testing import Simulator, simulator_fixture  # noqa: E402

# One subprocess simulator per test module (the same code path as `make sim-start`).
sim = simulator_fixture(scope="module")


@pytest.fixture(scope="module")
def client(sim):
    return sim.client()


@pytest.fixture(scope="module")
def api(sim):
    """The raw kubernetes ApiClient, for hand-made requests."""
    return sim.api_client()


def resource(client, api_version, kind):
    return client.resources.get(api_version=api_version, kind=kind)


def raw(sim, method, path, body=None, content_type="application/json", token=None, headers=None):
    """A hand-made HTTP request; returns (status code, decoded JSON body or None)."""
    import json
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body
    request = urllib.request.Request(sim.url + path, data=data, method=method, headers={
        "Authorization": f"Bearer {sim.token if token is None else token}", "Content-Type": content_type,
        **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            payload, code = response.read(), response.status
    except urllib.error.HTTPError as error:
        payload, code = error.read(), error.code
    try:
        return code, json.loads(payload) if payload else None
    except ValueError:
        return code, payload
