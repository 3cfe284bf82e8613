"""The fleet fixes: what changes, that a second pass changes nothing, which VMs need a restart."""

import copy

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.fleet_plan import plan_fleet
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.fleet_report import fleet_report
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.vm_fixes import claim_fixes, fix_template, fix_vm_spec
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.vm_index import FleetIndex
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.vm_rules import BIND_IMMEDIATE, USE_POPULATOR, FleetPolicy

from readiness_facts import claim, clean_facts, vm

ALL = {"R3", "R4", "R7", "R16"}


def test_fix_vm_spec_sets_populator_drops_bind_immediate_and_sets_eviction():
    spec = vm("a", eviction="None", dv_annotations={BIND_IMMEDIATE: "true"})["spec"]
    changes = fix_vm_spec(spec, ALL, FleetPolicy())
    assert sorted(c["rule"] for c in changes) == ["R3", "R4", "R7"]
    assert spec["dataVolumeTemplates"][0]["metadata"]["annotations"] == {USE_POPULATOR: "false"}
    assert spec["template"]["spec"]["evictionStrategy"] == "LiveMigrateIfPossible"
    assert [c["restart"] for c in changes if c["rule"] == "R7"] == [True]
    assert fix_vm_spec(spec, ALL, FleetPolicy()) == []


def test_fix_vm_spec_leaves_accepted_strategies_and_unrequested_rules():
    for strategy in ("LiveMigrate", "LiveMigrateIfPossible", "External"):
        spec = vm("a", eviction=strategy)["spec"]
        assert fix_vm_spec(spec, ALL, FleetPolicy()) == []
    spec = vm("a", eviction="None", dv_annotations={})["spec"]
    assert [c["rule"] for c in fix_vm_spec(spec, {"R4"}, FleetPolicy())] == ["R4"]
    assert spec["template"]["spec"]["evictionStrategy"] == "None"


def test_populator_is_not_added_before_openshift_4_14():
    spec = vm("a", dv_annotations={})["spec"]
    assert fix_vm_spec(spec, ALL, FleetPolicy(populator_rule=False)) == []


def test_claim_fixes_annotate_pre_created_portworx_claims_and_drop_bind_immediate():
    facts = clean_facts()
    machine = vm("b", volumes=[{"name": "rootdisk", "persistentVolumeClaim": {"claimName": "b1"}}])
    facts["vms"] = [machine]
    facts["pvcs"] = [claim("b1", owner_kind=None, annotations={BIND_IMMEDIATE: "true"})]
    planned = claim_fixes(machine, FleetIndex(facts), ALL)
    assert planned == [("vms", "b1", {"metadata": {"annotations": {"portworx.io/app": "kubevirt", BIND_IMMEDIATE: None}}},
                        planned[0][3])]
    assert sorted(c["rule"] for c in planned[0][3]) == ["R16", "R3"]


def test_plan_flags_running_vms_that_need_a_restart_and_skips_ssp_templates():
    facts = clean_facts()
    facts["vms"][0]["spec"]["template"]["spec"]["evictionStrategy"] = "None"
    stopped = vm("stopped", eviction="None")
    facts["vms"].append(stopped)
    machine = dict(vm("${NAME}", eviction="None"), kind="VirtualMachine")
    facts["templates"] = [{"metadata": {"name": "mine", "namespace": "vms"}, "objects": [machine]},
                          {"metadata": {"name": "common", "namespace": "openshift",
                                        "labels": {"app.kubernetes.io/managed-by": "ssp-operator"}}, "objects": [copy.deepcopy(machine)]}]
    actions = plan_fleet(facts, FleetIndex(facts), FleetPolicy(), ALL)
    assert [(a["kind"], a["name"], a.get("restart_required")) for a in actions] == [
        ("VirtualMachine", "vm-a", True), ("VirtualMachine", "stopped", False), ("Template", "mine", None)]


def test_fix_template_changes_only_its_virtual_machines():
    template = {"objects": [{"kind": "Service"}, dict(vm("${NAME}", eviction=None, dv_annotations={}), kind="VirtualMachine")]}
    changes = fix_template(template, ALL, FleetPolicy())
    assert sorted(c["path"] for c in changes) == [
        "objects[1].spec.dataVolumeTemplates[0].metadata.annotations." + USE_POPULATOR,
        "objects[1].spec.template.spec.evictionStrategy"]
    assert fix_template(template, ALL, FleetPolicy()) == []


def test_fleet_report_groups_findings_per_object():
    facts = clean_facts()
    facts["vms"][0]["spec"]["template"]["spec"]["evictionStrategy"] = "None"
    facts["pvcs"][0]["spec"]["accessModes"] = ["ReadWriteOnce"]
    report = fleet_report(facts)
    assert report["by_rule"] == {"R7": 1, "R8": 1}
    assert report["audited"] == {"virtual_machines": 1, "templates": 0, "compliant_virtual_machines": 0}
    entry = report["violations"][0]
    assert (entry["name"], entry["running"], entry["fixable"]) == ("vm-a", True, True)
