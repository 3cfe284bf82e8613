"""ocpvirt.portworx.virt_default_storage_class against the simulator: one virt default, in order."""

import pytest

SIMULATOR_OPTIONS = {"vms": 1, "durations": {"cdi_alert_for": 0.0}}
VIRT = "storageclass.kubevirt.io/is-default-virt-class"
CLUSTER = "storageclass.kubernetes.io/is-default-class"
FAST = {"wait_sleep": 0.2, "wait_timeout": 30}
SEEDED_DEFAULT = "px-rwx-block-kubvirt"


def task(**options):
    args = dict(FAST)
    args.update(options)
    return {"name": "default", "ocpvirt.portworx.virt_default_storage_class": args}


def classes(sim):
    return sim.client().resources.get(api_version="storage.k8s.io/v1", kind="StorageClass").get().to_dict()["items"]


def defaults(sim, annotation=VIRT):
    return sorted(c["metadata"]["name"] for c in classes(sim)
                  if ((c["metadata"].get("annotations") or {}).get(annotation)) == "true")


def annotate(sim, name, annotation, value):
    sim.client().resources.get(api_version="storage.k8s.io/v1", kind="StorageClass").patch(
        name=name, body={"metadata": {"annotations": {annotation: value}}}, content_type="application/merge-patch+json")
    sim.settle()


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    sim.settle()


def test_swap_undefaults_the_old_class_first_and_reports(sim, run_playbook):
    annotate(sim, "px-csi-db", VIRT, "true")
    assert defaults(sim) == ["px-csi-db", SEEDED_DEFAULT]
    run = run_playbook([task(name="px-csi-replicated")], diff=True)
    assert run.ok, run
    result = run.last
    assert result["changed"] is True
    assert result["previous_defaults"]["virt"] == ["px-csi-db", SEEDED_DEFAULT]
    assert result["default"] == "px-csi-replicated"
    assert {"accessModes": ["ReadWriteMany"], "volumeMode": "Block"} in result["claim_property_sets"]
    assert result["firing_alerts"] == []
    assert result["alerts"] is not None and not any(a["name"] == "CDIMultipleDefaultVirtStorageClasses" for a in result["alerts"])
    assert result["diff"]["after"]["virt"] == ["px-csi-replicated"]
    assert defaults(sim) == ["px-csi-replicated"]
    patches = [r for r in sim.requests(entries=True)["entries"] if r["verb"] == "patch" and r["resource"].endswith("storageclasses")]
    assert [p["name"] for p in patches][-1] == "px-csi-replicated"  # the target is written last

    again = run_playbook([task(name="px-csi-replicated")])
    assert again.ok and again.changed == 0 and again.writes == 0


def test_interrupted_swap_converges(sim, run_playbook):
    annotate(sim, SEEDED_DEFAULT, VIRT, "false")  # the first write of a swap happened, the second did not
    assert defaults(sim) == []
    run = run_playbook([task(name="px-csi-replicated")])
    assert run.ok, run
    assert run.writes == 1
    assert defaults(sim) == ["px-csi-replicated"]


def test_cluster_default_moves_too(sim, run_playbook):
    annotate(sim, "px-csi-db", CLUSTER, "true")
    run = run_playbook([task(name=SEEDED_DEFAULT, cluster_default=True)])
    assert run.ok, run
    assert defaults(sim, CLUSTER) == [SEEDED_DEFAULT] and defaults(sim) == [SEEDED_DEFAULT]
    assert run.last["previous_defaults"]["cluster"] == ["px-csi-db"]


def test_check_mode_writes_nothing(sim, run_playbook):
    run = run_playbook([task(name="px-csi-replicated", cluster_default=True)], check=True)
    assert run.ok, run
    assert run.last["changed"] is True and run.writes == 0
    assert defaults(sim) == [SEEDED_DEFAULT] and defaults(sim, CLUSTER) == []


def test_class_without_rwx_is_refused_and_nothing_changes(sim, run_playbook):
    # The document's StorageProfile override limits a class to what it declares.
    sim.client().resources.get(api_version="cdi.kubevirt.io/v1beta1", kind="StorageProfile").patch(
        name="px-csi-db", body={"spec": {"claimPropertySets": [{"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"}]}},
        content_type="application/merge-patch+json")
    sim.settle()
    run = run_playbook([task(name="px-csi-db")])
    assert not run.ok
    assert run.last["reason"] == "Refused"
    assert "CDIDefaultStorageClassDegraded" in run.last["msg"] and "ReadWriteOnce/Filesystem" in run.last["msg"]
    assert SEEDED_DEFAULT in run.last["msg"]
    assert run.writes == 0 and defaults(sim) == [SEEDED_DEFAULT]


