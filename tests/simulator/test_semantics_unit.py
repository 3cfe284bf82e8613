"""Object semantics without a server: defaulting, the built-in round trip, canonical quantities,
label/annotation validation, pod update validation, generation and graceful deletion rules.

Expected values: kubernetes/kubernetes release-1.33 (``pkg/apis/*/v1/defaults.go``,
apimachinery ``pkg/api/resource/quantity.go``, ``pkg/util/validation/validation.go``,
``pkg/apis/core/validation/validation.go`` ValidatePodUpdate, ``pkg/registry/core/pod/strategy.go``).
"""
import pytest

from clustersim.defaults import apply_defaults, image_pull_policy
from clustersim.errors import ApiError
from clustersim.kinds import default_registry
from clustersim.pod_validation import validate_pod_update
from clustersim.quantity import QuantityError, canonical_quantity
from clustersim.roundtrip import round_trip
from clustersim.selectors import field_value
from clustersim.strategies import qos_class
from clustersim.validation import label_value_errors, metadata_causes, qualified_name_errors


@pytest.mark.parametrize("given, canonical", [
    ("1024Mi", "1Gi"), ("0.5", "500m"), (0.5, "500m"), ("1.5", "1500m"), ("2000", "2k"), ("1500", "1500"),
    ("1e3", "1e3"), ("1.5Gi", "1536Mi"), ("512Mi", "512Mi"), ("0.5Ki", "512"), ("1000m", "1"), ("2048Ki", "2Mi"),
    ("0.1n", "1n"), ("0", "0"), (2, "2"), ("1000k", "1M"), ("-1024Mi", "-1Gi"),
])
def test_canonical_quantities(given, canonical):
    assert canonical_quantity(given) == canonical


def test_a_malformed_quantity_is_refused():
    with pytest.raises(QuantityError):
        canonical_quantity("ten gigs")


@pytest.mark.parametrize("image, policy", [
    ("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.25", "IfNotPresent"),
    ("registry:5000/app", "Always"), ("registry:5000/app:v1", "IfNotPresent"), ("app@sha256:abc", "IfNotPresent"),
])
def test_image_pull_policy_follows_the_tag(image, policy):
    assert image_pull_policy(image) == policy


def test_pod_defaults():
    pod = {"spec": {"serviceAccount": "builder", "containers": [
        {"name": "c", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
         "resources": {"limits": {"cpu": "1"}}, "readinessProbe": {"httpGet": {"port": 80}}}],
        "volumes": [{"name": "s", "secret": {"secretName": "x"}}]}}
    apply_defaults("pods", pod)
    spec = pod["spec"]
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["schedulerName"], spec["terminationGracePeriodSeconds"]) \
        == ("Always", "ClusterFirst", "default-scheduler", 30)
    assert spec["serviceAccountName"] == "builder" and spec["securityContext"] == {}
    container = spec["containers"][0]
    assert container["terminationMessagePath"] == "/dev/termination-log" and container["imagePullPolicy"] == "IfNotPresent"
    assert container["ports"][0]["protocol"] == "TCP" and container["resources"]["requests"] == {"cpu": "1"}
    assert container["readinessProbe"]["periodSeconds"] == 10 and container["readinessProbe"]["httpGet"]["scheme"] == "HTTP"
    assert spec["volumes"][0]["secret"]["defaultMode"] == 420
    before = repr(pod)
    apply_defaults("pods", pod)
    assert repr(pod) == before  # idempotent


