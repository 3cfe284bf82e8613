# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Capacity: N-1 headroom, the documents' sizing formulas, Portworx pool usage and skew.

* N-1 (R23): can the other workers absorb the VMs of the worker carrying the most VM memory? VM
  requests are ``domain.resources.requests`` (else the guest memory, and vCPUs divided by the
  HyperConverged ``vmiCPUAllocationRatio``); other pods and virt-launcher overhead are not counted,
  so the answer is optimistic.
* Snapshot reserve = disk x change rate x retained snapshots (30GB, 10 percent, 7 kept -> 21GB) [000].
* Boot image raw capacity = image footprint x repl (500GB x 3 -> 1.5TB) [000].
* Usable space of a Filesystem claim = request x (1 - filesystem overhead) [000].
* Pool usage per StorageNode, and skew: how far a node's usage is from the mean (Autopilot
  rebalances outside +-20 percent) [000].
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from decimal import Decimal

from ansible_collections.ocpvirt.portworx.plugins.module_utils.quantity import parse_quantity
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.objects import dig, name_of, namespace_of
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.rules_platform import workers
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.rules_virtualization import overhead_of
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage import replication_factor

GIB = Decimal(1024 ** 3)
DEFAULT_INPUTS = {"snapshot_change_rate": 0.1, "snapshots_retained": 7, "boot_image_footprint": None,
                  "pool_usage_limit_percent": 80, "pool_skew_percent": 20}


def quantity(value, default=Decimal(0)):
    try:
        return parse_quantity(value) if value not in (None, "") else default
    except ValueError:
        return default


def snapshot_reserve(disk_bytes, change_rate, retained):
    return Decimal(disk_bytes) * Decimal(str(change_rate)) * int(retained)


def boot_image_raw(footprint_bytes, repl):
    return Decimal(footprint_bytes) * int(repl)


def usable_after_overhead(request_bytes, overhead):
    return Decimal(request_bytes) * (1 - Decimal(str(overhead)))


def vm_request(vmi, cpu_ratio):
    """(millicores, bytes) a VMI asks the scheduler for."""
    domain = dig(vmi, "spec", "domain") or {}
    requests = dig(domain, "resources", "requests") or {}
    memory = quantity(requests.get("memory") or dig(domain, "memory", "guest"))
    if requests.get("cpu") is not None:
        cpu = quantity(requests["cpu"]) * 1000
    else:
        topology = domain.get("cpu") or {}
        vcpus = int(topology.get("cores") or 1) * int(topology.get("sockets") or 1) * int(topology.get("threads") or 1)
        cpu = Decimal(vcpus * 1000) / Decimal(cpu_ratio or 10)
    return cpu, memory


def headroom(facts, cpu_ratio):
    """Per worker allocatable and VM load, and whether the rest absorbs the biggest worker."""
    nodes = dict((name_of(n), {"cpu": quantity(dig(n, "status", "allocatable", "cpu")) * 1000,
                               "memory": quantity(dig(n, "status", "allocatable", "memory")),
                               "vm_cpu": Decimal(0), "vm_memory": Decimal(0), "vms": 0})
                 for n in workers(facts) if not dig(n, "spec", "unschedulable"))
    for vmi in facts.get("vmis") or []:
        node = nodes.get(dig(vmi, "status", "nodeName"))
        if node is None:
            continue
        cpu, memory = vm_request(vmi, cpu_ratio)
        node["vm_cpu"] += cpu
        node["vm_memory"] += memory
        node["vms"] += 1
    if len(nodes) < 2:
        return {"workers": len(nodes), "absorbs_biggest_worker": len(nodes) == 0 or _total_vms(nodes) == 0, "biggest_worker": None}
    biggest = max(sorted(nodes), key=lambda n: nodes[n]["vm_memory"])
    others = [nodes[n] for n in nodes if n != biggest]
    free_cpu = sum(max(Decimal(0), o["cpu"] - o["vm_cpu"]) for o in others)
    free_memory = sum(max(Decimal(0), o["memory"] - o["vm_memory"]) for o in others)
    load = nodes[biggest]
    return {
        "workers": len(nodes), "biggest_worker": biggest, "biggest_worker_vms": load["vms"],
        "biggest_worker_vm_cpu_millicores": int(load["vm_cpu"]), "biggest_worker_vm_memory_gib": _gib(load["vm_memory"]),
        "others_free_cpu_millicores": int(free_cpu), "others_free_memory_gib": _gib(free_memory),
        "cluster_vm_memory_percent": _percent(sum(n["vm_memory"] for n in nodes.values()), sum(n["memory"] for n in nodes.values())),
        "cluster_vm_cpu_percent": _percent(sum(n["vm_cpu"] for n in nodes.values()), sum(n["cpu"] for n in nodes.values())),
        "absorbs_biggest_worker": load["vm_cpu"] <= free_cpu and load["vm_memory"] <= free_memory,
    }


def _total_vms(nodes):
    return sum(n["vms"] for n in nodes.values())


