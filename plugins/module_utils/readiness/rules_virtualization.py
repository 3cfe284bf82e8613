# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HyperConverged rules (scratch and VM state classes, filesystem overhead, live migration),
the image registry and Portworx upgrade eviction failures."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from decimal import Decimal, InvalidOperation

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.catalogue import CRITICAL, INFO
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.objects import (
    condition_status,
    dig,
    name_of,
    namespace_of,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage import offers, replication_factor

RECOMMENDED_OVERHEAD = Decimal("0.08")
PARALLEL_PER_CLUSTER = 5
PARALLEL_OUTBOUND_PER_NODE = 2
HCO = "HyperConverged"


def evaluate_virtualization(facts, index, results):
    hco = (facts.get("hyperconvergeds") or [None])[0]
    if hco is None:
        for rule_id in ("R17", "R18", "LIVE-MIGRATION"):
            results.skip(rule_id, "no HyperConverged CR")
    else:
        _check_scratch(hco, index, results)
        _check_vm_state(hco, index, results)
        _check_live_migration(hco, results)
    _check_overhead(facts, index, results)
    _check_registry(facts, index, results)
    _check_evict_failures(facts, results)


def _hco_ref(hco):
    return dict(kind=HCO, name=name_of(hco), namespace=namespace_of(hco))


def _check_scratch(hco, index, results):
    results.evaluated("R17")
    name = dig(hco, "spec", "scratchSpaceStorageClass")
    ref = _hco_ref(hco)
    if not name:
        results.add("R17", ref["kind"], ref["name"], "spec.scratchSpaceStorageClass is not set", namespace=ref["namespace"])
    elif name not in index.classes:
        results.add("R17", "StorageClass", name, "the scratch class does not exist", severity=CRITICAL)
    elif index.profiles.get(name) is not None and not offers(index.profiles[name], "ReadWriteOnce", "Filesystem") \
            and not offers(index.profiles[name], "ReadWriteMany", "Filesystem"):
        results.add("R17", "StorageClass", name, "the scratch class's StorageProfile offers no Filesystem volume",
                    severity=CRITICAL)


def _check_vm_state(hco, index, results):
    results.evaluated("R18")
    name = dig(hco, "spec", "vmStateStorageClass")
    if not name:
        ref = _hco_ref(hco)
        results.add("R18", ref["kind"], ref["name"], "spec.vmStateStorageClass is not set (needed for vTPM / persistent EFI)",
                    namespace=ref["namespace"], severity=INFO)
        return
    storage_class = index.classes.get(name)
    if storage_class is None:
        results.add("R18", "StorageClass", name, "the VM state class does not exist")
        return
    problems = []
    if (replication_factor(storage_class) or 1) < 2:
        problems.append("repl {0}".format(replication_factor(storage_class) or 1))
    if storage_class.get("reclaimPolicy", "Delete") != "Retain":
        problems.append("reclaimPolicy {0}".format(storage_class.get("reclaimPolicy", "Delete")))
    if problems:
        results.add("R18", "StorageClass", name, "the VM state class has " + " and ".join(problems))


def _check_live_migration(hco, results):
    results.evaluated("LIVE-MIGRATION")
    config = dig(hco, "spec", "liveMigrationConfig") or {}
    problems = []
    if config.get("bandwidthPerMigration") not in (None, "", "0", 0):
        problems.append("bandwidthPerMigration is capped at {0}".format(config["bandwidthPerMigration"]))
    for key, wanted in (("parallelMigrationsPerCluster", PARALLEL_PER_CLUSTER),
                        ("parallelOutboundMigrationsPerNode", PARALLEL_OUTBOUND_PER_NODE)):
        if config.get(key) not in (None, wanted):
            problems.append("{0} is {1}, not {2}".format(key, config[key], wanted))
    if problems:
        ref = _hco_ref(hco)
        results.add("LIVE-MIGRATION", ref["kind"], ref["name"], "; ".join(problems), namespace=ref["namespace"])


def overhead_of(cdi_config, class_name):
    overhead = dig(cdi_config, "status", "filesystemOverhead") or {}
    value = (overhead.get("storageClass") or {}).get(class_name) or overhead.get("global") or "0.055"
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal("0.055")


def _check_overhead(facts, index, results):
    cdi_config = facts.get("cdi_config")
    if cdi_config is None:
        results.skip("R19", "no CDIConfig config")
        return
    results.evaluated("R19")
    filesystem_classes = set()
    for dummy, dummy2, claim in index.vm_claims():
        if dig(claim, "spec", "volumeMode") in (None, "Filesystem") and dig(claim, "spec", "storageClassName"):
            filesystem_classes.add(claim["spec"]["storageClassName"])
    for name in sorted(filesystem_classes):
        overhead = overhead_of(cdi_config, name)
        if overhead < RECOMMENDED_OVERHEAD:
            results.add("R19", "StorageClass", name,
                        "VMs have Filesystem disks on it and CDI keeps {0} free (0.08 recommended)".format(overhead))


def _check_registry(facts, index, results):
    config = facts.get("registry_config")
    if config is None:
        results.skip("R20", "no image registry Config (not OpenShift?)")
        return
    results.evaluated("R20")
    spec = config.get("spec") or {}
    problems = []
    if spec.get("managementState") != "Managed":
        problems.append("managementState is {0}".format(spec.get("managementState")))
    else:
        claim = facts.get("registry_claim")
        if claim is None:
            problems.append("it has no PVC storage")
        elif "ReadWriteMany" not in (dig(claim, "spec", "accessModes") or []):
            problems.append("its claim {0} is not ReadWriteMany".format(name_of(claim)))
        if int(spec.get("replicas") or 1) < 2:
            problems.append("it runs {0} replica".format(spec.get("replicas") or 1))
        if condition_status(config, "Available") == "False":
            problems.append("it is not Available")
    if problems:
        results.add("R20", "Config", "cluster", "the image registry: " + "; ".join(problems))


def _check_evict_failures(facts, results):
    events = facts.get("evict_failures")
    if events is None:
        results.skip("R11", "events could not be read")
        return
    results.evaluated("R11")
    for event in events:
        involved = event.get("involvedObject") or {}
        results.add("R11", involved.get("kind") or "Event", involved.get("name") or name_of(event),
                    event.get("message") or "FailedToEvictVM", namespace=involved.get("namespace") or namespace_of(event))
