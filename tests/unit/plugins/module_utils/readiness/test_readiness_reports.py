"""The Markdown, HTML and JUnit renderings of the audit, and the scores."""

from xml.etree import ElementTree

import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.audit import run_audit
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.render_html import render_html, svg_bars
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.render_junit import render_junit
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.render_markdown import render_markdown
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.scoring import fails, score

from html_check import check_html
from readiness_facts import clean_facts


@pytest.fixture
def report():
    facts = clean_facts()
    facts["storage_clusters"][0]["status"]["version"] = "3.4.0"          # PX-VERSION critical
    facts["vms"][0]["spec"]["template"]["spec"]["evictionStrategy"] = "None"  # R7 warning
    facts["vms"][0]["metadata"]["name"] = "vm-<script>&\"x\""             # must be escaped everywhere
    facts["vmis"] = []
    facts["checkup_configmaps"] = []                                    # STORAGE-CHECKUP info
    facts["machine_config_pools"] = None                                # MCP-MAX-UNAVAILABLE skipped
    return run_audit(facts)


def test_html_is_strict_valid_self_contained_and_escapes(report):
    document = render_html(report, title="Audit <prod>")
    assert check_html(document) == []
    assert "<script>" not in document and "vm-&lt;script&gt;&amp;&quot;x&quot;" in document
    assert "<title>Audit &lt;prod&gt;</title>" in document
    assert document.count("<svg") == 2 and "http://www.w3.org/2000/svg" in document
    assert '<section id="area-portworx">' in document and "Upgrade Portworx" in document


def test_the_html_check_itself_rejects_broken_documents():
    assert check_html("<html><body></body></html>")
    assert check_html('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title></head>'
                      '<body><div><p></div></p></body></html>')
    assert check_html('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title>'
                      '<link href="https://cdn.example/x.css"></head><body></body></html>')


def test_svg_bars_scale_to_the_value():
    chart = svg_bars("Scores", [("a", 100), ("b", 0), ("c", 50)])
    assert chart.count("<rect") == 3 and 'width="230.0"' in chart and 'width="0.0"' in chart


def test_markdown_lists_findings_by_area_with_fix_and_source(report):
    text = render_markdown(report)
    assert "**Score {0}/100**".format(report["scores"]["overall"]) in text
    assert "| PX-VERSION | critical | StorageCluster portworx/px-cluster |" in text
    assert "## vm_fleet" in text and "[000] Node maintenance" in text
    assert "| MCP-MAX-UNAVAILABLE | skipped |" in text


def test_junit_has_one_case_per_rule_and_failures_for_warning_and_worse(report):
    root = ElementTree.fromstring(render_junit(report, "prod"))
    cases = root.findall(".//testcase")
    assert len(cases) == len(report["checks"])
    failed = sorted(c.get("name").split()[0] for c in cases if c.find("failure") is not None)
    assert failed == ["PX-VERSION", "R7"]
    skipped = [c.get("name").split()[0] for c in cases if c.find("skipped") is not None]
    assert skipped == ["MCP-MAX-UNAVAILABLE"]
    info = [c for c in cases if c.get("name").startswith("STORAGE-CHECKUP")][0]
    assert info.find("failure") is None and "has not run" in info.find("system-out").text
    assert root.get("tests") == str(len(cases)) and root.get("failures") == "2" and root.get("skipped") == "1"


def test_scores_weigh_by_severity(report):
    assert report["scores"]["vm_fleet"] < 100 and report["scores"]["portworx"] < report["scores"]["vm_fleet"]
    rows = [{"status": "passed", "severity": "critical"}, {"status": "failed", "severity": "warning"},
            {"status": "skipped", "severity": "critical"}]
    assert score(rows) == 77


def test_fail_on_levels():
    assert fails({"critical": 1, "warning": 0}, "critical") and not fails({"critical": 0, "warning": 3}, "critical")
    assert fails({"critical": 0, "warning": 1}, "warning") and not fails({"critical": 5, "warning": 5}, "never")
