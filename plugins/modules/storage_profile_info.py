#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: storage_profile_info
short_description: List CDI StorageProfiles and what each lacks for VM disks
version_added: 0.1.0
author:
  - ocpvirt.portworx maintainers (@ocpvirt)
description:
  - Lists every CDI StorageProfile (or the one named) with the modes CDI reports for it and what it lacks for
    VM disks that can live-migrate and clone efficiently. C(RWX) (live migration needs ReadWriteMany), C(Block)
    (boot sources are imported automatically only to an RWX Block class) and C(cloneStrategy).
  - This is the precondition of the OpenShift Virtualization storage checkup.
  - Reads only; never changes anything.
options:
  name:
    description:
      - Only report the profile of this StorageClass, a DNS-1123 subdomain (an empty name is refused).
    type: str
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
"""

EXAMPLES = r"""
- name: Which profiles are not ready for VMs
  ocpvirt.portworx.storage_profile_info:
  register: profiles

- name: Stop before the storage checkup when the VM class is not ready
  ansible.builtin.assert:
    that: "'px-rwx-block-kubevirt' not in profiles.not_ready_for_vms"
"""

RETURN = r"""
storage_profiles:
  description: One entry per profile, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the profile and of its StorageClass.
      type: str
    provisioner:
      description: The class's provisioner.
      type: str
    storage_class_exists:
      description: Whether the StorageClass still exists.
      type: bool
    claim_property_sets:
      description: C(status.claimPropertySets) as CDI reports them.
      type: list
      elements: dict
    modes:
      description: The access/volume mode pairs offered, as C(AccessMode/VolumeMode).
      type: list
      elements: str
    clone_strategy:
      description: C(status.cloneStrategy), or null.
      type: str
    data_import_cron_source_format:
      description: C(status.dataImportCronSourceFormat), or null.
      type: str
    missing_for_vm_use:
      description: What the profile lacks for VM disks, among C(RWX), C(Block) and C(cloneStrategy).
      type: list
      elements: str
    ready_for_vms:
      description: Whether nothing is missing.
      type: bool
    spec:
      description: The profile's user-set C(spec).
      type: dict
  sample: [{"name": "px-rwx-block-kubevirt", "provisioner": "pxd.portworx.com", "storage_class_exists": true,
            "claim_property_sets": [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}], "modes": ["ReadWriteMany/Block"],
            "clone_strategy": "csi-clone", "data_import_cron_source_format": null, "missing_for_vm_use": [], "ready_for_vms": true,
            "spec": {}}]
not_ready_for_vms:
  description: Names of the profiles that lack something for VM disks.
  returned: always
  type: list
  elements: str
  sample: ["px-cdi-scratch"]
"""

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import CDI_API, STORAGE_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import OcpVirtModule
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage_profile_check import profile_summary
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import describe_name, dns_subdomain


OPTION_RULES = (("name", dns_subdomain("StorageProfile")),)


class StorageProfileInfoModule(OcpVirtModule):
    option_rules = OPTION_RULES

    def option_subject(self):
        return "StorageProfile {0}".format(describe_name(self.params["name"]))

    has_wait_options = False

    def execute_module(self):
        name = self.params["name"]
        if name:
            found = self.cluster.get(CDI_API, "StorageProfile", name)
            profiles = [found] if found else []
        else:
            profiles = self.cluster.list(CDI_API, "StorageProfile")
        classes = dict((sc["metadata"]["name"], sc) for sc in self.cluster.list(STORAGE_API, "StorageClass"))
        summaries = sorted((profile_summary(p, classes.get(p["metadata"]["name"])) for p in profiles), key=lambda s: s["name"])
        self.result["storage_profiles"] = summaries
        self.result["not_ready_for_vms"] = [s["name"] for s in summaries if not s["ready_for_vms"]]


def main():
    StorageProfileInfoModule(argument_spec=dict(name=dict(type="str"))).run()


if __name__ == "__main__":
    main()
