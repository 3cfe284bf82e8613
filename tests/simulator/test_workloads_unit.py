"""Pure decisions of the scheduler, kubelet and workload controllers (no server)."""
import pytest

from clustersim.operators import _container_script as script
from clustersim.operators import _pod_status as pod_status
from clustersim.operators import _rollout as rollout
from clustersim.operators._image_reference import invalid_image_message, reference_error
from clustersim.operators._scheduling import choose_node, filter_node, tolerates
from clustersim.operators._workloads import compute_hash, safe_encode
from clustersim.operators.job import completed_indexes, outcome, pods_to_start
from clustersim.operators.replicaset import deletion_rank

READY = [{"type": "Ready", "status": "True"}]


def node(name, labels=None, taints=None, unschedulable=False, cpu="4", ready=True):
    return {"metadata": {"name": name, "labels": labels or {}},
            "spec": {"taints": taints or [], "unschedulable": unschedulable},
            "status": {"allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "250"},
                       "conditions": READY if ready else [{"type": "Ready", "status": "False"}]}}


def pod(**spec):
    spec.setdefault("containers", [{"name": "c", "image": "busybox"}])
    return {"metadata": {"name": "p", "uid": "u1"}, "spec": spec}


MASTER_TAINT = {"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}


def test_scheduler_refuses_tainted_cordoned_and_unmatched_nodes_with_the_fit_error_message():
    nodes = [node("master-0", taints=[MASTER_TAINT]), node("worker-0", unschedulable=True),
             node("worker-1", labels={"disk": "hdd"})]
    chosen, message = choose_node(pod(nodeSelector={"disk": "ssd"}), nodes, {})
    assert chosen is None
    assert message == ("0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
                       "1 node(s) had untolerated taint {node-role.kubernetes.io/master: }, "
                       "1 node(s) were unschedulable. preemption: 0/3 nodes are available: "
                       "3 Preemption is not helpful for scheduling.")


def test_scheduler_honours_tolerations_and_affinity_fields():
    master = node("master-0", taints=[MASTER_TAINT])
    assert filter_node(pod(tolerations=[{"operator": "Exists"}]), master, {}) is None
    assert filter_node(pod(tolerations=[{"key": "node-role.kubernetes.io/master", "operator": "Exists",
                                         "effect": "NoExecute"}]), master, {}) is not None
    pinned = pod(affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["worker-1"]}]}]}}})
    assert choose_node(pinned, [node("worker-0"), node("worker-1")], {})[0] == "worker-1"
    assert tolerates([{"key": "k", "value": "v"}], {"key": "k", "value": "v", "effect": "NoSchedule"})
    assert not tolerates([{"key": "k", "value": "w"}], {"key": "k", "value": "v", "effect": "NoSchedule"})


def test_scheduler_counts_requests_against_allocatable_and_spreads_by_least_allocated():
    big = pod(containers=[{"name": "c", "resources": {"requests": {"cpu": "3"}}}])
    used = {"worker-0": {"cpu": 2, "nonzero-cpu": 2}}
    assert choose_node(big, [node("worker-0"), node("worker-1")], used)[0] == "worker-1"
    chosen, message = choose_node(big, [node("worker-0")], used)
    assert chosen is None and message == ("0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are "
                                          "available: 1 No preemption victims found for incoming pod.")
    assert choose_node(pod(), [node("worker-0"), node("worker-1")], {"worker-0": {"nonzero-cpu": 1}})[0] == "worker-1"


def test_container_script_convention():
    run = script.container_run({"command": ["sh", "-c", 'while true ; do echo "hello world" && sleep 10 ; done']},
                               "Always", {}, 0.05)
    assert run.runs_for is None and run.repeat == ["hello world"] and run.period == 10
    echo = script.container_run({"command": ["echo", "7"]}, "Never", {}, 0.05)
    assert echo.output == ["7"] and echo.runs_for == 0 and echo.exit_code == 0
    failing = script.container_run({"command": ["/bin/sh", "-c", "echo start; sleep 2; exit 3"]}, "Never", {}, 0.05)
    assert failing.output == ["start"] and failing.runs_for == 2 and failing.exit_code == 3
    assert script.container_run({}, "Always", {}, 0.05).runs_for is None
    assert script.container_run({"image": "x"}, "OnFailure", {}, 0.05).runs_for == 0.05
    annotated = script.container_run({"command": ["sleep", "infinity"]}, "Never",
                                     {script.EXIT_CODE_ANNOTATION: "2"}, 0.05)
    assert annotated.exit_code == 2 and annotated.runs_for == 0.05
    assert script.container_run({}, "Never", {script.RUN_SECONDS_ANNOTATION: "inf"}, 0.05).runs_for is None


