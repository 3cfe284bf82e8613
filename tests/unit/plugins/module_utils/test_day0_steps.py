"""The day-0 convergence judgement: a step is converged only when its module would do nothing; any doubt runs it."""

import copy

import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.hyperconverged import judge_hyperconverged
from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.judge import Doubt, doubt_if, judge_steps, wait_met
from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.optional_objects import judge_optional_objects
from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.steps import STEPS, judge_day0
from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.storage_profiles import judge_storage_profiles
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ApiFailure, Refusal

CDI = "cdi.kubevirt.io/v1beta1"
HCO_API = "hco.kubevirt.io/v1beta1"
SNAPSHOT = "snapshot.storage.k8s.io/v1"


class ReadOnlyCluster(object):
    """The reads a judge makes, from a dict of objects; any write would be a test failure (there is none)."""

    def __init__(self, objects, served=None):
        self.objects = dict(((o["apiVersion"], o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]), o) for o in objects)
        self.served_kinds = served if served is not None else set((o["apiVersion"], o["kind"]) for o in objects)

    def served(self, api_version, kind):
        return (api_version, kind) in self.served_kinds

    def get(self, api_version, kind, name, namespace=None):
        return copy.deepcopy(self.objects.get((api_version, kind, namespace, name)))

    def list(self, api_version, kind, namespace=None, **dummy):
        return [copy.deepcopy(o) for key, o in sorted(self.objects.items()) if key[:2] == (api_version, kind) and namespace in (None, key[2])]


def snapshot_class(**parameters):
    return {"apiVersion": SNAPSHOT, "kind": "VolumeSnapshotClass", "metadata": {"name": "px-csi-snapclass"},
            "driver": "pxd.portworx.com", "deletionPolicy": "Delete", "parameters": dict({"csi.openstorage.org/snapshot-type": "local"}, **parameters)}


# judge_steps: order, blocking and doubt -------------------------------------------------------
def converged_judge(cluster, options, context):
    return {"seen": options}


def doubting_judge(cluster, options, context):
    raise Doubt("drifted")


def test_every_step_after_one_that_is_not_converged_is_not_converged_either():
    judges = [("a", converged_judge), ("b", doubting_judge), ("c", converged_judge)]
    verdicts = judge_steps(None, {"a": {"x": 1}, "b": {}, "c": {}}, judges)
    assert verdicts["a"] == {"converged": True, "reason": "no write planned and every wait condition met", "options": {"x": 1},
                             "result": {"seen": {"x": 1}}, "judgement": verdicts["a"]["judgement"]}
    assert verdicts["b"]["converged"] is False and verdicts["b"]["reason"] == "drifted"
    assert verdicts["c"]["converged"] is False and "step b comes first" in verdicts["c"]["reason"]


def test_every_verdict_of_one_judgement_carries_its_id_and_another_judgement_has_another():
    # A role uses a judgement once; a new preflight judges anew, with a new id.
    judges = [("a", converged_judge), ("b", doubting_judge)]
    first = judge_steps(None, {"a": {}, "b": {}, "zzz": {}}, judges)
    second = judge_steps(None, {"a": {}, "b": {}}, judges)
    assert len(set(verdict["judgement"] for verdict in first.values())) == 1
    assert first["a"]["judgement"] and first["a"]["judgement"] != second["a"]["judgement"]
    assert first["a"]["converged"] and second["a"]["converged"]


def test_steps_not_asked_for_are_left_out_and_unknown_steps_are_not_converged():
    verdicts = judge_steps(None, {"c": {}, "zzz": {}}, [("a", doubting_judge), ("c", converged_judge)])
    assert sorted(verdicts) == ["c", "zzz"]
    assert verdicts["c"]["converged"] is True and verdicts["zzz"]["converged"] is False


@pytest.mark.parametrize("error", [Refusal("StorageClass x", "breaks a rule", "fix it"), ApiFailure("forbidden", status=403),
                                   KeyError("metadata"), ValueError("bad quantity")])
def test_a_refusal_an_api_error_or_any_error_in_a_judge_is_a_doubt(error):
    def failing(cluster, options, context):
        raise error

    verdict = judge_steps(None, {"a": {}}, [("a", failing)])["a"]
    assert verdict["converged"] is False and verdict["result"] == {} and verdict["reason"]


def test_a_warning_or_an_unmet_wait_is_a_doubt():
    doubt_if([])
    with pytest.raises(Doubt, match="would warn: careful"):
        doubt_if(["careful"])
    assert wait_met((True, {"ok": 1}), "x") == {"ok": 1}
    with pytest.raises(Doubt, match="the claim Bound not yet: phase Pending"):
        wait_met((False, "phase Pending"), "the claim Bound")


