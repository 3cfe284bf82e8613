"""The plug-in framework operators build on, exercised in-process and observed over HTTP."""
import threading

import pytest
from kubernetes.dynamic.exceptions import ApiException

from clustersim import errors
from clustersim.cluster import HttpResponse
from clustersim.testing import Simulator
from api_helpers import raw, resource


@pytest.fixture(scope="module")
def sim():
    # Only the core operator: the framework is tested without the other plug-ins' behaviour.
    with Simulator(in_process=True, operators=[], vms=2) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def cluster(sim):
    return sim.cluster


def test_on_change_sees_added_modified_deleted_in_order(sim, cluster, client):
    seen = []
    cluster.on_change("configmaps", lambda event, new, old: seen.append(
        (event, (new or old)["metadata"]["name"], (new or {}).get("data"), (old or {}).get("data"))))
    cms = resource(client, "v1", "ConfigMap")
    cms.create(namespace="default", body={"metadata": {"name": "fw-a"}, "data": {"x": "1"}})
    cms.patch(namespace="default", name="fw-a", body={"data": {"x": "2"}}, content_type="application/merge-patch+json")
    cms.create(namespace="default", body={"metadata": {"name": "fw-dry"}}, dry_run="All")  # never notified
    cms.delete(namespace="default", name="fw-a")
    assert cluster.settle()
    assert [s for s in seen if s[1] != "fw-dry"] == seen
    assert seen == [("ADDED", "fw-a", {"x": "1"}, None), ("MODIFIED", "fw-a", {"x": "2"}, {"x": "1"}),
                    ("DELETED", "fw-a", None, {"x": "2"})]


def test_handlers_run_on_the_controller_thread_with_the_lock(cluster, client):
    observed = {}

    def handler(event, new, old):
        observed["thread"] = threading.current_thread().name
        observed["locked"] = cluster.lock._is_owned()

    cluster.on_change("secrets", handler)
    resource(client, "v1", "Secret").create(namespace="default", body={"metadata": {"name": "fw-secret"}})
    cluster.settle()
    assert observed == {"thread": "clustersim-controllers", "locked": True}


def test_admission_hook_rejects_with_causes_also_in_dry_run(cluster, client):
    calls = []

    def no_forbidden_label(req):
        calls.append((req.operation, req.dry_run, req.internal))
        labels = ((req.obj or {}).get("metadata") or {}).get("labels") or {}
        if labels.get("forbidden") == "yes":
            raise errors.invalid(req.kind.kind, req.name, [errors.forbidden_field("metadata.labels.forbidden", "not here")])

    cluster.add_admission("serviceaccounts", no_forbidden_label)
    sas = resource(client, "v1", "ServiceAccount")
    for dry_run in (None, "All"):
        with pytest.raises(ApiException) as info:
            sas.create(namespace="default", body={"metadata": {"name": "fw-sa", "labels": {"forbidden": "yes"}}},
                       dry_run=dry_run)
        assert info.value.status == 422
    sas.create(namespace="default", body={"metadata": {"name": "fw-sa"}})
    assert calls == [("CREATE", False, False), ("CREATE", True, False), ("CREATE", False, False)]


def test_mutating_admission_runs_before_validation(cluster, client):
    def add_label(req):
        if req.operation == "CREATE":
            req.obj["metadata"].setdefault("labels", {})["mutated"] = "true"

    cluster.add_admission("rbac.authorization.k8s.io/roles", add_label, mutating=True)
    created = resource(client, "rbac.authorization.k8s.io/v1", "Role").create(
        namespace="default", body={"metadata": {"name": "fw-role"}, "rules": []})
    assert created.metadata.labels["mutated"] == "true"


