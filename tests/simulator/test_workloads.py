"""Scheduler, kubelet and workload controllers over HTTP, with kubectl 1.33 waiting on them."""
import os
import subprocess

import pytest
from clustersim.testing import eventually, simulator_fixture
from operator_helpers import condition, items, read

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KUBECTL = os.environ.get("KUBECTL") or os.path.join(REPO_ROOT, ".venv", "bin", "kubectl")
NS = "default"

sim = simulator_fixture(scope="module", workers=2, vms=0,
                        durations={"container_second": 0.02, "container_backoff": 0.05, "job_backoff": 0.01,
                                   "grace_second": 0.1})


@pytest.fixture(scope="module")
def client(sim):
    return sim.client()


@pytest.fixture(scope="module")
def kubectl(sim, tmp_path_factory):
    if not os.access(KUBECTL, os.X_OK):
        pytest.fail(f"kubectl not found at {KUBECTL}: run `make kubectl`")
    env = dict(os.environ, KUBECONFIG=sim.kubeconfig, KUBECACHEDIR=str(tmp_path_factory.mktemp("kube-cache")))

    def run(*args, check=True):
        completed = subprocess.run([KUBECTL, *args], env=env, capture_output=True, text=True, timeout=90)
        if check:
            assert completed.returncode == 0, f"kubectl {' '.join(args)}: {completed.stderr}"
        return completed
    return run


def create(client, api_version, kind, body, namespace=NS):
    return client.resources.get(api_version=api_version, kind=kind).create(body=body, namespace=namespace).to_dict()


def template(app, image="registry.example.com/web:1", **spec):
    spec.setdefault("containers", [{"name": "main", "image": image}])
    return {"metadata": {"labels": {"app": app}}, "spec": spec}


def pods(client, selector):
    resource = client.resources.get(api_version="v1", kind="Pod")
    return resource.get(namespace=NS, label_selector=selector).to_dict()["items"]


