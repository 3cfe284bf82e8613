"""ocpvirt.portworx.image_registry against the simulator: registry on a Portworx claim, refusals, removal."""

import pytest

SIMULATOR_OPTIONS = {"vms": 1, "durations": {"registry_rollout": 0.05, "pvc_resize": 0.1, "pvc_fs_resize": 0.1}}
NS = "openshift-image-registry"
CLAIM = "registry-storage-pvc"
FAST = {"wait_sleep": 0.2, "wait_timeout": 30}


def task(**options):
    args = dict(FAST)
    args.update(options)
    return {"name": "registry", "ocpvirt.portworx.image_registry": args}


def resource(sim, api_version, kind):
    return sim.client().resources.get(api_version=api_version, kind=kind)


def config(sim):
    return resource(sim, "imageregistry.operator.openshift.io/v1", "Config").get(name="cluster").to_dict()


def claim(sim, name=CLAIM):
    claims = resource(sim, "v1", "PersistentVolumeClaim").get(namespace=NS).to_dict()["items"]
    return next((c for c in claims if c["metadata"]["name"] == name), None)


def operator_conditions(sim):
    co = resource(sim, "config.openshift.io/v1", "ClusterOperator").get(name="image-registry").to_dict()
    return dict((c["type"], c["status"]) for c in co["status"]["conditions"])


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    sim.settle()


def test_registry_runs_on_a_discovered_sharedv4_class(sim, run_playbook):
    run = run_playbook([task()], diff=True)
    assert run.ok, run
    result = run.last
    assert result["changed"] is True
    assert result["storage_class"] == "px-rwx-file-kubvirt"
    assert result["claim"]["created"] is True and result["claim"]["phase"] == "Bound"
    assert result["route_host"] == "default-route-openshift-image-registry.apps.clustersim.example.com"
    assert result["cluster_operator"]["Available"] == "True" and result["cluster_operator"]["Degraded"] == "False"
    assert result["diff"]["before"]["claim"] is None and result["diff"]["after"]["config"]["replicas"] == 2
    spec = config(sim)["spec"]
    assert spec["managementState"] == "Managed" and spec["replicas"] == 2
    assert spec["storage"] == {"pvc": {"claim": CLAIM}} and spec["defaultRoute"] is True
    pvc = claim(sim)
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"] and pvc["spec"]["volumeMode"] == "Filesystem"
    assert pvc["spec"]["resources"]["requests"]["storage"] == "300Gi"
    deployment = resource(sim, "apps/v1", "Deployment").get(name="image-registry", namespace=NS).to_dict()
    assert deployment["status"]["readyReplicas"] == 2
    assert operator_conditions(sim)["Progressing"] == "False"

    again = run_playbook([task()])
    assert again.ok, again
    assert again.changed == 0 and again.writes == 0


def test_discovery_never_picks_a_single_replica_class(sim, run_playbook):
    # Without the preinstalled sharedv4 class, the repl-1 sharedv4 scratch class must not win.
    resource(sim, "storage.k8s.io/v1", "StorageClass").delete(name="px-rwx-file-kubvirt")
    sim.settle()
    run = run_playbook([task()])
    assert run.ok, run
    chosen = run.last["storage_class"]
    assert chosen != "px-cdi-scratch"
    chosen_class = resource(sim, "storage.k8s.io/v1", "StorageClass").get(name=chosen).to_dict()
    assert int(chosen_class["parameters"]["repl"]) >= 2
    assert claim(sim)["spec"]["storageClassName"] == chosen


def test_rwo_single_replica_uses_recreate_and_warns(sim, run_playbook):
    run = run_playbook([task(access_mode="ReadWriteOnce", replicas=1, storage_class="px-csi-db", default_route=False)])
    assert run.ok, run
    assert any("not for production" in w for w in run.last["warnings"])
    spec = config(sim)["spec"]
    assert spec["rolloutStrategy"] == "Recreate" and spec["replicas"] == 1 and spec["defaultRoute"] is False
    assert run.last["route_host"] is None


def test_smaller_existing_claim_is_grown_and_bigger_one_kept(sim, run_playbook):
    assert run_playbook([task(pvc_size="100Gi")]).ok
    run = run_playbook([task(pvc_size="200Gi")])
    assert run.ok, run
    assert run.last["claim"]["expanded"] is True
    pvc = claim(sim)
    assert pvc["spec"]["resources"]["requests"]["storage"] == "200Gi"
    assert pvc["status"]["capacity"]["storage"] == "200Gi"  # the registry pods mount it, so the filesystem grew too
    kept = run_playbook([task(pvc_size="150Gi")])
    assert kept.ok and kept.changed == 0 and kept.writes == 0


