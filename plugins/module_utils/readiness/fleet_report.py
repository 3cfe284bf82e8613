# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet audit grouped per object (VirtualMachine or Template), as vm_policy_info reports it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.results import Results
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.rules_fleet import evaluate_fleet
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.vm_index import FleetIndex


def fleet_report(facts):
    index = FleetIndex(facts)
    results = Results()
    evaluate_fleet(facts, index, results)
    objects = {}
    for item in results.all_findings():
        ref = item["object"]
        key = (ref["kind"], ref["namespace"], ref["name"])
        entry = objects.setdefault(key, {"kind": ref["kind"], "namespace": ref["namespace"], "name": ref["name"],
                                         "running": (ref["namespace"], ref["name"]) in index.vmis and ref["kind"] == "VirtualMachine",
                                         "fixable": False, "findings": []})
        entry["findings"].append(dict((k, item[k]) for k in ("rule", "severity", "detail", "fix", "source", "fixable")))
        entry["fixable"] = entry["fixable"] or item["fixable"]
    violations = [objects[key] for key in sorted(objects, key=lambda k: (k[0], k[1] or "", k[2]))]
    by_rule = {}
    for entry in violations:
        for rule_id in sorted(set(f["rule"] for f in entry["findings"])):
            by_rule[rule_id] = by_rule.get(rule_id, 0) + 1
    violating_vms = len([v for v in violations if v["kind"] == "VirtualMachine"])
    return {
        "violations": violations,
        "by_rule": by_rule,
        "audited": {"virtual_machines": len(index.vms), "templates": len(facts.get("templates") or []),
                    "compliant_virtual_machines": len(index.vms) - violating_vms},
    }