def test_workload_defaults():
    sts = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}},
                    "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}]}}
    apply_defaults("apps/statefulsets", sts)
    spec = sts["spec"]
    assert spec["replicas"] == 1 and spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert spec["volumeClaimTemplates"][0]["spec"]["volumeMode"] == "Filesystem"
    assert spec["template"]["spec"]["restartPolicy"] == "Always"
    deployment = {"spec": {}}
    apply_defaults("apps/deployments", deployment)
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": "25%", "maxSurge": "25%"}
    recreate = {"spec": {"strategy": {"type": "Recreate"}}}
    apply_defaults("apps/deployments", recreate)
    assert recreate["spec"]["strategy"] == {"type": "Recreate"}
    job = {"spec": {"template": {"spec": {"restartPolicy": "Never"}}}}
    apply_defaults("batch/jobs", job)
    assert (job["spec"]["completions"], job["spec"]["parallelism"], job["spec"]["backoffLimit"]) == (1, 1, 6)
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def _kind(key):
    return default_registry().get(key)


def test_round_trip_drops_nulls_and_empty_lists_and_canonicalises_quantities():
    kind = _kind("nodes")
    node = {"metadata": {"name": "n", "labels": {}}, "spec": {"taints": [], "podCIDR": None},
            "status": {"capacity": {"memory": "1024Mi", "cpu": 0.5}}}
    out = round_trip(node, kind.schema, kind.kind, kind.version)
    assert out["spec"] == {} and "labels" not in out["metadata"]
    assert out["status"]["capacity"] == {"memory": "1Gi", "cpu": "500m"}
    pod_kind = _kind("pods")
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "resources": {}}],
                                               "volumes": [{"name": "scratch", "emptyDir": {}}]}}
    out = round_trip(pod, pod_kind.schema, pod_kind.kind, pod_kind.version)
    assert out["spec"]["volumes"][0]["emptyDir"] == {}  # an empty struct is still encoded
    assert out["spec"]["containers"][0]["resources"] == {}
    cm_kind = _kind("configmaps")
    assert "data" not in round_trip({"metadata": {"name": "c"}, "data": {}}, cm_kind.schema, "ConfigMap", "v1")


def test_round_trip_refuses_a_malformed_quantity():
    kind = _kind("persistentvolumeclaims")
    with pytest.raises(ApiError) as info:
        round_trip({"spec": {"resources": {"requests": {"storage": "lots"}}}}, kind.schema, kind.kind, kind.version)
    assert info.value.code == 400 and "quantities must match the regular expression" in info.value.message


@pytest.mark.parametrize("key, problems", [
    ("app", 0), ("example.com/app", 0), ("app_1.x-y", 0), ("-app", 1), ("a/b/c", 1), ("Example.com/app", 1),
    ("/app", 1), ("example.com/", 1), ("x" * 64, 1),
])
def test_qualified_names(key, problems):
    assert len(qualified_name_errors(key)) == problems


def test_label_values_and_messages():
    assert label_value_errors("") == [] and label_value_errors("v1.2_3") == []
    assert label_value_errors("bad value!")[0].startswith("a valid label must be an empty string")
    assert label_value_errors("x" * 64) == ["must be no more than 63 characters"]
    causes = metadata_causes({"labels": {"app": "bad value!"}, "annotations": {"note": "x" * (256 * 1024)}})
    assert [c.field for c in causes] == ["metadata.labels", "metadata.annotations"]
    assert causes[0].message.startswith('Invalid value: "bad value!": a valid label')
    assert causes[1].message == "Too long: may not be more than 262144 bytes"
    assert metadata_causes({"annotations": {"Example.COM/Thing": "ok"}}) == []  # keys checked lower-cased


def _pod(**spec):
    base = {"containers": [{"name": "c", "image": "a:1"}], "nodeName": "worker-0", "tolerations": [{"key": "k"}]}
    base.update(spec)
    return {"metadata": {"name": "p"}, "spec": base}


