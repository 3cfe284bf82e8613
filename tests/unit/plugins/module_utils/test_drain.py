from ansible_collections.ocpvirt.portworx.plugins.module_utils import drain


def pod(name, node="w1", owner=None, labels=None, annotations=None, terminating=False):
    metadata = {"name": name, "namespace": "ns", "labels": labels or {}, "annotations": annotations or {}}
    if owner:
        metadata["ownerReferences"] = [{"kind": owner, "name": "x", "controller": True}]
    if terminating:
        metadata["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    return {"metadata": metadata, "spec": {"nodeName": node}}


def launcher(vmi_uid, name="virt-launcher-a"):
    return pod(name, labels={"kubevirt.io": "virt-launcher", "kubevirt.io/created-by": vmi_uid})


def vmi(name, node="w1"):
    return {"metadata": {"name": name, "namespace": "ns", "uid": "uid-" + name}, "status": {"nodeName": node}}


def test_daemonset_and_mirror_pods_are_skipped():
    pods = [pod("ds", owner="DaemonSet"), pod("mirror", annotations={drain.MIRROR_POD_ANNOTATION: "x"}),
            pod("app", owner="ReplicaSet"), pod("elsewhere", node="w2")]
    assert [p["metadata"]["name"] for p in drain.evictable_pods(pods, "w1")] == ["app"]


def test_migratable_vmis_get_migrations_and_their_launchers_are_left_alone():
    step = drain.next_drain_step("w1", [vmi("a"), vmi("b")], [launcher("uid-a"), launcher("uid-b", "virt-launcher-b"), pod("app")],
                                 [], {"ns/a": "migrate", "ns/b": "shut down"})
    assert [v["metadata"]["name"] for v in step.migrate] == ["a"]
    assert sorted(p["metadata"]["name"] for p in step.evict) == ["app", "virt-launcher-b"]
    assert not step.done


def test_in_flight_migration_and_terminating_pods_are_waited_for():
    migrations = [{"metadata": {"name": "m1", "namespace": "ns"}, "spec": {"vmiName": "a"}, "status": {"phase": "Running"}},
                  {"metadata": {"name": "old", "namespace": "ns"}, "spec": {"vmiName": "a"}, "status": {"phase": "Failed"}}]
    step = drain.next_drain_step("w1", [vmi("a")], [launcher("uid-a"), pod("app", terminating=True)], migrations, {"ns/a": "migrate"})
    assert step.migrate == [] and step.evict == []
    assert step.waiting == {"VMI ns/a": "migration m1 in progress", "pod ns/app": "terminating"}
    assert "migration m1 in progress" in drain.describe_pending(step, {"ns/x": "429"})


def test_drained_node_is_done():
    step = drain.next_drain_step("w1", [vmi("a", node="w2")], [pod("ds", owner="DaemonSet")], [], {})
    assert step.done and drain.describe_pending(step, {}) == "nothing"


def test_migration_manifest():
    manifest = drain.migration_manifest("a", "ns", "w1")
    assert manifest["spec"] == {"vmiName": "a"}
    assert manifest["metadata"]["generateName"] == "a-maintenance-"
    assert manifest["metadata"]["labels"] == {drain.MIGRATION_LABEL: "w1"}


def finished(the_pod, phase="Succeeded"):
    the_pod["status"] = {"phase": phase}
    return the_pod


def test_source_launcher_left_succeeded_after_a_migration_is_neither_evicted_nor_waited_for():
    # KubeVirt leaves the source virt-launcher pod on the node in phase Succeeded once the VMI has moved.
    pods = [finished(launcher("uid-a")), finished(pod("job"), "Failed")]
    step = drain.next_drain_step("w1", [vmi("a", node="w2")], pods, [], {"ns/a": "migrate"})
    assert step.evict == [] and step.waiting == {} and step.done
    assert drain.evictable_pods(pods, "w1") == []


def external_vmi(name, evacuating=None):
    the_vmi = vmi(name)
    if evacuating:
        the_vmi["status"]["evacuationNodeName"] = evacuating
    return the_vmi


def test_external_vmi_gets_no_migration_its_launcher_is_evicted_once_then_waited_for():
    # evictionStrategy External: KubeVirt refuses the eviction, sets status.evacuationNodeName and an external
    # controller moves the VM; nobody else may create a migration for it.
    step = drain.next_drain_step("w1", [external_vmi("x")], [launcher("uid-x", "virt-launcher-x")], [], {"ns/x": "external"})
    assert step.migrate == []
    assert [p["metadata"]["name"] for p in step.evict] == ["virt-launcher-x"]
    assert "external controller" in step.waiting["VMI ns/x"]
    step = drain.next_drain_step("w1", [external_vmi("x", evacuating="w1")], [launcher("uid-x", "virt-launcher-x")], [],
                                 {"ns/x": "external"})
    assert step.migrate == [] and step.evict == []
    assert "status.evacuationNodeName=w1" in step.waiting["VMI ns/x"] and not step.done
    # Until the VMI has left the node the drain is not done, even without a launcher pod to evict.
    pending = drain.next_drain_step("w1", [external_vmi("x")], [], [], {"ns/x": "external"})
    assert pending.migrate == [] and pending.evict == [] and not pending.done
    assert drain.next_drain_step("w1", [vmi("x", node="w2")], [], [], {"ns/x": "external"}).done


def failed_migration(name, vmi_name="a", node="w1", created="2026-12-02T07:00:00Z", reason=None):
    migration = {"metadata": {"name": name, "namespace": "ns", "labels": {drain.MIGRATION_LABEL: node}, "creationTimestamp": created},
                 "spec": {"vmiName": vmi_name}, "status": {"phase": "Failed"}}
    if reason:
        migration["status"]["migrationState"] = {"failureReason": reason}
    return migration


def test_a_failed_migration_is_retried_until_the_attempts_are_used_up():
    one = [failed_migration("m1")]
    step = drain.next_drain_step("w1", [vmi("a")], [launcher("uid-a")], one, {"ns/a": "migrate"}, max_attempts=2, created={"m1"})
    assert [v["metadata"]["name"] for v in step.migrate] == ["a"] and step.exhausted == {}
    two = one + [failed_migration("m2", created="2026-12-02T07:00:05Z")]
    step = drain.next_drain_step("w1", [vmi("a")], [launcher("uid-a")], two, {"ns/a": "migrate"}, max_attempts=2, created={"m1", "m2"})
    assert step.migrate == [] and step.exhausted == {"ns/a": "m2"}
    assert "migration m2 Failed, attempts used up" in drain.describe_pending(step, {})


def test_failed_migrations_of_an_earlier_run_or_another_node_do_not_count():
    earlier = [failed_migration("m1"), failed_migration("m2"), failed_migration("x", node="w2")]
    step = drain.next_drain_step("w1", [vmi("a")], [launcher("uid-a")], earlier, {"ns/a": "migrate"}, max_attempts=2, created=set())
    assert [v["metadata"]["name"] for v in step.migrate] == ["a"] and step.exhausted == {}
    assert drain.failed_migrations(earlier, "w1") == {"ns/a": ["m1", "m2"]}


def test_failure_reason_comes_from_the_migration_else_the_vmi():
    assert drain.failure_reason(failed_migration("m", reason="target pod failed"), None) == "target pod failed"
    vmi_with_reason = {"status": {"migrationState": {"failureReason": "Live migration failed"}}}
    assert drain.failure_reason(failed_migration("m"), vmi_with_reason) == "Live migration failed"
    assert drain.failure_reason(None, None) == "no failureReason reported"
