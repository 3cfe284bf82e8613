"""--hide-apis: a cluster without a CRD or capability serves none of its kinds, and has no objects of them."""
import pytest
from kubernetes.client.rest import ApiException

from clustersim.testing import Simulator

HIDDEN = ["snapshot.storage.k8s.io/v1", "autopilot.libopenstorage.org/v1alpha1"]


@pytest.fixture(scope="module")
def sim():
    with Simulator(vms=1, hidden_apis=HIDDEN, in_process=True) as simulator:
        yield simulator


def test_hidden_groups_are_missing_from_discovery(sim):
    groups = [g["name"] for g in sim.request("GET", "/apis")["groups"]]
    assert "snapshot.storage.k8s.io" not in groups and "autopilot.libopenstorage.org" not in groups
    assert "kubevirt.io" in groups


def test_hidden_kinds_answer_404_and_nothing_of_them_was_seeded(sim):
    for path in ("/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses",
                 "/apis/autopilot.libopenstorage.org/v1alpha1/namespaces/portworx/autopilotrules"):
        with pytest.raises(Exception) as refused:
            sim.request("GET", path)
        assert "404" in str(refused.value)
    assert not sim.cluster.store.list("snapshot.storage.k8s.io/volumesnapshotclasses")
    assert sim.cluster.settle()
    crds = [c["metadata"]["name"] for c in sim.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions")["items"]]
    assert "autopilotrules.autopilot.libopenstorage.org" not in crds and "virtualmachines.kubevirt.io" in crds


def test_the_rest_is_served_as_usual(sim):
    assert sim.request("GET", "/apis/storage.k8s.io/v1/storageclasses")["items"]
