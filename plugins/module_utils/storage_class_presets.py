# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Portworx StorageClasses an OpenShift Virtualization cluster needs, as named presets.

Each preset carries the values of the architecture documents (steps.md section 2) and the rules a
class of that role must keep (for example a CDI scratch class must give Filesystem volumes).
:func:`desired_class` turns a preset plus the user's overrides into a StorageClass,
:func:`check` lists what is wrong (errors) or unwise (warnings) with it, and :func:`compare` says
how an existing class differs: immutable fields need delete + create, the rest a merge patch.
:func:`adoption_candidates` and :func:`choose_adoption` find an existing class that already *is*
a preset (Portworx preinstalls its RWX block class as ``px-rwx-block-kubvirt``, the documents' YAML
says ``px-rwx-block-kubevirt``): the class is recognised by what it is, never by its name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import STORAGE_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage import (
    PORTWORX_PROVISIONERS,
    VIRT_DEFAULT_ANNOTATION,
    is_annotated_default,
    is_portworx,
    is_sharedv4,
    offers,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage_profile_check import (
    BLOCK,
    FILESYSTEM,
    RWX,
    provisioner_capabilities,
)

PROVISIONER = "pxd.portworx.com"
NFS_MOUNT_OPTIONS = "vers=3.0,nolock"
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"
IMMEDIATE = "Immediate"

# The apiserver rejects updates of these StorageClass fields.
IMMUTABLE_FIELDS = ("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode")

# Defaults the apiserver fills in when a StorageClass omits them.
API_DEFAULTS = {"reclaimPolicy": "Delete", "volumeBindingMode": IMMEDIATE}

# ``px-rwx-block-kubevirt`` is the spelling of the document's YAML; its class listing says
# ``px-rwx-block-kubvirt`` (no "e"), which is what a preinstalled Portworx may have created.
PRESETS = {
    "vm_block": {
        "name": "px-rwx-block-kubevirt",
        "parameters": {"repl": "3"},
        "volumeBindingMode": WAIT_FOR_FIRST_CONSUMER,
        "reclaimPolicy": "Delete",
        "allowVolumeExpansion": True,
    },
    "vm_file": {
        "name": "portworx-rwx-kubevirt",
        "parameters": {"repl": "3", "sharedv4": "true", "sharedv4_mount_options": NFS_MOUNT_OPTIONS},
        "volumeBindingMode": WAIT_FOR_FIRST_CONSUMER,
        "reclaimPolicy": "Delete",
        "allowVolumeExpansion": True,
    },
    "cdi_scratch": {
        "name": "px-cdi-scratch",
        "parameters": {"repl": "1", "sharedv4": "true", "sharedv4_mount_options": NFS_MOUNT_OPTIONS},
        "volumeBindingMode": IMMEDIATE,
        "reclaimPolicy": "Delete",
        "allowVolumeExpansion": True,
    },
    "vm_state": {
        "name": "vmstate",
        "parameters": {"repl": "3"},
        "volumeBindingMode": IMMEDIATE,
        "reclaimPolicy": "Retain",
        "allowVolumeExpansion": True,
    },
    "migration": {
        "name": "mtv-storage",
        "parameters": {"repl": "3"},
        "volumeBindingMode": IMMEDIATE,
        "reclaimPolicy": "Delete",
        "allowVolumeExpansion": True,
    },
}


def desired_class(preset, name=None, repl=None, parameters=None, volume_binding_mode=None,
                  reclaim_policy=None, allow_volume_expansion=None, annotations=None):
    """The StorageClass a preset plus overrides describes (``None`` means "the preset's value")."""
    values = PRESETS[preset]
    merged_parameters = dict(values["parameters"])
    merged_parameters.update(dict((str(k), str(v)) for k, v in (parameters or {}).items()))
    if repl is not None:
        merged_parameters["repl"] = str(repl)
    metadata = {"name": name or values["name"]}
    if annotations:
        metadata["annotations"] = dict((str(k), str(v)) for k, v in annotations.items())
    return {
        "apiVersion": STORAGE_API,
        "kind": "StorageClass",
        "metadata": metadata,
        "provisioner": PROVISIONER,
        "parameters": merged_parameters,
        "reclaimPolicy": reclaim_policy or values["reclaimPolicy"],
        "volumeBindingMode": volume_binding_mode or values["volumeBindingMode"],
        "allowVolumeExpansion": values["allowVolumeExpansion"] if allow_volume_expansion is None else bool(allow_volume_expansion),
    }


def gives_filesystem_only(storage_class):
    """Whether the class is an NFS-style sharedv4 class: Portworx shares it, CDI offers it as Filesystem only."""
    capabilities = provisioner_capabilities(storage_class) or ()
    return is_sharedv4(storage_class) and bool(capabilities) and all(volume_mode == FILESYSTEM for _access_mode, volume_mode in capabilities)


def check(preset, storage_class):
    """``(errors, warnings)`` for a class built from ``preset``; errors are refusals."""
    errors, warnings = [], []
    name = storage_class["metadata"]["name"]
    parameters = storage_class.get("parameters") or {}
    binding = storage_class.get("volumeBindingMode")
    reclaim = storage_class.get("reclaimPolicy")
    if not is_portworx(storage_class):
        errors.append("the provisioner must be {0}, not {1}".format(" or ".join(PORTWORX_PROVISIONERS), storage_class.get("provisioner")))
    repl = _as_int(parameters.get("repl"))
    if repl is None or not 1 <= repl <= 3:
        errors.append("repl must be 1, 2 or 3 (Portworx keeps at most three replicas), not {0!r}".format(parameters.get("repl")))
    if preset == "vm_state":
        if repl is not None and repl < 2:
            errors.append("a VM state (vTPM) class needs repl >= 2 so that the state survives a node loss")
        if reclaim != "Retain":
            errors.append("a VM state (vTPM) class needs reclaimPolicy Retain, not {0}".format(reclaim))
    if preset == "cdi_scratch" and not gives_filesystem_only(storage_class):
        errors.append("a CDI scratch class must give Filesystem volumes: keep sharedv4 \"true\" with sharedv4_mount_options {0}".format(NFS_MOUNT_OPTIONS))
    if preset == "migration" and binding != IMMEDIATE:
        errors.append("an MTV migration class must bind Immediate (MTV creates its volumes before any consumer), not {0}".format(binding))
    if preset in ("vm_block", "vm_file") and binding != WAIT_FOR_FIRST_CONSUMER:
        warnings.append(
            "StorageClass {0} binds {1}: VM disk classes should use WaitForFirstConsumer so that volumes are placed "
            "where the VM is scheduled".format(name, binding)
        )
    return errors, warnings


def _as_int(value):
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _effective(storage_class, field):
    value = storage_class.get(field)
    if value is None:
        return API_DEFAULTS.get(field, {} if field == "parameters" else None)
    return value


def compare(existing, desired):
    """How ``existing`` differs from ``desired``.

    Returns ``(immutable, patch)``: ``immutable`` maps each differing immutable field to
    ``{"current": ..., "wanted": ...}``; ``patch`` is the merge patch for the mutable fields
    (``allowVolumeExpansion`` and the wanted annotations; other annotations are left alone), or
    an empty dict.
    """
    immutable = {}
    for field in IMMUTABLE_FIELDS:
        current, wanted = _effective(existing, field), _effective(desired, field)
        if current != wanted:
            immutable[field] = {"current": current, "wanted": wanted}
    patch = {}
    if bool(existing.get("allowVolumeExpansion")) != bool(desired.get("allowVolumeExpansion")):
        patch["allowVolumeExpansion"] = bool(desired.get("allowVolumeExpansion"))
    current_annotations = (existing.get("metadata") or {}).get("annotations") or {}
    wanted_annotations = (desired.get("metadata") or {}).get("annotations") or {}
    changed = dict((k, v) for k, v in wanted_annotations.items() if current_annotations.get(k) != v)
    if changed:
        patch["metadata"] = {"annotations": changed}
    return immutable, patch


def comparable(storage_class):
    """The fields this collection manages, for ``--diff`` and for the return value."""
    if not storage_class:
        return {}
    view = dict((field, copy.deepcopy(_effective(storage_class, field))) for field in IMMUTABLE_FIELDS)
    view["allowVolumeExpansion"] = bool(storage_class.get("allowVolumeExpansion"))
    metadata = storage_class.get("metadata") or {}
    view["metadata"] = {"name": metadata.get("name"), "annotations": dict(metadata.get("annotations") or {})}
    return view


# The access and volume mode the class's CDI StorageProfile must offer before a class can be
# adopted as the preset; presets not named here are recognised by the class alone.
REQUIRED_PROFILE_MODES = {"vm_block": (RWX, BLOCK)}


def _normalized_value(key, value):
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    if text.lower() in ("true", "false"):
        return text.lower()
    if key.endswith("mount_options"):
        return ",".join(sorted(option.strip() for option in text.split(",") if option.strip()))
    return text


def normalized_parameters(parameters):
    """StorageClass parameters as compared for adoption: strings, booleans lower case, mount options sorted."""
    return dict((str(key), _normalized_value(str(key), value)) for key, value in (parameters or {}).items())


#: The deprecated in-tree Portworx plugin; seed 000 recommends the CSI provisioner, so a class on it is never adopted.
IN_TREE_PROVISIONER = "kubernetes.io/portworx-volume"


def same_immutable_fields(existing, desired, provisioner_must_match=True):
    """Whether ``existing`` is ``desired`` in every immutable field, the provisioner included.

    With ``provisioner_must_match=False`` any Portworx provisioner counts, which only serves to find
    in-tree look-alikes worth a warning.
    """
    if not (is_portworx(existing) and is_portworx(desired)):
        return False
    if provisioner_must_match and _effective(existing, "provisioner") != _effective(desired, "provisioner"):
        return False
    if normalized_parameters(_effective(existing, "parameters")) != normalized_parameters(_effective(desired, "parameters")):
        return False
    return all(_effective(existing, field) == _effective(desired, field) for field in ("reclaimPolicy", "volumeBindingMode"))


def adoption_candidates(preset, desired, storage_classes, profiles_by_name=None):
    """Existing classes that already are ``desired`` (the preset plus overrides), best first.

    A candidate has a Portworx provisioner and the desired parameters (after
    :func:`normalized_parameters`), reclaim policy and binding mode; for presets in
    :data:`REQUIRED_PROFILE_MODES` its StorageProfile (``profiles_by_name``, keyed by class
    name; None when CDI is not served) must also offer those modes. Order: the class annotated as
    the default virtualization class first, then the preset's own name, then by name.
    """
    required = REQUIRED_PROFILE_MODES.get(preset)
    default_name = PRESETS[preset]["name"]
    found = []
    for storage_class in storage_classes or []:
        name = (storage_class.get("metadata") or {}).get("name")
        if not name or (storage_class.get("metadata") or {}).get("deletionTimestamp"):
            continue
        if not same_immutable_fields(storage_class, desired):
            continue
        if required and not offers((profiles_by_name or {}).get(name), *required):
            continue
        found.append(storage_class)
    found.sort(key=lambda sc: (not is_annotated_default(sc, VIRT_DEFAULT_ANNOTATION),
                               sc["metadata"]["name"] != default_name, sc["metadata"]["name"]))
    return found


def in_tree_lookalikes(preset, desired, storage_classes, profiles_by_name=None):
    """Classes that would be adopted but use the deprecated in-tree provisioner: warned about, never adopted."""
    required = REQUIRED_PROFILE_MODES.get(preset)
    found = []
    for storage_class in storage_classes or []:
        name = (storage_class.get("metadata") or {}).get("name")
        if not name or storage_class.get("provisioner") != IN_TREE_PROVISIONER:
            continue
        if not same_immutable_fields(storage_class, desired, provisioner_must_match=False):
            continue
        if required and not offers((profiles_by_name or {}).get(name), *required):
            continue
        found.append(name)
    return sorted(found)


def in_tree_warning(preset, names):
    return (
        "StorageClass(es) {0} match the {1} preset but use the deprecated in-tree provisioner {2}; not adopted. "
        "Portworx recommends the CSI provisioner pxd.portworx.com: create new volumes on a CSI class and move "
        "workloads off the in-tree one".format(", ".join(names), preset, IN_TREE_PROVISIONER)
    )


def choose_adoption(preset, candidates):
    """``(storage_class or None, reason)`` for the candidates of :func:`adoption_candidates`."""
    default_name = PRESETS[preset]["name"]
    what = "the CSI provisioner pxd.portworx.com, the preset's parameters, reclaimPolicy and volumeBindingMode"
    if preset in REQUIRED_PROFILE_MODES:
        what += ", and a StorageProfile offering {0}/{1}".format(*REQUIRED_PROFILE_MODES[preset])
    if not candidates:
        return None, "no existing class has the {0} preset's fields ({1}); using the preset's name {2}".format(preset, what, default_name)
    chosen = candidates[0]
    name = chosen["metadata"]["name"]
    reason = "{0} already is the {1} preset ({2})".format(name, preset, what)
    if len(candidates) > 1:
        others = ", ".join(sc["metadata"]["name"] for sc in candidates[1:])
        if is_annotated_default(chosen, VIRT_DEFAULT_ANNOTATION):
            why = "it is annotated as the default virtualization class"
        elif name == default_name:
            why = "it carries the preset's name"
        else:
            why = "it comes first by name"
        reason += "; chosen over {0} because {1}".format(others, why)
    return chosen, reason


def adopt(desired, existing):
    """``desired`` renamed to ``existing`` with the existing immutable fields (equal after normalisation)."""
    adopted = copy.deepcopy(desired)
    adopted["metadata"]["name"] = existing["metadata"]["name"]
    for field in IMMUTABLE_FIELDS:
        if field in existing:
            adopted[field] = copy.deepcopy(existing[field])
    return adopted
