"""pods/eviction with PodDisruptionBudgets, fault injection, and the request log."""
import json
import time

import pytest
from kubernetes import client as kube_client
from kubernetes.client.rest import ApiException

from api_helpers import raw, resource


@pytest.fixture(scope="module")
def core(sim):
    api = kube_client.CoreV1Api(sim.api_client())
    api.create_namespace({"metadata": {"name": "ev"}})
    return api


def running_pod(sim, core, name, labels):
    core.create_namespaced_pod("ev", {"metadata": {"name": name, "labels": labels},
                                      "spec": {"nodeName": "worker-0", "containers": [{"name": "c", "image": "i"}]}})
    core.patch_namespaced_pod_status(name, "ev", {"status": {"phase": "Running",
                                                             "conditions": [{"type": "Ready", "status": "True"}]}})


def evict(core, name, dry_run=None):
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": "ev"}}
    if dry_run:
        body["deleteOptions"] = {"dryRun": ["All"]}
    return core.create_namespaced_pod_eviction(name, "ev", body, dry_run=dry_run)


def gone(core, name, timeout=10.0):
    """True once the pod answers 404 (graceful deletion ends shortly after the eviction)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            core.read_namespaced_pod(name, "ev")
        except ApiException as error:
            return error.status == 404
        time.sleep(0.05)
    return False


def test_eviction_without_budget_deletes_the_pod(sim, core):
    running_pod(sim, core, "free", {"app": "free"})
    evict(core, "free")
    # a scheduled pod is deleted gracefully (pkg/registry/core/pod/strategy.go CheckGracefulDelete)
    # and goes once the simulated kubelet stopped its containers (operators/kubelet.py)
    assert gone(core, "free")


def test_eviction_violating_budget_is_429(sim, core, client):
    pdbs = resource(client, "policy/v1", "PodDisruptionBudget")
    pdbs.create(namespace="ev", body={"metadata": {"name": "guard"},
                                      "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "guarded"}}}})
    running_pod(sim, core, "g1", {"app": "guarded"})
    running_pod(sim, core, "g2", {"app": "guarded"})
    with pytest.raises(ApiException) as info:
        evict(core, "g1")
    body = json.loads(info.value.body)
    assert info.value.status == 429 and body["reason"] == "TooManyRequests"
    assert body["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert body["details"]["causes"][0]["reason"] == "DisruptionBudget"
    assert core.read_namespaced_pod("g1", "ev")
    running_pod(sim, core, "g3", {"app": "guarded"})  # now one disruption is allowed
    evict(core, "g1")
    assert gone(core, "g1")


def test_eviction_of_missing_pod_is_404(core):
    with pytest.raises(ApiException) as info:
        evict(core, "ghost")
    assert info.value.status == 404


def test_dry_run_eviction_keeps_the_pod(sim, core):
    running_pod(sim, core, "dry", {"app": "dry"})
    evict(core, "dry", dry_run="All")
    assert core.read_namespaced_pod("dry", "ev")
    sim.reset_requests()
    code, _ = raw(sim, "POST", "/api/v1/namespaces/ev/pods/dry/eviction", {
        "apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "dry"},
        "deleteOptions": {"dryRun": ["All"]}})
    assert code == 201 and core.read_namespaced_pod("dry", "ev")
    assert sim.requests()["dry_run_writes"] == 1 and sim.writes() == 0


# --- fault injection ------------------------------------------------------------------------

def test_one_shot_500_then_normal(sim, core):
    sim.add_fault(verb="list", resource="configmaps", namespace="ev", code=500, count=1)
    with pytest.raises(ApiException) as info:
        core.list_namespaced_config_map("ev")
    assert info.value.status == 500
    assert json.loads(info.value.body)["reason"] == "InternalError"
    core.list_namespaced_config_map("ev")


def test_429_has_retry_after(sim):
    sim.add_fault(verb="get", resource="nodes", name="worker-1", code=429, count=1, retry_after=3)
    code, body = raw(sim, "GET", "/api/v1/nodes/worker-1")
    assert code == 429 and body["reason"] == "TooManyRequests" and body["details"]["retryAfterSeconds"] == 3


def test_count_n_times_then_retires(sim, core):
    sim.add_fault(verb="create", resource="configmaps", code=503, count=2)
    for _ in range(2):
        with pytest.raises(ApiException) as info:
            core.create_namespaced_config_map("ev", {"metadata": {"name": "retry"}})
        assert info.value.status == 503
    core.create_namespaced_config_map("ev", {"metadata": {"name": "retry"}})
    assert sim.faults()["rules"] == []


def test_conflict_on_update(sim, core):
    core.create_namespaced_config_map("ev", {"metadata": {"name": "conflicted"}})
    sim.add_fault(verb="patch", resource="configmaps", name="conflicted", code=409, count=1)
    with pytest.raises(ApiException) as info:
        core.patch_namespaced_config_map("conflicted", "ev", {"data": {"a": "b"}})
    assert info.value.status == 409


def test_rate_faults_are_deterministic(sim):
    def pattern():
        sim.clear_faults()
        sim.add_fault(verb="get", resource="namespaces", name="ev", code=500, rate=0.5, seed=7)
        return [raw(sim, "GET", "/api/v1/namespaces/ev")[0] for _ in range(20)]

    first, second = pattern(), pattern()
    sim.clear_faults()
    assert first == second and 500 in first and 200 in first


def test_latency_fault_is_applied(sim):
    rule = sim.add_fault(verb="get", resource="namespaces", name="default", latency_ms=50, count=1)
    assert rule["latency_ms"] == 50
    code, _ = raw(sim, "GET", "/api/v1/namespaces/default")
    assert code == 200 and sim.faults()["rules"] == []


def test_connection_drop(sim):
    import http.client

    sim.add_fault(verb="get", resource="namespaces", name="kube-system", drop=True, count=1)
    connection = sim.connection(timeout=10)
    connection.request("GET", "/api/v1/namespaces/kube-system", headers={"Authorization": f"Bearer {sim.token}"})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        connection.getresponse()
    assert raw(sim, "GET", "/api/v1/namespaces/kube-system")[0] == 200


def test_faults_configured_at_start():
    from clustersim.testing import Simulator

    with Simulator(vms=1, workers=1, faults=[{"verb": "list", "resource": "nodes", "code": 503, "count": 1}]) as started:
        assert raw(started, "GET", "/api/v1/nodes")[0] == 503
        assert raw(started, "GET", "/api/v1/nodes")[0] == 200


def test_operator_faults_are_listed_and_cleared(sim):
    sim.add_fault(operator="migration-fail", target="vms/vm-000", count=1)
    assert sim.faults()["operator"] == [{"operator": "migration-fail", "target": "vms/vm-000", "count": 1}]
    sim.clear_faults()
    assert sim.faults() == {"rules": [], "operator": []}


def test_bad_fault_rule_is_400(sim):
    code, _ = raw(sim, "POST", "/_sim/faults", {"verb": "get", "bogus": 1})
    assert code == 400


# --- request log ------------------------------------------------------------------------------

def test_request_log_counts_by_verb_and_resource(sim, core):
    sim.reset_requests()
    core.list_namespaced_config_map("ev")
    core.read_namespace("ev")
    core.create_namespaced_config_map("ev", {"metadata": {"name": "logged"}})
    core.patch_namespaced_config_map("logged", "ev", {"data": {"a": "1"}})
    core.create_namespaced_config_map("ev", {"metadata": {"name": "logged-dry"}}, dry_run="All")
    with pytest.raises(ApiException):
        core.create_namespaced_config_map("ev", {"metadata": {"name": "logged"}})  # 409, still a write
    core.delete_namespaced_config_map("logged", "ev")
    counts = sim.requests(entries=True)
    assert counts["by_verb"] == {"list": 1, "get": 1, "create": 3, "patch": 1, "delete": 1}
    assert counts["writes"] == 4 and counts["dry_run_writes"] == 1 and counts["failed_writes"] == 1
    assert counts["changing_writes"] == 3
    assert counts["by_resource"]["configmaps"] == 6 and counts["by_resource"]["namespaces"] == 1
    assert counts["by_verb_resource"]["create configmaps"] == 3
    assert counts["by_code"]["409"] == 1
    entry = counts["entries"][2]
    assert entry == {"verb": "create", "resource": "configmaps", "subresource": "", "namespace": "ev", "name": "",
                     "dry_run": False, "code": 201, "path": "/api/v1/namespaces/ev/configmaps", "changed": True}
    assert sim.writes() == 4
    sim.reset_requests()
    assert sim.requests()["total"] == 0


def test_request_log_subresources_and_watch(sim, core):
    from kubernetes import watch

    running_pod(sim, core, "logged-pod", {"app": "logged"})
    sim.reset_requests()
    core.patch_namespaced_pod_status("logged-pod", "ev", {"status": {"phase": "Running"}})
    list(watch.Watch().stream(core.list_namespaced_config_map, "ev", timeout_seconds=1))
    counts = sim.requests()
    assert counts["by_verb_resource"]["patch pods/status"] == 1
    assert counts["by_verb"]["watch"] == 1


def test_controller_writes_are_not_logged(sim, client):
    sim.reset_requests()
    pvcs = resource(client, "v1", "PersistentVolumeClaim")
    pvcs.create(namespace="ev", body={"metadata": {"name": "controller-bound"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "storageClassName": "px-csi-db"}})
    sim.settle()
    assert sim.writes() == 1
