# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit as JUnit XML: one test suite per area, one test case per rule.

A rule with critical or warning findings is a ``failure`` (its findings in the message body), a
rule with only info findings passes with them in ``system-out``, a skipped rule is ``skipped``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from xml.etree import ElementTree

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.catalogue import AREAS, INFO
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.render_markdown import object_label


def render_junit(report, cluster_name="cluster"):
    root = ElementTree.Element("testsuites", name="readiness audit of {0}".format(cluster_name))
    by_rule = {}
    for item in report["findings"]:
        by_rule.setdefault(item["rule"], []).append(item)
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for area in AREAS:
        rows = [r for r in report["checks"] if r["area"] == area]
        suite = ElementTree.SubElement(root, "testsuite", name="{0}.{1}".format(cluster_name, area))
        counts = {"tests": len(rows), "failures": 0, "skipped": 0}
        for row in rows:
            case = ElementTree.SubElement(suite, "testcase", name="{0} {1}".format(row["rule"], row["title"]),
                                          classname="{0}.{1}".format(cluster_name, area))
            found = by_rule.get(row["rule"], [])
            text = "\n".join("{0} [{1}]: {2}. Fix: {3} Source: {4}".format(
                object_label(f["object"]), f["severity"], f["detail"], f["fix"], f["source"]) for f in found)
            if row["status"] == "skipped":
                ElementTree.SubElement(case, "skipped", message=row.get("reason") or "skipped")
                counts["skipped"] += 1
            elif found and row["severity"] != INFO:
                failure = ElementTree.SubElement(case, "failure", type=row["severity"],
                                                 message="{0} finding(s): {1}".format(len(found), row["fix"]))
                failure.text = text
                counts["failures"] += 1
            elif found:
                ElementTree.SubElement(case, "system-out").text = text
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"
