"""Object semantics over HTTP: defaulting, round trip, canonical quantities, validation, pod
immutability, generation, graceful deletion, server-side apply with managedFields, the cordon
taint, field selector defaults, ServiceAccount admission and the ServiceAccount/token controllers.

Expected behaviour: kubernetes/kubernetes release-1.33 (cited per test; see docs/simulator.md).
"""
import base64
import json
import time

import pytest

from api_helpers import raw
from clustersim.testing import eventually, simulator_fixture

sim = simulator_fixture(scope="module")

NS = "sem"
# A PID-1 sleep ignores SIGTERM, so the simulated kubelet stops the pod only when its grace period
# ends (operators/kubelet.py, _container_script.py); other containers stop at once.
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
       "spec": {"nodeName": "worker-0", "terminationGracePeriodSeconds": 2,
                "containers": [{"name": "c", "image": "registry.example.com/app:1.0", "command": ["sleep", "infinity"],
                                "resources": {"requests": {"memory": "1024Mi", "cpu": 0.5}}}]}}


@pytest.fixture(scope="module", autouse=True)
def namespace(sim):
    code, _ = raw(sim, "POST", "/api/v1/namespaces", {"metadata": {"name": NS}})
    assert code == 201
    eventually("default service account", lambda: raw(sim, "GET", f"/api/v1/namespaces/{NS}/serviceaccounts/default")[0] == 200)


def test_pod_defaults_and_canonical_quantities(sim):
    code, pod = raw(sim, "POST", f"/api/v1/namespaces/{NS}/pods", POD)
    assert code == 201, pod
    spec = pod["spec"]
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["schedulerName"]) == ("Always", "ClusterFirst", "default-scheduler")
    assert spec["serviceAccountName"] == spec["serviceAccount"] == "default"
    container = spec["containers"][0]
    assert container["resources"]["requests"] == {"memory": "1Gi", "cpu": "500m"}
    assert container["imagePullPolicy"] == "IfNotPresent" and container["terminationMessagePolicy"] == "File"
    assert pod["status"]["qosClass"] == "Burstable" and pod["metadata"]["generation"] == 1


def test_pod_spec_is_immutable_except_images(sim):
    path = f"/api/v1/namespaces/{NS}/pods/p"
    code, _ = raw(sim, "PATCH", path, {"spec": {"containers": [{"name": "c", "image": "registry.example.com/app:2.0"}]}},
                  "application/strategic-merge-patch+json")
    assert code == 200
    code, body = raw(sim, "PATCH", path, {"spec": {"restartPolicy": "Never"}}, "application/merge-patch+json")
    assert code == 422
    assert body["message"].startswith('Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than')


def test_graceful_pod_deletion_ends_after_the_grace_period(sim):
    eventually("p running", lambda: any("running" in (c.get("state") or {}) for c in raw(
        sim, "GET", f"/api/v1/namespaces/{NS}/pods/p")[1]["status"].get("containerStatuses") or []))
    started = time.monotonic()  # before the DELETE, so the pod goes 2 s after it at the earliest
    code, pod = raw(sim, "DELETE", f"/api/v1/namespaces/{NS}/pods/p")
    assert code == 200 and pod["metadata"]["deletionGracePeriodSeconds"] == 2 and pod["metadata"]["deletionTimestamp"]
    code, terminating = raw(sim, "GET", f"/api/v1/namespaces/{NS}/pods/p")
    if time.monotonic() - started < 2:  # answered within the grace period (a loaded machine may take longer)
        assert code == 200 and terminating["metadata"]["deletionTimestamp"]  # Terminating
    eventually("pod removed after its grace period", lambda: raw(sim, "GET", f"/api/v1/namespaces/{NS}/pods/p")[0] == 404,
               timeout=10)
    assert time.monotonic() - started >= 2  # not before its grace period


def test_a_pod_naming_a_missing_service_account_is_forbidden(sim):
    body = json.loads(json.dumps(POD))
    body["metadata"]["name"] = "ghost"
    body["spec"]["serviceAccountName"] = "ghost"
    code, answer = raw(sim, "POST", f"/api/v1/namespaces/{NS}/pods", body)
    assert (code, answer["message"]) == (
        403, f'pods "ghost" is forbidden: error looking up service account {NS}/ghost: serviceaccount "ghost" not found')


def test_workload_defaults(sim):
    code, sts = raw(sim, "POST", f"/apis/apps/v1/namespaces/{NS}/statefulsets", {
        "metadata": {"name": "db"}, "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                                             "template": {"metadata": {"labels": {"app": "db"}},
                                                          "spec": {"containers": [{"name": "db", "image": "db"}]}}}})
    assert code == 201
    assert sts["spec"]["replicas"] == 1 and sts["spec"]["podManagementPolicy"] == "OrderedReady"
    assert sts["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    code, deployment = raw(sim, "POST", f"/apis/apps/v1/namespaces/{NS}/deployments", {
        "metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}},
                                              "template": {"metadata": {"labels": {"app": "web"}},
                                                           "spec": {"containers": [{"name": "web", "image": "web"}]}}}})
    assert code == 201 and deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "Always"


