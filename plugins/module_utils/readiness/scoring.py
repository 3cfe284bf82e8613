# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn the evaluators' results into checks (one per rule) and scores (per area and overall).

A rule's weight is its severity (critical 10, warning 3, info 1); a rule with no finding earns its
weight. An area's score is the share of the weight it earned, 0-100; skipped rules do not count.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.catalogue import (
    AREAS,
    CRITICAL,
    INFO,
    RULES,
    SEVERITIES,
    WARNING,
)

WEIGHTS = {CRITICAL: 10, WARNING: 3, INFO: 1}


def worst(severities):
    for severity in SEVERITIES:
        if severity in severities:
            return severity
    return None


def checks(results):
    rows = []
    for rule_id in sorted(set(results.findings) | set(results.skipped), key=_rule_order):
        rule = RULES[rule_id]
        found = results.findings.get(rule_id)
        row = {"rule": rule_id, "area": rule["area"], "title": rule["title"], "source": rule["source"], "fix": rule["fix"]}
        if found is None:
            row.update(status="skipped", severity=rule["severity"], findings=0, reason=results.skipped[rule_id])
        else:
            severity = worst([f["severity"] for f in found]) or rule["severity"]
            row.update(status="failed" if found else "passed", severity=severity, findings=len(found))
        rows.append(row)
    return rows


def _rule_order(rule_id):
    """R1..R24 in numeric order first, then the named checks alphabetically."""
    if rule_id[0] == "R" and rule_id[1:].isdigit():
        return (0, int(rule_id[1:]), "")
    return (1, 0, rule_id)


def score(rows):
    earned, total = 0, 0
    for row in rows:
        if row["status"] == "skipped":
            continue
        weight = WEIGHTS[row["severity"]]
        total += weight
        earned += weight if row["status"] == "passed" else 0
    return 100 if total == 0 else int(round(100.0 * earned / total))


def scores(rows):
    by_area = dict((area, score([r for r in rows if r["area"] == area])) for area in AREAS)
    by_area["overall"] = score(rows)
    return by_area


def summary(findings, rows):
    counts = dict((severity, 0) for severity in SEVERITIES)
    for item in findings:
        counts[item["severity"]] += 1
    failed = sorted(set(f["rule"] for f in findings), key=_rule_order)
    return {
        "critical": counts[CRITICAL], "warning": counts[WARNING], "info": counts[INFO],
        "rules_evaluated": len([r for r in rows if r["status"] != "skipped"]),
        "rules_failed": failed,
        "fixable_findings": len([f for f in findings if f["fixable"]]),
        "critical_not_fixed_by_day0": sorted(set(f["rule"] for f in findings if f["severity"] == CRITICAL and not f["day0"]),
                                             key=_rule_order),
    }


def fails(summary_counts, fail_on):
    """Whether the findings reach ``fail_on`` (critical, warning or never)."""
    if fail_on == "never":
        return False
    if fail_on == WARNING:
        return summary_counts[CRITICAL] + summary_counts[WARNING] > 0
    return summary_counts[CRITICAL] > 0
