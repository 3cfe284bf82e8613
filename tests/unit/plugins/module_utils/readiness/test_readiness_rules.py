"""Each rule of the readiness audit, on a clean cluster with one thing broken at a time."""

import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.audit import run_audit
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.catalogue import RULES

from readiness_facts import CLUSTER_DEFAULT, RWX_BLOCK, VIRT_DEFAULT, claim, clean_facts, node, profile, ready, storage_class, vm, vmi


def rules_found(facts):
    return sorted(set(f["rule"] for f in run_audit(facts)["findings"]))


def by_name(items, name):
    return [i for i in items if i["metadata"]["name"] == name][0]


def test_clean_cluster_has_no_finding_and_scores_100():
    report = run_audit(clean_facts())
    assert report["findings"] == []
    assert report["scores"]["overall"] == 100
    assert all(row["status"] == "passed" for row in report["checks"])
    assert set(row["rule"] for row in report["checks"]) == set(RULES)


def _px(facts):
    return facts["storage_clusters"][0]


def _hco(facts):
    return facts["hyperconvergeds"][0]


def _add_vm(facts, machine, claims=(), running=False):
    facts["vms"].append(machine)
    facts["pvcs"].extend(claims)
    if running:
        facts["vmis"].append(vmi(machine, "worker-1"))


def _add_class(facts, name, **options):
    facts["storage_classes"].append(storage_class(name, **options))
    facts["storage_profiles"].append(profile(name, RWX_BLOCK))


