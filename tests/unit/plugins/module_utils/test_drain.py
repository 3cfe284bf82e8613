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