def test_container_script_for_loops_over_seq_and_words():
    counted = script.container_run({"command": ["sh"], "args": ["-c", "for i in $(seq 0 9); do echo $i; done"]},
                                   "Never", {}, 0.05)
    assert counted.output == [str(n) for n in range(10)] and counted.runs_for == 0
    words = script.container_run({"command": ["sh", "-c", 'for x in a b; do echo "v=${x}"; sleep 1; done; echo end']},
                                 "Never", {}, 0.05)
    assert words.output == ["v=a", "v=b", "end"] and words.runs_for == 2
    assert script.container_run({"command": ["sh", "-c", "for i in $(seq 5 -2 1); do echo $i; done"]},
                                "Never", {}, 0.05).output == ["5", "3", "1"]
    assert script.container_run({"command": ["sh", "-c", "for i in $(seq 2); do echo $ii; done"]},
                                "Never", {}, 0.05).output == ["$ii", "$ii"]  # only $i itself is replaced


def test_pid_1_shells_and_sleeps_ignore_sigterm_entrypoints_do_not():
    assert script.container_run({"command": ["sleep", "600"]}, "Never", {}, 0.05).ignores_sigterm
    assert script.container_run({"command": ["/bin/sh", "-c", "while true; do date; sleep 5; done"]}, "Always", {},
                                0.05).ignores_sigterm
    assert not script.container_run({"image": "nginx"}, "Always", {}, 0.05).ignores_sigterm
    assert not script.container_run({"command": ["/usr/bin/kuard"]}, "Always", {}, 0.05).ignores_sigterm


def status(state, restarts=0, last=None, ready=None):
    entry = {"name": "c", "state": state, "restartCount": restarts, "lastState": last or {}}
    entry["ready"] = "running" in state if ready is None else ready
    return entry


def test_pod_phase_follows_containers_and_restart_policy():
    never = pod(restartPolicy="Never")
    assert pod_status.phase(never, [status({"running": {}})], True) == "Running"
    assert pod_status.phase(never, [status({"terminated": {"exitCode": 0}})], True) == "Succeeded"
    assert pod_status.phase(never, [status({"terminated": {"exitCode": 1}})], True) == "Failed"
    assert pod_status.phase(pod(restartPolicy="OnFailure"), [status({"terminated": {"exitCode": 1}})], True) == "Running"
    crash = status({"waiting": {"reason": "CrashLoopBackOff"}}, 1, {"terminated": {"exitCode": 1}})
    assert pod_status.phase(pod(), [crash], True) == "Running"
    assert pod_status.phase(pod(), [status({"waiting": {"reason": "ContainerCreating"}})], True) == "Pending"
    assert pod_status.phase(pod(), [status({"running": {}})], False) == "Pending"


def test_pod_conditions_in_kubelet_order_with_reasons():
    unready = pod_status.conditions(pod(), "Running", [status({"waiting": {}}, ready=False)], True, [], "T")
    assert [c["type"] for c in unready] == ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                            "PodScheduled"]
    assert unready[2]["reason"] == "ContainersNotReady" and unready[2]["message"] == "containers with unready status: [c]"
    done = pod_status.conditions(pod(), "Succeeded", [status({"terminated": {"exitCode": 0}})], True, unready, "T2")
    assert done[0]["status"] == "False" and done[1]["reason"] == "PodCompleted" and done[2]["reason"] == "PodCompleted"
    assert done[1]["lastTransitionTime"] == "T"  # Initialized stayed True