BREAKS = {
    "PX-INSTALLED": lambda f: f.update(storage_clusters=[]),
    "PX-ENTERPRISE": lambda f: _px(f)["spec"].update(image="portworx/px-csi:25.1.0"),
    "PX-VERSION": lambda f: _px(f)["status"].update(version="3.5.1"),
    "PX-UPDATE-STRATEGY": lambda f: _px(f)["spec"]["updateStrategy"]["rollingUpdate"].update(maxUnavailable=2),
    "PX-STORK": lambda f: f["stork_deployments"][0]["status"].update(readyReplicas=0),
    "PX-AUTOPILOT": lambda f: _px(f)["spec"]["autopilot"].update(enabled=False),
    "PX-REBALANCE-RULE": lambda f: f.update(autopilot_rules=[]),
    "OCP-VERSION": lambda f: f["cluster_version"]["status"]["history"][0].update(version="4.12.9"),
    "OCP-CSI-SNAPSHOT": lambda f: f["cluster_version"]["status"]["capabilities"].update(enabledCapabilities=["Storage"]),
    "HCO-INSTALLED": lambda f: f.update(hyperconvergeds=[]),
    "NMO-INSTALLED": lambda f: f.update(csvs=[]),
    "NETWORK-PODS": lambda f: f["network"]["spec"]["clusterNetwork"][0].update(hostPrefix=25),
    "MCP-MAX-UNAVAILABLE": lambda f: f["machine_config_pools"][0]["spec"].update(maxUnavailable="70%"),
    "R10": lambda f: f.update(node_maintenances=[{"metadata": {"name": "a"}, "spec": {"nodeName": "worker-0"}},
                                                 {"metadata": {"name": "b"}, "spec": {"nodeName": "worker-1"}}]),
    "R14": lambda f: f["nodes"].append(node("worker-3", vendor="AMD")),
    "DEFAULT-CLUSTER-CLASS": lambda f: f["storage_classes"][0]["metadata"]["annotations"].pop(CLUSTER_DEFAULT),
    "R1": lambda f: f["storage_profiles"][0]["status"].update(claimPropertySets=[
        {"accessModes": ["ReadWriteMany"], "volumeMode": "Filesystem"}]),
    "R2": lambda f: by_name(f["storage_classes"], "vmstate")["metadata"]["annotations"].update({CLUSTER_DEFAULT: "true"}),
    "R6": lambda f: f.update(storage_maps=[{"metadata": {"name": "m"}, "spec": {"map": [
        {"destination": {"storageClass": "px-rwx-block-kubevirt"}}]}}]),
    "BOOT-SOURCES": lambda f: f["data_sources"][0]["status"].update(conditions=ready("False")),
    "PROFILE-CLONE": lambda f: f["storage_profiles"][0]["status"].update(cloneStrategy="copy"),
    "R17": lambda f: _hco(f)["spec"].pop("scratchSpaceStorageClass"),
    "R18": lambda f: by_name(f["storage_classes"], "vmstate").update(reclaimPolicy="Delete"),
    "R19": lambda f: (f["pvcs"][0]["spec"].update(volumeMode="Filesystem"),
                      f["cdi_config"]["status"]["filesystemOverhead"].update({"global": "0.055"})),
    "R21": lambda f: f.update(snapshot_classes=[]),
    "STORAGE-CHECKUP": lambda f: f["checkup_configmaps"][0]["data"].update({"status.succeeded": "false"}),
    "LIVE-MIGRATION": lambda f: _hco(f)["spec"]["liveMigrationConfig"].update(bandwidthPerMigration="64Mi"),
    "R20": lambda f: f["registry_config"]["spec"].update(replicas=1),
    "R11": lambda f: f["evict_failures"].append({"metadata": {"name": "e"}, "reason": "FailedToEvictVM",
                                                 "involvedObject": {"kind": "StorageCluster", "name": "px-cluster"}}),
    "R3": lambda f: f["vms"][0]["spec"]["dataVolumeTemplates"][0]["metadata"]["annotations"].update(
        {"cdi.kubevirt.io/storage.bind.immediate.requested": "true"}),
    "R4": lambda f: f["vms"][0]["spec"]["dataVolumeTemplates"][0]["metadata"].update(annotations={}),
    "R7": lambda f: f["vms"][0]["spec"]["template"]["spec"].update(evictionStrategy="None"),
    "R8": lambda f: f["pvcs"][0]["spec"].update(accessModes=["ReadWriteOnce"]),
    "R9": lambda f: f["vms"][0]["spec"]["template"]["spec"]["domain"]["devices"].update(interfaces=[{"name": "default", "bridge": {}}]),
    "R12": lambda f: f["vms"][0]["spec"]["template"]["spec"]["domain"]["devices"]["disks"][0].update(shareable=True),
    "R13": lambda f: (f["vms"][0]["spec"]["template"]["spec"]["volumes"][0]["dataVolume"].update(hotpluggable=True),
                      f["vms"][0]["spec"]["template"]["spec"]["domain"]["devices"]["disks"][0]["disk"].update(bus="sata")),
    "R15": lambda f: _add_vm(f, vm("vm-b", volumes=[{"name": "rootdisk", "persistentVolumeClaim": {"claimName": "b1"}},
                                                    {"name": "data", "persistentVolumeClaim": {"claimName": "b2"}}],
                                   dv_annotations={"cdi.kubevirt.io/storage.usePopulator": "false"}),
                             [claim("b1", annotations={"portworx.io/app": "kubevirt"}, owner_kind=None),
                              claim("b2", storage_class_name="px-repl2", annotations={"portworx.io/app": "kubevirt"},
                                    owner_kind=None)]) or _add_class(f, "px-repl2", repl="2"),
    "R16": lambda f: _add_vm(f, vm("vm-c", volumes=[{"name": "rootdisk", "persistentVolumeClaim": {"claimName": "c1"}}]),
                             [claim("c1", owner_kind=None)]),
    "R24": lambda f: f["vms"][0]["spec"]["template"]["spec"]["domain"]["devices"]["disks"][0].update(
        blockSize={"custom": {"logical": 4096, "physical": 4096}}),
    "POOL-USAGE": lambda f: [n["status"]["storage"].update(usedSize="2900Gi") for n in f["storage_nodes"]],
    "POOL-SKEW": lambda f: f["storage_nodes"][0]["status"]["storage"].update(usedSize="1500Gi"),
}


@pytest.mark.parametrize("rule_id", sorted(BREAKS))
def test_breaking_one_thing_reports_exactly_its_rule(rule_id):
    facts = clean_facts()
    BREAKS[rule_id](facts)
    assert rules_found(facts) == [rule_id]


def test_px_version_unknown_is_critical_not_a_pass():
    facts = clean_facts()
    _px(facts)["status"].pop("version")
    _px(facts)["spec"]["image"] = "portworx/oci-monitor"
    report = run_audit(facts)
    assert [(f["rule"], f["severity"]) for f in report["findings"]] == [("PX-VERSION", "critical")]


def test_no_default_virt_class_is_critical_without_any_default_and_warning_with_a_cluster_default():
    facts = clean_facts()
    facts["storage_classes"][0]["metadata"]["annotations"].pop(VIRT_DEFAULT)
    assert [(f["rule"], f["severity"]) for f in run_audit(facts)["findings"]] == [("DEFAULT-VIRT-CLASS", "warning")]
    facts["storage_classes"][0]["metadata"]["annotations"].pop(CLUSTER_DEFAULT)
    found = dict((f["rule"], f["severity"]) for f in run_audit(facts)["findings"])
    assert found == {"DEFAULT-VIRT-CLASS": "critical", "DEFAULT-CLUSTER-CLASS": "warning"}