def test_check_mode_writes_nothing(sim, run_playbook):
    run = run_playbook([task()], check=True)
    assert run.ok, run
    assert run.last["changed"] is True and run.writes == 0
    assert claim(sim) is None and config(sim)["spec"]["managementState"] == "Removed"


def restrict_profile(sim, name, sets):
    resource(sim, "cdi.kubevirt.io/v1beta1", "StorageProfile").patch(
        name=name, body={"spec": {"claimPropertySets": sets}}, content_type="application/merge-patch+json")
    sim.settle()


@pytest.mark.parametrize(
    "options, words",
    [
        (dict(access_mode="ReadWriteOnce", replicas=2), ["ReadWriteOnce", "replicas"]),
        (dict(storage_class="px-cdi-scratch", access_mode="ReadWriteOnce", replicas=1), ["repl", "allow_single_replica"]),
        (dict(storage_class="px-cdi-scratch"), ["repl", "allow_single_replica"]),
    ],
)
def test_refusals_leave_the_cluster_unchanged(sim, run_playbook, options, words):
    # The document's StorageProfile for the VM disk class: ReadWriteMany Block only.
    restrict_profile(sim, "px-rwx-block-kubvirt", [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}])
    before = config(sim)["spec"]
    run = run_playbook([task(**options)])
    assert not run.ok
    assert run.last["reason"] == "Refused"
    for word in words:
        assert word in run.last["msg"]
    assert run.writes == 0
    assert claim(sim) is None and config(sim)["spec"] == before


def test_removed_stops_the_registry_and_keeps_the_claim(sim, run_playbook):
    assert run_playbook([task()]).ok
    run = run_playbook([task(state="removed")])
    assert run.ok, run
    assert run.last["changed"] is True
    assert config(sim)["spec"]["managementState"] == "Removed"
    assert claim(sim) is not None
    deployments = resource(sim, "apps/v1", "Deployment").get(namespace=NS).to_dict()["items"]
    assert deployments == []
    assert operator_conditions(sim) == {"Available": "True", "Progressing": "False", "Degraded": "False", "Upgradeable": "True"}
    again = run_playbook([task(state="removed")])
    assert again.ok and again.changed == 0 and again.writes == 0


@pytest.mark.parametrize("code", [500, 429])
def test_transient_errors_are_retried(sim, run_playbook, code):
    sim.add_fault(verb="patch", resource="configs", code=code, count=1)
    run = run_playbook([task()])
    assert run.ok, run
    assert run.last["retries"] == 1
    assert config(sim)["spec"]["managementState"] == "Managed"


def test_the_seeds_registry_example_runs_on_the_rwx_block_class_after_portworx_storage(sim, run_playbook):
    # Seed 000: PVC registry-storage-pvc, RWX, 300Gi, storageClassName px-rwx-block-kubevirt (preinstalled here as
    # px-rwx-block-kubvirt). portworx_storage narrows that class's StorageProfile to RWX Block, which steers only
    # DataVolumes; Portworx CSI gives the plain RWX Filesystem claim a sharedv4 volume.
    restrict_profile(sim, "px-rwx-block-kubvirt", [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}])
    run = run_playbook([task(storage_class="px-rwx-block-kubvirt", pvc_size="300Gi", access_mode="ReadWriteMany")])
    assert run.ok, run
    assert run.last["storage_class"] == "px-rwx-block-kubvirt"
    pvc = claim(sim)
    assert pvc["spec"]["storageClassName"] == "px-rwx-block-kubvirt" and pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    assert pvc["status"]["phase"] == "Bound"
    assert config(sim)["spec"]["replicas"] == 2


def test_a_missing_storage_class_is_not_found_and_writes_nothing(sim, run_playbook):
    before = config(sim)["spec"]
    run = run_playbook([task(storage_class="nope")])
    assert not run.ok
    assert run.last["reason"] == "NotFound" and run.last["status"] == 404
    assert run.last["msg"].startswith("StorageClass nope not found")
    assert run.writes == 0 and claim(sim) is None and config(sim)["spec"] == before


def test_registry_http_secret_stays_out_of_results_diffs_and_verbose_output(sim, run_playbook):
    secret = config(sim)["spec"]["httpSecret"]
    assert secret
    run = run_playbook([task()], diff=True)
    assert run.ok, run
    assert run.last["config"]["spec"]["httpSecret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert secret not in run.stdout and secret not in run.stderr
