# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage rules: default classes, StorageProfiles, boot sources, binding modes, snapshot class."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.catalogue import WARNING
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.objects import (
    annotations_of,
    condition_status,
    dig,
    name_of,
    namespace_of,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage import (
    CLUSTER_DEFAULT_ANNOTATION,
    VIRT_DEFAULT_ANNOTATION,
    describe_modes,
    is_annotated_default,
    is_portworx,
    offers,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage_checkup import one_line_reasons

SNAPSHOT_DEFAULT_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class"
PORTWORX_CSI_DRIVER = "pxd.portworx.com"
WFFC = "WaitForFirstConsumer"


def default_classes(facts, annotation):
    return sorted(name_of(sc) for sc in facts.get("storage_classes") or [] if is_annotated_default(sc, annotation))


def effective_virt_default(facts):
    """The classes CDI would use for VM disks: the virt defaults, else the cluster defaults."""
    return default_classes(facts, VIRT_DEFAULT_ANNOTATION) or default_classes(facts, CLUSTER_DEFAULT_ANNOTATION)


def mtv_destination_classes(facts):
    names = set()
    for storage_map in facts.get("storage_maps") or []:
        for entry in dig(storage_map, "spec", "map") or []:
            class_name = dig(entry, "destination", "storageClass")
            if class_name:
                names.add(class_name)
    return names


def evaluate_storage(facts, index, results):
    _check_defaults(facts, index, results)
    vm_classes = (index.vm_class_names() | set(effective_virt_default(facts))) - mtv_destination_classes(facts)
    _check_vm_classes(sorted(vm_classes), index, results)
    _check_mtv_classes(facts, index, results)
    _check_boot_sources(facts, results)
    _check_snapshot_classes(facts, results)
    _check_checkup(facts, results)


def _check_defaults(facts, index, results):
    results.evaluated("DEFAULT-VIRT-CLASS", "DEFAULT-CLUSTER-CLASS", "R1", "R2")
    virt, cluster = default_classes(facts, VIRT_DEFAULT_ANNOTATION), default_classes(facts, CLUSTER_DEFAULT_ANNOTATION)
    if not virt:
        results.add("DEFAULT-VIRT-CLASS", "StorageClass", "-", "no class is annotated {0}".format(VIRT_DEFAULT_ANNOTATION),
                    severity=None if not cluster else WARNING)
    if not cluster:
        results.add("DEFAULT-CLUSTER-CLASS", "StorageClass", "-", "no class is annotated {0}".format(CLUSTER_DEFAULT_ANNOTATION))
    for names, annotation in ((virt, VIRT_DEFAULT_ANNOTATION), (cluster, CLUSTER_DEFAULT_ANNOTATION)):
        if len(names) > 1:
            results.add("R2", "StorageClass", ", ".join(names), "{0} classes are annotated {1}".format(len(names), annotation))
    for name in effective_virt_default(facts):
        profile = index.profiles.get(name)
        if not offers(profile, "ReadWriteMany", "Block"):
            results.add("R1", "StorageClass", name, "the default virtualization class offers {0}".format(describe_modes(profile)))


def _check_vm_classes(names, index, results):
    results.evaluated("R5", "PROFILE-CLAIMS", "PROFILE-CLONE")
    for name in names:
        storage_class = index.classes.get(name)
        if storage_class is None:
            continue
        if is_portworx(storage_class) and storage_class.get("volumeBindingMode") != WFFC:
            results.add("R5", "StorageClass", name, "VM disks use it and it binds {0}".format(storage_class.get("volumeBindingMode")))
        profile = index.profiles.get(name)
        if not offers(profile, "ReadWriteMany"):
            results.add("PROFILE-CLAIMS", "StorageProfile", name, "its StorageProfile offers {0}".format(describe_modes(profile)))
        clone = dig(profile, "status", "cloneStrategy")
        if is_portworx(storage_class) and clone != "csi-clone":
            results.add("PROFILE-CLONE", "StorageProfile", name, "cloneStrategy is {0}".format(clone or "unset"))


def _check_mtv_classes(facts, index, results):
    if facts.get("storage_maps") is None:
        results.skip("R6", "the cluster does not serve StorageMap (MTV not installed)")
        return
    results.evaluated("R6")
    for name in sorted(mtv_destination_classes(facts)):
        binding = dig(index.classes.get(name), "volumeBindingMode")
        if binding != "Immediate":
            results.add("R6", "StorageClass", name, "a StorageMap writes to it and it binds {0}".format(binding or "(class missing)"))


def _check_boot_sources(facts, results):
    crons, sources = facts.get("data_import_crons"), facts.get("data_sources")
    if crons is None or sources is None:
        results.skip("BOOT-SOURCES", "the cluster does not serve DataImportCron / DataSource")
        return
    results.evaluated("BOOT-SOURCES")
    hco = (facts.get("hyperconvergeds") or [None])[0]
    if dig(hco, "spec", "enableCommonBootImageImport") is False:
        return
    if not crons:
        results.add("BOOT-SOURCES", "DataImportCron", "-", "no DataImportCron imports boot sources")
    by_key = dict(((namespace_of(s), name_of(s)), s) for s in sources)
    for cron in crons:
        managed = dig(cron, "spec", "managedDataSource") or name_of(cron)
        source = by_key.get((namespace_of(cron), managed))
        if condition_status(source, "Ready") != "True":
            results.add("BOOT-SOURCES", "DataSource", managed, "the boot source is not Ready", namespace=namespace_of(cron))


def _check_snapshot_classes(facts, results):
    classes = facts.get("snapshot_classes")
    if classes is None:
        results.skip("R21", "the cluster does not serve VolumeSnapshotClass")
        return
    results.evaluated("R21")
    portworx = [c for c in classes if c.get("driver") == PORTWORX_CSI_DRIVER]
    defaults = sorted(name_of(c) for c in portworx if str(annotations_of(c).get(SNAPSHOT_DEFAULT_ANNOTATION, "")).lower() == "true")
    if len(defaults) != 1:
        detail = "no default" if not defaults else "{0} defaults ({1})".format(len(defaults), ", ".join(defaults))
        results.add("R21", "VolumeSnapshotClass", ", ".join(defaults) or "-",
                    "{0} VolumeSnapshotClass for {1}".format(detail, PORTWORX_CSI_DRIVER))


def _check_checkup(facts, results):
    config_maps = facts.get("checkup_configmaps") or []
    results.evaluated("STORAGE-CHECKUP")
    if not config_maps:
        results.add("STORAGE-CHECKUP", "ConfigMap", "storage-checkup-config", "the storage checkup has not run")
        return
    latest = sorted(config_maps, key=lambda c: str((c.get("data") or {}).get("status.completionTimestamp", "")))[-1]
    data = latest.get("data") or {}
    if str(data.get("status.succeeded", "")).lower() != "true":
        reason = one_line_reasons(data.get("status.failureReason")) or "no result yet"
        results.add("STORAGE-CHECKUP", "ConfigMap", name_of(latest), "the last storage checkup did not succeed: {0}".format(reason),
                    namespace=namespace_of(latest), severity=WARNING)