def test_qos_class_and_runtime_names():
    guaranteed = pod(containers=[{"name": "c", "resources": {"requests": {"cpu": "1", "memory": "1Gi"},
                                                              "limits": {"cpu": "1", "memory": "1Gi"}}}])
    assert pod_status.qos_class(guaranteed) == "Guaranteed"
    assert pod_status.qos_class(pod(containers=[{"name": "c", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}])) \
        == "Guaranteed"  # requests default to limits
    assert pod_status.qos_class(pod(containers=[{"name": "c", "resources": {"requests": {"cpu": "1"}}}])) == "Burstable"
    assert pod_status.qos_class(pod()) == "BestEffort"
    assert pod_status.qualified_image("busybox") == "docker.io/library/busybox:latest"
    assert pod_status.qualified_image("quay.io/kubevirt/virt-launcher:v1") == "quay.io/kubevirt/virt-launcher:v1"
    assert pod_status.image_id("nginx:1.27").startswith("docker.io/library/nginx@sha256:")
    assert pod_status.container_id("u", "c", 0).startswith("cri-o://")


def deployment(replicas, surge=None, unavailable=None):
    rolling = {k: v for k, v in (("maxSurge", surge), ("maxUnavailable", unavailable)) if v is not None}
    return {"metadata": {"name": "d", "generation": 2}, "spec": {"replicas": replicas, "strategy": {"rollingUpdate": rolling}}}


def rs(name, replicas, available):
    return {"metadata": {"name": name}, "spec": {"replicas": replicas}, "status": {"availableReplicas": available}}


def test_rollout_fenceposts_round_surge_up_and_unavailable_down():
    assert rollout.fenceposts(deployment(3)) == (1, 0)
    assert rollout.fenceposts(deployment(10)) == (3, 2)
    assert rollout.fenceposts(deployment(4, surge=0, unavailable=0)) == (0, 1)
    assert rollout.fenceposts(deployment(4, surge="50%", unavailable=1)) == (2, 1)


def test_rolling_update_steps_stay_within_surge_and_availability():
    d = deployment(4, surge=1, unavailable=1)
    old, new = rs("old", 4, 4), rs("new", 0, 0)
    assert rollout.new_replicas(d, new, [old, new]) == 1  # 4 + 1 surge
    new = rs("new", 1, 0)
    assert rollout.old_scale_downs(d, new, [old]) == {"old": 3}  # keep 3 = 4 - 1 available
    assert rollout.old_scale_downs(d, new, [rs("old", 3, 3)]) == {"old": 3}  # no budget until the new pod is available
    # 5 available, 3 must stay: two old pods may go at once (scaleDownOldReplicaSetsForRollingUpdate)
    assert rollout.old_scale_downs(d, rs("new", 2, 2), [rs("old", 3, 3)]) == {"old": 1}
    # one new pod unavailable leaves a budget of 1, spent on an unhealthy old pod (cleanupUnhealthyReplicas)
    assert rollout.old_scale_downs(d, rs("new", 2, 1), [rs("old", 3, 1)]) == {"old": 2}


def test_deployment_conditions():
    d = deployment(2)
    complete = {"updatedReplicas": 2, "replicas": 2, "availableReplicas": 2, "observedGeneration": 2}
    new = {"metadata": {"name": "d-abc"}}
    assert rollout.progressing_condition(d, complete, new, False, None) == (
        "True", "NewReplicaSetAvailable", 'ReplicaSet "d-abc" has successfully progressed.')
    assert rollout.progressing_condition(d, {"replicas": 3}, new, True, None)[1] == "NewReplicaSetCreated"
    assert rollout.progressing_condition(d, {"replicas": 3}, new, False, {"reason": "NewReplicaSetCreated"})[1] == \
        "ReplicaSetUpdated"
    assert rollout.available_condition(d, {"availableReplicas": 1})[1] == "MinimumReplicasUnavailable"
    assert rollout.available_condition(d, {"availableReplicas": 2})[1] == "MinimumReplicasAvailable"