def test_vm_class_binding_immediate_is_r5_but_mtv_destination_is_exempt():
    facts = clean_facts()
    facts["storage_classes"][0]["volumeBindingMode"] = "Immediate"
    assert "R5" in rules_found(facts)
    facts["storage_maps"] = [{"metadata": {"name": "m"}, "spec": {"map": [{"destination": {"storageClass": "px-rwx-block-kubevirt"}}]}}]
    assert "R5" not in rules_found(facts)


def test_profile_without_rwx_on_a_vm_class_is_profile_claims():
    facts = clean_facts()
    facts["storage_classes"].append(storage_class("px-csi-replicated", repl="3"))
    facts["storage_profiles"].append({"metadata": {"name": "px-csi-replicated"},
                                      "status": {"claimPropertySets": [{"accessModes": ["ReadWriteOnce"]}], "cloneStrategy": "csi-clone"}})
    facts["pvcs"][0]["spec"]["storageClassName"] = "px-csi-replicated"
    assert rules_found(facts) == ["PROFILE-CLAIMS"]


def test_scratch_class_without_filesystem_is_critical_r17():
    facts = clean_facts()
    _hco(facts)["spec"]["scratchSpaceStorageClass"] = "px-rwx-block-kubevirt"
    facts["storage_profiles"][0]["status"]["claimPropertySets"] = [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}]
    assert [(f["rule"], f["severity"]) for f in run_audit(facts)["findings"]] == [("R17", "critical")]


def test_cluster_default_eviction_strategy_counts_for_vms_without_one():
    facts = clean_facts()
    facts["vms"][0]["spec"]["template"]["spec"].pop("evictionStrategy")
    assert rules_found(facts) == ["R7"]
    _hco(facts)["spec"]["evictionStrategy"] = "LiveMigrate"
    assert rules_found(facts) == []


def test_populator_rule_applies_from_openshift_4_14_only():
    facts = clean_facts()
    facts["vms"][0]["spec"]["dataVolumeTemplates"][0]["metadata"]["annotations"] = {}
    facts["cluster_version"]["status"]["history"][0]["version"] = "4.13.20"
    assert "R4" not in rules_found(facts)


def test_template_violations_are_reported_and_ssp_ones_not_fixable():
    facts = clean_facts()
    machine = vm("${NAME}", eviction="None", dv_annotations={})
    machine.update(kind="VirtualMachine")
    facts["templates"] = [{"metadata": {"name": "mine", "namespace": "vms"}, "objects": [machine]},
                          {"metadata": {"name": "common", "namespace": "openshift",
                                        "labels": {"app.kubernetes.io/managed-by": "ssp-operator"}}, "objects": [machine]}]
    findings = run_audit(facts)["findings"]
    assert sorted((f["object"]["name"], f["rule"], f["fixable"]) for f in findings) == [
        ("common", "R4", False), ("common", "R7", False), ("mine", "R4", True), ("mine", "R7", True)]


def test_bios_root_disk_matching_a_portworx_block_volume_is_r24_and_efi_is_fine():
    facts = clean_facts()
    disk = facts["vms"][0]["spec"]["template"]["spec"]["domain"]["devices"]["disks"][0]
    disk["blockSize"] = {"matchVolume": {"enabled": True}}
    assert rules_found(facts) == ["R24"]
    facts["vms"][0]["spec"]["template"]["spec"]["domain"]["firmware"] = {"bootloader": {"efi": {}}}
    assert rules_found(facts) == []


def test_unserved_apis_skip_their_rules():
    facts = clean_facts()
    facts.update(machine_config_pools=None, storage_maps=None, snapshot_classes=None)
    report = run_audit(facts)
    skipped = dict((r["rule"], r["reason"]) for r in report["checks"] if r["status"] == "skipped")
    assert sorted(skipped) == ["MCP-MAX-UNAVAILABLE", "R21", "R6"]
    assert report["findings"] == []


def test_skip_rules_drops_findings_and_marks_the_rule_skipped():
    facts = clean_facts()
    facts["checkup_configmaps"] = []
    report = run_audit(facts, skip_rules=["STORAGE-CHECKUP"])
    assert report["findings"] == []
    assert [r["status"] for r in report["checks"] if r["rule"] == "STORAGE-CHECKUP"] == ["skipped"]


def test_critical_rules_day0_does_not_fix_are_listed():
    facts = clean_facts()
    BREAKS["PX-VERSION"](facts)
    BREAKS["R1"](facts)
    summary = run_audit(facts)["summary"]
    assert summary["critical"] == 2
    assert summary["critical_not_fixed_by_day0"] == ["PX-VERSION"]