def _gib(amount):
    return float(round(Decimal(amount) / GIB, 1))


def _percent(part, whole):
    return float(round(Decimal(part) * 100 / whole, 1)) if whole else 0.0


def storage_sizing(facts, index, inputs):
    disk, usable, raw = Decimal(0), Decimal(0), Decimal(0)
    for dummy, dummy2, claim in index.vm_claims():
        request = quantity(dig(claim, "spec", "resources", "requests", "storage"))
        class_name = dig(claim, "spec", "storageClassName")
        disk += request
        raw += request * (replication_factor(index.classes.get(class_name)) or 1)
        if dig(claim, "spec", "volumeMode") in (None, "Filesystem"):
            usable += usable_after_overhead(request, overhead_of(facts.get("cdi_config"), class_name))
        else:
            usable += request
    footprint, repl = _boot_image_footprint(facts, index, inputs)
    return {
        "vm_disk_gib": _gib(disk), "vm_disk_raw_gib": _gib(raw), "vm_disk_usable_gib": _gib(usable),
        "snapshot_reserve_gib": _gib(snapshot_reserve(disk, inputs["snapshot_change_rate"], inputs["snapshots_retained"])),
        "snapshot_change_rate": inputs["snapshot_change_rate"], "snapshots_retained": inputs["snapshots_retained"],
        "boot_image_footprint_gib": _gib(footprint), "boot_image_repl": repl,
        "boot_image_raw_gib": _gib(boot_image_raw(footprint, repl)),
    }


def _boot_image_footprint(facts, index, inputs):
    """The boot images' size: the given footprint, else the DataSources' PVCs; and their repl."""
    footprint, repls = Decimal(0), []
    for source in facts.get("data_sources") or []:
        pvc = dig(source, "spec", "source", "pvc") or {}
        claim = index.claims.get((pvc.get("namespace") or namespace_of(source), pvc.get("name")))
        if claim is not None:
            footprint += quantity(dig(claim, "spec", "resources", "requests", "storage"))
            repls.append(replication_factor(index.classes.get(dig(claim, "spec", "storageClassName"))) or 1)
    if inputs.get("boot_image_footprint"):
        footprint = quantity(inputs["boot_image_footprint"])
    return footprint, max(repls) if repls else 3


def pool_usage(facts):
    nodes = []
    for node in facts.get("storage_nodes") or []:
        total = quantity(dig(node, "status", "storage", "totalSize"))
        used = quantity(dig(node, "status", "storage", "usedSize"))
        if total:
            nodes.append({"node": name_of(node), "namespace": namespace_of(node), "used_percent": _percent(used, total),
                          "total_gib": _gib(total), "used_gib": _gib(used)})
    mean = sum(n["used_percent"] for n in nodes) / len(nodes) if nodes else 0.0
    for node in nodes:
        node["skew_percent"] = round(node["used_percent"] - mean, 1)
    return {"nodes": nodes, "mean_used_percent": round(mean, 1),
            "total_gib": round(sum(n["total_gib"] for n in nodes), 1), "used_gib": round(sum(n["used_gib"] for n in nodes), 1)}


def evaluate_capacity(facts, index, results, inputs=None):
    inputs = dict(DEFAULT_INPUTS, **dict((k, v) for k, v in (inputs or {}).items() if v is not None))
    hco = (facts.get("hyperconvergeds") or [None])[0]
    ratio = dig(hco, "spec", "resourceRequirements", "vmiCPUAllocationRatio") or 10
    report = {"n_minus_1": headroom(facts, ratio), "storage": storage_sizing(facts, index, inputs), "pools": pool_usage(facts)}
    results.evaluated("R23")
    n1 = report["n_minus_1"]
    if not n1["absorbs_biggest_worker"]:
        results.add("R23", "Node", n1["biggest_worker"] or "workers",
                    "the other workers have {0} GiB / {1}m CPU free for {2} GiB / {3}m of VMs".format(
                        n1.get("others_free_memory_gib"), n1.get("others_free_cpu_millicores"),
                        n1.get("biggest_worker_vm_memory_gib"), n1.get("biggest_worker_vm_cpu_millicores")))
    _pool_findings(report["pools"], inputs, results)
    return report


def _pool_findings(pools, inputs, results):
    if not pools["nodes"]:
        results.skip("POOL-USAGE", "no StorageNode reports its storage size")
        results.skip("POOL-SKEW", "no StorageNode reports its storage size")
        return
    results.evaluated("POOL-USAGE", "POOL-SKEW")
    for node in pools["nodes"]:
        if node["used_percent"] >= inputs["pool_usage_limit_percent"]:
            results.add("POOL-USAGE", "StorageNode", node["node"], "{0} percent used".format(node["used_percent"]),
                        namespace=node["namespace"])
        if abs(node["skew_percent"]) > inputs["pool_skew_percent"]:
            results.add("POOL-SKEW", "StorageNode", node["node"],
                        "usage {0} percent is {1} points from the mean".format(node["used_percent"], node["skew_percent"]),
                        namespace=node["namespace"])
