# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole audit over gathered facts: every rule family, capacity, checks and scores."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.capacity import evaluate_capacity
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.objects import dig
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.results import Results
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.rules_fleet import evaluate_fleet
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.rules_platform import (
    evaluate_platform,
    openshift_version,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.rules_portworx import (
    evaluate_portworx,
    portworx_edition,
    portworx_version,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.rules_storage import evaluate_storage
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.rules_virtualization import evaluate_virtualization
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.scoring import checks, scores, summary
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.vm_index import FleetIndex


def run_audit(facts, capacity_inputs=None, skip_rules=()):
    """The audit report as a plain dict (JSON-ready)."""
    index = FleetIndex(facts)
    results = Results()
    evaluate_portworx(facts, results)
    evaluate_platform(facts, results)
    evaluate_storage(facts, index, results)
    evaluate_virtualization(facts, index, results)
    evaluate_fleet(facts, index, results)
    capacity = evaluate_capacity(facts, index, results, capacity_inputs)
    for rule_id in skip_rules:
        results.findings.pop(rule_id, None)
        results.skip(rule_id, "skipped on request")
    findings = results.all_findings()
    rows = checks(results)
    return {
        "cluster": cluster_facts(facts),
        "summary": summary(findings, rows),
        "scores": scores(rows),
        "checks": rows,
        "findings": findings,
        "capacity": capacity,
        "unserved_apis": facts.get("unserved") or [],
    }


def cluster_facts(facts):
    text, dummy = openshift_version(facts)
    storage_cluster = (facts.get("storage_clusters") or [None])[0]
    return {
        "openshift_version": text,
        "portworx_cluster": dig(storage_cluster, "metadata", "name"),
        "portworx_version": portworx_version(storage_cluster)[0] if storage_cluster else None,
        "portworx_version_source": portworx_version(storage_cluster)[1] if storage_cluster else "none",
        "portworx_edition": portworx_edition(storage_cluster, facts.get("csvs")),
        "portworx_nodes_online": len([n for n in facts.get("storage_nodes") or [] if dig(n, "status", "phase") == "Online"]),
        "portworx_nodes": len(facts.get("storage_nodes") or []),
        "hyperconverged": dig((facts.get("hyperconvergeds") or [None])[0], "metadata", "name"),
        "workers": len([n for n in facts.get("nodes") or [] if "node-role.kubernetes.io/worker" in (dig(n, "metadata", "labels") or {})]),
        "virtual_machines": len(facts.get("vms") or []),
    }