def test_custom_subresource_and_discovery(sim, cluster, client):
    def hello(req):
        assert req.method == "POST" and req.body == {"greeting": "hi"}
        return 202, {"kind": "Status", "apiVersion": "v1", "status": "Success", "message": f"hello {req.name}"}

    cluster.add_subresource("configmaps", "hello", hello, kind="ConfigMap", verbs=("create",))
    resource(client, "v1", "ConfigMap").create(namespace="default", body={"metadata": {"name": "fw-sub"}})
    code, body = raw(sim, "POST", "/api/v1/namespaces/default/configmaps/fw-sub/hello", {"greeting": "hi"})
    assert code == 202 and body["message"] == "hello fw-sub"
    code, doc = raw(sim, "GET", "/api/v1")
    assert any(r["name"] == "configmaps/hello" for r in doc["resources"])
    assert sim.requests()["by_verb_resource"]["create configmaps/hello"] == 1


def test_kubevirt_subresources_without_backend_are_503(sim):
    code, body = raw(sim, "PUT", "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/vm-000/addvolume",
                     {"name": "x"})
    assert code == 503 and body["reason"] == "ServiceUnavailable"


def test_kubevirt_virtual_subresource_handler(sim, cluster):
    cluster.add_subresource("kubevirt.io/virtualmachines", "restart",
                            lambda req: (202, {"restarted": req.name, "ns": req.namespace}))
    code, body = raw(sim, "PUT", "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/vm-000/restart", {})
    assert code == 202 and body == {"restarted": "vm-000", "ns": "vms"}
    assert sim.requests()["by_verb_resource"]["update kubevirt.io/virtualmachines/restart"] == 1
    code, _ = raw(sim, "PUT", "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/vm-000/nosuch", {})
    assert code == 404


def test_after_runs_in_due_order_then_submission_order(cluster):
    order = []
    cluster.after(0.03, order.append, "late")
    cluster.after(0.0, order.append, "first")
    cluster.after(0.0, order.append, "second")
    task = cluster.after(0.01, order.append, "cancelled")
    task.cancel()
    assert cluster.settle()
    assert order == ["first", "second", "late"]


def test_settle_ignores_background_tasks(cluster):
    cluster.after(30, lambda: None, background=True)
    assert cluster.settle(timeout=2)


def test_failing_callback_is_reported_not_fatal(sim, cluster):
    def boom():
        raise RuntimeError("operator bug")

    cluster.after(0, boom)
    survived = []
    cluster.after(0, survived.append, True)
    assert cluster.settle()
    assert survived == [True]
    assert any("operator bug" in e for e in sim.status()["controller_errors"])


def test_durations_are_configurable():
    with Simulator(in_process=True, operators=[], profile="empty", durations={"x": 0.5}, time_scale=2) as scaled:
        assert scaled.cluster.duration("x", 0.01) == 1.0
        assert scaled.cluster.duration("unset", 0.01) == 0.02


def test_add_route(sim, cluster):
    cluster.add_route("GET", "/api/v1/namespaces/openshift-monitoring/services/https:alertmanager-main:9094/proxy/",
                      lambda req: HttpResponse(200, [{"labels": {"alertname": "Example"}}]))
    code, body = raw(sim, "GET", "/api/v1/namespaces/openshift-monitoring/services/https:alertmanager-main:9094/proxy/api/v2/alerts")
    assert code == 200 and body == [{"labels": {"alertname": "Example"}}]
    code, _ = raw(sim, "GET", "/api/v1/namespaces/openshift-monitoring/services/https:alertmanager-main:9094/proxy/api/v2/alerts",
                  token="bad")
    assert code == 401
    assert sim.requests()["by_verb"]["proxy"] >= 1


def test_operator_faults_take(sim, cluster):
    sim.add_fault(operator="migration-fail", target="vms/vm-000", count=2, reason="simulated")
    assert cluster.faults.take("migration-fail", "vms/vm-001") is None
    assert cluster.faults.take("migration-fail", "vms/vm-000") == {"reason": "simulated"}
    assert cluster.faults.take("migration-fail", "vms/vm-000") == {"reason": "simulated"}
    assert cluster.faults.take("migration-fail", "vms/vm-000") is None
    sim.add_fault(operator="any-fail")  # wildcard target, one shot
    assert cluster.faults.take("any-fail", "x/y") == {} and cluster.faults.take("any-fail", "x/y") is None


