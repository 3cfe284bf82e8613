"""ocpvirt.portworx.vm_policy_info and vm_policy against the simulator's misconfigured profile."""

import pytest

SIMULATOR_OPTIONS = {"profile": "misconfigured", "vms": 4}
USE_POPULATOR = "cdi.kubevirt.io/storage.usePopulator"
BIND_IMMEDIATE = "cdi.kubevirt.io/storage.bind.immediate.requested"


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    sim.settle()


def read(sim, api_version, kind, name, namespace):
    return sim.client().resources.get(api_version=api_version, kind=kind).get(name=name, namespace=namespace).to_dict()


def vm(sim, name, namespace="vms-legacy"):
    return read(sim, "kubevirt.io/v1", "VirtualMachine", name, namespace)


def test_info_reports_each_legacy_vm_by_rule(run_playbook):
    run = run_playbook([{"name": "info", "ocpvirt.portworx.vm_policy_info": {"namespaces": ["vms-legacy"], "include_templates": False}}])
    assert run.ok, run
    result = run.last
    by_vm = dict((v["name"], sorted(f["rule"] for f in v["findings"])) for v in result["violations"])
    assert by_vm == {"legacy-immediate": ["R3"], "legacy-populator": ["R4"], "legacy-bridge": ["R9"], "legacy-wsfc": ["R12"],
                     "legacy-sata": ["R13"], "legacy-mixed": ["R15"], "legacy-precreated": ["R16"], "legacy-bios4k": ["R24"]}
    assert result["audited"]["virtual_machines"] == 8 and run.writes == 0


def test_check_mode_reports_the_fixes_and_writes_nothing(sim, run_playbook):
    before = vm(sim, "vm-003", "vms")
    run = run_playbook([{"name": "fix", "ocpvirt.portworx.vm_policy": {}}], check=True, diff=True)
    assert run.ok, run
    assert run.last["changed"] is True and run.writes == 0
    assert run.last["diff"]["after"]["VirtualMachine vms/vm-003"] == {"spec.template.spec.evictionStrategy": "LiveMigrateIfPossible"}
    assert vm(sim, "vm-003", "vms")["spec"] == before["spec"]


def test_fix_then_second_run_changes_nothing(sim, run_playbook):
    run = run_playbook([{"name": "fix", "ocpvirt.portworx.vm_policy": {}}])
    assert run.ok, run
    fixed = sorted((c["kind"], c["namespace"], c["name"]) for c in run.last["changes"])
    assert fixed == [("PersistentVolumeClaim", "vms-legacy", "legacy-precreated-root"), ("Template", "vms-legacy", "legacy-rhel9"),
                     ("VirtualMachine", "vms", "vm-003"), ("VirtualMachine", "vms-legacy", "legacy-immediate"),
                     ("VirtualMachine", "vms-legacy", "legacy-populator")]
    assert run.last["restart_required"] == ["vms/vm-003"]
    assert run.writes == 5
    assert vm(sim, "vm-003", "vms")["spec"]["template"]["spec"]["evictionStrategy"] == "LiveMigrateIfPossible"
    templates = vm(sim, "legacy-immediate")["spec"]["dataVolumeTemplates"]
    assert BIND_IMMEDIATE not in templates[0]["metadata"]["annotations"]
    assert vm(sim, "legacy-populator")["spec"]["dataVolumeTemplates"][0]["metadata"]["annotations"][USE_POPULATOR] == "false"
    claim = read(sim, "v1", "PersistentVolumeClaim", "legacy-precreated-root", "vms-legacy")
    assert claim["metadata"]["annotations"]["portworx.io/app"] == "kubevirt"
    assert run.last["remaining"] == {"R4": 1, "R8": 1, "R9": 1, "R12": 1, "R13": 1, "R15": 1, "R24": 1}

    again = run_playbook([{"name": "fix", "ocpvirt.portworx.vm_policy": {}},
                          {"name": "info", "ocpvirt.portworx.vm_policy_info": {}}])
    assert again.ok, again
    assert again.changed == 0 and again.writes == 0
    assert again.results[0]["changes"] == [] and again.results[0]["restart_required"] == []
    assert not [f for v in again.last["violations"] for f in v["findings"] if f["fixable"]]


def test_selector_and_rules_limit_what_is_fixed(sim, run_playbook):
    run = run_playbook([{"name": "fix", "ocpvirt.portworx.vm_policy": {"label_selector": "fleet=legacy", "rules": ["R4"],
                                                                       "include_templates": False}}])
    assert run.ok, run
    assert [(c["name"], [x["rule"] for x in c["changes"]]) for c in run.last["changes"]] == [("legacy-populator", ["R4"])]
    assert run.writes == 1
    assert vm(sim, "vm-003", "vms")["spec"]["template"]["spec"]["evictionStrategy"] == "None"