def test_missing_class_is_not_found(sim, run_playbook):
    run = run_playbook([task(name="nope")])
    assert not run.ok and run.last["reason"] == "NotFound" and run.last["status"] == 404 and run.writes == 0
    assert run.last["msg"].startswith("StorageClass nope not found")


def test_degraded_default_is_reported_when_rwx_not_required(sim, run_playbook):
    run = run_playbook([task(name="stork-snapshot-sc", require_rwx=False)])
    assert run.ok, run
    assert "CDIDefaultStorageClassDegraded" in run.last["firing_alerts"]
    assert any("CDIDefaultStorageClassDegraded" in w for w in run.last.get("warnings", []))


@pytest.mark.parametrize("code", [500, 429])
def test_transient_errors_are_retried(sim, run_playbook, code):
    sim.add_fault(verb="patch", resource="storageclasses", code=code, count=1)
    # alerts_url: the alerts are readable, so the injected fault is the only transient error (the seeded Route's
    # host does not resolve here, and each failed read of it would be retried too).
    run = run_playbook([task(name="px-csi-replicated", alerts_url=sim.url)])
    assert run.ok, run
    assert run.last["retries"] == 1
    assert defaults(sim) == ["px-csi-replicated"]


# --- where the CDI alerts come from -------------------------------------------------------------
SERVICE_PROXY = "/api/v1/namespaces/openshift-monitoring/services/https:thanos-querier:web/proxy"


def test_without_a_readable_monitoring_the_alerts_are_derived_and_the_source_says_so(sim, run_playbook):
    annotate(sim, "px-csi-db", VIRT, "true")
    run = run_playbook([task(name="px-csi-replicated")])
    assert run.ok, run
    assert run.last["alerts_source"].startswith("derived from the StorageClasses and StorageProfiles"), run.last["alerts_source"]
    assert run.last["firing_alerts"] == []
    assert any("derived them" in w for w in run.last.get("warnings", []))


def test_alerts_are_read_from_the_given_alerts_url_with_the_token(sim, run_playbook):
    # The simulator serves GET /api/v1/alerts with the bearer token checked, standing in for the thanos-querier Route.
    annotate(sim, "px-csi-db", VIRT, "true")
    run = run_playbook([task(name="px-csi-replicated", alerts_url=sim.url)])
    assert run.ok, run
    assert run.last["alerts_source"] == sim.url + "/api/v1/alerts"
    assert run.last["firing_alerts"] == [] and not run.last.get("warnings")


def test_the_service_proxy_answers_401_so_the_alerts_are_derived(sim, run_playbook):
    # The kube-apiserver service proxy does not forward the caller's token; thanos-querier's web port needs one.
    run = run_playbook([task(name="stork-snapshot-sc", require_rwx=False, alerts_url=sim.url + SERVICE_PROXY)])
    assert run.ok, run
    assert run.last["alerts_source"].startswith("derived from") and "401" in run.last["alerts_source"], run.last["alerts_source"]
    assert "CDIDefaultStorageClassDegraded" in run.last["firing_alerts"]


def test_failed_second_write_names_the_half_done_state_and_the_rerun_converges(sim, run_playbook):
    # Every attempt at the target's patch answers 500: the old default is already un-defaulted.
    sim.add_fault(verb="patch", resource="storageclasses", name="px-csi-replicated", code=500, count=6)
    run = run_playbook([task(name="px-csi-replicated")])
    assert not run.ok
    result = run.last
    assert result["half_done"] is True and result["undefaulted"] == [SEEDED_DEFAULT]
    assert result["defaults"] == {"virt": [], "cluster": []}
    assert "HTTP 500" in result["msg"] and "already un-defaulted" in result["msg"]
    assert "the virt default is now none" in result["msg"] and "\n" not in result["msg"]
    assert defaults(sim) == []

    sim.clear_faults()
    again = run_playbook([task(name="px-csi-replicated")])
    assert again.ok, again
    assert again.writes == 1 and defaults(sim) == ["px-csi-replicated"]


def test_check_mode_plans_for_a_class_an_earlier_task_would_create(sim, run_playbook):
    run = run_playbook([task(name="not-created-yet")], check=True, diff=True)
    assert run.ok, run
    result = run.last
    assert result["changed"] is True and run.writes == 0
    assert result["diff"]["after"]["virt"] == ["not-created-yet"]
    assert any("StorageClass not-created-yet" in w and "would exist" in w for w in result["warnings"])
    # only the old default's dry-run patch was sent; the missing class's would answer 404
    assert sim.requests()["dry_run_writes"] == 1
    assert defaults(sim) == [SEEDED_DEFAULT]
