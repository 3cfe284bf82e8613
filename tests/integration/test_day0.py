"""playbooks/day0.yml and its preflight against the simulator: version and edition checks, convergence."""

import json
import os

import pytest
from clustersim.testing import eventually

from conftest import REPO_ROOT, run_playbook_file

PREFLIGHT = os.path.join(REPO_ROOT, "playbooks", "tasks", "preflight.yml")
SIMULATOR_OPTIONS = {"vms": 2, "durations": {"hco_progressing": 0.05, "registry_rollout": 0.05}}
PX_STATUS = "/apis/core.libopenstorage.org/v1/namespaces/portworx/storageclusters/px-cluster/status"
PX_OBJECT = "/apis/core.libopenstorage.org/v1/namespaces/portworx/storageclusters/px-cluster"
OPTIONAL_OBJECTS_TASK = "Create the default Portworx VolumeSnapshotClass and the Autopilot rule that rebalances storage pools"
CV_STATUS = "/apis/config.openshift.io/v1/clusterversions/version/status"
# How a play hands the preflight's verdicts to a role (as playbooks/day0.yml does).
VERDICTS = "{{ day0_readiness.day0_steps | default({}) }}"


def ansible_playbook(sim, tmp_path, playbook, extra_vars=None):
    arguments = ["-e", "ocpvirt_target=localhost"] + (["-e", json.dumps(extra_vars)] if extra_vars else [])
    return run_playbook_file(sim, tmp_path, playbook, arguments)


def ansible_playbook_args(sim, tmp_path, arguments):
    return run_playbook_file(sim, tmp_path, "playbooks/day0.yml", ["-e", "ocpvirt_target=localhost"] + list(arguments))


def preflight(sim, tmp_path, **extra_vars):
    playbook = tmp_path / "preflight.yml"
    playbook.write_text(json.dumps([{"name": "preflight", "hosts": "localhost", "gather_facts": False,
                                     "tasks": [{"name": "preflight", "ansible.builtin.import_tasks": PREFLIGHT}]}]))
    return ansible_playbook(sim, tmp_path, str(playbook), extra_vars)


def run_preflight_play(sim, tmp_path, file_name, roles, tasks=None):
    """One play of the shape day0.yml has: the preflight's tasks first, then ``roles`` (and ``tasks``)."""
    play = {"name": file_name, "hosts": "localhost", "gather_facts": False,
            "pre_tasks": [{"name": "Preflight facts", "ansible.builtin.import_tasks": PREFLIGHT}], "roles": roles}
    if tasks:
        play["tasks"] = tasks
    playbook = tmp_path / file_name
    playbook.write_text(json.dumps([play]))
    return ansible_playbook(sim, tmp_path, str(playbook))


def merge_patch(sim, path, body):
    sim.client().request("patch", path, body=body, content_type="application/merge-patch+json")


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    sim.settle()


def test_preflight_passes_on_portworx_enterprise_and_openshift_4_20(sim, tmp_path):
    run = preflight(sim, tmp_path)
    assert run.ok, run
    facts = [r for r in run.results if r["_task"] == "Collect the preflight facts"][0]["ansible_facts"]["day0_preflight"]
    assert facts["portworx_edition"] == "Enterprise" and facts["portworx_version_source"] == "status.version"
    assert facts["openshift_version"].startswith("4.20")


def test_preflight_refuses_an_unknown_portworx_version_unless_overridden(sim, tmp_path):
    merge_patch(sim, PX_STATUS, {"status": {"version": None}})
    merge_patch(sim, PX_OBJECT, {"spec": {"image": "registry.example.com/portworx/oci-monitor@sha256:" + "0" * 64}})
    run = preflight(sim, tmp_path)
    assert not run.ok
    assert "Portworx unknown" in run.last["msg"] and "day0_allow_unknown_versions" in run.last["msg"]
    allowed = preflight(sim, tmp_path, day0_allow_unknown_versions=True)
    assert allowed.ok, allowed
    assert "could not be read" in allowed.last["msg"] and "Portworx" in allowed.last["msg"]


