# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan the fleet fixes from the gathered facts: which VMs, claims and templates change, and how.

The plan is a list of actions (possibly empty); applying it is the module's job, re-running the
same ``fix_*`` function as the read-modify-write so a concurrent change is never overwritten.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.objects import name_of, namespace_of
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.vm_fixes import (
    claim_fixes,
    fix_template,
    fix_vm_spec,
    needs_restart,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.vm_rules import is_ssp_managed


def _action(kind, obj_namespace, obj_name, changes, **extra):
    action = {"kind": kind, "namespace": obj_namespace, "name": obj_name, "changes": changes}
    action.update(extra)
    return action


def plan_fleet(facts, index, policy, rules, include_templates=True):
    actions = []
    for vm in index.vms:
        changes = fix_vm_spec(copy.deepcopy(vm.get("spec") or {}), rules, policy)
        running = (namespace_of(vm), name_of(vm)) in index.vmis
        if changes:
            actions.append(_action("VirtualMachine", namespace_of(vm), name_of(vm), changes,
                                   restart_required=running and needs_restart(changes)))
        for claim_namespace, claim_name, patch, claim_changes in claim_fixes(vm, index, rules):
            actions.append(_action("PersistentVolumeClaim", claim_namespace, claim_name, claim_changes, patch=patch))
    if include_templates:
        for template in facts.get("templates") or []:
            if is_ssp_managed(template):
                continue
            changes = fix_template(copy.deepcopy(template), rules, policy)
            if changes:
                actions.append(_action("Template", namespace_of(template), name_of(template), changes))
    return _unique(actions)


def _unique(actions):
    """A claim two VMs share is patched once."""
    seen, unique = set(), []
    for action in actions:
        key = (action["kind"], action["namespace"], action["name"])
        if key not in seen:
            seen.add(key)
            unique.append(action)
    return unique
