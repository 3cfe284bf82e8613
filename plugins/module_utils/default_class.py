# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Moving the default StorageClass for VM disks (and optionally the cluster default) safely.

The order is the one the Portworx + OpenShift Virtualization documents give: first set every other
default to "false", then set the target to "true". A run interrupted between the two leaves no
default for a moment but never two; running again finds the others already "false" and only
writes the target, so it converges.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import NotFound, Refusal
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage import (
    CLUSTER_DEFAULT_ANNOTATION,
    VIRT_DEFAULT_ANNOTATION,
    classes_offering,
    describe_modes,
    is_annotated_default,
    offers,
)

READ_WRITE_MANY = "ReadWriteMany"


def class_name(storage_class):
    return storage_class["metadata"]["name"]


def defaults(storage_classes, annotation):
    return sorted(class_name(sc) for sc in storage_classes if is_annotated_default(sc, annotation))


def defaults_now(storage_classes):
    """``{"virt": [...], "cluster": [...]}``: the classes annotated as default right now."""
    return {
        "virt": defaults(storage_classes, VIRT_DEFAULT_ANNOTATION),
        "cluster": defaults(storage_classes, CLUSTER_DEFAULT_ANNOTATION),
    }


def annotation_patch(values):
    return {"metadata": {"annotations": dict(values)}}


class DefaultClassPlan(object):
    def __init__(self, target, annotations, writes, warnings, previous):
        self.target = target
        self.annotations = annotations
        self.writes = writes  # [(class name, {annotation: "true"|"false"})] in the order to apply
        self.warnings = warnings
        self.previous = previous

    @property
    def changes(self):
        return bool(self.writes)

    def state(self, storage_classes, after=False):
        """``{annotation short name: [default classes]}`` now, or as it will be after the writes."""
        current = {class_name(sc): dict((sc.get("metadata") or {}).get("annotations") or {}) for sc in storage_classes}
        if after:
            for name, values in self.writes:
                current.setdefault(name, {}).update(values)
        result = {}
        for label, annotation in (("virt", VIRT_DEFAULT_ANNOTATION), ("cluster", CLUSTER_DEFAULT_ANNOTATION)):
            result[label] = sorted(n for n, a in current.items() if str(a.get(annotation, "")).lower() == "true")
        return result


def plan_default_class(storage_classes, profiles_by_name, target, cluster_default=False, require_rwx=True):
    """Check ``target`` and list the annotation writes that make it the only default."""
    by_name = dict((class_name(sc), sc) for sc in storage_classes)
    subject = "StorageClass {0}".format(target)
    if target not in by_name:
        raise NotFound(subject, "create it first, or choose one of: {0}".format(", ".join(sorted(by_name)) or "(no classes)"))
    profile = profiles_by_name.get(target)
    warnings = []
    if require_rwx and not offers(profile, READ_WRITE_MANY):
        candidates = classes_offering(storage_classes, profiles_by_name, READ_WRITE_MANY, "Block", portworx_only=False)
        candidates += [
            n for n in classes_offering(storage_classes, profiles_by_name, READ_WRITE_MANY, portworx_only=False) if n not in candidates
        ]
        raise Refusal(
            subject,
            "its StorageProfile offers {0}, without ReadWriteMany: VM disks on it cannot live-migrate, boot sources "
            "would not be imported automatically and CDIDefaultStorageClassDegraded would fire".format(describe_modes(profile)),
            "Choose a class whose StorageProfile lists ReadWriteMany (Block preferred){0}, or set require_rwx=false to accept this.".format(
                ": " + ", ".join(candidates) if candidates else ""
            ),
            offered=describe_modes(profile),
            candidates=candidates,
        )
    if offers(profile, READ_WRITE_MANY) and not offers(profile, READ_WRITE_MANY, "Block"):
        warnings.append(
            "{0} offers ReadWriteMany only with Filesystem volumes; ReadWriteMany Block is preferred for VM disks.".format(subject)
        )

    managed = [VIRT_DEFAULT_ANNOTATION] + ([CLUSTER_DEFAULT_ANNOTATION] if cluster_default else [])
    writes = []
    for sc in sorted(storage_classes, key=class_name):
        name = class_name(sc)
        if name == target:
            continue
        clear = dict((a, "false") for a in managed if is_annotated_default(sc, a))
        if clear:
            writes.append((name, clear))
    target_values = dict((a, "true") for a in managed if not is_annotated_default(by_name[target], a))
    if target_values:
        writes.append((target, target_values))
    previous = defaults_now(storage_classes)
    return DefaultClassPlan(target, managed, writes, warnings, previous)
