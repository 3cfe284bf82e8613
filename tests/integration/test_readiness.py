"""ocpvirt.portworx.readiness_info and the audit role against the simulator's misconfigured profile.

The profile (simulator/clustersim/seed_violations.py) plants one violation per rule id below on
top of the default cluster, which already breaks the BEFORE_DAY0 rules.
"""

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "unit", "plugins", "module_utils", "readiness"))

from html_check import check_html  # noqa: E402  (the strict HTML5 check of the unit tests)

SIMULATOR_OPTIONS = {"profile": "misconfigured", "vms": 4}

BEFORE_DAY0 = {"DEFAULT-CLUSTER-CLASS", "R17", "R18", "R19", "R20", "R21", "PX-REBALANCE-RULE", "STORAGE-CHECKUP",
               "R7", "R8", "R4"}
PLANTED = {"PX-VERSION", "PX-UPDATE-STRATEGY", "PX-STORK", "PX-AUTOPILOT", "PX-NODES-ONLINE", "R10", "OCP-CSI-SNAPSHOT",
           "NMO-INSTALLED", "NETWORK-PODS", "MCP-MAX-UNAVAILABLE", "R14", "R1", "R2", "R5", "PROFILE-CLAIMS", "R6",
           "BOOT-SOURCES", "LIVE-MIGRATION", "R11", "R3", "R9", "R12", "R13", "R15", "R16", "R24"}


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()
    sim.settle()


def audit_task(**options):
    return {"name": "audit", "ocpvirt.portworx.readiness_info": options}


def objects_of(result, rule_id):
    return sorted("{0}/{1}".format(f["object"]["namespace"] or "", f["object"]["name"]) for f in result["findings"] if f["rule"] == rule_id)


def test_misconfigured_cluster_reports_exactly_the_planted_rules_and_writes_nothing(run_playbook):
    run = run_playbook([audit_task()])
    assert run.ok, run
    result = run.last
    assert set(f["rule"] for f in result["findings"]) == PLANTED | BEFORE_DAY0
    assert result["changed"] is False and run.writes == 0
    assert objects_of(result, "R12") == ["vms-legacy/legacy-wsfc"]
    assert objects_of(result, "R16") == ["vms-legacy/legacy-precreated"]
    assert objects_of(result, "R7") == ["vms-legacy/legacy-rhel9", "vms/vm-003"]
    assert objects_of(result, "R1") == ["/hostpath-csi"]
    assert [f["severity"] for f in result["findings"] if f["rule"] == "R17"] == ["critical"]
    assert result["summary"]["critical_not_fixed_by_day0"] == ["R10", "R12", "PX-VERSION"]
    assert result["unserved_apis"] == []
    assert 0 < result["scores"]["overall"] < 50


def test_fail_on_critical_fails_with_the_report(run_playbook):
    run = run_playbook([audit_task(fail_on="critical")])
    assert not run.ok
    assert run.last["reason"] == "AuditFailed" and "PX-VERSION" in run.last["msg"]
    assert run.last["summary"]["critical"] >= 5


def test_vm_namespaces_limit_the_fleet_rules(run_playbook):
    run = run_playbook([audit_task(vm_namespaces=["vms"], skip_rules=["STORAGE-CHECKUP"])])
    assert run.ok, run
    rules = set(f["rule"] for f in run.last["findings"])
    assert {"R7", "R8"} <= rules and not rules & {"R3", "R9", "R12", "R13", "R15", "R16", "R24"}
    assert "STORAGE-CHECKUP" not in rules


def test_role_writes_json_markdown_valid_html_and_junit_then_fails_on_critical(run_playbook, tmp_path):
    out = tmp_path / "reports"
    run = run_playbook([{"name": "audit role", "ansible.builtin.include_role": {"name": "ocpvirt.portworx.audit"},
                         "vars": {"audit_output_dir": str(out)}}])
    assert not run.ok and "audit_fail_on: critical" in run.last["msg"]
    folder = out / "localhost"
    assert sorted(p.name for p in folder.iterdir()) == ["readiness.html", "readiness.json", "readiness.junit.xml", "readiness.md"]
    assert check_html((folder / "readiness.html").read_text()) == []
    root = ElementTree.parse(str(folder / "readiness.junit.xml")).getroot()
    failed = set(c.get("name").split()[0] for c in root.iter("testcase") if c.find("failure") is not None)
    assert "R12" in failed and "PX-VERSION" in failed and "LIVE-MIGRATION" not in failed  # info only
    assert "| R12 | critical | VirtualMachine vms-legacy/legacy-wsfc |" in (folder / "readiness.md").read_text()
    assert run.writes == 0


def test_role_with_fail_on_never_succeeds(run_playbook, tmp_path):
    run = run_playbook([{"name": "audit role", "ansible.builtin.include_role": {"name": "ocpvirt.portworx.audit"},
                         "vars": {"audit_output_dir": str(tmp_path), "audit_fail_on": "never", "audit_formats": ["junit"]}}])
    assert run.ok, run
    assert [p.name for p in (tmp_path / "localhost").iterdir()] == ["readiness.junit.xml"]


def test_day0_preflight_refuses_critical_findings_day0_does_not_fix_and_writes_nothing(sim, tmp_path):
    env = dict(os.environ, K8S_AUTH_KUBECONFIG=sim.kubeconfig, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    env.pop("ANSIBLE_CONFIG", None)
    sim.reset_requests()
    day0 = subprocess.run([ANSIBLE_PLAYBOOK, "playbooks/day0.yml"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert day0.returncode != 0
    output = day0.stdout + day0.stderr
    assert "Preflight failed on localhost" in output
    assert "R10: 2 nodes are in maintenance" in output and "R12: disk shared" in output and "Portworx 3.4.1 (read from status.version)" in output
    assert "R17" not in output.split("Preflight failed")[1]  # day 0 fixes the scratch class itself
    assert sim.writes() == 0
