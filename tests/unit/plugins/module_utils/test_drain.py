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
