"""Node Leases, events.k8s.io/v1, metrics.k8s.io/v1beta1 and pods/log."""
import urllib.error
import urllib.request

from api_helpers import raw
from clustersim.operators.metrics import container_usage, render_usage
from clustersim.operators.pod_logs import select_lines
from clustersim.testing import eventually, simulator_fixture

sim = simulator_fixture(scope="module", vms=2, workers=2, durations={"node_lease_renew": 0.3})
LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"


def text(sim, path):
    request = urllib.request.Request(sim.url + path, headers={"Authorization": f"Bearer {sim.token}"})
    try:
        with urllib.request.urlopen(request, timeout=10, context=sim.ssl_context) as response:
            return response.status, response.headers.get("Content-Type"), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read().decode()


def test_usage_units_are_metrics_servers():
    usage = container_usage({"resources": {"requests": {"cpu": "250m", "memory": "1Gi"}}})
    assert render_usage(usage) == {"cpu": "250000000n", "memory": "1048576Ki"}
    assert render_usage(container_usage({})) == {"cpu": "0n", "memory": "0Ki"}


def test_select_lines_tail_timestamps_limit():
    lines = [("2025-01-01T00:00:00.000000000Z", "a"), ("2025-01-01T00:00:01.000000000Z", "b")]
    assert select_lines(lines, None, False, None) == "a\nb\n"
    assert select_lines(lines, 1, True, None) == "2025-01-01T00:00:01.000000000Z b\n"
    assert select_lines(lines, 0, False, None) == ""
    assert select_lines(lines, None, False, 3) == "a\nb"


def test_every_ready_node_has_a_renewed_lease(sim):
    code, leases = raw(sim, "GET", LEASES)
    assert code == 200
    names = [lease["metadata"]["name"] for lease in leases["items"]]
    assert names == ["master-0", "master-1", "master-2", "worker-0", "worker-1"]
    lease = leases["items"][3]
    assert lease["spec"]["holderIdentity"] == "worker-0" and lease["spec"]["leaseDurationSeconds"] == 40
    assert lease["metadata"]["ownerReferences"][0]["kind"] == "Node"
    first = lease["spec"]["renewTime"]
    eventually("renewed", lambda: raw(sim, "GET", f"{LEASES}/worker-0")[1]["spec"]["renewTime"] != first, timeout=10)


def test_leases_are_a_writable_kind(sim):
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "my-lock"},
             "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}}
    code, created = raw(sim, "POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", lease)
    assert code == 201 and created["spec"]["holderIdentity"] == "me"


def test_core_events_show_through_events_k8s_io(sim):
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1", "namespace": "default"},
             "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"}, "reason": "Started",
             "message": "Started container", "type": "Normal", "source": {"component": "kubelet"}, "count": 2}
    code, created = raw(sim, "POST", "/api/v1/namespaces/default/events", event)
    assert code == 201
    path = "/apis/events.k8s.io/v1/namespaces/default/events/e1"
    eventually("mirrored", lambda: raw(sim, "GET", path)[0] == 200, timeout=10)
    _, mirrored = raw(sim, "GET", path)
    assert mirrored["regarding"]["name"] == "p" and mirrored["note"] == "Started container"
    assert mirrored["deprecatedCount"] == 2 and mirrored["deprecatedSource"] == {"component": "kubelet"}
    assert mirrored["metadata"]["uid"] == created["metadata"]["uid"]
    assert raw(sim, "DELETE", path)[0] == 200
    eventually("deleted in core", lambda: raw(sim, "GET", "/api/v1/namespaces/default/events/e1")[0] == 404,
               timeout=10)


def test_node_and_pod_metrics(sim):
    code, nodes = raw(sim, "GET", "/apis/metrics.k8s.io/v1beta1/nodes")
    assert code == 200 and nodes["kind"] == "NodeMetricsList"
    worker = next(n for n in nodes["items"] if n["metadata"]["name"] == "worker-0")
    assert worker["window"] == "15s" and worker["usage"]["cpu"].endswith("n") and worker["usage"]["memory"].endswith("Ki")
    code, pods = raw(sim, "GET", "/apis/metrics.k8s.io/v1beta1/namespaces/vms/pods")
    assert code == 200 and len(pods["items"]) == 2
    assert pods["items"][0]["containers"][0]["name"] == "compute"
    code, missing = raw(sim, "GET", "/apis/metrics.k8s.io/v1beta1/nodes/nope")
    assert code == 404 and missing["message"] == 'nodes.metrics.k8s.io "nope" not found'


def launcher(sim):
    _, pods = raw(sim, "GET", "/api/v1/namespaces/vms/pods")
    return pods["items"][0]["metadata"]["name"]


def test_pod_log_is_plain_text(sim):
    pod = launcher(sim)
    code, content_type, body = text(sim, f"/api/v1/namespaces/vms/pods/{pod}/log")
    assert code == 200 and content_type == "text/plain"
    assert body.splitlines()[0] == "clustersim: container compute started"
    _, _, tail = text(sim, f"/api/v1/namespaces/vms/pods/{pod}/log?container=compute&tailLines=1")
    assert tail == f"clustersim: pod vms/{pod} on node {tail.split()[-1]}\n"


def test_pod_log_of_an_unknown_container_or_pod(sim):
    pod = launcher(sim)
    code, body = raw(sim, "GET", f"/api/v1/namespaces/vms/pods/{pod}/log?container=nope")
    assert code == 400 and body["message"] == f"container nope is not valid for pod {pod}"
    code, body = raw(sim, "GET", "/api/v1/namespaces/vms/pods/missing/log")
    assert code == 404 and body["message"] == 'pods "missing" not found'
    code, body = raw(sim, "GET", f"/api/v1/namespaces/vms/pods/{pod}/log?previous=true")
    assert code == 400 and body["message"] == f'previous terminated container "compute" in pod "{pod}" not found'


def test_other_controllers_append_log_lines():
    from clustersim.testing import Simulator

    with Simulator(in_process=True, vms=1, workers=1) as local:
        local.settle()
        _, pods = raw(local, "GET", "/api/v1/namespaces/vms/pods")
        pod = pods["items"][0]["metadata"]["name"]
        with local.cluster.lock:
            local.cluster.controller("pod-logs").append("vms", pod, "compute", "guest booted")
            local.cluster.controller("pod-logs").append("vms", "no-such-pod", "compute", "ignored")
        _, _, body = text(local, f"/api/v1/namespaces/vms/pods/{pod}/log?tailLines=1")
        assert body == "guest booted\n"