def test_deployment_unavailable_replicas_count_replicaset_specs_not_pods():
    """calculateStatus: a new ReplicaSet scaled to 1 whose pod cannot be created (a refused
    ServiceAccount) leaves one replica unavailable although the old pod is still available."""
    d = deployment(1)
    old, new = rs("old", 1, 1), rs("new", 1, 0)
    old["status"]["replicas"] = 1
    status = rollout.counts(d, new, [old, new])
    assert status["availableReplicas"] == 1 and status["replicas"] == 1
    assert status["unavailableReplicas"] == 1
    scaled_down = rollout.counts(deployment(0), None, [rs("old", 0, 2)])
    assert "unavailableReplicas" not in scaled_down  # more available than wanted: 0, omitted


def job(**spec):
    spec.setdefault("template", {"spec": {"restartPolicy": "Never"}})
    return {"metadata": {"name": "j"}, "spec": spec, "status": {}}


def test_job_outcome_and_parallelism():
    assert outcome(job(completions=2), 2, 0, [], 0)[:2] == ("Complete", "CompletionsReached")
    assert outcome(job(completions=2), 1, 0, [], 0) is None
    assert outcome(job(), 1, 0, [], 0)[0] == "Complete"  # no completions: one success is enough
    assert outcome(job(backoffLimit=1), 0, 2, [], 0)[1] == "BackoffLimitExceeded"
    assert outcome(job(backoffLimit=1), 0, 1, [], 0) is None
    crashing = [{"status": {"containerStatuses": [{"restartCount": 2}]}}]
    on_failure = job(backoffLimit=2, template={"spec": {"restartPolicy": "OnFailure"}})
    assert outcome(on_failure, 0, 0, crashing, 0)[1] == "BackoffLimitExceeded"
    assert pods_to_start(job(completions=5, parallelism=2), 0, 0) == 2
    assert pods_to_start(job(completions=5, parallelism=2), 1, 4) == 0
    assert completed_indexes([0, 1, 2, 4, 6, 7]) == "0-2,4,6-7"


def test_replicaset_deletes_unscheduled_pending_unready_pods_first():
    pending = {"metadata": {"name": "a", "creationTimestamp": "2026-01-01T00:00:00Z"}, "spec": {"nodeName": "w"},
               "status": {"phase": "Pending"}}
    running = {"metadata": {"name": "b", "creationTimestamp": "2026-01-01T00:00:00Z"}, "spec": {"nodeName": "w"},
               "status": {"phase": "Running", "conditions": READY}}
    unscheduled = {"metadata": {"name": "c", "creationTimestamp": "2026-01-01T00:00:00Z"}, "spec": {},
                   "status": {"phase": "Pending"}}
    assert [p["metadata"]["name"] for p in sorted([running, pending, unscheduled], key=deletion_rank)] == ["c", "a", "b"]


def test_template_hash_is_stable_and_safe():
    template = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    assert compute_hash(template) == compute_hash({"spec": template["spec"], "metadata": template["metadata"]})
    assert compute_hash(template) != compute_hash(template, collision_count=1)
    assert set(safe_encode("0123456789")) <= set("bcdfghjklmnpqrstvwxz2456789")


@pytest.mark.parametrize("image, error", [
    ("busybox", None), ("registry.example.com:5000/team/app:1.2@sha256:" + "a" * 64, None),
    ("nginx:1.0.23449928384992872784", None), ("i_made_this_up:and_this_too", None),
    ("localhost/app", None), ("quay.io/Org/app:1", "invalid reference format: repository name (Org/app) must be lowercase"),
    ("busyBOX", "invalid reference format: repository name (library/busyBOX) must be lowercase"),
    ("registry.example.com/library//nginx:latest", "invalid reference format"),
    ("app:bad tag", "invalid reference format"), ("-app", "invalid reference format"),
    ("a" * 64, "invalid repository name (" + "a" * 64 + "), cannot specify 64-byte hexadecimal strings"),
])
def test_image_references_parse_as_the_kubelet_parses_them(image, error):
    assert reference_error(image) == error


def test_invalid_image_message_is_the_kubelets():
    assert invalid_image_message("busybox:1") is None
    assert invalid_image_message("Bad") == ('Failed to apply default image tag "Bad": couldn\'t parse image name '
                                            '"Bad": invalid reference format: repository name (library/Bad) must be '
                                            'lowercase')
