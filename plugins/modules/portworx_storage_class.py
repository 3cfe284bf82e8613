#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: portworx_storage_class
short_description: Create the Portworx StorageClasses OpenShift Virtualization needs, from named presets
version_added: 0.1.0
author:
  - ocpvirt.portworx maintainers (@ocpvirt)
description:
  - Creates or updates a C(pxd.portworx.com) StorageClass from a named preset that carries the values of the
    Portworx and OpenShift Virtualization architecture documents, then waits for CDI to create the class's
    StorageProfile and returns the claim property sets CDI derived for it.
  - Validates before writing; a class that breaks the rules of its role is refused and nothing is written.
  - StorageClass C(parameters), C(provisioner), C(reclaimPolicy) and C(volumeBindingMode) are immutable in the
    Kubernetes API. When an existing class differs in any of them the module refuses and returns the differences
    in RV(immutable_differences), unless O(recreate=true), which deletes and re-creates the class. Existing
    PersistentVolumes are not affected by a re-created class; only volumes provisioned afterwards get the new
    settings.
  - Mutable differences (O(allow_volume_expansion), O(annotations)) are merge-patched. Annotations not named in
    O(annotations) are left alone.
  - Without O(name) (and with O(discover=true), the default) the module first looks for an existing class that
    already is the preset and manages that class instead of creating a near-identical one. Portworx preinstalls
    its RWX block class as C(px-rwx-block-kubvirt), while the documents' YAML says C(px-rwx-block-kubevirt); the
    class is recognised by what it is, never by its name. A class is adopted when its provisioner is
    C(pxd.portworx.com) (a class on the deprecated in-tree C(kubernetes.io/portworx-volume) is never adopted; the
    module warns about it), its C(parameters) equal the wanted ones
    (the preset plus O(repl) and O(parameters); values compared as strings, C(true)/C(false) in any case, mount
    options in any order), its C(reclaimPolicy) and C(volumeBindingMode) equal the wanted ones and, for
    V(vm_block), its CDI StorageProfile offers C(ReadWriteMany) with C(Block). Of several such classes the one
    annotated C(storageclass.kubevirt.io/is-default-virt-class=true) wins, then the one with the preset's name,
    then the first by name. RV(adopted) and RV(adoption_reason) say what was found and why. Mutable differences
    of the adopted class (O(allow_volume_expansion), O(annotations)) are merge-patched as usual.
  - When no class qualifies, the class is created (or managed) under the preset's name.
  - When a later write fails after earlier ones succeeded (another class of O(classes), or the create after a
    O(recreate) delete), the failure names what was already done, with RV(half_done) and RV(done); running the
    task again finishes.
