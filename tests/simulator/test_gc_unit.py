"""Garbage collection and namespace deletion as controllers, on an in-process cluster (no server).

What the apiserver and kube-controller-manager do (kubernetes/kubernetes release-1.33,
``staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go``,
``pkg/controller/garbagecollector/garbagecollector.go``, ``pkg/controller/namespace/deletion``):
Orphan keeps the dependents and strips their references to the owner, Background deletes them
after the owner, Foreground deletes them first and keeps the owner until the blocking ones are gone.
"""
import pytest

from clustersim.cluster import Cluster
from clustersim.config import Config
from clustersim.operators import install_controllers
from clustersim.operators.core import CONTROLLERS
from clustersim.testing import eventually

HOLD = "example.com/hold"


@pytest.fixture()
def cluster(core_cluster):
    return core_cluster


def make(cluster, name, owners=(), finalizers=(), block=False, namespace="default"):
    meta = {"name": name}
    if owners:
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": o["metadata"]["name"],
                                    "uid": o["metadata"]["uid"], "blockOwnerDeletion": block} for o in owners]
    if finalizers:
        meta["finalizers"] = list(finalizers)
    return cluster.store.create("configmaps", {"metadata": meta}, namespace)


PUBLISHED = {"kube-root-ca.crt", "openshift-service-ca.crt"}  # every namespace holds them (cacertpublishers.py)


def names(cluster, namespace="default"):
    return {o["metadata"]["name"] for o in cluster.store.list("configmaps", namespace)} - PUBLISHED


def get(cluster, name):
    return cluster.store.get("configmaps", name, "default")


def test_background_deletes_dependents_after_the_owner_and_cascades(cluster):
    owner = make(cluster, "owner")
    child = make(cluster, "child", [owner])
    make(cluster, "grandchild", [child])
    make(cluster, "bystander")
    deleted = cluster.store.delete("configmaps", "owner", "default")
    assert "deletionTimestamp" not in deleted["metadata"] and get(cluster, "owner") is None
    assert cluster.settle()
    assert names(cluster) == {"bystander"}


def test_background_keeps_a_dependent_with_another_owner_and_drops_the_dead_reference(cluster):
    first, second = make(cluster, "first"), make(cluster, "second")
    make(cluster, "shared", [first, second])
    cluster.store.delete("configmaps", "first", "default", propagation="Background")
    assert cluster.settle()
    refs = get(cluster, "shared")["metadata"]["ownerReferences"]
    assert [ref["uid"] for ref in refs] == [second["metadata"]["uid"]]


def test_orphan_keeps_dependents_even_when_the_owner_has_finalizers(cluster):
    owner = make(cluster, "owner", finalizers=[HOLD])
    make(cluster, "child", [owner])
    make(cluster, "other-child", [owner, make(cluster, "keeper")])
    terminating = cluster.store.delete("configmaps", "owner", "default", propagation="Orphan")
    assert terminating["metadata"]["deletionTimestamp"]
    assert terminating["metadata"]["finalizers"] == [HOLD, "orphan"]
    assert cluster.settle()
    assert get(cluster, "owner")["metadata"]["finalizers"] == [HOLD]  # the collector removed "orphan"
    assert "ownerReferences" not in get(cluster, "child")["metadata"]
    assert [r["name"] for r in get(cluster, "other-child")["metadata"]["ownerReferences"]] == ["keeper"]
    cluster.store.remove_finalizer("configmaps", "owner", HOLD, "default")
    assert cluster.settle()
    assert names(cluster) == {"child", "other-child", "keeper"}


def test_orphan_without_other_finalizers_removes_the_owner_once_orphaned(cluster):
    owner = make(cluster, "owner")
    make(cluster, "child", [owner], block=True)
    cluster.store.delete("configmaps", "owner", "default", propagation="Orphan")
    assert get(cluster, "owner")["metadata"]["finalizers"] == ["orphan"]
    assert cluster.settle()
    assert names(cluster) == {"child"} and "ownerReferences" not in get(cluster, "child")["metadata"]


