# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which PersistentVolumeClaim holds a VirtualMachine's disk.

A disk in ``spec.template.spec.domain.devices.disks`` names a volume in
``spec.template.spec.volumes``; a ``dataVolume`` volume is backed by the claim of the same name as
the DataVolume, a ``persistentVolumeClaim`` volume names its claim directly. Other volume kinds
(containerDisk, cloudInitNoCloud, ...) have no claim and cannot be grown.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.cluster import describe
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Refusal


def _template_spec(vm):
    return (((vm.get("spec") or {}).get("template") or {}).get("spec")) or {}


def disk_names(vm):
    spec = _template_spec(vm)
    return [d.get("name") for d in ((spec.get("domain") or {}).get("devices") or {}).get("disks") or []]


class DiskClaim(object):
    def __init__(self, disk, claim, data_volume=None):
        self.disk = disk
        self.claim = claim
        self.data_volume = data_volume

    def facts(self):
        return {"disk": self.disk, "claim": self.claim, "data_volume": self.data_volume}


def resolve_disk_claim(vm, disk):
    """The :class:`DiskClaim` behind ``disk`` of ``vm``; a Refusal when it has none."""
    subject = describe("VirtualMachine", vm["metadata"]["name"], vm["metadata"].get("namespace"))
    names = disk_names(vm)
    volumes = {v.get("name"): v for v in _template_spec(vm).get("volumes") or []}
    if disk not in names and disk not in volumes:
        raise Refusal(
            subject,
            "it has no disk named {0}".format(disk),
            "Use one of its disks: {0}.".format(", ".join(n for n in names if n) or "(none)"),
        )
    volume = volumes.get(disk)
    if volume is None:
        raise Refusal(subject, "disk {0} has no volume of the same name".format(disk), "Fix the VM spec: every disk needs a volume.")
    if volume.get("dataVolume"):
        name = volume["dataVolume"].get("name")
        return DiskClaim(disk, name, data_volume=name)
    if volume.get("persistentVolumeClaim"):
        return DiskClaim(disk, volume["persistentVolumeClaim"].get("claimName"))
    kinds = sorted(k for k in volume if k != "name")
    raise Refusal(
        subject,
        "disk {0} is a {1} volume, not a PersistentVolumeClaim or DataVolume, so there is no volume to grow".format(disk, "/".join(kinds)),
        "Only disks backed by a PersistentVolumeClaim or DataVolume can be expanded.",
    )
