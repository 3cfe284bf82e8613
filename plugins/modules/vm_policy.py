#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm_policy
short_description: Enforce the fixable fleet rules on existing VMs, their claims and VM templates
version_added: 0.2.0
author:
  - ocpvirt.portworx maintainers (@ocpvirt)
description:
  - Fixes what M(ocpvirt.portworx.vm_policy_info) reports fixable, in place
  - C(R4) annotates every DataVolume template C(cdi.kubevirt.io/storage.usePopulator) C("false") (OpenShift 4.14 and
    later). C(R3) removes C(cdi.kubevirt.io/storage.bind.immediate.requested) from DataVolume templates and from the VMs'
    claims. C(R7) sets C(spec.template.spec.evictionStrategy) C(LiveMigrateIfPossible) where the VM (or the cluster
    default) has no live-migrating strategy; C(LiveMigrate) and C(External) are left alone. C(R16) annotates
    pre-created Portworx claims C(portworx.io/app) C(kubevirt).
  - The same fixes apply to the VirtualMachine objects of OpenShift Templates, except the common templates the SSP
    operator manages (it would undo the change).
  - A change to C(spec.template) of a running VM takes effect at its next restart; RV(restart_required) lists those VMs.
  - The other rules (RWO disks, bridge binding, shared disks, mixed replication, BIOS on 4096-byte disks) need a
    decision or a data move and are only reported in RV(remaining).
  - Supports check mode (server-side dry run, nothing is written) and diff.
  - When a later fix fails after earlier ones were written, the failure names the objects already fixed and those
    not fixed yet, with RV(half_done) and RV(done); running the task again fixes the rest.
options:
  namespaces:
    description: Only fix VMs in these namespaces (DNS-1123 labels, checked before any request). Default all namespaces.
    type: list
    elements: str
  label_selector:
    description: Only fix VMs with these labels, in label selector syntax (checked before any request), for example C(fleet=legacy).
    type: str
  rules:
    description: The rules to enforce.
    type: list
    elements: str
    choices: [R3, R4, R7, R16]
    default: [R3, R4, R7, R16]
  include_templates:
    description: Also fix the VirtualMachine objects of OpenShift Templates (not the SSP-managed ones).
    type: bool
    default: true
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
"""

EXAMPLES = r"""
- name: Make the legacy VMs live-migrate and fix their DataVolume templates
  ocpvirt.portworx.vm_policy:
    namespaces: [legacy]
  register: fixed

- name: Say which VMs need a restart to take the change
  ansible.builtin.debug:
    msg: "{{ fixed.restart_required }}"
"""

RETURN = r"""
changes:
  description: One entry per changed object with each change (rule, path, old, new).
  returned: always
  type: list
  elements: dict
  sample: [{"kind": "VirtualMachine", "namespace": "vms", "name": "vm-003", "restart_required": true,
            "changes": [{"rule": "R7", "path": "spec.template.spec.evictionStrategy", "old": "None",
                         "new": "LiveMigrateIfPossible", "restart": true}]}]
restart_required:
  description: Running VMs (C(namespace/name)) that take the change only after a restart (KubeVirt RestartRequired).
  returned: always
  type: list
  elements: str
  sample: ["vms/vm-003"]
remaining:
  description: Objects per rule that still break a rule this module does not fix (or was not asked to).
  returned: always
  type: dict
  sample: {"R8": 1}
half_done:
  description: True when a write failed after earlier writes of the same task had succeeded.
  returned: when a later write failed
  type: bool
done:
  description: The objects already fixed when a later fix failed.
  returned: when a later write failed
  type: list
  elements: str
  sample: ["fixed VirtualMachine vms/vm-003"]
"""

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import KUBEVIRT_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure, half_done
from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import OcpVirtModule
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.fleet_plan import plan_fleet
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.fleet_report import fleet_report
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.gather import FLEET_KEYS, gather
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.rules_fleet import fleet_policy
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.vm_fixes import fix_template, fix_vm_spec
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.vm_index import FleetIndex
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import dns_label, label_selector

TEMPLATE_API = "template.openshift.io/v1"


OPTION_RULES = (
    ("namespaces[]", dns_label("Namespace")),
    ("label_selector", label_selector()),
)


class VmPolicyModule(OcpVirtModule):
    has_wait_options = False
    option_rules = OPTION_RULES

    def option_subject(self):
        return "The VM policy fix"

    def execute_module(self):
        rules = set(self.params["rules"])
        keys = FLEET_KEYS if self.params["include_templates"] else tuple(k for k in FLEET_KEYS if k != "templates")
        facts = gather(self.cluster, vm_namespaces=self.params["namespaces"], label_selector=self.params["label_selector"], keys=keys)
        policy = fleet_policy(facts)
        actions = plan_fleet(facts, FleetIndex(facts), policy, rules, self.params["include_templates"])
        for index, action in enumerate(actions):
            try:
                self._apply(action, rules, policy)
            except ModuleFailure as failure:
                self.changed(index > 0)
                raise half_done(failure, ["fixed " + ", ".join(_label(a) for a in actions[:index])] if index else [],
                                "Not fixed yet: {0}; run the task again to finish".format(", ".join(_label(a) for a in actions[index:])))
        self.changed(bool(actions))
        self.result["changes"] = [dict((k, v) for k, v in a.items() if k != "patch") for a in actions]
        self.result["restart_required"] = ["{0}/{1}".format(a["namespace"], a["name"]) for a in actions if a.get("restart_required")]
        self.result["remaining"] = remaining_findings(facts, rules)
        self.set_diff(dict((_label(a), dict((c["path"], c["old"]) for c in a["changes"])) for a in actions),
                      dict((_label(a), dict((c["path"], c["new"]) for c in a["changes"])) for a in actions))

    def _apply(self, action, rules, policy):
        if action["kind"] == "PersistentVolumeClaim":
            self.cluster.patch("v1", "PersistentVolumeClaim", action["name"], action["patch"], namespace=action["namespace"])
        elif action["kind"] == "VirtualMachine":
            self.cluster.update(KUBEVIRT_API, "VirtualMachine", action["name"],
                                lambda vm: bool(fix_vm_spec(vm.setdefault("spec", {}), rules, policy)), namespace=action["namespace"])
        else:
            self.cluster.update(TEMPLATE_API, "Template", action["name"], lambda t: bool(fix_template(t, rules, policy)),
                                namespace=action["namespace"])


def _label(action):
    return "{0} {1}/{2}".format(action["kind"], action["namespace"], action["name"])


def remaining_findings(facts, rules):
    """What still breaks a rule once the planned fixes are in: every finding not fixed here."""
    remaining = {}
    for entry in fleet_report(facts)["violations"]:
        for finding in entry["findings"]:
            if finding["fixable"] and finding["rule"] in rules:
                continue
            remaining[finding["rule"]] = remaining.get(finding["rule"], 0) + 1
    return remaining


def main():
    VmPolicyModule(
        argument_spec=dict(
            namespaces=dict(type="list", elements="str"),
            label_selector=dict(type="str"),
            rules=dict(type="list", elements="str", choices=["R3", "R4", "R7", "R16"], default=["R3", "R4", "R7", "R16"]),
            include_templates=dict(type="bool", default=True),
        )
    ).run()


if __name__ == "__main__":
    main()
