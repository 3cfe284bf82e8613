# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planner for the fixable fleet rules: R3, R4 and R7 in VM specs and templates, R3 and R16 on claims.

``fix_vm_spec`` changes a VM spec in place and returns what it changed (empty: nothing to do), so
it serves as the ``mutate`` of a read-modify-write and re-applies cleanly after a 409. A change to
``spec.template`` of a running VM only takes effect when the VM restarts: KubeVirt reports such a
VM with the condition ``RestartRequired`` (evictionStrategy is not among the fields KubeVirt
updates live).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.objects import annotations_of, dig, name_of
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.vm_rules import (
    ACCEPTED_EVICTION,
    BIND_IMMEDIATE,
    PORTWORX_APP,
    USE_POPULATOR,
    WANTED_EVICTION,
    is_pre_created,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage import is_portworx


def _change(rule, path, old, new, restart=False):
    return {"rule": rule, "path": path, "old": old, "new": new, "restart": restart}


def fix_vm_spec(vm_spec, rules, policy):
    """Apply the fixes of ``rules`` to ``vm_spec`` in place; returns the changes made."""
    changes = []
    for position, template in enumerate(vm_spec.get("dataVolumeTemplates") or []):
        metadata = template.setdefault("metadata", {})
        notes = metadata.get("annotations") or {}
        path = "spec.dataVolumeTemplates[{0}].metadata.annotations".format(position)
        if "R4" in rules and policy.populator_rule and str(notes.get(USE_POPULATOR)) != "false":
            changes.append(_change("R4", path + "." + USE_POPULATOR, notes.get(USE_POPULATOR), "false"))
            notes[USE_POPULATOR] = "false"
        if "R3" in rules and BIND_IMMEDIATE in notes:
            changes.append(_change("R3", path + "." + BIND_IMMEDIATE, notes.pop(BIND_IMMEDIATE), None))
        if notes or "annotations" in metadata:
            metadata["annotations"] = notes
    strategy = dig(vm_spec, "template", "spec", "evictionStrategy") or policy.cluster_eviction
    if "R7" in rules and strategy not in ACCEPTED_EVICTION:
        vm_spec.setdefault("template", {}).setdefault("spec", {})["evictionStrategy"] = WANTED_EVICTION
        changes.append(_change("R7", "spec.template.spec.evictionStrategy", strategy, WANTED_EVICTION, restart=True))
    return changes


def claim_fixes(vm, index, rules):
    """``[(namespace, claim name, merge patch, changes)]`` for the VM's claims."""
    planned = []
    for volume, claim_name, claim, class_name in index.vm_volumes(vm):
        if claim is None:
            continue
        notes, changes = {}, []
        if "R16" in rules and is_pre_created(volume, claim) and is_portworx(index.classes.get(class_name)) \
                and annotations_of(claim).get(PORTWORX_APP) != "kubevirt":
            notes[PORTWORX_APP] = "kubevirt"
            changes.append(_change("R16", "metadata.annotations." + PORTWORX_APP, annotations_of(claim).get(PORTWORX_APP), "kubevirt"))
        if "R3" in rules and BIND_IMMEDIATE in annotations_of(claim):
            notes[BIND_IMMEDIATE] = None
            changes.append(_change("R3", "metadata.annotations." + BIND_IMMEDIATE, annotations_of(claim)[BIND_IMMEDIATE], None))
        if changes:
            planned.append((claim["metadata"].get("namespace"), name_of(claim), {"metadata": {"annotations": notes}}, changes))
    return planned


def fix_template(template, rules, policy):
    """Apply the spec fixes to every VirtualMachine object of an OpenShift Template, in place."""
    changes = []
    for position, obj in enumerate(template.get("objects") or []):
        if obj.get("kind") != "VirtualMachine":
            continue
        for change in fix_vm_spec(obj.setdefault("spec", {}), rules, policy):
            change["path"] = "objects[{0}].{1}".format(position, change["path"])
            change["restart"] = False
            changes.append(change)
    return changes


def needs_restart(changes):
    return any(change["restart"] for change in changes)