def test_eviction_hook(sim, cluster, client):
    def refuse_special(cluster_, pod, eviction, dry_run):
        if pod["metadata"].get("labels", {}).get("special") == "yes":
            raise errors.too_many_requests("Eviction triggered evacuation of VMI")
        return None

    cluster.add_eviction_hook(refuse_special)
    pods = resource(client, "v1", "Pod")
    pods.create(namespace="default", body={"metadata": {"name": "fw-special", "labels": {"special": "yes"}},
                                           "spec": {"containers": [{"name": "c", "image": "i"}]}})
    code, body = raw(sim, "POST", "/api/v1/namespaces/default/pods/fw-special/eviction",
                     {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "fw-special"}})
    assert code == 429 and body["message"] == "Eviction triggered evacuation of VMI"
    assert pods.get(namespace="default", name="fw-special")


def test_store_mutate_apply_and_status_helpers(cluster):
    store = cluster.store
    with cluster.lock:
        store.apply("kubevirt.io/virtualmachineinstances", {
            "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
            "metadata": {"name": "fw-vmi", "namespace": "vms"}, "spec": {}, "status": {"phase": "Pending"}})
        updated = store.mutate("kubevirt.io/virtualmachineinstances", "fw-vmi",
                               lambda o: o["status"].update(phase="Running"), "vms")
        assert updated["status"]["phase"] == "Running" and updated["metadata"]["generation"] == 1
        unchanged_rv = updated["metadata"]["resourceVersion"]
        assert store.mutate("kubevirt.io/virtualmachineinstances", "fw-vmi", lambda o: False, "vms")[
            "metadata"]["resourceVersion"] == unchanged_rv
        # update() of the main resource ignores status; update_status() writes only status
        obj = store.get("kubevirt.io/virtualmachineinstances", "fw-vmi", "vms")
        obj["status"]["phase"] = "Failed"
        obj["spec"]["hostname"] = "fw-1"  # a VMI spec field (unknown fields are pruned)
        after = store.update("kubevirt.io/virtualmachineinstances", obj)
        assert after["status"]["phase"] == "Running" and after["spec"]["hostname"] == "fw-1" and after["metadata"]["generation"] == 2
        obj = store.get("kubevirt.io/virtualmachineinstances", "fw-vmi", "vms")
        obj["status"]["phase"] = "Succeeded"
        obj["spec"]["hostname"] = "fw-2"
        after = store.update_status("kubevirt.io/virtualmachineinstances", obj)
        assert after["status"]["phase"] == "Succeeded" and after["spec"]["hostname"] == "fw-1"
        after = store.patch_status("kubevirt.io/virtualmachineinstances", "fw-vmi", {"nodeName": "worker-0"}, "vms")
        assert after["status"] == {"phase": "Succeeded", "nodeName": "worker-0"}
        assert store.get("kubevirt.io/virtualmachineinstances", "missing", "vms") is None
        with pytest.raises(errors.ApiError) as info:
            store.must_get("kubevirt.io/virtualmachineinstances", "missing", "vms")
        assert info.value.code == 404


def test_remove_finalizer_completes_deletion(cluster):
    store = cluster.store
    with cluster.lock:
        store.create("configmaps", {"metadata": {"name": "fw-fin", "namespace": "default", "finalizers": ["a/b"]}})
        store.delete("configmaps", "fw-fin", "default")
        assert store.get("configmaps", "fw-fin", "default")["metadata"]["deletionTimestamp"]
        store.remove_finalizer("configmaps", "fw-fin", "a/b", "default")
        assert store.get("configmaps", "fw-fin", "default") is None


def test_extend_schema_keeps_declared_fields(cluster, client):
    cluster.kinds.extend_schema("nodemaintenance.medik8s.io/nodemaintenances", {"spec": {"simulatorExtra": None}})
    maintenances = resource(client, "nodemaintenance.medik8s.io/v1beta1", "NodeMaintenance")
    created = maintenances.create(body={"metadata": {"name": "fw-nm"},
                                        "spec": {"nodeName": "worker-0", "reason": "r", "simulatorExtra": 1, "junk": 2}})
    spec = created.to_dict()["spec"]
    assert spec == {"nodeName": "worker-0", "reason": "r", "simulatorExtra": 1}


