# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a StorageClass can give, read from the class and from its CDI StorageProfile.

The StorageProfile's ``status.claimPropertySets`` is CDI's own view of the access and volume modes a
class provides; it is the authority for "can this class hold VM disks", never the class name
(Portworx ships both ``px-rwx-block-kubvirt`` and ``px-rwx-block-kubevirt`` spellings).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

PORTWORX_CSI_PROVISIONER = "pxd.portworx.com"
PORTWORX_PROVISIONERS = (PORTWORX_CSI_PROVISIONER, "kubernetes.io/portworx-volume")
FILESYSTEM = "Filesystem"
#: Access modes Portworx CSI provisions as a Filesystem volume on any class: ReadWriteMany (and the other
#: multi-node modes) become sharedv4 by default, without sharedv4: "true" on the class
#: (libopenstorage/openstorage csi/controller.go, resolveSharedSpec).
PORTWORX_CSI_FILESYSTEM_MODES = ("ReadWriteOnce", "ReadWriteMany")
VIRT_DEFAULT_ANNOTATION = "storageclass.kubevirt.io/is-default-virt-class"
CLUSTER_DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def annotations(obj):
    return ((obj or {}).get("metadata") or {}).get("annotations") or {}


def is_portworx(storage_class):
    return (storage_class or {}).get("provisioner") in PORTWORX_PROVISIONERS


def replication_factor(storage_class):
    """Portworx ``repl`` as an int; None when the class does not say (Portworx then uses 1)."""
    value = ((storage_class or {}).get("parameters") or {}).get("repl")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def is_sharedv4(storage_class):
    return str(((storage_class or {}).get("parameters") or {}).get("sharedv4", "")).lower() == "true"


def is_annotated_default(obj, annotation):
    return str(annotations(obj).get(annotation, "")).lower() == "true"


def claim_property_sets(profile, source="status"):
    """The profile's claim property sets as ``[(access_mode, volume_mode), ...]``."""
    pairs = []
    for entry in ((profile or {}).get(source) or {}).get("claimPropertySets") or []:
        volume_mode = entry.get("volumeMode") or "Filesystem"
        for access_mode in entry.get("accessModes") or []:
            pairs.append((access_mode, volume_mode))
    return pairs


def offers(profile, access_mode, volume_mode=None):
    """Whether the profile offers ``access_mode`` (with ``volume_mode`` when given)."""
    return any(
        mode == access_mode and (volume_mode is None or vmode == volume_mode)
        for mode, vmode in claim_property_sets(profile)
    )


def describe_modes(profile):
    """Human list of what a profile offers, e.g. "ReadWriteMany/Block, ReadWriteOnce/Filesystem"."""
    pairs = claim_property_sets(profile)
    if not pairs:
        return "nothing (its StorageProfile has no claimPropertySets)"
    return ", ".join("{0}/{1}".format(mode, vmode) for mode, vmode in sorted(set(pairs)))


def classes_offering(storage_classes, profiles_by_name, access_mode, volume_mode=None, portworx_only=True):
    """Names of the classes whose profile offers the modes, preferring higher replication."""
    matches = [
        sc
        for sc in storage_classes
        if (is_portworx(sc) or not portworx_only)
        and offers(profiles_by_name.get(sc["metadata"]["name"]), access_mode, volume_mode)
    ]
    matches.sort(key=lambda sc: (-(replication_factor(sc) or 1), sc["metadata"]["name"]))
    return [sc["metadata"]["name"] for sc in matches]


def plain_claim_gets(storage_class, profile, access_mode, volume_mode):
    """Whether a plain PVC (not a CDI DataVolume) with these modes is provisioned by ``storage_class``.

    A StorageProfile steers only CDI DataVolumes, so it does not limit a plain claim: what counts is
    what the provisioner gives. Portworx CSI gives every Filesystem claim in
    :data:`PORTWORX_CSI_FILESYSTEM_MODES`; for other provisioners the profile is the best knowledge
    there is.
    """
    if (
        (storage_class or {}).get("provisioner") == PORTWORX_CSI_PROVISIONER
        and volume_mode == FILESYSTEM
        and access_mode in PORTWORX_CSI_FILESYSTEM_MODES
    ):
        return True
    return offers(profile, access_mode, volume_mode)


def classes_giving_plain_claims(storage_classes, profiles_by_name, access_mode, volume_mode):
    """Names of the Portworx classes that provision a plain claim with these modes, higher replication first."""
    matches = [
        sc
        for sc in storage_classes
        if is_portworx(sc) and plain_claim_gets(sc, profiles_by_name.get(sc["metadata"]["name"]), access_mode, volume_mode)
    ]
    matches.sort(key=lambda sc: (-(replication_factor(sc) or 1), sc["metadata"]["name"]))
    return [sc["metadata"]["name"] for sc in matches]