def test_preflight_reads_the_version_from_the_image_tag_when_status_has_none(sim, tmp_path):
    # The operator rolls the new image out and then reports its version; only after that rollout
    # does a status without a version stay so (otherwise the test races the operator).
    merge_patch(sim, PX_OBJECT, {"spec": {"image": "portworx/oci-monitor:3.4.0"}})
    # (the rollout restarts every node: on a loaded machine it can outlast settle()'s default 10 s)
    eventually("the operator reports 3.4.0", lambda: sim.request("GET", PX_OBJECT)["status"].get("version") == "3.4.0",
               timeout=60)
    merge_patch(sim, PX_STATUS, {"status": {"version": None}})
    run = preflight(sim, tmp_path)
    assert not run.ok
    assert "Portworx 3.4.0 (read from spec.image)" in run.last["msg"]


def test_preflight_refuses_the_px_csi_edition(sim, tmp_path):
    merge_patch(sim, PX_STATUS, {"status": {"version": "25.6.0"}})
    run = preflight(sim, tmp_path, day0_allow_unknown_versions=True)
    assert not run.ok
    assert "PX-CSI edition" in run.last["msg"] and "Portworx Enterprise" in run.last["msg"]


def test_preflight_refuses_openshift_before_4_14(sim, tmp_path):
    history = [{"state": "Completed", "version": "4.12.40", "startedTime": "2026-01-01T00:00:00Z",
                "completionTime": "2026-01-01T01:00:00Z", "image": "quay.io/openshift-release-dev/ocp-release:4.12.40",
                "verified": True}]
    merge_patch(sim, CV_STATUS, {"status": {"desired": {"version": "4.12.40"}, "history": history}})
    run = preflight(sim, tmp_path)
    assert not run.ok
    assert "OpenShift 4.12.40" in run.last["msg"] and "4.14" in run.last["msg"]


def task_result(run, name):
    """The result of the task called ``name`` (role tasks are reported as ``role : name``)."""
    return [r for r in run.results if r["_task"] == name or r["_task"].endswith(" : " + name)][0]


def test_preflight_reads_retry_transient_errors_and_not_forbidden(sim, tmp_path):
    # The audit's reads retry 5xx like every module of the collection ...
    sim.add_fault(verb="list", resource="storageclusters", code=500, count=2)
    run = preflight(sim, tmp_path)
    assert run.ok, run
    assert len([e for e in sim.requests(entries=True)["entries"] if e["resource"].endswith("/storageclusters")]) == 3
    # ... and a 403 is not retried: the StorageCluster cannot be read, so day 0 refuses.
    sim.clear_faults()
    sim.add_fault(verb="list", resource="storageclusters", code=403, count=1)
    refused = preflight(sim, tmp_path)
    assert not refused.ok
    assert len([e for e in sim.requests(entries=True)["entries"] if e["resource"].endswith("/storageclusters")]) == 1
    assert "Day 0 needs a Portworx" in refused.last["msg"]