def test_on_reset_hook(sim, cluster):
    resets = []
    cluster.on_reset(lambda: resets.append(True))
    sim.reset()
    assert resets == [True]


def test_operator_discovery_lists_modules():
    from clustersim.operators import discover

    names = discover()
    assert names[0] == "core"


def test_store_tally_follows_every_commit(cluster):
    store = cluster.store

    def by_node(pod):
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return []
        return [(pod["spec"]["nodeName"], int(pod["metadata"]["labels"]["weight"]))]

    def pod(name, node, weight):
        return {"metadata": {"name": name, "namespace": "default", "labels": {"weight": str(weight)}},
                "spec": {"nodeName": node, "containers": [{"name": "c", "image": "x"}]}}

    store.create("pods", pod("tally-a", "worker-0", 3))
    store.add_tally("pods", "test-weight", by_node)  # registered late: counts what already exists
    assert store.tally("pods", "test-weight") == {"worker-0": 3}
    rv_before = store.last_change("pods")
    store.create("pods", pod("tally-b", "worker-0", 4))
    store.create("pods", pod("tally-c", "worker-1", 5))
    assert store.last_change("pods") > rv_before
    assert store.tally("pods", "test-weight") == {"worker-0": 7, "worker-1": 5}
    store.patch_status("pods", "tally-b", {"phase": "Succeeded"}, "default")
    store.patch("pods", "tally-c", {"metadata": {"labels": {"weight": "1"}}}, "default")
    assert store.tally("pods", "test-weight") == {"worker-0": 3, "worker-1": 1}
    for name in ("tally-a", "tally-b", "tally-c"):
        store.delete("pods", name, "default")
    assert store.tally("pods", "test-weight") == {}
    assert store.last_change("configmaps") < store.last_change("pods")


def test_operator_tallies_match_a_full_scan():
    """The per-node memory and per-claim user tallies of the KubeVirt and storage plug-ins stay
    equal to what scanning every pod gives, through VM starts, stops and launcher pod loss."""
    from clustersim.operators.kubevirt import quantity_bytes
    from clustersim.operators.storage import claims_of

    def scanned(store):
        memory, live, running = {}, {}, {}
        for pod in store.list("pods", copy=False):
            phase = (pod.get("status") or {}).get("phase")
            if phase in ("Succeeded", "Failed"):
                continue
            node = pod["spec"].get("nodeName")
            used = sum(quantity_bytes(c["resources"]["requests"]["memory"]) for c in pod["spec"].get("containers") or []
                       if (c.get("resources") or {}).get("requests", {}).get("memory"))
            if node and used:
                memory[node] = memory.get(node, 0) + used
            for claim in claims_of(pod):
                group = f"{pod['metadata']['namespace']}/{claim}"
                live[group] = live.get(group, 0) + 1
                if phase == "Running":
                    running[group] = running.get(group, 0) + 1
        return memory, live, running

    def tallies(store):
        return tuple(dict(store.tally("pods", name))
                     for name in ("kubevirt-memory", "storage-claim-users", "storage-claim-running"))

    with Simulator(in_process=True, workers=4, vms=12) as scaled:
        store = scaled.cluster.store
        assert scaled.cluster.settle(30)
        assert tallies(store) == scanned(store) and tallies(store)[0]
        store.patch("kubevirt.io/virtualmachines", "vm-001", {"spec": {"runStrategy": "Halted"}}, "vms")
        launcher = store.list("pods", "vms", label_selector="vm.kubevirt.io/name=vm-002")[0]
        store.delete("pods", launcher["metadata"]["name"], "vms")
        assert scaled.cluster.settle(30)
        assert tallies(store) == scanned(store)
        assert store.peek("kubevirt.io/virtualmachineinstances", "vm-001", "vms") is None
