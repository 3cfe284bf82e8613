#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm_policy_info
short_description: Audit every VirtualMachine, its disks and the VM templates against the fleet rules
version_added: 0.2.0
author:
  - ocpvirt.portworx maintainers (@ocpvirt)
description:
  - Checks every VirtualMachine (its DataVolume templates, volumes and claims) and every OpenShift VM Template against
    the fleet rules of the Portworx and Red Hat documents, by rule id
  - C(R3) no C(cdi.kubevirt.io/storage.bind.immediate.requested) on VM DataVolume templates or claims (it overrides
    WaitForFirstConsumer). C(R4) C(cdi.kubevirt.io/storage.usePopulator) C("false") on DataVolume templates from
    OpenShift 4.14. C(R7) C(evictionStrategy) C(LiveMigrateIfPossible) (C(LiveMigrate) and C(External) are accepted).
  - C(R8) RWX disks (live migration). C(R9) no bridge binding on the pod network. C(R12) no SCSI reservation or shareable
    disk on Portworx. C(R13) no hot-plugged SATA disk. C(R15) one replication factor per VM. C(R16) C(portworx.io/app)
    C(kubevirt) on pre-created claims. C(R24) no BIOS VM on a 4096-byte logical root disk.
  - Templates only affect new VMs, so existing VMs need this audit and M(ocpvirt.portworx.vm_policy) to fix them.
  - Reads only (paginated lists); never changes anything.
options:
  namespaces:
    description: Only audit VMs in these namespaces (DNS-1123 labels, checked before any request). Default all namespaces.
    type: list
    elements: str
  label_selector:
    description: Only audit VMs with these labels, in label selector syntax (checked before any request), for example C(app=db).
    type: str
  include_templates:
    description: Also audit the VirtualMachine objects of OpenShift Templates.
    type: bool
    default: true
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
"""

EXAMPLES = r"""
- name: Which VMs break the fleet rules
  ocpvirt.portworx.vm_policy_info:
    namespaces: [vms]
  register: fleet

- name: Show the VMs whose findings vm_policy can fix
  ansible.builtin.debug:
    msg: "{{ fleet.violations | selectattr('fixable') | map(attribute='name') | list }}"
"""

RETURN = r"""
violations:
  description: One entry per object (VirtualMachine or Template) that breaks a rule.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: C(VirtualMachine) or C(Template).
      type: str
    namespace:
      description: The object's namespace.
      type: str
    name:
      description: The object's name.
      type: str
    running:
      description: Whether a VMI runs for the VM.
      type: bool
    fixable:
      description: Whether M(ocpvirt.portworx.vm_policy) can fix at least one of its findings.
      type: bool
    findings:
      description: The rule, severity, detail, fix, source and fixable flag of each violation.
      type: list
      elements: dict
  sample: [{"kind": "VirtualMachine", "namespace": "vms", "name": "vm-003", "running": true, "fixable": true,
            "findings": [{"rule": "R7", "severity": "warning", "detail": "evictionStrategy is None", "fixable": true}]}]
by_rule:
  description: Number of objects breaking each rule.
  returned: always
  type: dict
  sample: {"R7": 1, "R8": 1}
audited:
  description: How many VMs and templates were audited, and how many comply.
  returned: always
  type: dict
  sample: {"virtual_machines": 4, "templates": 1, "compliant_virtual_machines": 2}
"""

from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import OcpVirtModule
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.fleet_report import fleet_report
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.gather import FLEET_KEYS, gather
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import dns_label, label_selector


OPTION_RULES = (
    ("namespaces[]", dns_label("Namespace")),
    ("label_selector", label_selector()),
)


class VmPolicyInfoModule(OcpVirtModule):
    has_wait_options = False
    option_rules = OPTION_RULES

    def option_subject(self):
        return "The VM policy audit"

    def execute_module(self):
        keys = FLEET_KEYS if self.params["include_templates"] else tuple(k for k in FLEET_KEYS if k != "templates")
        facts = gather(self.cluster, vm_namespaces=self.params["namespaces"], label_selector=self.params["label_selector"], keys=keys)
        self.result.update(fleet_report(facts))


def main():
    VmPolicyInfoModule(
        argument_spec=dict(
            namespaces=dict(type="list", elements="str"),
            label_selector=dict(type="str"),
            include_templates=dict(type="bool", default=True),
        )
    ).run()


if __name__ == "__main__":
    main()
