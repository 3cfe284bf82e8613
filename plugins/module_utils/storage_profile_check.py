# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan and verify a CDI StorageProfile, and judge whether a class is fit for VM disks.

CDI accepts any ``claimPropertySets`` in a profile's spec and copies them to its status; a mode the
provisioner cannot give only fails later, when a DataVolume's PVC never binds. So the modes are
checked here against what the provisioner can give, using CDI's own knowledge of Portworx
(``pxd.portworx.com`` gives every access/volume mode pair, except when its class asks for NFS-style
``sharedv4`` volumes or a Pure FlashArray backend).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage import (
    claim_property_sets,
    offers,
)

RWO, RWX, ROX = "ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"
BLOCK, FILESYSTEM = "Block", "Filesystem"
CLONE_STRATEGIES = ("csi-clone", "snapshot", "copy")
SOURCE_FORMATS = ("pvc", "snapshot")
DEFAULT_CLAIM_PROPERTY_SETS = [{"accessModes": [RWX], "volumeMode": BLOCK}]

_ALL_PAIRS = frozenset([(RWX, BLOCK), (RWX, FILESYSTEM), (RWO, BLOCK), (RWO, FILESYSTEM)])
_FILE_PAIRS = frozenset([(RWX, FILESYSTEM), (RWO, FILESYSTEM)])
_PURE_BLOCK_PAIRS = frozenset([(RWX, BLOCK), (RWO, BLOCK), (RWO, FILESYSTEM)])


def provisioner_capabilities(storage_class):
    """The ``(access_mode, volume_mode)`` pairs the class's provisioner can give, or None if unknown."""
    provisioner = (storage_class or {}).get("provisioner")
    parameters = (storage_class or {}).get("parameters") or {}
    if provisioner not in ("pxd.portworx.com", "kubernetes.io/portworx-volume"):
        return None
    backend = parameters.get("backend")
    if provisioner == "pxd.portworx.com" and backend == "pure_block":
        return _PURE_BLOCK_PAIRS
    if provisioner == "pxd.portworx.com" and backend == "pure_fa_file":
        return _FILE_PAIRS
    options = [opt.strip() for opt in str(parameters.get("sharedv4_mount_options", "")).split(",")]
    if "vers=3.0" in options and "nolock" in options:
        return _FILE_PAIRS
    return _ALL_PAIRS


def normalize_sets(sets):
    """Claim property sets in the API's shape; an omitted volume mode means Filesystem."""
    normalized = []
    for entry in sets or []:
        normalized.append({
            "accessModes": list(entry.get("accessModes") or entry.get("access_modes") or []),
            "volumeMode": entry.get("volumeMode") or entry.get("volume_mode") or FILESYSTEM,
        })
    return normalized


def unsupported_pairs(storage_class, sets):
    """The requested pairs the provisioner cannot give (empty when all fit or when it is unknown)."""
    capabilities = provisioner_capabilities(storage_class)
    if capabilities is None:
        return []
    missing = []
    for entry in normalize_sets(sets):
        for mode in entry["accessModes"]:
            pair = (mode, entry["volumeMode"])
            if pair not in capabilities and pair not in missing:
                missing.append(pair)
    return missing


def desired_spec(claim_property_sets_wanted, clone_strategy=None, source_format=None):
    spec = {"claimPropertySets": normalize_sets(claim_property_sets_wanted)}
    if clone_strategy:
        spec["cloneStrategy"] = clone_strategy
    if source_format:
        spec["dataImportCronSourceFormat"] = source_format
    return spec


def spec_patch(profile, wanted):
    """The merge patch that makes the profile's spec hold ``wanted`` (empty when it already does)."""
    current = (profile or {}).get("spec") or {}
    patch = {}
    if normalize_sets(current.get("claimPropertySets")) != wanted["claimPropertySets"]:
        patch["claimPropertySets"] = wanted["claimPropertySets"]
    for field in ("cloneStrategy", "dataImportCronSourceFormat"):
        if field in wanted and current.get(field) != wanted[field]:
            patch[field] = wanted[field]
    return {"spec": patch} if patch else {}


def status_reflects(profile, wanted):
    """Whether CDI has reconciled ``wanted`` into the profile's status."""
    status = (profile or {}).get("status") or {}
    if normalize_sets(status.get("claimPropertySets")) != wanted["claimPropertySets"]:
        return False
    return all(status.get(field) == wanted[field] for field in ("cloneStrategy", "dataImportCronSourceFormat") if field in wanted)


def missing_for_vm_use(profile):
    """What a profile lacks for VM disks that can live-migrate and clone fast.

    ``RWX`` (live migration), ``Block`` (boot sources are imported only to RWX Block by default)
    and ``cloneStrategy`` (the storage checkup expects an explicit, efficient clone method).
    """
    missing = []
    if not offers(profile, RWX):
        missing.append("RWX")
    if not offers(profile, RWX, BLOCK):
        missing.append("Block")
    status = (profile or {}).get("status") or {}
    if not status.get("cloneStrategy"):
        missing.append("cloneStrategy")
    return missing


def profile_summary(profile, storage_class=None):
    """One profile as the info module reports it."""
    status = (profile or {}).get("status") or {}
    metadata = (profile or {}).get("metadata") or {}
    missing = missing_for_vm_use(profile)
    return {
        "name": metadata.get("name"),
        "provisioner": status.get("provisioner") or (storage_class or {}).get("provisioner"),
        "storage_class_exists": storage_class is not None,
        "claim_property_sets": status.get("claimPropertySets") or [],
        "clone_strategy": status.get("cloneStrategy"),
        "data_import_cron_source_format": status.get("dataImportCronSourceFormat"),
        "modes": ["{0}/{1}".format(a, v) for a, v in claim_property_sets(profile)],
        "missing_for_vm_use": missing,
        "ready_for_vms": not missing,
        "spec": (profile or {}).get("spec") or {},
    }
