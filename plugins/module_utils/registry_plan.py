# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The internal image registry on a Portworx volume: which class, which claim, which config.

On bare metal with Portworx there is no object storage, so the registry operator starts
``Removed``. It needs a Filesystem claim; ReadWriteMany lets two or more registry pods share it,
ReadWriteOnce limits the registry to one pod with the Recreate rollout (not for production). The
volume needs at least two Portworx replicas.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.cluster import describe
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import NO_PATCH, NotFound, Refusal
from ansible_collections.ocpvirt.portworx.plugins.module_utils.expansion import plan_expansion, requested_size, storage_class_name
from ansible_collections.ocpvirt.portworx.plugins.module_utils.quantity import compare_quantities
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage import (
    classes_giving_plain_claims,
    describe_modes,
    is_portworx,
    is_sharedv4,
    plain_claim_gets,
    replication_factor,
)

REGISTRY_NAMESPACE = "openshift-image-registry"
REGISTRY_CONFIG_NAME = "cluster"
REGISTRY_OPERATOR = "image-registry"
REGISTRY_DEPLOYMENT = "image-registry"
DEFAULT_ROUTE = "default-route"
FILESYSTEM = "Filesystem"
READ_WRITE_ONCE = "ReadWriteOnce"
MIN_PORTWORX_REPLICAS = 2
SHAREDV4_HINT = " (a class of the Portworx CSI provisioner pxd.portworx.com gives ReadWriteMany Filesystem, as sharedv4)"
#: Storage backends of the registry config; exactly one may be set.
STORAGE_BACKENDS = ("azure", "emptyDir", "gcs", "ibmcos", "oss", "pvc", "s3", "swift")


def class_name(storage_class):
    return storage_class["metadata"]["name"]


def choose_storage_class(storage_classes, profiles_by_name, access_mode, wanted=None, allow_single_replica=False):
    """The class to put the registry on: ``wanted`` checked, or the best Portworx class found.

    The registry claim is a plain PVC, so the class must provision ``access_mode`` with Filesystem
    for a plain claim (:func:`plain_claim_gets`: what the provisioner gives, not what the
    StorageProfile steers DataVolumes to); the refusal says what a class offers and names one that
    would do. Discovery only considers classes that keep enough replicas, so it never picks a class
    that the replication rule would then refuse.
    """
    by_name = dict((class_name(sc), sc) for sc in storage_classes)
    fitting = classes_giving_plain_claims(storage_classes, profiles_by_name, access_mode, FILESYSTEM)
    if not allow_single_replica:
        fitting = [name for name in fitting if enough_replicas(by_name[name])]
    # A sharedv4 class is made for shared filesystems; among equals it is the better registry home
    # (classes_giving_plain_claims already put the higher replication first, and the sort is stable).
    fitting.sort(key=lambda name: not is_sharedv4(by_name[name]))
    if wanted is None:
        if not fitting:
            offered = "; ".join(
                "{0} (repl {1}): {2}".format(name, replication_factor(by_name[name]) or 1, describe_modes(profiles_by_name.get(name)))
                for name in sorted(by_name)
                if is_portworx(by_name[name])
            )
            raise Refusal(
                "image registry storage",
                "no Portworx StorageClass with at least {0} replicas offers {1} with Filesystem volumes (offered: {2})".format(
                    MIN_PORTWORX_REPLICAS, access_mode, offered or "no Portworx classes"
                ),
                "Create a Portworx class with repl: \"3\" and sharedv4: \"true\" (for ReadWriteMany Filesystem) and set storage_class to it,"
                " or set allow_single_replica=true to accept a single replica.",
            )
        return by_name[fitting[0]]
    storage_class = by_name.get(wanted)
    if storage_class is None:
        raise NotFound("StorageClass {0}".format(wanted), "choose an existing class{0}".format(", for example " + fitting[0] if fitting else ""))
    if not plain_claim_gets(storage_class, profiles_by_name.get(wanted), access_mode, FILESYSTEM):
        raise Refusal(
            "StorageClass {0}".format(wanted),
            "its provisioner {0} is not known to give a plain {1} Filesystem claim and its StorageProfile offers {2}, "
            "which the registry needs".format(storage_class.get("provisioner"), access_mode, describe_modes(profiles_by_name.get(wanted))),
            "Use a class that does{0}.".format(": " + ", ".join(fitting) if fitting else SHAREDV4_HINT),
            offered=describe_modes(profiles_by_name.get(wanted)),
            candidates=fitting,
        )
    return storage_class


def enough_replicas(storage_class):
    return not is_portworx(storage_class) or (replication_factor(storage_class) or 1) >= MIN_PORTWORX_REPLICAS


def check_replication(storage_class, allow_single_replica):
    """Refuse a Portworx class with fewer than two volume replicas unless explicitly allowed."""
    repl = replication_factor(storage_class)
    if allow_single_replica:
        return
    if not enough_replicas(storage_class):
        raise Refusal(
            "StorageClass {0}".format(class_name(storage_class)),
            "its Portworx repl is {0}; the registry volume needs at least {1} replicas to survive a node".format(repl or "unset (1)", MIN_PORTWORX_REPLICAS),
            "Use a class with repl of 2 or 3, or set allow_single_replica=true to accept the risk.",
        )