def test_pod_updates_may_change_images_and_add_tolerations_only():
    old = _pod()
    validate_pod_update(_pod(containers=[{"name": "c", "image": "a:2"}]), old, "p")
    validate_pod_update(_pod(tolerations=[{"key": "k"}, {"key": "other"}]), old, "p")
    validate_pod_update(_pod(activeDeadlineSeconds=10), old, "p")
    with pytest.raises(ApiError) as info:
        validate_pod_update(_pod(containers=[{"name": "c", "image": "a:1", "command": ["sh"]}]), old, "p")
    assert info.value.code == 422
    assert 'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`' in info.value.message
    with pytest.raises(ApiError):
        validate_pod_update(_pod(tolerations=[]), old, "p")
    with pytest.raises(ApiError):
        validate_pod_update(_pod(nodeName="worker-1"), old, "p")
    unscheduled = _pod()
    del unscheduled["spec"]["nodeName"]
    validate_pod_update(_pod(), unscheduled, "p")  # binding: nodeName set once


def test_qos_classes():
    assert qos_class({"containers": [{"name": "c"}]}) == "BestEffort"
    assert qos_class({"containers": [{"resources": {"requests": {"cpu": "1"}}}]}) == "Burstable"
    both = {"cpu": "1", "memory": "1Gi"}
    assert qos_class({"containers": [{"resources": {"limits": both, "requests": both}}]}) == "Guaranteed"


def test_unschedulable_selects_as_false_when_unset():
    assert field_value({"spec": {}}, "spec.unschedulable") == "false"
    assert field_value({"spec": {"unschedulable": True}}, "spec.unschedulable") == "true"


@pytest.fixture()
def cluster(bare_cluster):
    return bare_cluster


def test_generation_only_where_the_strategy_keeps_it(cluster):
    store = cluster.store
    assert "generation" not in store.create("configmaps", {"metadata": {"name": "c"}}, "default")["metadata"]
    assert "generation" not in store.get("namespaces", "default")["metadata"]
    pod = store.create("pods", {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "a:1"}]}},
                       "default", internal=False)
    assert pod["metadata"]["generation"] == 1
    assert store.create("apps/deployments", {"metadata": {"name": "d"}, "spec": {}}, "default")["metadata"]["generation"] == 1


def test_scheduled_pods_terminate_for_their_grace_period(cluster):
    store = cluster.store
    spec = {"nodeName": "worker-0", "containers": [{"name": "c", "image": "a:1"}], "terminationGracePeriodSeconds": 5}
    store.create("pods", {"metadata": {"name": "p"}, "spec": spec}, "default", internal=False)
    terminating = store.delete("pods", "p", "default", internal=False)
    meta = terminating["metadata"]
    assert meta["deletionGracePeriodSeconds"] == 5 and meta["deletionTimestamp"] and meta["generation"] == 2
    again = store.delete("pods", "p", "default", internal=False)  # no shorter period: unchanged
    assert again["metadata"]["deletionGracePeriodSeconds"] == 5
    store.delete("pods", "p", "default", internal=False, grace_period_seconds=0)
    assert store.get("pods", "p", "default") is None
    unscheduled = dict(spec)
    del unscheduled["nodeName"]
    store.create("pods", {"metadata": {"name": "q"}, "spec": unscheduled}, "default", internal=False)
    store.delete("pods", "q", "default", internal=False)
    assert store.get("pods", "q", "default") is None  # never scheduled: deleted at once


@pytest.mark.parametrize("field", ["serviceAccountName", "serviceAccount"])
def test_a_pod_naming_a_missing_service_account_is_forbidden(cluster, field):
    """The deprecated ``serviceAccount`` is the same field (conversion.go), so admission sees it."""
    with pytest.raises(ApiError) as info:
        cluster.store.create("pods", {"metadata": {"name": "p"}, "spec": {
            field: "ghost", "containers": [{"name": "c", "image": "a:1"}]}}, "default", internal=False)
    assert (info.value.code, info.value.message) == (
        403, 'pods "p" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found')
    pod = cluster.store.create("pods", {"metadata": {"name": "p"}, "spec": {
        "containers": [{"name": "c", "image": "a:1"}]}}, "default", internal=False)
    assert pod["spec"]["serviceAccountName"] == pod["spec"]["serviceAccount"] == "default"


