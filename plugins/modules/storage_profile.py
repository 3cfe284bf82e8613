#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: storage_profile
short_description: Set and verify the CDI StorageProfile of a StorageClass
version_added: 0.1.0
author:
  - ocpvirt.portworx maintainers (@ocpvirt)
description:
  - Sets C(spec.claimPropertySets), C(spec.cloneStrategy) and optionally C(spec.dataImportCronSourceFormat) of the
    CDI StorageProfile (C(cdi.kubevirt.io/v1beta1), cluster-scoped) that CDI keeps for a StorageClass, then waits
    until CDI reflects them in the profile's C(status).
  - Refuses, before writing, an access/volume mode pair the class's provisioner cannot give. For Portworx
    (C(pxd.portworx.com)) CDI's own capability table is used; NFS-style sharedv4 classes (C(vers=3.0,nolock)) give
    Filesystem only. Other provisioners are not judged.
  - Use M(ocpvirt.portworx.storage_profile_info) to see which profiles are not fit for VM disks.
options:
  name:
    description:
      - Name of the StorageClass (and of its StorageProfile), a DNS-1123 subdomain.
      - In check mode a class that does not exist yet (an earlier task of the run would create it) is planned
        against with a warning; a real run refuses it.
    type: str
    required: true
  claim_property_sets:
    description:
      - The access and volume modes CDI should use for volumes of this class, in order of preference.
      - An empty list is refused (it would clear C(spec.claimPropertySets)).
    type: list
    elements: dict
    default: [{access_modes: [ReadWriteMany], volume_mode: Block}]
    suboptions:
      access_modes:
        description: Access modes of the set, at least one.
        type: list
        elements: str
        required: true
        choices: [ReadWriteMany, ReadWriteOnce, ReadOnlyMany]
      volume_mode:
        description: Volume mode of the set.
        type: str
        default: Filesystem
        choices: [Block, Filesystem]
  clone_strategy:
    description:
      - How CDI clones volumes of this class. V(csi-clone) is what the Portworx documents recommend.
      - Left unmanaged when not set.
    type: str
    choices: [csi-clone, snapshot, copy]
  data_import_cron_source_format:
    description:
      - Whether automatically imported boot sources are kept as V(pvc) or as V(snapshot). Left unmanaged when not set.
    type: str
    choices: [pvc, snapshot]
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ocpvirt.portworx.common.WAIT
notes:
  - Supports check mode (every write is a server-side dry run) and diff mode. Transient API errors are retried.
"""

EXAMPLES = r"""
- name: RWX Block with CSI clones for the VM disk class
  ocpvirt.portworx.storage_profile:
    name: px-rwx-block-kubevirt
    clone_strategy: csi-clone

- name: RWX Filesystem for an NFS-style sharedv4 class
  ocpvirt.portworx.storage_profile:
    name: portworx-rwx-kubevirt
    claim_property_sets:
      - access_modes: [ReadWriteMany]
        volume_mode: Filesystem
    clone_strategy: csi-clone
"""

RETURN = r"""
spec:
  description: The profile's C(spec) after the run (as it would be, in check mode).
  returned: always
  type: dict
  sample: {"claimPropertySets": [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}], "cloneStrategy": "csi-clone"}
status:
  description: The profile's C(status) as CDI last reported it.
  returned: always
  type: dict
  sample: {"claimPropertySets": [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}], "cloneStrategy": "csi-clone",
           "provisioner": "pxd.portworx.com", "storageClass": "px-rwx-block-kubevirt"}
unsupported:
  description: The requested access/volume mode pairs the provisioner cannot give (with the refusal).
  returned: on refusal of unsupported modes
  type: list
  elements: str
  sample: ["ReadWriteMany/Block"]
retries:
  description: How many transient API errors were retried.
  returned: when there were any
  type: int
"""

import copy

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import CDI_API, STORAGE_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.check_mode import would_exist_warning
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import NotFound, Refusal
from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import OcpVirtModule
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage_profile_check import (
    desired_spec,
    spec_patch,
    status_reflects,
    unsupported_pairs,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage_profile_options import ARGUMENT_SPEC, OPTION_RULES
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import describe_name


class StorageProfileModule(OcpVirtModule):
    option_rules = OPTION_RULES

    def option_subject(self):
        return "StorageProfile {0}".format(describe_name(self.params["name"]))

    def execute_module(self):
        name = self.params["name"]
        wanted = desired_spec(self.params["claim_property_sets"], self.params["clone_strategy"], self.params["data_import_cron_source_format"])
        storage_class = self.cluster.get(STORAGE_API, "StorageClass", name)
        if storage_class is None and self.check_mode:
            return self._preview_for_planned_class(name, wanted)
        if storage_class is None:
            raise NotFound("StorageClass {0}".format(name), "CDI keeps a StorageProfile only for an existing class; create the class "
                           "first (for example with ocpvirt.portworx.portworx_storage_class)")
        unsupported = unsupported_pairs(storage_class, wanted["claimPropertySets"])
        if unsupported:
            pairs = ["{0}/{1}".format(mode, vmode) for mode, vmode in unsupported]
            raise Refusal(
                "StorageProfile {0}".format(name),
                "provisioner {0} cannot give {1} with this class's parameters".format(storage_class.get("provisioner"), ", ".join(pairs)),
                "Ask only for modes the class provides, or use a class that provides them (NFS-style sharedv4 classes give Filesystem only).",
                unsupported=pairs,
            )
        profile = self._profile(name)
        patch = spec_patch(profile, wanted)
        before_spec = profile.get("spec") or {}
        after_spec = dict(before_spec, **patch.get("spec", {}))
        if patch:
            written = self.cluster.patch(CDI_API, "StorageProfile", name, patch)
            after_spec = written.get("spec") or after_spec
            self.changed()
        self.set_diff({"spec": before_spec}, {"spec": after_spec})
        if self.wait_enabled:
            profile = self.waiter().until(
                "CDI to reflect the spec of StorageProfile {0} in its status".format(name),
                lambda: self._reflected(name, wanted),
            )
        self.result["spec"] = after_spec
        self.result["status"] = profile.get("status") or {}

    def _preview_for_planned_class(self, name, wanted):
        """Check mode, class not there yet: CDI would create the profile with the class; show the spec it would get."""
        self.warn(would_exist_warning("StorageClass {0} (and so its StorageProfile)".format(name),
                                      "whether the provisioner can give these volume modes"))
        self.changed()
        self.set_diff({"spec": {}}, {"spec": wanted})
        self.result["spec"] = wanted
        self.result["status"] = {}

    def _profile(self, name):
        profile = self.cluster.get(CDI_API, "StorageProfile", name)
        if profile is None and self.wait_enabled:
            profile = self.waiter().until(
                "CDI to create StorageProfile {0}".format(name),
                lambda: _present(self.cluster.get(CDI_API, "StorageProfile", name)),
            )
        if profile is None:
            raise NotFound("StorageProfile {0}".format(name), "CDI creates one for every StorageClass; is CDI running?")
        return profile

    def _reflected(self, name, wanted):
        profile = self.cluster.get(CDI_API, "StorageProfile", name)
        if status_reflects(profile, wanted):
            return True, profile
        return False, ((profile or {}).get("status") or "no status")


def _present(obj):
    return (obj is not None, obj if obj is not None else "not created yet")


def main():
    StorageProfileModule(argument_spec=copy.deepcopy(ARGUMENT_SPEC)).run()


if __name__ == "__main__":
    main()