def test_configmaps_and_namespaces_have_no_generation_and_empty_maps_go(sim):
    code, cm = raw(sim, "POST", f"/api/v1/namespaces/{NS}/configmaps",
                   {"metadata": {"name": "cm", "labels": {}}, "data": {}})
    assert code == 201 and "generation" not in cm["metadata"] and "labels" not in cm["metadata"] and "data" not in cm
    assert "generation" not in raw(sim, "GET", f"/api/v1/namespaces/{NS}")[1]["metadata"]


def test_label_and_annotation_syntax_is_validated(sim):
    code, body = raw(sim, "POST", f"/api/v1/namespaces/{NS}/configmaps",
                     {"metadata": {"name": "bad", "labels": {"app": "has space"}}})
    assert code == 422 and body["details"]["causes"][0]["field"] == "metadata.labels"
    code, body = raw(sim, "POST", f"/api/v1/namespaces/{NS}/configmaps",
                     {"metadata": {"name": "bad", "annotations": {"a/b/c": "x"}}})
    assert code == 422 and "metadata.annotations" in body["message"]


def test_strict_field_validation_refuses_unknown_metadata(sim):
    code, body = raw(sim, "POST", f"/api/v1/namespaces/{NS}/configmaps?fieldValidation=Strict",
                     {"metadata": {"name": "strict", "typo": 1}})
    assert code == 400 and 'unknown field "metadata.typo"' in body["message"]


def test_cordon_taints_the_node_and_unschedulable_selects_false_by_default(sim):
    selected = raw(sim, "GET", "/api/v1/nodes?fieldSelector=spec.unschedulable%3Dfalse")[1]["items"]
    assert any(n["metadata"]["name"] == "worker-1" for n in selected)
    code, _ = raw(sim, "PATCH", "/api/v1/nodes/worker-1", {"spec": {"unschedulable": True}}, "application/merge-patch+json")
    assert code == 200

    def taints():
        return raw(sim, "GET", "/api/v1/nodes/worker-1")[1]["spec"].get("taints") or []
    eventually("unschedulable taint", lambda: {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"} in taints())
    raw(sim, "PATCH", "/api/v1/nodes/worker-1", {"spec": {"unschedulable": None}}, "application/merge-patch+json")
    eventually("taint removed", lambda: not any(t["key"] == "node.kubernetes.io/unschedulable" for t in taints()))


def test_server_side_apply_owns_fields_conflicts_and_removes(sim):
    path = f"/apis/apps/v1/namespaces/{NS}/deployments/ssa"
    config = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ssa", "labels": {"tier": "web"}},
              "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "ssa"}},
                       "template": {"metadata": {"labels": {"app": "ssa"}},
                                    "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}}}
    code, created = raw(sim, "PATCH", path + "?fieldManager=alice", config, "application/apply-patch+yaml")
    assert code == 201
    entry = created["metadata"]["managedFields"][0]
    assert (entry["manager"], entry["operation"], entry["fieldsType"]) == ("alice", "Apply", "FieldsV1")
    assert entry["fieldsV1"]["f:spec"]["f:replicas"] == {}
    code, _ = raw(sim, "PATCH", path + "?fieldManager=bob", {"spec": {"replicas": 5}}, "application/merge-patch+json")
    assert code == 200
    config["spec"]["replicas"] = 3
    code, body = raw(sim, "PATCH", path + "?fieldManager=alice", config, "application/apply-patch+yaml")
    assert code == 409 and body["message"] == 'Apply failed with 1 conflict: conflict with "bob" using apps/v1: .spec.replicas'
    del config["metadata"]["labels"]
    code, body = raw(sim, "PATCH", path + "?fieldManager=alice&force=true", config, "application/apply-patch+yaml")
    assert code == 200 and body["spec"]["replicas"] == 3 and "labels" not in body["metadata"]
    assert [m["manager"] for m in body["metadata"]["managedFields"]] == ["alice"]
    # The Deployment controller writes status after each change, so compare with the settled object.
    assert sim.settle()
    settled = raw(sim, "GET", path)[1]
    again = raw(sim, "PATCH", path + "?fieldManager=alice", config, "application/apply-patch+yaml")[1]
    assert again["metadata"]["resourceVersion"] == settled["metadata"]["resourceVersion"]  # no-op re-apply


def test_token_controller_fills_legacy_token_secrets(sim):
    code, _ = raw(sim, "POST", f"/api/v1/namespaces/{NS}/secrets", {
        "metadata": {"name": "tok", "annotations": {"kubernetes.io/service-account.name": "default"}},
        "type": "kubernetes.io/service-account-token"})
    assert code == 201
    secret = eventually("token filled", lambda: (raw(sim, "GET", f"/api/v1/namespaces/{NS}/secrets/tok")[1].get("data") or {}).get("token")
                        and raw(sim, "GET", f"/api/v1/namespaces/{NS}/secrets/tok")[1])
    token = base64.b64decode(secret["data"]["token"]).decode()
    code, review = raw(sim, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                       {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}, token=token)
    assert code == 201 and review["status"]["userInfo"]["username"] == f"system:serviceaccount:{NS}:default"
    assert secret["metadata"]["annotations"]["kubernetes.io/service-account.uid"]
