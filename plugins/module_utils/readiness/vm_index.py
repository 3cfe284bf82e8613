# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which claims and StorageClasses each VM uses, indexed once for every rule that needs it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.objects import (
    by_name,
    by_namespaced_name,
    dig,
    name_of,
    namespace_of,
)


def volume_claim_name(volume):
    """The claim a VM volume uses: its DataVolume's claim (same name) or its PVC; else None."""
    if volume.get("dataVolume"):
        return volume["dataVolume"].get("name")
    if volume.get("persistentVolumeClaim"):
        return volume["persistentVolumeClaim"].get("claimName")
    return None


def template_storage_class(vm, dv_name):
    for template in dig(vm, "spec", "dataVolumeTemplates") or []:
        if name_of(template) == dv_name:
            spec = template.get("spec") or {}
            return (spec.get("storage") or spec.get("pvc") or {}).get("storageClassName")
    return None


class FleetIndex(object):
    """Claims, classes and VMIs by name, built from the gathered facts."""

    def __init__(self, facts):
        self.classes = by_name(facts.get("storage_classes"))
        self.profiles = by_name(facts.get("storage_profiles"))
        self.claims = by_namespaced_name(facts.get("pvcs"))
        self.vmis = by_namespaced_name(facts.get("vmis"))
        self.vms = facts.get("vms") or []

    def vm_volumes(self, vm):
        """``[(volume, claim name, claim or None, class name or None)]`` for the VM's claim volumes."""
        namespace = namespace_of(vm)
        found = []
        for volume in dig(vm, "spec", "template", "spec", "volumes") or []:
            claim_name = volume_claim_name(volume)
            if not claim_name:
                continue
            claim = self.claims.get((namespace, claim_name))
            class_name = dig(claim, "spec", "storageClassName")
            if class_name is None and volume.get("dataVolume"):
                class_name = template_storage_class(vm, claim_name)
            found.append((volume, claim_name, claim, class_name))
        return found

    def vm_class_names(self):
        names = set()
        for vm in self.vms:
            for dummy, dummy2, dummy3, class_name in self.vm_volumes(vm):
                if class_name:
                    names.add(class_name)
        return names

    def vm_claims(self):
        """Every (vm, volume, claim) whose claim exists."""
        for vm in self.vms:
            for volume, dummy, claim, dummy2 in self.vm_volumes(vm):
                if claim is not None:
                    yield vm, volume, claim
