# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HyperConverged (``hco.kubevirt.io/v1beta1``) settings this collection tunes for Portworx.

:func:`wanted_spec` maps module options to the CR's spec fields, :func:`check` validates them
against the cluster's StorageClasses and StorageProfiles before anything is written,
:func:`spec_patch` builds the one merge patch, :func:`settled` reads the operator's conditions and
:func:`effect_missing` compares CDI's reconciled CDIConfig status with what was asked.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage import describe_modes, is_portworx, offers, replication_factor
from ansible_collections.ocpvirt.portworx.plugins.module_utils.waiting import condition

CDI_CONFIG_NAME = "config"
RECOMMENDED_OVERHEAD = 0.08
#: The VM state (vTPM, EFI) rule of the Portworx addendum: the state must survive a node and a deleted claim.
VM_STATE_MIN_REPLICAS = 2
VM_STATE_RECLAIM_POLICY = "Retain"
#: HCO 1.16 ignores this feature gate; the setting is spec.enableCommonBootImageImport
#: (kubevirt/hyperconverged-cluster-operator api/v1beta1/hyperconverged_types.go).
DEPRECATED_BOOT_IMAGE_GATE = "enableCommonBootImageImport"

# CDI's pattern for a Percent, narrowed to [0, 1): an overhead of 1 would leave no usable space.
_OVERHEAD_PATTERN = re.compile(r"^0(\.\d{1,3})?$")
# The CRD's pattern for a resource.Quantity (bandwidthPerMigration).
_QUANTITY_PATTERN = re.compile(
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)

LIVE_MIGRATION_FIELDS = (
    ("parallel_migrations_per_cluster", "parallelMigrationsPerCluster"),
    ("parallel_outbound_migrations_per_node", "parallelOutboundMigrationsPerNode"),
    ("bandwidth_per_migration", "bandwidthPerMigration"),
    ("completion_timeout_per_gib", "completionTimeoutPerGiB"),
    ("progress_timeout", "progressTimeout"),
    ("network", "network"),
)

# Each wait condition and the status it must have once the operator has settled.
SETTLED_CONDITIONS = (("Available", "True"), ("Progressing", "False"), ("Degraded", "False"), ("ReconcileComplete", "True"))


def wanted_spec(params):
    """The spec fields the options ask for; options left unset are not managed."""
    spec = {}
    if params.get("scratch_space_storage_class") is not None:
        spec["scratchSpaceStorageClass"] = params["scratch_space_storage_class"]
    if params.get("vm_state_storage_class") is not None:
        spec["vmStateStorageClass"] = params["vm_state_storage_class"]
    overhead = params.get("filesystem_overhead") or {}
    fs_spec = {}
    if overhead.get("global") is not None:
        fs_spec["global"] = str(overhead["global"])
    if overhead.get("storage_class"):
        fs_spec["storageClass"] = dict((str(k), str(v)) for k, v in overhead["storage_class"].items())
    if fs_spec:
        spec["filesystemOverhead"] = fs_spec
    live = params.get("live_migration") or {}
    live_spec = dict((field, live[option]) for option, field in LIVE_MIGRATION_FIELDS if live.get(option) is not None)
    if live_spec:
        spec["liveMigrationConfig"] = live_spec
    if params.get("eviction_strategy") is not None:
        spec["evictionStrategy"] = params["eviction_strategy"]
    if params.get("enable_common_boot_image_import") is not None:
        spec["enableCommonBootImageImport"] = bool(params["enable_common_boot_image_import"])
    if params.get("feature_gates"):
        spec["featureGates"] = dict((str(k), bool(v)) for k, v in params["feature_gates"].items())
    return spec


def valid_overhead(value):
    return bool(_OVERHEAD_PATTERN.match(str(value)))


def vm_state_class_problems(storage_class):
    """Why a class breaks the VM state rule (repl >= 2 on Portworx, reclaimPolicy Retain); empty when it keeps it."""
    problems = []
    if is_portworx(storage_class):
        repl = replication_factor(storage_class) or 1
        if repl < VM_STATE_MIN_REPLICAS:
            problems.append("Portworx repl {0} (needs at least {1}, so the state survives a node)".format(repl, VM_STATE_MIN_REPLICAS))
    reclaim = (storage_class or {}).get("reclaimPolicy") or "Delete"
    if reclaim != VM_STATE_RECLAIM_POLICY:
        problems.append("reclaimPolicy {0} (needs {1}, so the state survives a deleted claim)".format(reclaim, VM_STATE_RECLAIM_POLICY))
    return problems


