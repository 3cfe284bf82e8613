"""The one controller shape: declared handlers are wired, the registry finds controllers by name."""
import pytest

from clustersim.cluster import Cluster
from clustersim.config import Config
from clustersim.controller import Controller, admits, watches
from clustersim.errors import ApiError, invalid
from clustersim.operators import install_controllers


class Recorder(Controller):
    name = "recorder"

    def setup(self):
        self.seen = []

    @watches("configmaps")
    def on_config_map(self, event, new, old):
        self.seen.append((event, (new or old)["metadata"]["name"]))

    @admits("configmaps")
    def refuse_forbidden(self, req):
        if req.name == "forbidden":
            raise invalid("ConfigMap", req.name, [])

    def reset(self):
        self.seen.clear()


class Reader(Controller):
    name = "reader"

    def recorded(self):
        return self.cluster.controller("recorder").seen


@pytest.fixture()
def cluster():
    built = Cluster(Config())
    install_controllers(built, [Recorder, Reader])
    built.start()
    built.store.create("namespaces", {"metadata": {"name": "default"}})
    yield built
    built.stop()


def test_declared_watch_and_admission_are_wired(cluster):
    cluster.store.create("configmaps", {"metadata": {"name": "a"}}, "default")
    with pytest.raises(ApiError):
        cluster.store.create("configmaps", {"metadata": {"name": "forbidden"}}, "default")
    assert cluster.settle()
    assert cluster.controller("reader").recorded() == [("ADDED", "a")]


def test_reset_reaches_every_controller(cluster):
    cluster.store.create("configmaps", {"metadata": {"name": "b"}}, "default")
    assert cluster.settle()
    assert cluster.controller("recorder").seen
    cluster.reset()
    assert cluster.controller("recorder").seen == []


def test_registry_names_what_is_missing(cluster):
    assert cluster.has_controller("recorder") and not cluster.has_controller("nothing")
    with pytest.raises(LookupError, match="nothing"):
        cluster.controller("nothing")
    with pytest.raises(ValueError, match="already registered"):
        cluster.register_controller(Recorder(cluster))
