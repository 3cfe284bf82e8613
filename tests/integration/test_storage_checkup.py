"""ocpvirt.portworx.storage_checkup against the simulator's checkup Job: results read, failures explained, cleaned up."""

import pytest

SIMULATOR_OPTIONS = {"vms": 1}
NS = "storage-checkup"
FAST = {"wait_sleep": 0.2, "wait_timeout": 60}
OS_IMAGES = "openshift-virtualization-os-images"


def checkup_task(**options):
    args = dict(FAST, namespace=NS)
    args.update(options)
    return {"name": "checkup", "ocpvirt.portworx.storage_checkup": args}


def resource(sim, api_version, kind):
    return sim.client().resources.get(api_version=api_version, kind=kind)


def exists(sim, api_version, kind, name, namespace=None):
    items = resource(sim, api_version, kind).get(namespace=namespace).to_dict()["items"]
    return any(i["metadata"]["name"] == name for i in items)


def patch(sim, api_version, kind, name, body, namespace=None, subresource=None):
    target = resource(sim, api_version, kind)
    if subresource:
        target = target.subresources[subresource]
    target.patch(name=name, namespace=namespace, body=body, content_type="application/merge-patch+json")


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    sim.settle()
    resource(sim, "v1", "Namespace").create(body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    # what day 0's storage profile step gives the Stork class, whose provisioner CDI does not know
    patch(sim, "cdi.kubevirt.io/v1beta1", "StorageProfile", "stork-snapshot-sc",
          {"spec": {"claimPropertySets": [{"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"}]}})
    sim.settle()


def test_checkup_succeeds_cleans_up_and_a_second_run_reports_the_result(sim, run_playbook):
    run = run_playbook([checkup_task()])
    assert run.ok, run
    result = run.last
    assert result["changed"] is True and result["result_from"] == "this run"
    assert result["checkup"]["succeeded"] is True and result["checkup"]["failed_checks"] == []
    assert result["checkup"]["results"]["defaultStorageClass"] == "px-rwx-block-kubvirt"
    assert result["checkup"]["results"]["pvcBound"] == 'PVC "checkup-pvc" bound'
    assert "Job storage-checkup/storage-checkup" in result["cleaned_up"]
    assert exists(sim, "v1", "ConfigMap", "storage-checkup-config", NS)
    for api_version, kind, name, namespace in (("batch/v1", "Job", "storage-checkup", NS), ("v1", "ServiceAccount", "storage-checkup-sa", NS),
                                               ("rbac.authorization.k8s.io/v1", "Role", "storage-checkup-role", NS),
                                               ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "kubevirt-storage-checkup-clustereader", None)):
        assert not exists(sim, api_version, kind, name, namespace), kind

    again = run_playbook([checkup_task()])
    assert again.ok, again
    assert again.changed == 0 and again.writes == 0
    assert again.last["result_from"] == "earlier run" and again.last["checkup"]["succeeded"] is True


def test_checkup_reports_a_planted_misconfiguration_and_the_audit_reads_it(sim, run_playbook):
    resource(sim, "storage.k8s.io/v1", "StorageClass").create(body={
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "legacy-nfs"}, "provisioner": "example.com/nfs"})
    patch(sim, "cdi.kubevirt.io/v1beta1", "DataSource", "fedora",
          {"status": {"conditions": [{"type": "Ready", "status": "False", "reason": "NotFound", "message": "PVC not found"}]}},
          namespace=OS_IMAGES, subresource="status")
    sim.settle()
    run = run_playbook([checkup_task()])
    assert not run.ok, run
    result = run.last
    assert result["reason"] == "CheckupFailed"
    checks = dict((c["reason"], c) for c in result["checkup"]["failed_checks"])
    empty = checks["there are StorageProfiles with empty ClaimPropertySets (unknown provisioners)"]
    assert empty["objects"] == ["legacy-nfs"] and "spec.claimPropertySets" in empty["fix"]
    golden = checks["there are golden images whose DataImportCron is not up to date or DataSource is not ready"]
    assert golden["objects"] == [OS_IMAGES + "/fedora-image-cron"]  # upstream names the DataImportCron
    assert "legacy-nfs" in result["msg"] and "boot source images were not imported" in result["msg"]
    assert not exists(sim, "batch/v1", "Job", "storage-checkup", NS)  # cleaned up after a failed checkup too

    audit = run_playbook([{"name": "audit", "ocpvirt.portworx.readiness_info": {}}])
    assert audit.ok, audit
    finding = [f for f in audit.last["findings"] if f["rule"] == "STORAGE-CHECKUP"][0]
    assert "empty ClaimPropertySets (unknown provisioners); there are golden images" in finding["detail"]


def test_role_runs_the_checkup_in_its_namespace(sim, run_playbook):
    run = run_playbook([{"name": "checkup role", "ansible.builtin.include_role": {"name": "ocpvirt.portworx.storage_checkup"},
                         "vars": {"storage_checkup_namespace": "checkup-by-role", "storage_checkup_wait_timeout": 60}}])
    assert run.ok, run
    facts = [r for r in run.results if "storage_checkup_summary" in r.get("ansible_facts", {})][0]["ansible_facts"]
    assert facts["storage_checkup_summary"]["succeeded"] in (True, "True")
    assert exists(sim, "v1", "ConfigMap", "storage-checkup-config", "checkup-by-role")


def test_check_mode_writes_nothing(sim, run_playbook):
    run = run_playbook([checkup_task()], check=True)
    assert run.ok, run
    assert run.last["changed"] is True and run.writes == 0
    assert not exists(sim, "v1", "ConfigMap", "storage-checkup-config", NS)


@pytest.mark.parametrize("options, words", [
    ({"namespace": "nowhere"}, ["Namespace nowhere", "does not exist"]),
    ({"storage_class": "nope"}, ["StorageClass nope", "does not exist"]),
    ({"timeout": "ten minutes"}, ["timeout", "duration"]),
    ({"num_of_vms": 0}, ["num_of_vms"]),
])
def test_bad_input_is_refused_before_any_write(sim, run_playbook, options, words):
    run = run_playbook([checkup_task(**options)])
    assert not run.ok, run
    assert run.writes == 0
    for word in words:
        assert word in run.last["msg"], run.last["msg"]