options:
  preset:
    description:
      - The role of the class.
      - V(vm_block) RWX block VM disks; C(repl) 3, V(WaitForFirstConsumer), expansion; default name
        C(px-rwx-block-kubevirt). The documents also spell it C(px-rwx-block-kubvirt) (the name in Portworx's
        class listing); new classes use the spelling of the documents' YAML, and O(discover) adopts an existing
        class of either spelling (or any other name) that already is this preset.
      - V(vm_file) sharedv4 (NFS, C(vers=3.0,nolock)) RWX Filesystem VM disks; C(repl) 3, V(WaitForFirstConsumer),
        expansion; default name C(portworx-rwx-kubevirt).
      - V(cdi_scratch) CDI scratch space; C(repl) 1, sharedv4 with C(vers=3.0,nolock) so that it gives Filesystem
        volumes, V(Immediate), V(Delete), expansion; default name C(px-cdi-scratch).
      - V(vm_state) persistent VM state such as vTPM; C(repl) 3, V(Retain), V(Immediate), expansion; default name
        C(vmstate).
      - V(migration) the MTV target class; C(repl) 3, V(Immediate), expansion; default name C(mtv-storage).
      - Required unless O(classes) is given.
    type: str
    choices: [vm_block, vm_file, cdi_scratch, vm_state, migration]
  name:
    description:
      - Name of the StorageClass, a DNS-1123 subdomain. A given name is always used as it is, with no discovery; an
        empty name is refused (leave the option out to use the preset's name).
      - When omitted, an existing class that already is the preset is adopted (see O(discover)); otherwise the
        preset's name (see O(preset)) is used.
    type: str
  discover:
    description:
      - Without O(name), adopt an existing class that already is the preset (same Portworx provisioner, parameters,
        reclaim policy and binding mode; for V(vm_block) also a StorageProfile offering ReadWriteMany Block)
        before falling back to the preset's name.
      - V(false) always uses the preset's name, which may create a second class next to a preinstalled one.
      - Ignored when O(name) is given.
    type: bool
    default: true
  repl:
    description:
      - Portworx replication factor, 1 to 3. Defaults to the preset's value.
      - V(vm_state) needs at least 2.
    type: int
  parameters:
    description:
      - Extra Portworx StorageClass parameters passed through as strings, for example C(io_profile) or
        C(priority_io). Numbers are taken as their text; lists, maps, booleans and null are refused (quote them,
        for example V("true") or V("vers=3.0,nolock")). They override the preset's parameters of the same name; O(repl) overrides C(repl).
    type: dict
    default: {}
  volume_binding_mode:
    description:
      - Overrides the preset's binding mode.
      - V(migration) must stay V(Immediate); V(vm_block) and V(vm_file) warn unless V(WaitForFirstConsumer).
    type: str
    choices: [Immediate, WaitForFirstConsumer]
  reclaim_policy:
    description:
      - Overrides the preset's reclaim policy. V(vm_state) must keep V(Retain).
    type: str
    choices: [Delete, Retain]
  allow_volume_expansion:
    description:
      - Overrides the preset's C(allowVolumeExpansion) (true for every preset).
    type: bool
  annotations:
    description:
      - Annotations to set on the class, for example C(storageclass.kubevirt.io/is-default-virt-class).
        To choose the default virtualization class use M(ocpvirt.portworx.virt_default_storage_class), which keeps
        exactly one default.
      - Values must be strings (numbers are taken as their text); lists, maps, booleans and null are refused.
    type: dict
    default: {}
  classes:
    description:
      - Several classes in one module run, each item taking the per-class options O(preset) (required), O(name),
        O(discover), O(repl), O(parameters), O(volume_binding_mode), O(reclaim_policy),
        O(allow_volume_expansion) and O(annotations) with the same meaning as above; O(recreate) and the wait
        options apply to every item.
      - Every item is validated and planned before the first write, so a refusal of any item (its rules, or an
        immutable difference without O(recreate)) leaves every class untouched.
      - One process for all the classes instead of one per class. Results are in RV(classes).
      - Mutually exclusive with O(preset) and the other per-class options; O(parameters), O(annotations) or
        O(discover=false) beside O(classes) are refused (set them per item).
    type: list
    elements: dict
  recreate:
    description:
      - When the existing class differs in an immutable field, delete it and create it again with the wanted
        values. Existing PersistentVolumes keep the settings they were provisioned with.
    type: bool
    default: false
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ocpvirt.portworx.common.WAIT
notes:
  - With O(wait=true) the module waits until CDI has created the class's StorageProfile and reports claim property
    sets for it. Clusters without CDI (no C(cdi.kubevirt.io) API) skip that wait with a warning.
  - Supports check mode (every write is a server-side dry run) and diff mode. Transient API errors are retried.
"""

EXAMPLES = r"""
- name: Create the RWX block class for VM disks
  ocpvirt.portworx.portworx_storage_class:
    preset: vm_block

- name: Create the CDI scratch class
  ocpvirt.portworx.portworx_storage_class:
    preset: cdi_scratch

- name: Create the vTPM state class with two replicas
  ocpvirt.portworx.portworx_storage_class:
    preset: vm_state
    repl: 2

- name: Create the MTV target class with an I/O profile
  ocpvirt.portworx.portworx_storage_class:
    preset: migration
    parameters:
      io_profile: db_remote

- name: Manage the RWX block class Portworx preinstalled (px-rwx-block-kubvirt) instead of creating another one
  ocpvirt.portworx.portworx_storage_class:
    preset: vm_block
  register: vm_class
  # vm_class.name is the class actually managed; vm_class.adopted and vm_class.adoption_reason say why

- name: Always use the preset's name, even next to a preinstalled class of the same kind
  ocpvirt.portworx.portworx_storage_class:
    preset: vm_block
    discover: false

# Name the class: with repl 2 the existing repl 3 class is no longer "the preset", so discovery would not find it.
- name: Change the replication of an existing class (deletes and re-creates it; existing volumes keep theirs)
  ocpvirt.portworx.portworx_storage_class:
    preset: vm_block
    name: px-rwx-block-kubvirt
    repl: 2
    recreate: true
"""

RETURN = r"""
storage_class:
  description: The StorageClass as it is after the run (as it would be, in check mode).
  returned: always
  type: dict
  sample: {"metadata": {"name": "px-rwx-block-kubevirt"}, "provisioner": "pxd.portworx.com", "parameters": {"repl": "3"},
           "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": true}
claim_property_sets:
  description:
    - The C(status.claimPropertySets) of the class's CDI StorageProfile; empty when the profile does not exist
      (yet), for example in check mode for a new class.
  returned: always
  type: list
  elements: dict
  sample: [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}]
