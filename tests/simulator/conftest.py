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


@pytest.fixture()
def bare_cluster():
    """An in-process Cluster with no controllers running: the store's own semantics, plus the
    namespace and the ``default`` ServiceAccount the ServiceAccount controller would make."""
    from clustersim.cluster import Cluster
    from clustersim.config import Config

    built = Cluster(Config())
    built.store.create("namespaces", {"metadata": {"name": "default"}})
    built.store.create("serviceaccounts", {"metadata": {"name": "default"}}, "default")
    return built


@pytest.fixture()
def core_cluster():
    """An in-process Cluster running the core controllers (garbage collector, namespace lifecycle,
    CA bundle publishers, ...) with the ``default`` namespace, stopped after the test."""
    from clustersim.cluster import Cluster
    from clustersim.config import Config
    from clustersim.operators import install_controllers
    from clustersim.operators.core import CONTROLLERS

    built = Cluster(Config())
    install_controllers(built, CONTROLLERS)
    built.start()
    built.store.create("namespaces", {"metadata": {"name": "default"}})
    yield built
    built.stop()