def check_size(size):
    try:
        compare_quantities(size, "0")
    except ValueError as exc:
        raise Refusal("image registry storage", "pvc_size {0!r} is not a size".format(size), "Give a Kubernetes quantity such as 300Gi ({0}).".format(exc))


def check_replicas(replicas, access_mode):
    if replicas > 1 and access_mode == READ_WRITE_ONCE:
        raise Refusal(
            "image registry",
            "{0} replicas cannot share a ReadWriteOnce claim; the operator would report Degraded".format(replicas),
            "Use access_mode=ReadWriteMany, or replicas=1 (not for production).",
        )


def claim_definition(name, storage_class, size, access_mode):
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": REGISTRY_NAMESPACE},
        "spec": {
            "accessModes": [access_mode],
            "volumeMode": FILESYSTEM,
            "resources": {"requests": {"storage": size}},
            "storageClassName": storage_class,
        },
    }


class ClaimPlan(object):
    """Create the claim, keep it, or grow it (``expansion`` is then the shared expansion plan)."""

    def __init__(self, storage_class, definition=None, existing=None, expansion=None):
        self.storage_class = storage_class
        self.definition = definition
        self.existing = existing
        self.expansion = expansion

    @property
    def create(self):
        return self.definition is not None

    @property
    def grow(self):
        return self.expansion is not None and self.expansion.needs_patch


def plan_claim(existing, storage_classes, profiles_by_name, params):
    """Decide about the registry claim; refuses before anything is written."""
    access_mode = params["access_mode"]
    check_size(params["pvc_size"])
    if existing is None:
        storage_class = choose_storage_class(
            storage_classes, profiles_by_name, access_mode, params.get("storage_class"), params.get("allow_single_replica")
        )
        check_replication(storage_class, params.get("allow_single_replica"))
        definition = claim_definition(params["pvc_name"], class_name(storage_class), params["pvc_size"], access_mode)
        return ClaimPlan(class_name(storage_class), definition=definition)

    subject = describe("PersistentVolumeClaim", params["pvc_name"], REGISTRY_NAMESPACE)
    existing_class = storage_class_name(existing)
    if params.get("storage_class") and params["storage_class"] != existing_class:
        raise Refusal(
            subject,
            "it already exists on StorageClass {0}, not {1}, and a claim cannot change class".format(existing_class, params["storage_class"]),
            "Omit storage_class to keep the claim, or choose another pvc_name.",
        )
    modes = (existing.get("spec") or {}).get("accessModes") or []
    if access_mode not in modes:
        raise Refusal(
            subject,
            "it already exists with access modes {0}, not {1}, and access modes cannot change".format(", ".join(modes) or "none", access_mode),
            "Set access_mode to match the claim, or choose another pvc_name.",
        )
    if (existing.get("spec") or {}).get("volumeMode", FILESYSTEM) != FILESYSTEM:
        raise Refusal(subject, "it is a Block volume; the registry needs a filesystem", "Choose another pvc_name.")
    by_name = dict((class_name(sc), sc) for sc in storage_classes)
    storage_class = by_name.get(existing_class)
    if storage_class is not None:
        check_replication(storage_class, params.get("allow_single_replica"))
    expansion = None
    if compare_quantities(requested_size(existing) or "0", params["pvc_size"]) <= 0:
        # A bigger claim is kept as it is; an equal one may still be finishing an earlier resize.
        expansion = plan_expansion(existing, storage_class, params["pvc_size"])
    return ClaimPlan(existing_class, existing=existing, expansion=expansion)


def desired_spec(params, access_mode=None):
    """The part of the registry config spec this module owns, for ``state``."""
    if params["state"] == "removed":
        return {"managementState": "Removed"}
    spec = {
        "managementState": "Managed",
        "replicas": params["replicas"],
        "storage": {"pvc": {"claim": params["pvc_name"]}},
        "defaultRoute": params["default_route"],
    }
    # RWO allows one pod on the volume at a time, so a rollout must stop the old pod first; with RWX
    # the operator's default rolling update is right, and a Recreate left from an RWO setup is undone.
    spec["rolloutStrategy"] = "Recreate" if (access_mode or params["access_mode"]) == READ_WRITE_ONCE else "RollingUpdate"
    return spec


def config_patch(current_spec, wanted):
    """The merge patch taking ``current_spec`` to ``wanted``, or :data:`NO_PATCH` when nothing differs.

    Another storage backend left in the config (``emptyDir`` is common) is removed with a null:
    the operator accepts exactly one.
    """
    current_spec = current_spec or {}
    patch = {}
    for key, value in wanted.items():
        if key == "storage":
            storage = current_spec.get("storage") or {}
            storage_patch = {}
            for backend in STORAGE_BACKENDS:
                if backend != "pvc" and backend in storage:
                    storage_patch[backend] = None
            if storage.get("pvc") != value["pvc"]:
                storage_patch["pvc"] = value["pvc"]
            if storage_patch:
                patch["storage"] = storage_patch
        elif current_spec.get(key) != value:
            patch[key] = value
    return {"spec": patch} if patch else NO_PATCH


def owned_view(spec, wanted):
    """The keys of ``spec`` this module manages, for the diff."""
    spec = spec or {}
    view = dict((key, spec.get(key)) for key in wanted if key != "storage")
    if "storage" in wanted:
        view["storage"] = spec.get("storage")
    return view