storage_profile:
  description: The class's StorageProfile, or an empty dict when there is none (yet).
  returned: always
  type: dict
outcome:
  description: What the module did to the class.
  returned: always
  type: str
  sample: created
  choices: [created, patched, recreated, unchanged]
immutable_differences:
  description:
    - Each immutable field in which the existing class differs from the wanted one, with its C(current) and
      C(wanted) value. Returned with the refusal, and after a re-creation.
  returned: when the existing class differs in an immutable field
  type: dict
  sample: {"parameters": {"current": {"repl": "3"}, "wanted": {"repl": "2"}}}
name:
  description: The name of the StorageClass the module managed (adopted, given or the preset's).
  returned: always
  type: str
  sample: px-rwx-block-kubvirt
adopted:
  description:
    - Whether an existing class that already is the preset was adopted (O(discover) without O(name)). V(false)
      when O(name) was given, when discovery was off, or when no class qualified.
  returned: always
  type: bool
  sample: true
adoption_reason:
  description: Why the class was adopted, and why it was chosen over other candidates; or why none qualified.
  returned: when O(name) was omitted and O(discover=true)
  type: str
  sample: "px-rwx-block-kubvirt already is the vm_block preset (Portworx provisioner, the preset's parameters,
    reclaimPolicy and volumeBindingMode, and a StorageProfile offering ReadWriteMany/Block)"
adoption_candidates:
  description: Every existing class that qualified for adoption, best first (the first one was adopted).
  returned: when O(name) was omitted and O(discover=true)
  type: list
  elements: str
  sample: ["px-rwx-block-kubvirt"]
classes:
  description:
    - With O(classes), one result per item, in order, each with RV(preset), RV(name), RV(adopted),
      RV(outcome), RV(storage_class), RV(storage_profile), RV(claim_property_sets) and, when discovery ran,
      RV(adoption_reason) and RV(adoption_candidates). The top-level results of a single class are not returned then.
  returned: when O(classes) is given
  type: list
  elements: dict
  sample: [{"preset": "vm_block", "name": "px-rwx-block-kubvirt", "adopted": true, "outcome": "unchanged"}]
preset:
  description: The preset of the class (in each item of RV(classes)).
  returned: in each item of RV(classes)
  type: str
  sample: vm_block
retries:
  description: How many transient API errors were retried.
  returned: when there were any
  type: int
half_done:
  description: True when a write failed after earlier writes of the same task had succeeded.
  returned: when a later write failed
  type: bool
done:
  description: The classes already created, patched or recreated (C(StorageClass fm-a created)), or the
    class deleted for re-creation and not created again.
  returned: when a later write failed
  type: list
  elements: str
  sample: ["StorageClass px-cdi-scratch created"]