def test_day0_converges_and_a_second_run_changes_nothing(sim, tmp_path):
    run = ansible_playbook(sim, tmp_path, "playbooks/day0.yml")
    assert run.ok, run
    optional = task_result(run, OPTIONAL_OBJECTS_TASK)
    assert optional["changed"] is True and [o["outcome"] for o in optional["objects"]] == ["created", "created"]
    assert [o["kind"] for o in optional["objects"]] == ["VolumeSnapshotClass", "AutopilotRule"]
    classes = task_result(run, "Create or update the Portworx StorageClasses from their presets")["classes"]
    assert [c["preset"] for c in classes] == ["vm_block", "vm_file", "cdi_scratch", "vm_state", "migration"]
    again = ansible_playbook(sim, tmp_path, "playbooks/day0.yml")
    assert again.ok, again
    writes = [(e["verb"], e["resource"], e["name"]) for e in sim.requests(entries=True).get("entries", [])
              if e["verb"] in ("create", "update", "patch", "delete") and not e["dry_run"]]
    # Not even a no-op patch: every object is read once and written only when it differs.
    assert again.changed == 0 and writes == [], writes
    # The preflight judged every judged step converged, so their modules did not run again ...
    assert skipped_as_converged(again) == ALL_JUDGED_STEPS
    assert task_result(again, OPTIONAL_OBJECTS_TASK).get("skipped") is True
    # ... and the facts the later tasks and the summary use came from the verdicts.
    assert summary(again)["portworx_storage"]["vm_class"] == summary(run)["portworx_storage"]["vm_class"] == "px-rwx-block-kubvirt"
    assert summary(again)["portworx_storage"]["storage_classes"] == summary(run)["portworx_storage"]["storage_classes"]
    assert summary(again)["portworx_storage"]["changed_storage_classes"] == []
    assert summary(again)["image_registry"]["route_host"] == summary(run)["image_registry"]["route_host"] != "none"
    # The default-class step is not judged (it reads the CDI alerts): it ran, and wrote nothing.
    assert task_result(again, "Make the VM disk class the one default class for virtual machines")["changed"] is False


ALL_JUDGED_STEPS = ["storage_classes", "storage_profiles", "optional_objects", "hyperconverged", "image_registry"]
HCO = "/apis/hco.kubevirt.io/v1beta1/namespaces/openshift-cnv/hyperconvergeds/kubevirt-hyperconverged"
AUTOPILOT_RULE = "/apis/autopilot.libopenstorage.org/v1alpha1/autopilotrules/pool-rebalance"


def summary(run):
    return task_result(run, "Show what day 0 configured")["msg"]


def skipped_as_converged(run):
    return summary(run)["skipped_as_converged"]


def real_writes(sim):
    return [(e["verb"], e["resource"].rsplit("/", 1)[-1], e["name"]) for e in sim.requests(entries=True).get("entries", [])
            if e["verb"] in ("create", "update", "patch", "delete") and not e["dry_run"]]


def test_a_drifted_object_on_a_re_run_is_fixed_not_skipped(sim, tmp_path):
    assert ansible_playbook(sim, tmp_path, "playbooks/day0.yml").ok
    # Someone edits the HyperConverged live migration limit and the Autopilot rule's range.
    merge_patch(sim, HCO, {"spec": {"liveMigrationConfig": {"parallelMigrationsPerCluster": 9}}})
    merge_patch(sim, AUTOPILOT_RULE, {"spec": {"conditions": {"requiredMatches": 2}}})
    sim.settle()
    # --check still previews the fix, and writes nothing.
    preview = ansible_playbook_args(sim, tmp_path, ["--check", "--diff"])
    assert preview.ok, preview
    assert real_writes(sim) == [] and preview.writes == 0
    assert skipped_as_converged(preview) == ["storage_classes", "storage_profiles"]
    assert task_result(preview, OPTIONAL_OBJECTS_TASK)["changed"] is True
    hco_preview = task_result(preview, "Tune the HyperConverged CR for Portworx")
    assert hco_preview["changed"] is True and hco_preview["diff"]["after"]["liveMigrationConfig"]["parallelMigrationsPerCluster"] == 5
    # The real re-run fixes both: the steps before the first drifted one are skipped, the rest run.
    fixed = ansible_playbook(sim, tmp_path, "playbooks/day0.yml")
    assert fixed.ok, fixed
    assert skipped_as_converged(fixed) == ["storage_classes", "storage_profiles"]
    reasons = task_result(fixed, "Audit the cluster before day 0 and judge which day-0 steps are converged")["day0_steps"]
    assert "would patch" in reasons["optional_objects"]["reason"] and "comes first" in reasons["hyperconverged"]["reason"]
    assert ("patch", "autopilotrules", "pool-rebalance") in real_writes(sim)
    assert ("patch", "hyperconvergeds", "kubevirt-hyperconverged") in real_writes(sim)
    hco = sim.client().request("get", HCO)
    assert hco["spec"]["liveMigrationConfig"]["parallelMigrationsPerCluster"] == 5
    # And the run after that is converged again.
    assert skipped_as_converged(ansible_playbook(sim, tmp_path, "playbooks/day0.yml")) == ALL_JUDGED_STEPS