def test_the_day0_steps_are_judged_in_the_order_the_roles_run_them():
    assert STEPS == ("storage_classes", "storage_profiles", "optional_objects", "hyperconverged", "image_registry")


# optional objects ---------------------------------------------------------------------------
def test_optional_objects_converged_when_every_object_has_its_definition():
    cluster = ReadOnlyCluster([dict(snapshot_class(), metadata={"name": "px-csi-snapclass", "uid": "1"})])
    result = judge_optional_objects(cluster, {"objects": [snapshot_class()]}, {})
    assert result["not_served"] == [] and [o["outcome"] for o in result["objects"]] == ["unchanged"]


@pytest.mark.parametrize("objects, served, reason", [
    ([snapshot_class(**{"csi.openstorage.org/snapshot-type": "cloud"})], None, "would patch"),
    ([], {(SNAPSHOT, "VolumeSnapshotClass")}, "would create"),
    ([], set(), "not served"),
])
def test_optional_objects_not_converged_when_the_module_would_write_or_skip(objects, served, reason):
    verdict = judge_day0(ReadOnlyCluster(objects, served), {"optional_objects": {"objects": [snapshot_class()]}})["optional_objects"]
    assert verdict["converged"] is False and reason in verdict["reason"]


def test_no_optional_objects_at_all_is_converged_and_blocks_no_later_step():
    # The role runs no module for an empty list (both objects turned off), so the step changes nothing.
    verdicts = judge_day0(ReadOnlyCluster([]), {"optional_objects": {"objects": []}})
    assert verdicts["optional_objects"]["converged"] is True and verdicts["optional_objects"]["result"]["objects"] == []


@pytest.mark.parametrize("options", [{"objects": [{"kind": "VolumeSnapshotClass"}]}, {"objects": "x", "extra": 1},
                                     {"objects": [dict(snapshot_class(), metadata={"name": "Not_A_Name"})]}])
def test_optional_objects_whose_options_fail_validation_are_not_converged(options):
    verdict = judge_day0(ReadOnlyCluster([snapshot_class()]), {"optional_objects": options})["optional_objects"]
    assert verdict["converged"] is False


# storage profiles ---------------------------------------------------------------------------
def storage_class(name):
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name}, "provisioner": "pxd.portworx.com",
            "parameters": {"repl": "3"}}


def profile(name, spec_sets, status_sets, clone="csi-clone"):
    return {"apiVersion": CDI, "kind": "StorageProfile", "metadata": {"name": name},
            "spec": {"claimPropertySets": spec_sets, "cloneStrategy": clone},
            "status": {"claimPropertySets": status_sets, "cloneStrategy": clone, "provisioner": "pxd.portworx.com"}}


RWX_BLOCK = [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}]
PROFILE_ITEMS = {"profiles": [{"claim_property_sets": [{"access_modes": ["ReadWriteMany"], "volume_mode": "Block"}],
                               "clone_strategy": "csi-clone"}], "wait_timeout": 300}


def test_a_profile_item_without_a_name_is_the_vm_class_the_storage_class_step_resolved():
    cluster = ReadOnlyCluster([storage_class("px-rwx-block-kubvirt"), profile("px-rwx-block-kubvirt", RWX_BLOCK, RWX_BLOCK)])
    result = judge_storage_profiles(cluster, PROFILE_ITEMS, {"vm_class": "px-rwx-block-kubvirt"})
    assert result["results"][0]["spec"]["claimPropertySets"] == RWX_BLOCK
    with pytest.raises(Exception):
        judge_storage_profiles(cluster, PROFILE_ITEMS, {})  # no VM class known: the name is empty and does not validate


def test_a_profile_whose_status_lags_its_spec_is_not_converged():
    cluster = ReadOnlyCluster([storage_class("vm"), profile("vm", RWX_BLOCK, [])])
    with pytest.raises(Doubt, match="does not reflect"):
        judge_storage_profiles(cluster, PROFILE_ITEMS, {"vm_class": "vm"})
    drifted = ReadOnlyCluster([storage_class("vm"), profile("vm", RWX_BLOCK, RWX_BLOCK, clone="copy")])
    with pytest.raises(Doubt, match="would write its spec"):
        judge_storage_profiles(drifted, PROFILE_ITEMS, {"vm_class": "vm"})


def test_a_profile_item_with_a_null_option_is_judged_as_the_module_gets_it_not_as_left_out():
    # The role passes an item's null as null (default(omit) replaces only what is undefined), and
    # the module refuses a null claim_property_sets; the judge must not read it as the default.
    cluster = ReadOnlyCluster([storage_class("vm"), profile("vm", RWX_BLOCK, RWX_BLOCK)])
    assert judge_storage_profiles(cluster, {"profiles": [{"clone_strategy": "csi-clone"}], "wait_timeout": 300}, {"vm_class": "vm"})
    with pytest.raises(Doubt, match="claim_property_sets"):
        judge_storage_profiles(cluster, {"profiles": [{"claim_property_sets": None, "clone_strategy": "csi-clone"}], "wait_timeout": 300},
                               {"vm_class": "vm"})


