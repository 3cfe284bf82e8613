# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet rules over every VirtualMachine and VM template, as audit findings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.objects import dig, name_of, namespace_of
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.rules_platform import openshift_version
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.vm_rules import (
    FleetPolicy,
    is_ssp_managed,
    template_violations,
    vm_violations,
)

FLEET_RULES = ("R3", "R4", "R7", "R8", "R9", "R12", "R13", "R15", "R16", "R24")
POPULATOR_FROM = (4, 14, 0)
SSP_FIX = "The SSP operator reconciles this common template: fix a custom copy of it instead."


def fleet_policy(facts):
    dummy, version = openshift_version(facts)
    hco = (facts.get("hyperconvergeds") or [None])[0]
    return FleetPolicy(populator_rule=version is None or version >= POPULATOR_FROM,
                       cluster_eviction=dig(hco, "spec", "evictionStrategy"))


def evaluate_fleet(facts, index, results, policy=None):
    policy = policy or fleet_policy(facts)
    if facts.get("vms") is None:
        for rule_id in FLEET_RULES:
            results.skip(rule_id, "the cluster does not serve VirtualMachine")
        return
    results.evaluated(*FLEET_RULES)
    for vm in index.vms:
        for rule_id, detail in vm_violations(vm, index, policy):
            results.add(rule_id, "VirtualMachine", name_of(vm), detail, namespace=namespace_of(vm))
    for template in facts.get("templates") or []:
        managed = is_ssp_managed(template)
        for rule_id, detail in template_violations(template, policy):
            item = results.add(rule_id, "Template", name_of(template), detail, namespace=namespace_of(template),
                               fix=SSP_FIX if managed else None)
            if managed:
                item["fixable"] = False
