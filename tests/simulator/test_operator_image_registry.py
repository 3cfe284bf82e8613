"""The simulated image registry operator (simulator/clustersim/operators/image_registry.py)."""
import pytest

from clustersim.cluster import build_cluster
from clustersim.config import Config
from clustersim.errors import ApiError

CONFIG = "imageregistry.operator.openshift.io/configs"
NS = "openshift-image-registry"


@pytest.fixture
def cluster():
    c = build_cluster(Config(vms=1, durations={"registry_rollout": 0.01, "pvc_bind": 0.01}))
    c.settle()
    yield c
    c.stop()


def claim(cluster, access="ReadWriteMany", storage_class="px-rwx-file-kubvirt"):
    cluster.store.create("persistentvolumeclaims", {"metadata": {"name": "reg", "namespace": NS}, "spec": {
        "accessModes": [access], "resources": {"requests": {"storage": "100Gi"}}, "storageClassName": storage_class}}, internal=False)


def manage(cluster, **spec):
    body = {"managementState": "Managed", "replicas": 2, "storage": {"pvc": {"claim": "reg"}}, "defaultRoute": True}
    body.update(spec)
    cluster.store.patch(CONFIG, "cluster", {"spec": body}, internal=False)
    cluster.settle()


def operator(cluster):
    co = cluster.store.get("config.openshift.io/clusteroperators", "image-registry")
    return dict((c["type"], (c["status"], c["message"])) for c in co["status"]["conditions"])


def test_managed_on_a_wait_for_first_consumer_claim_rolls_out(cluster):
    claim(cluster)
    manage(cluster)
    assert cluster.store.get("persistentvolumeclaims", "reg", NS)["status"]["phase"] == "Bound"
    deployment = cluster.store.get("apps/deployments", "image-registry", NS)
    assert deployment["status"]["readyReplicas"] == 2 and deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert operator(cluster)["Available"][0] == "True" and operator(cluster)["Progressing"][0] == "False"
    route = cluster.store.get("route.openshift.io/routes", "default-route", NS)
    assert route["status"]["ingress"][0]["host"].startswith("default-route-openshift-image-registry.apps.")
    assert cluster.store.get(CONFIG, "cluster")["status"]["readyReplicas"] == 2


def test_two_replicas_on_rwo_degrade(cluster):
    claim(cluster, access="ReadWriteOnce", storage_class="px-csi-db")
    manage(cluster)
    conditions = operator(cluster)
    assert conditions["Degraded"] == ("True", "Degraded: The deployment has not completed")
    assert conditions["Progressing"][0] == "True"
    manage(cluster, replicas=1, rolloutStrategy="Recreate")
    assert operator(cluster)["Degraded"][0] == "False"
    assert cluster.store.get("apps/deployments", "image-registry", NS)["spec"]["strategy"]["type"] == "Recreate"


def test_missing_claim_and_removal(cluster):
    manage(cluster)
    assert operator(cluster)["Degraded"][0] == "True" and "not found" in operator(cluster)["Degraded"][1]
    claim(cluster)
    cluster.settle()
    assert operator(cluster)["Degraded"][0] == "False"
    cluster.store.patch(CONFIG, "cluster", {"spec": {"managementState": "Removed"}}, internal=False)
    cluster.settle()
    assert cluster.store.get("apps/deployments", "image-registry", NS) is None
    assert cluster.store.get("route.openshift.io/routes", "default-route", NS) is None
    assert operator(cluster)["Available"] == ("True", "Available: The registry is removed")


def test_rollout_strategy_pattern_is_enforced(cluster):
    with pytest.raises(ApiError) as refused:
        cluster.store.patch(CONFIG, "cluster", {"spec": {"rolloutStrategy": "BlueGreen"}}, internal=False)
    assert refused.value.code == 422