def check(spec, classes_by_name, profiles_by_name, filesystem_vm_volumes=0, allow_unsafe_vm_state_class=False):
    """``(errors, warnings)`` for ``spec`` on a cluster with these classes and profiles.

    ``allow_unsafe_vm_state_class`` turns a VM state class that breaks the repl/Retain rule from an
    error into a warning.
    """
    errors, warnings = [], []
    if DEPRECATED_BOOT_IMAGE_GATE in (spec.get("featureGates") or {}):
        errors.append(
            "featureGates.{0} is deprecated and ignored since HCO 1.16: set enable_common_boot_image_import "
            "(spec.enableCommonBootImageImport) instead".format(DEPRECATED_BOOT_IMAGE_GATE)
        )
    scratch = spec.get("scratchSpaceStorageClass")
    if scratch:
        if scratch not in classes_by_name:
            errors.append("scratchSpaceStorageClass {0}: no such StorageClass (CDI would silently fall back to the default class)".format(scratch))
        elif not _offers_filesystem(profiles_by_name.get(scratch)):
            errors.append("scratchSpaceStorageClass {0} does not offer Filesystem volumes (its StorageProfile offers {1})".format(
                scratch, describe_modes(profiles_by_name.get(scratch))))
    vm_state = spec.get("vmStateStorageClass")
    if vm_state:
        if vm_state not in classes_by_name:
            errors.append("vmStateStorageClass {0}: no such StorageClass".format(vm_state))
        elif not _offers_filesystem(profiles_by_name.get(vm_state)):
            errors.append("vmStateStorageClass {0} offers neither RWX nor RWO Filesystem volumes (its StorageProfile offers {1})".format(
                vm_state, describe_modes(profiles_by_name.get(vm_state))))
        else:
            problems = vm_state_class_problems(classes_by_name[vm_state])
            if problems:
                text = "vmStateStorageClass {0} breaks the VM state rule: {1}".format(vm_state, "; ".join(problems))
                if allow_unsafe_vm_state_class:
                    warnings.append(text + " (accepted by allow_unsafe_vm_state_class)")
                else:
                    errors.append(text + "; use a class with repl >= 2 and reclaimPolicy Retain (preset vm_state), "
                                  "or set allow_unsafe_vm_state_class=true to accept losing VM state")
    overhead = spec.get("filesystemOverhead") or {}
    values = []
    if "global" in overhead:
        values.append(("global", overhead["global"]))
    values.extend(("storageClass." + name, value) for name, value in sorted((overhead.get("storageClass") or {}).items()))
    for where, value in values:
        if not valid_overhead(value):
            errors.append("filesystemOverhead.{0} {1!r} is not a decimal string in [0, 1) with at most 3 decimals (e.g. \"0.08\")".format(where, value))
        elif float(value) < RECOMMENDED_OVERHEAD and filesystem_vm_volumes:
            warnings.append(
                "filesystemOverhead.{0} is {1}, below the recommended {2} while {3} Filesystem VM volume(s) exist".format(
                    where, value, RECOMMENDED_OVERHEAD, filesystem_vm_volumes))
    for name in sorted(overhead.get("storageClass") or {}):
        if name not in classes_by_name:
            warnings.append("filesystemOverhead.storageClass.{0}: no such StorageClass yet; CDI ignores it until the class exists".format(name))
    live = spec.get("liveMigrationConfig") or {}
    bandwidth = live.get("bandwidthPerMigration")
    if bandwidth is not None:
        if not _QUANTITY_PATTERN.match(str(bandwidth)):
            errors.append("liveMigrationConfig.bandwidthPerMigration {0!r} is not a quantity such as 64Mi".format(bandwidth))
        else:
            warnings.append("liveMigrationConfig.bandwidthPerMigration caps every migration at {0}/s; "
                            "the architecture guide advises against capping".format(bandwidth))
    for field in ("parallelMigrationsPerCluster", "parallelOutboundMigrationsPerNode", "completionTimeoutPerGiB", "progressTimeout"):
        if field in live and int(live[field]) < 1:
            errors.append("liveMigrationConfig.{0} must be at least 1, not {1}".format(field, live[field]))
    return errors, warnings