def test_options_the_preflight_did_not_judge_run_the_step(sim, tmp_path):
    assert ansible_playbook(sim, tmp_path, "playbooks/day0.yml").ok
    # A role var given to the role only is not seen by the preflight: the role's options differ from the judged ones.
    run = run_preflight_play(sim, tmp_path, "day0-role-vars.yml", [
        {"role": "ocpvirt.portworx.virtualization",
         "vars": {"virtualization_converged": VERDICTS, "virtualization_live_migration_parallel_per_cluster": 7}}])
    assert run.ok, run
    verdicts = task_result(run, "Audit the cluster before day 0 and judge which day-0 steps are converged")["day0_steps"]
    assert verdicts["hyperconverged"]["converged"] is True
    hco = task_result(run, "Tune the HyperConverged CR for Portworx")
    assert hco.get("skipped") is not True and hco["changed"] is True
    assert sim.client().request("get", HCO)["spec"]["liveMigrationConfig"]["parallelMigrationsPerCluster"] == 7


def test_a_step_that_runs_makes_the_later_judged_steps_run_too(sim, tmp_path):
    assert ansible_playbook(sim, tmp_path, "playbooks/day0.yml").ok
    # The StorageClasses step runs (its options differ from the judged ones): the StorageProfiles,
    # optional objects and HyperConverged verdicts assumed it would not, so their steps run as well.
    classes = [{"preset": "vm_block", "name": "vm-disks"}, {"preset": "cdi_scratch", "name": "px-cdi-scratch"},
               {"preset": "vm_state", "name": "vmstate"}]
    run = run_preflight_play(sim, tmp_path, "day0-class-vars.yml", [
        {"role": "ocpvirt.portworx.portworx_storage",
         "vars": {"portworx_storage_converged": VERDICTS, "portworx_storage_classes": classes}},
        {"role": "ocpvirt.portworx.virtualization", "vars": {"virtualization_converged": VERDICTS}}])
    assert run.ok, run
    verdicts = task_result(run, "Audit the cluster before day 0 and judge which day-0 steps are converged")["day0_steps"]
    assert all(verdicts[step]["converged"] for step in ("storage_classes", "storage_profiles", "optional_objects", "hyperconverged"))
    for task in ("Create or update the Portworx StorageClasses from their presets", "Set the CDI StorageProfiles of the VM classes",
                 OPTIONAL_OBJECTS_TASK, "Tune the HyperConverged CR for Portworx"):
        assert task_result(run, task).get("skipped") is not True, task
    profile = sim.client().request("get", "/apis/cdi.kubevirt.io/v1beta1/storageprofiles/vm-disks")
    assert profile["spec"]["cloneStrategy"] == "csi-clone", profile


def test_day0_fast_path_false_runs_every_step(sim, tmp_path):
    assert ansible_playbook(sim, tmp_path, "playbooks/day0.yml").ok
    run = ansible_playbook(sim, tmp_path, "playbooks/day0.yml", {"day0_fast_path": False})
    assert run.ok, run
    assert skipped_as_converged(run) == [] and run.changed == 0
    assert "day0_steps" not in task_result(run, "Audit the cluster before day 0 and judge which day-0 steps are converged")
    assert task_result(run, OPTIONAL_OBJECTS_TASK)["changed"] is False


# The verdicts are judged for the roles that follow the preflight in its play, once. Nothing set in
# one play may make a later play (or a later run of a role in the same play) skip a step: by then
# the cluster may have changed.
DAY0_PLAYBOOK = os.path.join(REPO_ROOT, "playbooks", "day0.yml")
HCO_TASK = "Tune the HyperConverged CR for Portworx"


