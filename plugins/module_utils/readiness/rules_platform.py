# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Platform rules: OpenShift version and capabilities, operators, pods per node, one node at a time."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.objects import (
    dig,
    labels_of,
    name_of,
    version_tuple,
)

MINIMUM_OPENSHIFT = (4, 14, 0)
WORKER_LABEL = "node-role.kubernetes.io/worker"
CPU_VENDOR_PREFIX = "cpu-vendor.node.kubevirt.io/"
NMO_CSV_PREFIX = "node-maintenance-operator"


def openshift_version(facts):
    cv = facts.get("cluster_version")
    history = [h for h in dig(cv, "status", "history") or [] if h.get("state") == "Completed"]
    text = history[0].get("version") if history else dig(cv, "status", "desired", "version")
    return text, version_tuple(text)


def workers(facts):
    return [n for n in facts.get("nodes") or [] if WORKER_LABEL in labels_of(n)]


def evaluate_platform(facts, results):
    _check_openshift(facts, results)
    _check_operators(facts, results)
    _check_pods_per_node(facts, results)
    _check_machine_config_pool(facts, results)
    _check_one_node_at_a_time(facts, results)
    _check_cpu_vendors(facts, results)


def _check_openshift(facts, results):
    text, version = openshift_version(facts)
    if facts.get("cluster_version") is None:
        results.skip("OCP-VERSION", "no ClusterVersion (not OpenShift?)")
        results.skip("OCP-CSI-SNAPSHOT", "no ClusterVersion (not OpenShift?)")
        return
    results.evaluated("OCP-VERSION", "OCP-CSI-SNAPSHOT")
    if version is None or version < MINIMUM_OPENSHIFT:
        results.add("OCP-VERSION", "ClusterVersion", "version", "OpenShift {0} is older than 4.14".format(text or "unknown"))
    enabled = dig(facts["cluster_version"], "status", "capabilities", "enabledCapabilities")
    # Clusters from before cluster capabilities (4.11) report none and have every capability.
    if enabled is not None and "CSISnapshot" not in enabled:
        results.add("OCP-CSI-SNAPSHOT", "ClusterVersion", "version", "CSISnapshot is not among the enabled capabilities")


def _check_operators(facts, results):
    results.evaluated("HCO-INSTALLED", "NMO-INSTALLED")
    if not facts.get("hyperconvergeds"):
        results.add("HCO-INSTALLED", "HyperConverged", "kubevirt-hyperconverged", "no HyperConverged CR found", namespace="openshift-cnv")
    served = facts.get("node_maintenances") is not None
    csvs = facts.get("csvs")
    installed = served and (csvs is None or any(
        (name_of(csv) or "").startswith(NMO_CSV_PREFIX) and dig(csv, "status", "phase") == "Succeeded" for csv in csvs))
    if not installed:
        detail = "no Succeeded node-maintenance-operator ClusterServiceVersion" if served else "NodeMaintenance is not served"
        results.add("NMO-INSTALLED", "ClusterServiceVersion", NMO_CSV_PREFIX, detail)


def pods_per_node(host_prefix):
    """Pod addresses per node for an IPv4 cluster network: 2^(32 - hostPrefix), /23 -> 512."""
    return 2 ** (32 - int(host_prefix))


def _check_pods_per_node(facts, results):
    networks = dig(facts.get("network"), "spec", "clusterNetwork") or []
    prefixes = [n.get("hostPrefix") for n in networks if n.get("hostPrefix") and ":" not in str(n.get("cidr", ""))]
    if not prefixes:
        results.skip("NETWORK-PODS", "no IPv4 clusterNetwork hostPrefix in Network cluster")
        return
    results.evaluated("NETWORK-PODS")
    limit = pods_per_node(max(prefixes))
    for node in workers(facts):
        max_pods = int(dig(node, "status", "capacity", "pods") or 0)
        if max_pods > limit:
            results.add("NETWORK-PODS", "Node", name_of(node),
                        "maxPods {0} exceeds the {1} pod addresses of hostPrefix /{2}".format(max_pods, limit, max(prefixes)))


def max_unavailable_count(value, machines):
    """MachineConfigPool ``maxUnavailable`` (int or percent, default 1) as a machine count."""
    if value is None:
        return 1
    text = str(value)
    if text.endswith("%"):
        return max(1, int(int(machines or 0) * int(text[:-1]) // 100))
    return int(text)


def _check_machine_config_pool(facts, results):
    pools = facts.get("machine_config_pools")
    if pools is None:
        results.skip("MCP-MAX-UNAVAILABLE", "the cluster does not serve MachineConfigPool")
        return
    results.evaluated("MCP-MAX-UNAVAILABLE")
    for pool in pools:
        if name_of(pool) != "worker":
            continue
        value = dig(pool, "spec", "maxUnavailable")
        if max_unavailable_count(value, dig(pool, "status", "machineCount")) > 1:
            results.add("MCP-MAX-UNAVAILABLE", "MachineConfigPool", name_of(pool), "maxUnavailable is {0}".format(value))


def nodes_in_maintenance(facts):
    """Names of the workers and Portworx nodes cordoned, in maintenance or not Online."""
    names = set(name_of(n) for n in workers(facts) if dig(n, "spec", "unschedulable"))
    # A NodeMaintenance keeps its node cordoned until the CR is deleted, whatever its phase.
    for maintenance in facts.get("node_maintenances") or []:
        names.add(dig(maintenance, "spec", "nodeName"))
    for node in facts.get("storage_nodes") or []:
        if dig(node, "status", "phase") not in (None, "Online"):
            names.add(name_of(node))
    names.discard(None)
    return sorted(names)


def _check_one_node_at_a_time(facts, results):
    results.evaluated("R10")
    names = nodes_in_maintenance(facts)
    if len(names) > 1:
        results.add("R10", "Node", ", ".join(names), "{0} nodes are in maintenance or upgrade at once".format(len(names)))


def cpu_vendors(facts):
    vendors = {}
    for node in workers(facts):
        for label, value in labels_of(node).items():
            if label.startswith(CPU_VENDOR_PREFIX) and str(value).lower() == "true":
                vendors.setdefault(label[len(CPU_VENDOR_PREFIX):], []).append(name_of(node))
    return vendors


def _check_cpu_vendors(facts, results):
    results.evaluated("R14")
    vendors = cpu_vendors(facts)
    if len(vendors) > 1:
        detail = "; ".join("{0}: {1} workers".format(v, len(n)) for v, n in sorted(vendors.items()))
        results.add("R14", "Node", "workers", "mixed CPU vendors ({0})".format(detail))