def test_foreground_keeps_the_owner_until_blocking_dependents_are_gone(cluster):
    owner = make(cluster, "owner")
    make(cluster, "blocking", [owner], finalizers=[HOLD], block=True)
    make(cluster, "loose", [owner])
    terminating = cluster.store.delete("configmaps", "owner", "default", propagation="Foreground")
    assert terminating["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert cluster.settle()
    assert names(cluster) == {"owner", "blocking"}  # every dependent is deleted, blocking one held
    assert get(cluster, "blocking")["metadata"]["deletionTimestamp"]
    assert get(cluster, "owner")["metadata"]["finalizers"] == ["foregroundDeletion"]
    cluster.store.remove_finalizer("configmaps", "blocking", HOLD, "default")
    assert cluster.settle()
    assert names(cluster) == set()


def test_foreground_cascades_through_dependents_that_own_objects(cluster):
    owner = make(cluster, "owner")
    child = make(cluster, "child", [owner], block=True)
    make(cluster, "grandchild", [child], finalizers=[HOLD], block=True)
    cluster.store.delete("configmaps", "owner", "default", propagation="Foreground")
    assert cluster.settle()
    # the child waits for its own blocking dependent, so it is deleted in foreground too
    assert get(cluster, "child")["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert names(cluster) == {"owner", "child", "grandchild"}
    cluster.store.remove_finalizer("configmaps", "grandchild", HOLD, "default")
    assert cluster.settle()
    assert names(cluster) == set()


def test_dry_run_delete_changes_nothing(cluster):
    owner = make(cluster, "owner")
    make(cluster, "child", [owner])
    answer = cluster.store.delete("configmaps", "owner", "default", propagation="Foreground", dry_run=True)
    assert answer["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert cluster.settle()
    assert names(cluster) == {"owner", "child"} and "finalizers" not in get(cluster, "owner")["metadata"]


def test_namespace_controller_empties_the_namespace_then_drops_its_token(cluster):
    store = cluster.store
    store.create("namespaces", {"metadata": {"name": "doomed"}, "spec": {"finalizers": ["kubernetes", "other.io/x"]}})
    make(cluster, "inside", namespace="doomed")
    make(cluster, "held", finalizers=[HOLD], namespace="doomed")
    store.delete("namespaces", "doomed")
    assert cluster.settle()
    assert names(cluster, "doomed") == {"held"}
    assert store.get("namespaces", "doomed")["spec"]["finalizers"] == ["kubernetes", "other.io/x"]
    store.remove_finalizer("configmaps", "held", HOLD, "doomed")
    assert cluster.settle()
    # the controller removes only its own token; another finalizer keeps the namespace
    assert store.get("namespaces", "doomed")["spec"]["finalizers"] == ["other.io/x"]
    store.mutate("namespaces", "doomed", lambda ns: ns["spec"].update(finalizers=[]))
    assert store.get("namespaces", "doomed") is None


def test_jobs_orphan_their_pods_by_default(cluster):
    store = cluster.store
    job = store.create("batch/jobs", {"metadata": {"name": "j"}, "spec": {}}, "default")
    ref = {"apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": job["metadata"]["uid"]}
    store.create("pods", {"metadata": {"name": "j-pod", "ownerReferences": [ref]}, "spec": {}}, "default")
    store.delete("batch/jobs", "j", "default")
    assert cluster.settle()
    assert store.get("batch/jobs", "j", "default") is None
    assert "ownerReferences" not in store.get("pods", "j-pod", "default")["metadata"]


def namespace_with_its_account(cluster, name):
    """A new namespace once the ServiceAccount controller gave it the ``default`` account its pods
    need (the controller creates it asynchronously; a test creating it too races it)."""
    cluster.store.create("namespaces", {"metadata": {"name": name}})
    eventually("the default ServiceAccount of " + name, lambda: cluster.store.get("serviceaccounts", "default", name))


@pytest.fixture()
def slow_kubelet_cluster():
    """Pods end their graceful deletion only when their grace period is over."""
    built = Cluster(Config(durations={"pod_termination": 1e9}))
    install_controllers(built, CONTROLLERS)
    built.start()
    namespace_with_its_account(built, "default")
    yield built
    built.stop()


def scheduled_pod(cluster, name, owner=None, namespace="default"):
    meta = {"name": name}
    if owner is not None:
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": owner["metadata"]["name"],
                                    "uid": owner["metadata"]["uid"]}]
    spec = {"nodeName": "worker-0", "terminationGracePeriodSeconds": 45,
            "containers": [{"name": "c", "image": "busybox:1.36"}]}
    cluster.store.create("pods", {"metadata": meta, "spec": spec}, namespace, internal=False)
    cluster.store.mutate("pods", name, lambda p: p["status"].update(phase="Running"), namespace)


def test_the_collector_deletes_a_pod_dependent_with_its_grace_period(slow_kubelet_cluster):
    """operations.go deleteObject sends no gracePeriodSeconds: the pod's own period applies."""
    cluster = slow_kubelet_cluster
    owner = make(cluster, "owner")
    scheduled_pod(cluster, "worker", owner)
    cluster.store.delete("configmaps", "owner", "default")
    assert cluster.settle()
    pod = cluster.store.get("pods", "worker", "default")
    assert pod is not None and pod["metadata"]["deletionGracePeriodSeconds"] == 45


def test_the_namespace_controller_deletes_pods_with_their_grace_period(slow_kubelet_cluster):
    cluster = slow_kubelet_cluster
    namespace_with_its_account(cluster, "doomed")
    scheduled_pod(cluster, "worker", namespace="doomed")
    cluster.store.delete("namespaces", "doomed")
    assert cluster.settle()
    pod = cluster.store.get("pods", "worker", "doomed")
    assert pod is not None and pod["metadata"]["deletionGracePeriodSeconds"] == 45
    assert cluster.store.get("namespaces", "doomed")["status"]["phase"] == "Terminating"
    cluster.store.delete("pods", "worker", "doomed", grace_period_seconds=0)
    assert cluster.settle()
    assert cluster.store.get("namespaces", "doomed") is None