def task_results(run, name):
    """Every result of the task called ``name``, in the order they ran (a role that runs twice reports twice)."""
    return [r for r in run.results if r["_task"] == name or r["_task"].endswith(" : " + name)]


def drift_task(name, api_version, kind, spec, namespace=None):
    """A task that edits an object behind day 0's back, as a user's later play could."""
    metadata = dict({"name": name}, **({"namespace": namespace} if namespace else {}))
    return {"name": "Someone edits " + kind + " " + name,
            "kubernetes.core.k8s": {"state": "patched", "merge_type": "merge",
                                    "definition": {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}}}


HCO_DRIFT = drift_task("kubevirt-hyperconverged", "hco.kubevirt.io/v1beta1", "HyperConverged",
                       {"liveMigrationConfig": {"parallelMigrationsPerCluster": 9}}, "openshift-cnv")
AUTOPILOT_DRIFT = drift_task("pool-rebalance", "autopilot.libopenstorage.org/v1alpha1", "AutopilotRule",
                             {"conditions": {"requiredMatches": 2}})


def test_a_later_play_does_not_skip_a_step_on_the_verdicts_of_day0(sim, tmp_path):
    assert ansible_playbook(sim, tmp_path, "playbooks/day0.yml").ok
    # One run: day 0 (every judged step converged and skipped), a play that changes the cluster,
    # then the roles on their own, as a user's later play would run them.
    playbook = tmp_path / "day0-then-drift-then-roles.yml"
    playbook.write_text(json.dumps([
        {"import_playbook": DAY0_PLAYBOOK},
        {"name": "drift", "hosts": "localhost", "gather_facts": False, "tasks": [HCO_DRIFT, AUTOPILOT_DRIFT]},
        {"name": "the roles again", "hosts": "localhost", "gather_facts": False,
         "roles": ["ocpvirt.portworx.portworx_storage", "ocpvirt.portworx.virtualization"]},
    ]))
    run = ansible_playbook(sim, tmp_path, str(playbook))
    assert run.ok, run
    assert skipped_as_converged(run) == ALL_JUDGED_STEPS
    # The later play judged nothing, so it runs every step, and so fixes the drift.
    assert task_results(run, HCO_TASK)[-1].get("skipped") is not True
    assert task_results(run, OPTIONAL_OBJECTS_TASK)[-1].get("skipped") is not True
    assert sim.client().request("get", HCO)["spec"]["liveMigrationConfig"]["parallelMigrationsPerCluster"] == 5
    assert sim.client().request("get", AUTOPILOT_RULE)["spec"]["conditions"]["requiredMatches"] == 1


def test_a_role_run_again_in_the_play_of_the_preflight_does_not_reuse_its_verdict(sim, tmp_path):
    assert ansible_playbook(sim, tmp_path, "playbooks/day0.yml").ok
    # The play of the preflight runs the virtualization role (skipped as converged), changes the
    # HyperConverged, then runs the role again, even handing it the same verdicts: a verdict is used once.
    run = run_preflight_play(sim, tmp_path, "day0-role-twice.yml", [
        {"role": "ocpvirt.portworx.portworx_storage", "vars": {"portworx_storage_converged": VERDICTS}},
        {"role": "ocpvirt.portworx.virtualization", "vars": {"virtualization_converged": VERDICTS}},
    ], tasks=[
        HCO_DRIFT,
        {"name": "Run the virtualization role again", "ansible.builtin.include_role": {"name": "ocpvirt.portworx.virtualization"},
         "vars": {"virtualization_converged": VERDICTS}},
    ])
    assert run.ok, run
    first, again = task_results(run, HCO_TASK)
    assert first.get("skipped") is True
    assert again.get("skipped") is not True and again["changed"] is True
    assert sim.client().request("get", HCO)["spec"]["liveMigrationConfig"]["parallelMigrationsPerCluster"] == 5
