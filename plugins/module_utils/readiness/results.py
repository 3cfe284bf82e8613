# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the evaluators report: per rule, evaluated (with its findings, possibly none) or skipped."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.catalogue import RULES, finding


class Results(object):
    """Collects findings by rule; a rule evaluated without findings passed."""

    def __init__(self):
        self.findings = {}
        self.skipped = {}

    def evaluated(self, *rule_ids):
        for rule_id in rule_ids:
            _known(rule_id)
            self.findings.setdefault(rule_id, [])
            self.skipped.pop(rule_id, None)

    def add(self, rule_id, kind, name, detail, namespace=None, fix=None, severity=None):
        self.evaluated(rule_id)
        item = finding(rule_id, kind, name, detail, namespace=namespace, fix=fix, severity=severity)
        self.findings[rule_id].append(item)
        return item

    def skip(self, rule_id, reason):
        _known(rule_id)
        if rule_id not in self.findings:
            self.skipped[rule_id] = reason

    def all_findings(self):
        return [item for rule_id in sorted(self.findings) for item in self.findings[rule_id]]


def _known(rule_id):
    if rule_id not in RULES:
        raise KeyError("unknown rule id {0}".format(rule_id))