# HyperConverged -----------------------------------------------------------------------------
SETTLED_PAIRS = (("Available", "True"), ("Progressing", "False"), ("Degraded", "False"), ("ReconcileComplete", "True"))
SETTLED = [{"type": t, "status": s} for t, s in SETTLED_PAIRS]
HCO_OPTIONS = {"name": "kubevirt-hyperconverged", "namespace": "openshift-cnv", "scratch_space_storage_class": "scratch",
               "filesystem_overhead": {"global": "0.08", "storage_class": {}},
               "live_migration": {"parallel_migrations_per_cluster": 5, "parallel_outbound_migrations_per_node": 2}}
FILESYSTEM = [{"accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem"}]


def hco_cluster(conditions=SETTLED, parallel=5, reported_overhead="0.08"):
    metadata = {"name": "kubevirt-hyperconverged", "namespace": "openshift-cnv", "generation": 2}
    hco = {"apiVersion": HCO_API, "kind": "HyperConverged", "metadata": metadata,
           "spec": {"scratchSpaceStorageClass": "scratch", "filesystemOverhead": {"global": "0.08"},
                    "liveMigrationConfig": {"parallelMigrationsPerCluster": parallel, "parallelOutboundMigrationsPerNode": 2}},
           "status": {"observedGeneration": 2, "conditions": conditions}}
    cdi_config = {"apiVersion": CDI, "kind": "CDIConfig", "metadata": {"name": "config"},
                  "status": {"scratchSpaceStorageClass": "scratch", "filesystemOverhead": {"global": reported_overhead}}}
    return ReadOnlyCluster([hco, cdi_config, storage_class("scratch"), profile("scratch", FILESYSTEM, FILESYSTEM)],
                           served={(HCO_API, "HyperConverged"), (CDI, "CDIConfig"), (CDI, "StorageProfile"),
                                   ("storage.k8s.io/v1", "StorageClass"), ("v1", "PersistentVolumeClaim")})


def test_a_settled_hyperconverged_with_the_wanted_spec_and_cdi_reflecting_it_is_converged():
    result = judge_hyperconverged(hco_cluster(), HCO_OPTIONS, {})
    assert result["changed"] is False
    assert result["observed"] == {"scratch_space_storage_class": "scratch", "filesystem_overhead": {"global": "0.08"}}


@pytest.mark.parametrize("cluster, options, reason", [
    (hco_cluster(parallel=9), HCO_OPTIONS, "would patch"),
    (hco_cluster(conditions=[dict(c, status="True") if c["type"] == "Progressing" else c for c in SETTLED]), HCO_OPTIONS, "settled not yet"),
    (hco_cluster(reported_overhead="0.055"), HCO_OPTIONS, "CDIConfig does not reflect"),
    (hco_cluster(), dict(HCO_OPTIONS, live_migration=dict(HCO_OPTIONS["live_migration"], bandwidth_per_migration="64Mi")), "would warn"),
    (hco_cluster(), dict(HCO_OPTIONS, scratch_space_storage_class="missing"), "would refuse"),
    (hco_cluster(), dict(HCO_OPTIONS, filesystem_overhead={"global": "1.5"}), "1.5"),
    (hco_cluster(), dict(HCO_OPTIONS, no_such_option=True), "do not validate"),
])
def test_a_hyperconverged_the_module_would_touch_wait_for_or_refuse_is_not_converged(cluster, options, reason):
    verdict = judge_day0(cluster, {"hyperconverged": options})["hyperconverged"]
    assert verdict["converged"] is False and reason in verdict["reason"], verdict["reason"]


def test_the_day0_steps_option_takes_known_steps_with_a_map_each():
    from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.steps import DAY0_STEPS_RULES
    from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import check_options

    check_options({"day0_steps": {"hyperconverged": {}, "image_registry": {"replicas": 2}}}, DAY0_STEPS_RULES, "audit")
    check_options({"day0_steps": None}, DAY0_STEPS_RULES, "audit")
    with pytest.raises(Refusal, match="must be one of"):
        check_options({"day0_steps": {"storage": {}}}, DAY0_STEPS_RULES, "audit")
    with pytest.raises(Refusal, match="is not a map of options"):
        check_options({"day0_steps": {"hyperconverged": ["name"]}}, DAY0_STEPS_RULES, "audit")