def test_invalid_labels_are_refused_on_create_and_update(cluster):
    with pytest.raises(ApiError) as info:
        cluster.store.create("configmaps", {"metadata": {"name": "c", "labels": {"bad key": "v"}}}, "default")
    assert info.value.code == 422 and "metadata.labels" in info.value.message
    cluster.store.create("configmaps", {"metadata": {"name": "c"}}, "default")
    with pytest.raises(ApiError):
        cluster.store.patch("configmaps", "c", {"metadata": {"annotations": {"-x": "v"}}}, "default")


def test_jobs_get_a_generated_selector_and_pods_default_tolerations(cluster):
    job = cluster.store.create("batch/jobs", {"metadata": {"name": "j"}, "spec": {
        "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "a:1"}]}}}}, "default")
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert job["spec"]["template"]["metadata"]["labels"]["job-name"] == "j"
    pod = cluster.store.create("pods", {"metadata": {"name": "t"}, "spec": {
        "containers": [{"name": "c", "image": "a:1"}]}}, "default", internal=False)
    assert {(t["key"], t["tolerationSeconds"]) for t in pod["spec"]["tolerations"]} == {
        ("node.kubernetes.io/not-ready", 300), ("node.kubernetes.io/unreachable", 300)}


def test_pod_only_defaults_stay_out_of_templates_and_resource_lists_round_to_milli():
    deployment = {"spec": {"template": {"spec": {"containers": [
        {"name": "c", "image": "x", "resources": {"limits": {"cpu": "1"}}}], "volumes": [{"name": "v"}]}}}}
    apply_defaults("apps/deployments", deployment)
    template = deployment["spec"]["template"]["spec"]
    assert "enableServiceLinks" not in template and "requests" not in template["containers"][0]["resources"]
    assert template["volumes"][0]["emptyDir"] == {}  # SetDefaults_Volume
    kind = _kind("pods")
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "0.0001"}}}],
                                               "volumes": [{"name": "s", "emptyDir": {"sizeLimit": "0.1n"}}]}}
    out = round_trip(pod, kind.schema, kind.kind, kind.version)
    assert out["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "1m"
    assert out["spec"]["volumes"][0]["emptyDir"]["sizeLimit"] == "1n"  # a plain Quantity: nano


def test_secret_string_data_is_written_into_data_and_dropped(cluster):
    """pkg/apis/core/v1/conversion.go Convert_v1_Secret_To_core_Secret: stringData overwrites data."""
    secret = cluster.store.create("secrets", {"metadata": {"name": "s"}, "stringData": {"foo": "bar", "k": "ü"},
                                              "data": {"foo": "eA==", "kept": "dg=="}}, "default", internal=False)
    assert "stringData" not in secret and secret["type"] == "Opaque"
    assert secret["data"] == {"foo": "YmFy", "k": "w7w=", "kept": "dg=="}
    updated = cluster.store.update("secrets", dict(secret, stringData={"kept": "new"}), "default")
    assert updated["data"]["kept"] == "bmV3" and "stringData" not in updated


def test_network_policies_are_served_with_generation_and_empty_rules_kept(cluster):
    """networking.k8s.io/v1 NetworkPolicy (swagger release-1.33; networkpolicy/strategy.go keeps a
    generation); an empty egress rule (allow all) is a struct, so it survives the round trip."""
    body = {"metadata": {"name": "n"}, "spec": {"podSelector": {"matchLabels": {"app": "x"}},
                                                "policyTypes": ["Ingress", "Egress"], "egress": [{}]}}
    created = cluster.store.create("networking.k8s.io/networkpolicies", body, "default", internal=False)
    assert created["spec"]["egress"] == [{}] and created["metadata"]["generation"] == 1
    changed = cluster.store.update("networking.k8s.io/networkpolicies",
                                   dict(created, spec=dict(created["spec"], egress=[])), "default")
    assert "egress" not in changed["spec"] and changed["metadata"]["generation"] == 2