def test_deployment_rolls_out_updates_and_kubectl_rollout_status_completes(client, kubectl):
    create(client, "apps/v1", "Deployment", {
        "metadata": {"name": "web"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template("web"),
                 "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}}})
    out = kubectl("rollout", "status", "deployment/web", "-n", NS, "--timeout=60s").stdout
    assert 'deployment "web" successfully rolled out' in out
    deployment = read(client, "apps/v1", "Deployment", "web", NS)
    assert deployment["status"]["replicas"] == deployment["status"]["availableReplicas"] == 3
    assert condition(deployment, "Progressing")["reason"] == "NewReplicaSetAvailable"
    assert condition(deployment, "Available")["status"] == "True"
    kubectl("set", "image", "deployment/web", "main=registry.example.com/web:2", "-n", NS)
    kubectl("rollout", "status", "deployment/web", "-n", NS, "--timeout=60s")
    sets = sorted(items(client, "apps/v1", "ReplicaSet", NS), key=lambda r: r["metadata"]["annotations"][
        "deployment.kubernetes.io/revision"])
    assert [(r["metadata"]["annotations"]["deployment.kubernetes.io/revision"], r["spec"]["replicas"]) for r in sets] == \
        [("1", 0), ("2", 3)]
    hash_label = sets[1]["metadata"]["labels"]["pod-template-hash"]
    assert sets[1]["metadata"]["name"] == f"web-{hash_label}"
    running = [p for p in pods(client, "app=web") if not p["metadata"].get("deletionTimestamp")]
    assert {p["spec"]["containers"][0]["image"] for p in running} == {"registry.example.com/web:2"}
    assert read(client, "apps/v1", "Deployment", "web", NS)["metadata"]["annotations"][
        "deployment.kubernetes.io/revision"] == "2"


def test_scale_subresource_grows_and_shrinks_the_replicaset(client, kubectl):
    kubectl("scale", "deployment/web", "--replicas=5", "-n", NS)
    eventually("5 ready web pods", lambda: read(client, "apps/v1", "Deployment", "web", NS)["status"].get(
        "readyReplicas") == 5)
    kubectl("scale", "deployment/web", "--replicas=0", "-n", NS)
    eventually("no web pod left", lambda: not pods(client, "app=web"))
    # DeploymentStatus counts are omitempty: at zero replicas only observedGeneration and conditions remain
    eventually("zero status", lambda: set(read(client, "apps/v1", "Deployment", "web", NS)["status"]) ==
               {"observedGeneration", "conditions"})
    kubectl("scale", "deployment/web", "--replicas=1", "-n", NS)
    kubectl("rollout", "status", "deployment/web", "-n", NS, "--timeout=60s")


def test_running_pod_status_is_what_a_kubelet_reports(client):
    pod = pods(client, "app=web")[0]
    status = pod["status"]
    assert status["phase"] == "Running" and status["qosClass"] == "BestEffort"
    assert [c["type"] for c in status["conditions"]] == ["PodReadyToStartContainers", "Initialized", "Ready",
                                                         "ContainersReady", "PodScheduled"]
    node = read(client, "v1", "Node", pod["spec"]["nodeName"])
    assert status["hostIP"] == [a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"][0]
    assert status["podIP"].startswith("10.12") and status["podIPs"] == [{"ip": status["podIP"]}]
    container = status["containerStatuses"][0]
    assert container["ready"] and container["started"] and container["restartCount"] == 0
    assert container["containerID"].startswith("cri-o://") and "running" in container["state"]
    assert container["image"] == "registry.example.com/web:2"


def test_job_completes_and_kubectl_wait_sees_it(client, kubectl):
    create(client, "batch/v1", "Job", {"metadata": {"name": "pi"}, "spec": {
        "completions": 3, "parallelism": 2,
        "template": {"spec": {"restartPolicy": "Never", "containers": [
            {"name": "pi", "image": "perl", "command": ["sh", "-c", "echo 3.14; sleep 1"]}]}}}})
    kubectl("wait", "--for=condition=complete", "job/pi", "-n", NS, "--timeout=60s")
    job = read(client, "batch/v1", "Job", "pi", NS)
    assert job["status"]["succeeded"] == 3 and not job["status"].get("active")
    assert job["status"]["startTime"] and job["status"]["completionTime"]
    assert [c["type"] for c in job["status"]["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    done = pods(client, "job-name=pi")
    assert len(done) == 3 and {p["status"]["phase"] for p in done} == {"Succeeded"}
    assert done[0]["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    # pods/log answers what the kubelet saw the container print
    assert kubectl("logs", done[0]["metadata"]["name"], "-n", NS).stdout.strip() == "3.14"


def test_failing_job_stops_at_its_backoff_limit(client):
    create(client, "batch/v1", "Job", {"metadata": {"name": "broken"}, "spec": {
        "backoffLimit": 2, "template": {"spec": {"restartPolicy": "Never", "containers": [
            {"name": "c", "image": "busybox", "command": ["sh", "-c", "exit 1"]}]}}}})
    eventually("job failed", lambda: condition(read(client, "batch/v1", "Job", "broken", NS), "Failed").get("status") == "True",
               timeout=20)
    job = read(client, "batch/v1", "Job", "broken", NS)
    assert job["status"]["failed"] == 3 and condition(job, "Failed")["reason"] == "BackoffLimitExceeded"
    terminated = pods(client, "job-name=broken")[0]["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 1 and terminated["reason"] == "Error"


def test_statefulset_creates_ordered_pods_with_claims_and_scales_down_from_the_top(client, kubectl):
    seen = []
    create(client, "apps/v1", "StatefulSet", {"metadata": {"name": "db"}, "spec": {
        "replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}}, "template": template("db"),
        "updateStrategy": {"type": "RollingUpdate"},  # the apiserver's default; kubectl rollout status needs it
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "storageClassName": "px-csi-db",
            "resources": {"requests": {"storage": "1Gi"}}}}]}})

    def snapshot():
        current = {p["metadata"]["name"]: condition(p, "Ready").get("status") == "True" for p in pods(client, "app=db")}
        seen.append(current)
        return len(current) == 3 and all(current.values())
    eventually("three ready db pods", snapshot, timeout=30)
    for state in seen:
        names = sorted(state)
        assert names == [f"db-{i}" for i in range(len(names))]  # never a gap
        assert all(state[name] for name in names[:-1])  # only the newest may still be starting
    kubectl("rollout", "status", "statefulset/db", "-n", NS, "--timeout=60s")
    claims = sorted(c["metadata"]["name"] for c in items(client, "v1", "PersistentVolumeClaim", NS))
    assert claims == ["data-db-0", "data-db-1", "data-db-2"]
    pod = read(client, "v1", "Pod", "db-1", NS)
    assert pod["spec"]["hostname"] == "db-1" and pod["spec"]["subdomain"] == "db"
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-1"}} in pod["spec"]["volumes"]
    sts = read(client, "apps/v1", "StatefulSet", "db", NS)
    assert sts["status"]["currentRevision"] == sts["status"]["updateRevision"] == pod["metadata"]["labels"][
        "controller-revision-hash"]
    kubectl("scale", "statefulset/db", "--replicas=1", "-n", NS)
    eventually("only db-0 left", lambda: sorted(p["metadata"]["name"] for p in pods(client, "app=db")) == ["db-0"])
    assert len(items(client, "v1", "PersistentVolumeClaim", NS)) == 3  # claims are retained


def test_daemonset_runs_one_pod_per_schedulable_worker_and_rollout_status_completes(client, kubectl):
    create(client, "apps/v1", "DaemonSet", {"metadata": {"name": "agent"}, "spec": {
        "selector": {"matchLabels": {"app": "agent"}}, "template": template("agent"),
        "updateStrategy": {"type": "RollingUpdate"}}})
    kubectl("rollout", "status", "daemonset/agent", "-n", NS, "--timeout=60s")
    placed = sorted(p["spec"]["nodeName"] for p in pods(client, "app=agent"))
    assert placed == ["worker-0", "worker-1"]  # the masters' NoSchedule taint is not tolerated
    status = read(client, "apps/v1", "DaemonSet", "agent", NS)["status"]
    assert status["desiredNumberScheduled"] == status["numberReady"] == status["numberAvailable"] == 2


def test_pod_for_a_cordoned_node_stays_pending_until_uncordoned(client, kubectl):
    kubectl("cordon", "worker-1")
    try:
        create(client, "v1", "Pod", {"metadata": {"name": "pinned"}, "spec": {
            "nodeSelector": {"kubernetes.io/hostname": "worker-1"},
            "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "3600"]}]}})
        eventually("pinned unschedulable", lambda: condition(read(client, "v1", "Pod", "pinned", NS),
                                                             "PodScheduled").get("reason") == "Unschedulable")
        scheduled = condition(read(client, "v1", "Pod", "pinned", NS), "PodScheduled")
        assert scheduled["message"] == (
            "0/5 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were "
            "unschedulable, 3 node(s) had untolerated taint {node-role.kubernetes.io/master: }. preemption: 0/5 nodes "
            "are available: 5 Preemption is not helpful for scheduling.")
        assert read(client, "apps/v1", "DaemonSet", "agent", NS)["status"]["numberReady"] == 2  # daemons stay
    finally:
        kubectl("uncordon", "worker-1")
    eventually("pinned running on worker-1", lambda: read(client, "v1", "Pod", "pinned", NS)["status"].get("phase") == "Running")
    assert read(client, "v1", "Pod", "pinned", NS)["spec"]["nodeName"] == "worker-1"


def test_crashing_container_restarts_with_back_off_and_deleted_pod_goes(client):
    create(client, "v1", "Pod", {"metadata": {"name": "crasher"}, "spec": {
        "containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", "echo boom; exit 2"]}]}})

    def restarted():
        statuses = (read(client, "v1", "Pod", "crasher", NS)["status"].get("containerStatuses") or [{}])
        return statuses[0].get("restartCount", 0) >= 2
    eventually("crasher restarted twice", restarted, timeout=20)
    status = read(client, "v1", "Pod", "crasher", NS)["status"]
    container = status["containerStatuses"][0]
    assert status["phase"] == "Running"  # restartPolicy Always: the pod keeps running
    assert container["lastState"]["terminated"]["exitCode"] == 2
    client.resources.get(api_version="v1", kind="Pod").delete(name="crasher", namespace=NS)
    eventually("crasher gone", lambda: read(client, "v1", "Pod", "crasher", NS) is None)


def test_a_refused_pod_create_fails_the_replicaset_and_keeps_the_rollout_unavailable(client):
    """replica_set.go calculateStatus (ReplicaFailure), controller_utils.go CreatePods (FailedCreate),
    deployment sync.go calculateStatus (unavailableReplicas from the ReplicaSets' spec) and
    progress.go (the failure copied onto the Deployment)."""
    accounts = client.resources.get(api_version="v1", kind="ServiceAccount")
    accounts.create(body={"metadata": {"name": "robot"}}, namespace=NS)
    create(client, "apps/v1", "Deployment", {"metadata": {"name": "sa-web"}, "spec": {
        "replicas": 1, "selector": {"matchLabels": {"app": "sa-web"}},
        "template": template("sa-web", serviceAccount="robot")}})
    # the new Deployment may have no status yet: the Deployment controller writes it asynchronously
    eventually("sa-web available", lambda: read(client, "apps/v1", "Deployment", "sa-web", NS).get("status", {}).get(
        "availableReplicas") == 1)
    accounts.delete(name="robot", namespace=NS)
    deployments = client.resources.get(api_version="apps/v1", kind="Deployment")
    deployments.patch(name="sa-web", namespace=NS, content_type="application/merge-patch+json",
                      body={"spec": {"template": {"spec": {"containers": [
                          {"name": "main", "image": "registry.example.com/web:2"}]}}}})

    def failing():
        status = read(client, "apps/v1", "Deployment", "sa-web", NS)["status"]
        return condition({"status": status}, "ReplicaFailure") and status
    status = eventually("the deployment reports the failure", failing)
    assert status["availableReplicas"] == 1 and status["unavailableReplicas"] == 1
    failure = condition({"status": status}, "ReplicaFailure")
    assert (failure["status"], failure["reason"]) == ("True", "FailedCreate")
    assert 'error looking up service account default/robot: serviceaccount "robot" not found' in failure["message"]
    events = [e for e in items(client, "v1", "Event", NS) if e["reason"] == "FailedCreate"]
    assert events and events[0]["type"] == "Warning" and events[0]["message"].startswith("Error creating: pods ")
    accounts.create(body={"metadata": {"name": "robot"}}, namespace=NS)  # the next (backed-off) retry succeeds
    eventually("rolled out", lambda: not condition(read(client, "apps/v1", "Deployment", "sa-web", NS),
                                                   "ReplicaFailure")
               and read(client, "apps/v1", "Deployment", "sa-web", NS)["status"].get("updatedReplicas") == 1,
               timeout=40)


def test_an_unparsable_image_waits_as_invalid_image_name(client):
    create(client, "v1", "Pod", {"metadata": {"name": "bad-image"}, "spec": {
        "containers": [{"name": "main", "image": "Registry.Example.com/Web:1"},
                       {"name": "side", "image": "registry.example.com/web:1"}]}})

    def waiting():
        statuses = read(client, "v1", "Pod", "bad-image", NS).get("status", {}).get("containerStatuses") or []
        return len(statuses) == 2 and statuses
    main, side = sorted(eventually("container statuses", waiting), key=lambda s: s["name"])
    assert main["state"]["waiting"]["reason"] == "InvalidImageName"
    assert main["state"]["waiting"]["message"] == (
        'Failed to apply default image tag "Registry.Example.com/Web:1": couldn\'t parse image name '
        '"Registry.Example.com/Web:1": invalid reference format: repository name (Web) must be lowercase')
    assert main["image"] == "Registry.Example.com/Web:1" and main["imageID"] == "" and "containerID" not in main
    assert "running" in side["state"]  # the other container starts
    pod = read(client, "v1", "Pod", "bad-image", NS)
    assert pod["status"]["phase"] == "Pending" and condition(pod, "Ready")["status"] == "False"
    reasons = {e["reason"] for e in items(client, "v1", "Event", NS)
               if e["involvedObject"].get("name") == "bad-image"}
    assert {"InspectFailed", "Failed"} <= reasons