"""

import copy

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import CDI_API, STORAGE_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure, Refusal, half_done
from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import OcpVirtModule
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage_class_plan import (
    ARGUMENT_SPEC,
    CLASS_ARGUMENT_SPEC,
    OPTION_RULES,
    PER_CLASS_OPTIONS,
    REQUIRED_PROFILE_MODES,
    class_plan,
    needs_discovery,
    profile_ready,
    wanted_class,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage_class_presets import comparable
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import describe_name


class PortworxStorageClassModule(OcpVirtModule):
    option_rules = OPTION_RULES

    def option_subject(self):
        if self.params["name"] is None:
            return "StorageClass of preset {0}".format(self.params["preset"])
        return "StorageClass {0}".format(describe_name(self.params["name"]))

    def execute_module(self):
        if self.params["classes"] is None:
            self.result.update(self._apply(self._plan(self.params)))
            return
        if self.params["parameters"] or self.params["annotations"] or not self.params["discover"]:
            raise Refusal("classes", "parameters, annotations and discover are per-class options",
                          "Set them in each item of classes instead of beside it.")
        items = [self._class_options(index, item) for index, item in enumerate(self.params["classes"])]
        # Every item is planned (and may be refused) before the first write.
        plans = [self._plan(options) for options in items]
        results = []
        for plan in plans:
            try:
                results.append(self._apply(plan))
            except ModuleFailure as failure:
                done = ["StorageClass {0} {1}".format(r["name"], r["outcome"]) for r in results if r["outcome"] != "unchanged"]
                self.result["classes"] = results
                raise half_done(failure, done, "The other classes were not applied; run the task again to finish")
        self.result["classes"] = results
        self.set_diff(dict((r["name"], comparable(plan["existing"])) for plan, r in zip(plans, results)),
                      dict((r["name"], comparable(r["storage_class"])) for r in results))

    def _class_options(self, index, item):
        """One item of ``classes`` validated like the single-class options, with their defaults."""
        validated = ArgumentSpecValidator(CLASS_ARGUMENT_SPEC).validate(item)
        if validated.error_messages:
            raise Refusal("classes[{0}] ({1})".format(index, (item or {}).get("preset", "no preset")),
                          "; ".join(validated.error_messages),
                          "Give each item a preset and only the per-class options of this module.")
        options = validated.validated_parameters
        options["recreate"] = self.params["recreate"]
        return options

    def _plan(self, params):
        """What to do for one class: its wanted state, the existing class and the action; raises a Refusal."""
        storage_classes = profiles = None
        if needs_discovery(params):
            if params["preset"] in REQUIRED_PROFILE_MODES and self.cluster.served(CDI_API, "StorageProfile"):
                profiles = dict((p["metadata"]["name"], p) for p in self.cluster.list(CDI_API, "StorageProfile"))
            storage_classes = self.cluster.list(STORAGE_API, "StorageClass")
        wanted, report, warnings = wanted_class(params, storage_classes, profiles)
        existing = self.cluster.get(STORAGE_API, "StorageClass", wanted["metadata"]["name"])
        plan, more_warnings = class_plan(params, wanted, report, existing)
        for warning in warnings + more_warnings:
            self.warn(warning)
        return plan

    def _apply(self, plan):
        """Carries out one plan (at most one write per changed class) and returns that class's report."""
        report, wanted, existing, action = plan["report"], plan["wanted"], plan["existing"], plan["action"]
        name = wanted["metadata"]["name"]
        if action == "create":
            result, report["outcome"] = self.cluster.create(wanted), "created"
        elif action == "recreate":
            result, report["outcome"] = self._recreate(existing, wanted), "recreated"
        elif action == "patch":
            result, report["outcome"] = self.cluster.patch(STORAGE_API, "StorageClass", name, plan["patch"]), "patched"
        else:
            result, report["outcome"] = existing, "unchanged"
        if action != "none":
            self.changed()
        if self.params["classes"] is None:
            self.set_diff(comparable(existing), comparable(result))
        report["storage_class"] = result
        profile = self._storage_profile(result)
        report["storage_profile"] = profile or {}
        report["claim_property_sets"] = ((profile or {}).get("status") or {}).get("claimPropertySets") or []
        return report

    def _recreate(self, existing, wanted):
        name = wanted["metadata"]["name"]
        self.cluster.delete(STORAGE_API, "StorageClass", name)
        self.changed()
        if self.check_mode:
            # The dry-run delete left the class in place, so a dry-run create would only answer AlreadyExists.
            preview = copy.deepcopy(wanted)
            preview["metadata"] = dict(existing.get("metadata") or {}, **wanted["metadata"])
            return preview
        try:
            self.waiter().until(
                "StorageClass {0} to be deleted".format(name),
                lambda: (self.cluster.get(STORAGE_API, "StorageClass", name) is None, "still present"),
            )
            return self.cluster.create(wanted)
        except ModuleFailure as failure:
            raise half_done(failure, ["StorageClass {0} deleted for re-creation and not created again".format(name)],
                            "Run the task again to create it")

    def _storage_profile(self, storage_class):
        name = storage_class["metadata"]["name"]
        if not self.cluster.served(CDI_API, "StorageProfile"):
            self.warn("The cluster does not serve CDI StorageProfiles (is OpenShift Virtualization installed?); "
                      "the claim property sets of {0} are unknown.".format(name))
            return None
        if not self.wait_enabled:
            return self.cluster.get(CDI_API, "StorageProfile", name)

        return self.waiter().until("CDI to report the claim property sets of StorageProfile {0}".format(name),
                                   lambda: profile_ready(self.cluster.get(CDI_API, "StorageProfile", name), storage_class))


def main():
    PortworxStorageClassModule(
        argument_spec=copy.deepcopy(ARGUMENT_SPEC),
        required_one_of=[("preset", "classes")],
        mutually_exclusive=[("classes", option) for option in PER_CLASS_OPTIONS],
    ).run()


if __name__ == "__main__":
    main()
