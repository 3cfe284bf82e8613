#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hyperconverged
short_description: Tune the OpenShift Virtualization HyperConverged CR for Portworx
version_added: 0.1.0
author:
  - ocpvirt.portworx maintainers (@ocpvirt)
description:
  - Sets the storage and live-migration settings of the HyperConverged CR (C(hco.kubevirt.io/v1beta1)) that the
    Portworx architecture documents call for, in one merge patch, then waits until the operator reports
    C(Available=True), C(Progressing=False), C(Degraded=False) and C(ReconcileComplete=True) for the new
    generation, and verifies the effect CDI reports in CDIConfig C(config) C(status) (scratch space class and
    filesystem overhead).
  - Only the options given are managed; every other field of the CR is left as it is.
  - Option values are checked before any request (names as DNS-1123 subdomains or labels, counts of at least 1,
    the bandwidth as a positive quantity, feature gates as booleans, overheads as decimal strings).
  - In check mode a StorageClass that does not exist yet (an earlier task of the run would create it) is planned
    against with a warning; a real run refuses it.
  - Validates before writing. Referenced StorageClasses must exist; the scratch class must offer Filesystem
    volumes; the VM state class RWX or RWO Filesystem (read from the classes' CDI StorageProfiles), a Portworx repl
    of at least 2 and C(reclaimPolicy=Retain) (see O(allow_unsafe_vm_state_class)); overhead values
    must be decimal strings in [0, 1) with at most 3 decimals. An overhead below 0.08 while Filesystem VM volumes
    exist, and a migration bandwidth cap, only warn.
  - Writes the C(v1beta1) API, which every OpenShift Virtualization release serves. HCO 1.18 added a C(v1) API
    with a restructured spec (for example C(spec.storage.scratchSpaceStorageClass)); it is not used here, and
    C(v1beta1) stays served next to it.
options:
  name:
    description: Name of the HyperConverged CR, a DNS-1123 subdomain.
    type: str
    default: kubevirt-hyperconverged
  namespace:
    description: Namespace of the HyperConverged CR, a DNS-1123 label.
    type: str
    default: openshift-cnv
  scratch_space_storage_class:
    description:
      - C(spec.scratchSpaceStorageClass), the class CDI uses for scratch space during imports, for example
        C(px-cdi-scratch). Must give Filesystem volumes. A DNS-1123 subdomain; an empty name is refused.
    type: str
  vm_state_storage_class:
    description:
      - C(spec.vmStateStorageClass), the class of the volumes that keep persistent VM state such as vTPM, for
        example C(vmstate). Must offer RWX or RWO Filesystem volumes. A DNS-1123 subdomain; an empty name is refused.
    type: str
  filesystem_overhead:
    description:
      - C(spec.filesystemOverhead), the share of a Filesystem volume CDI keeps free for file system overhead.
        Block volumes do not need it. 0.08 is recommended for Filesystem volumes (CDI's default is lower).
    type: dict
    suboptions:
      global:
        description: Overhead for every class without its own value, a decimal string in [0, 1) such as C("0.08").
        type: str
      storage_class:
        description: Overhead per StorageClass name (DNS-1123 subdomains), decimal strings in [0, 1). Other classes' values are kept.
        type: dict
  live_migration:
    description: C(spec.liveMigrationConfig). Fields left out keep their current value.
    type: dict
    suboptions:
      parallel_migrations_per_cluster:
        description: C(parallelMigrationsPerCluster), at least 1; the documents use 5.
        type: int
      parallel_outbound_migrations_per_node:
        description: C(parallelOutboundMigrationsPerNode), at least 1; the documents use 2.
        type: int
      bandwidth_per_migration:
        description:
          - C(bandwidthPerMigration), a positive quantity of bytes per second such as V(64Mi). The architecture guide
            advises against capping; setting it warns.
        type: str
      completion_timeout_per_gib:
        description: C(completionTimeoutPerGiB) in seconds, at least 1.
        type: int
      progress_timeout:
        description: C(progressTimeout) in seconds, at least 1.
        type: int
      network:
        description: C(network), the name of a NetworkAttachmentDefinition dedicated to migrations (a DNS-1123 subdomain).
        type: str
  eviction_strategy:
    description: C(spec.evictionStrategy), the cluster default for VMs that set none.
    type: str
    choices: [None, LiveMigrate, LiveMigrateIfPossible, External]
  feature_gates:
    description:
      - C(spec.featureGates) entries to set, as a map of gate name to boolean. Other gates are kept.
      - Values must be YAML booleans; a quoted V("false") is refused, as it would otherwise switch the gate on.
      - The gate C(enableCommonBootImageImport) is refused before any request; HCO 1.16 ignores it. Use
        O(enable_common_boot_image_import).
    type: dict
  enable_common_boot_image_import:
    description:
      - C(spec.enableCommonBootImageImport), whether HCO imports the common boot images (its default is true). Boot
        images are only imported when the default virtualization class offers RWX Block. Unset leaves the field as it is.
    type: bool
  allow_unsafe_vm_state_class:
    description:
      - Accept a O(vm_state_storage_class) that breaks the VM state rule (Portworx repl of at least 2 and
        C(reclaimPolicy=Retain)); without it such a class is refused, with it the run only warns. VM state (vTPM,
        EFI variables) on such a class is lost with a node or with its claim.
    type: bool
    default: false
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ocpvirt.portworx.common.WAIT
notes:
  - Supports check mode (the patch is a server-side dry run) and diff mode. Transient API errors are retried.
"""

EXAMPLES = r"""
- name: Portworx storage settings from the architecture documents
  ocpvirt.portworx.hyperconverged:
    scratch_space_storage_class: px-cdi-scratch
    vm_state_storage_class: vmstate
    filesystem_overhead:
      global: "0.08"

- name: Live migration limits and the cluster eviction default
  ocpvirt.portworx.hyperconverged:
    live_migration:
      parallel_migrations_per_cluster: 5
      parallel_outbound_migrations_per_node: 2
    eviction_strategy: LiveMigrate
"""

RETURN = r"""
spec:
  description: The managed part of the CR's C(spec) after the run (as it would be, in check mode).
  returned: always
  type: dict
  sample: {"scratchSpaceStorageClass": "px-cdi-scratch", "filesystemOverhead": {"global": "0.08"}}
patch:
  description: The merge patch sent, or an empty dict when nothing differed.
  returned: always
  type: dict
  sample: {"spec": {"filesystemOverhead": {"global": "0.08"}}}
conditions:
  description: The CR's status conditions as last read.
  returned: always
  type: list
  elements: dict
observed:
  description:
    - What CDI reports in CDIConfig C(config) C(status) after the change, or an empty dict when CDIConfig is not
      served or the module did not wait.
  returned: always
  type: dict
  contains:
    scratch_space_storage_class:
      description: C(status.scratchSpaceStorageClass); CDI falls back to the default class when the requested one is missing.
      type: str
    filesystem_overhead:
      description: C(status.filesystemOverhead), with C(global) and one C(storageClass) entry per existing class.
      type: dict
  sample: {"scratch_space_storage_class": "px-cdi-scratch", "filesystem_overhead": {"global": "0.08", "storageClass": {"px-cdi-scratch": "0.08"}}}
retries:
  description: How many transient API errors were retried.
  returned: when there were any
  type: int
"""

import copy

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import CDI_API, HCO_API, STORAGE_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.check_mode import would_exist_warning
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import NotFound, Refusal
from ansible_collections.ocpvirt.portworx.plugins.module_utils.hyperconverged_options import ARGUMENT_SPEC, OPTION_RULES
from ansible_collections.ocpvirt.portworx.plugins.module_utils.hyperconverged_spec import (
    CDI_CONFIG_NAME,
    check,
    effect_missing,
    filesystem_vm_volumes,
    managed_view,
    observed_effect,
    settled,
    spec_patch,
    wanted_spec,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import OcpVirtModule
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import describe_name


class HyperConvergedModule(OcpVirtModule):
    option_rules = OPTION_RULES

    def option_subject(self):
        return "HyperConverged {0}/{1}".format(describe_name(self.params["namespace"]), describe_name(self.params["name"]))

    def execute_module(self):
        name, namespace = self.params["name"], self.params["namespace"]
        subject = "HyperConverged {0}/{1}".format(namespace, name)
        hco = self.cluster.get(HCO_API, "HyperConverged", name, namespace)
        if hco is None:
            raise NotFound(subject, "is OpenShift Virtualization installed and its HyperConverged CR created?")
        spec = wanted_spec(self.params)
        facts = self._storage_facts(spec)
        errors, warnings = check(self._checkable(spec, facts[0]), *facts, allow_unsafe_vm_state_class=self.params["allow_unsafe_vm_state_class"])
        if errors:
            raise Refusal(subject, "; ".join(errors), "Fix the options (or create the missing classes) and run again.")
        for warning in warnings:
            self.warn(warning)

        patch = spec_patch(hco, spec)
        before = managed_view(hco, spec)
        if patch:
            hco = self.cluster.patch(HCO_API, "HyperConverged", name, patch, namespace)
            self.changed()
        self.set_diff(before, managed_view(hco, spec))
        self.result["patch"] = patch
        self.result["spec"] = managed_view(hco, spec)
        self.result["observed"] = {}
        if self.wait_enabled:
            hco = self.waiter().until("{0} to finish reconciling".format(subject), lambda: self._settled(name, namespace))
            self.result["observed"] = self._verify_effect(spec)
        self.result["conditions"] = ((hco or {}).get("status") or {}).get("conditions") or []

    def _checkable(self, spec, classes_by_name):
        """The spec to check; in check mode without the classes an earlier task would create (warned)."""
        if not self.check_mode:
            return spec
        checkable = dict(spec)
        for field in ("scratchSpaceStorageClass", "vmStateStorageClass"):
            name = spec.get(field)
            if name and name not in classes_by_name:
                self.warn(would_exist_warning("StorageClass {0} ({1})".format(name, field), "the volume modes its StorageProfile offers"))
                del checkable[field]
        return checkable

    def _storage_facts(self, spec):
        """StorageClasses, their profiles and the Filesystem VM volume count, read only when the spec needs them."""
        if not any(key in spec for key in ("scratchSpaceStorageClass", "vmStateStorageClass", "filesystemOverhead")):
            return {}, {}, 0
        classes = dict((sc["metadata"]["name"], sc) for sc in self.cluster.list(STORAGE_API, "StorageClass"))
        profiles = {}
        if self.cluster.served(CDI_API, "StorageProfile"):
            profiles = dict((p["metadata"]["name"], p) for p in self.cluster.list(CDI_API, "StorageProfile"))
        volumes = 0
        if "filesystemOverhead" in spec:
            volumes = filesystem_vm_volumes(self.cluster.list("v1", "PersistentVolumeClaim"))
        return classes, profiles, volumes

    def _settled(self, name, namespace):
        hco = self.cluster.get(HCO_API, "HyperConverged", name, namespace)
        done, state = settled(hco)
        return done, (hco if done else state)

    def _verify_effect(self, spec):
        if not any(key in spec for key in ("scratchSpaceStorageClass", "filesystemOverhead")):
            return {}
        if not self.cluster.served(CDI_API, "CDIConfig"):
            self.warn("The cluster does not serve CDIConfig; the effect on CDI was not verified.")
            return {}

        def probe():
            config = self.cluster.get(CDI_API, "CDIConfig", CDI_CONFIG_NAME)
            missing = effect_missing(spec, config)
            return not missing, (config if not missing else "; ".join(missing))

        config = self.waiter().until("CDIConfig {0} to reflect the HyperConverged settings".format(CDI_CONFIG_NAME), probe)
        return observed_effect(config)


def main():
    HyperConvergedModule(argument_spec=copy.deepcopy(ARGUMENT_SPEC)).run()


if __name__ == "__main__":
    main()