def _offers_filesystem(profile):
    return offers(profile, "ReadWriteMany", "Filesystem") or offers(profile, "ReadWriteOnce", "Filesystem")


def _subset_differs(current, wanted):
    if isinstance(wanted, dict):
        if not isinstance(current, dict):
            return True
        return any(_subset_differs(current.get(key), value) for key, value in wanted.items())
    return current != wanted


def spec_patch(hco, spec):
    """The merge patch for the fields of ``spec`` that differ from the CR (empty when none do).

    Only what was asked for is sent; a merge patch keeps every other field, including other
    classes' overheads and other feature gates.
    """
    current = (hco or {}).get("spec") or {}
    patch = {}
    for key, value in spec.items():
        if isinstance(value, dict):
            sub = dict((k, v) for k, v in value.items() if _subset_differs((current.get(key) or {}).get(k), v))
            if sub:
                patch[key] = sub
        elif current.get(key) != value:
            patch[key] = value
    return {"spec": patch} if patch else {}


def managed_view(hco, spec):
    """The part of the CR's spec the options manage, for ``--diff``."""
    current = (hco or {}).get("spec") or {}
    view = {}
    for key, value in spec.items():
        if isinstance(value, dict):
            view[key] = dict((k, (current.get(key) or {}).get(k)) for k in value)
        else:
            view[key] = current.get(key)
    return view


def settled(hco):
    """``(done, state)``: whether the operator finished reconciling the current generation."""
    metadata = (hco or {}).get("metadata") or {}
    status = (hco or {}).get("status") or {}
    state = dict((ctype, condition(hco, ctype).get("status", "Unknown")) for ctype, _wanted in SETTLED_CONDITIONS)
    degraded = condition(hco, "Degraded")
    if degraded.get("status") == "True":
        state["degraded_message"] = degraded.get("message")
    observed = status.get("observedGeneration")
    fresh = observed is None or metadata.get("generation") is None or observed >= metadata.get("generation")
    done = fresh and all(state[ctype] == wanted for ctype, wanted in SETTLED_CONDITIONS)
    return done, state


def effect_missing(spec, cdi_config):
    """What of ``spec`` CDI has not (yet) reflected in CDIConfig ``status``; empty when all is seen."""
    status = (cdi_config or {}).get("status") or {}
    missing = []
    scratch = spec.get("scratchSpaceStorageClass")
    if scratch and status.get("scratchSpaceStorageClass") != scratch:
        missing.append("scratchSpaceStorageClass is {0!r}, not {1!r}".format(status.get("scratchSpaceStorageClass"), scratch))
    overhead = spec.get("filesystemOverhead") or {}
    observed = status.get("filesystemOverhead") or {}
    if "global" in overhead and str(observed.get("global")) != overhead["global"]:
        missing.append("filesystemOverhead.global is {0!r}, not {1!r}".format(observed.get("global"), overhead["global"]))
    per_class = observed.get("storageClass") or {}
    for name, value in sorted((overhead.get("storageClass") or {}).items()):
        # CDI reports an overhead only for classes that exist.
        if name in per_class and str(per_class[name]) != value:
            missing.append("filesystemOverhead.storageClass.{0} is {1!r}, not {2!r}".format(name, per_class[name], value))
    return missing


def observed_effect(cdi_config):
    status = (cdi_config or {}).get("status") or {}
    return {
        "scratch_space_storage_class": status.get("scratchSpaceStorageClass"),
        "filesystem_overhead": status.get("filesystemOverhead") or {},
    }


def filesystem_vm_volumes(pvcs):
    """How many PVCs are Filesystem VM disks (created by CDI for a DataVolume) and so pay the overhead."""
    count = 0
    for pvc in pvcs or []:
        if ((pvc.get("spec") or {}).get("volumeMode") or "Filesystem") != "Filesystem":
            continue
        owners = (pvc.get("metadata") or {}).get("ownerReferences") or []
        if any(owner.get("kind") == "DataVolume" for owner in owners):
            count += 1
    return count
