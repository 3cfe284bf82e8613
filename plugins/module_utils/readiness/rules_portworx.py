# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Portworx rules: Enterprise (not PX-CSI) 3.5.2 or later, one node at a time, Stork, Autopilot."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.objects import (
    dig,
    name_of,
    namespace_of,
    version_tuple,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.versions import image_tag

MINIMUM_VERSION = (3, 5, 2)
STORAGE_CLUSTER = "StorageCluster"
REBALANCE_ACTION = "openstorage.io.action.storagepool/rebalance"


def evaluate_portworx(facts, results):
    clusters = facts.get("storage_clusters")
    if not clusters:
        results.add("PX-INSTALLED", STORAGE_CLUSTER, "-", "no StorageCluster found" if clusters is not None
                    else "the cluster does not serve core.libopenstorage.org/v1 StorageCluster")
        for rule_id in ("PX-ENTERPRISE", "PX-VERSION", "PX-UPDATE-STRATEGY", "PX-STORK", "PX-AUTOPILOT",
                        "PX-REBALANCE-RULE", "PX-NODES-ONLINE"):
            results.skip(rule_id, "no Portworx StorageCluster")
        return
    results.evaluated("PX-INSTALLED")
    cluster = clusters[0]
    _check_edition(cluster, facts, results)
    _check_version(cluster, results)
    _check_update_strategy(cluster, results)
    _check_stork(cluster, facts, results)
    _check_autopilot(cluster, facts, results)
    _check_nodes(facts, results)


def portworx_version(cluster):
    """``(text, source)``: the operator's ``status.version``, else the tag of ``spec.image``.

    A digest-pinned image (``...@sha256:...``) or a tag that is not a version gives ``(None, "none")``.
    """
    status_version = dig(cluster, "status", "version")
    if status_version:
        return str(status_version), "status.version"
    tag = image_tag(dig(cluster, "spec", "image")) or ""
    if tag[:1].isdigit():
        return tag, "spec.image"
    return None, "none"


def is_px_csi(cluster, csvs):
    """PX-CSI ships its own image and operator bundle, and numbers its releases by year (25.x, 26.x,
    docs.portworx.com/portworx-csi); Portworx Enterprise runs oci-monitor and is 3.x.

    Not verified against a PX-CSI install: the image and bundle names are the published ones.
    """
    image = str(dig(cluster, "spec", "image") or "")
    if "px-csi" in image.split(":", maxsplit=1)[0]:
        return True
    version = version_tuple(portworx_version(cluster)[0])
    if version is not None and version[0] >= 24:
        return True
    return any("px-csi" in (name_of(csv) or "") for csv in csvs or [])


def portworx_edition(cluster, csvs):
    if cluster is None:
        return "none"
    if is_px_csi(cluster, csvs):
        return "PX-CSI"
    return "Enterprise" if portworx_version(cluster)[0] else "unknown"


def _check_edition(cluster, facts, results):
    results.evaluated("PX-ENTERPRISE")
    if is_px_csi(cluster, facts.get("csvs")):
        results.add("PX-ENTERPRISE", STORAGE_CLUSTER, name_of(cluster), "the StorageCluster runs PX-CSI",
                    namespace=namespace_of(cluster))


def _check_version(cluster, results):
    text = portworx_version(cluster)[0]
    version = version_tuple(text)
    if version is None:
        # Unknown is not a pass: a StorageCluster without a version has not finished installing.
        results.add("PX-VERSION", STORAGE_CLUSTER, name_of(cluster), "the Portworx version is unknown",
                    namespace=namespace_of(cluster),
                    fix="Wait until the StorageCluster reports status.version; the audit cannot confirm 3.5.2 or later.")
    elif version < MINIMUM_VERSION:
        results.add("PX-VERSION", STORAGE_CLUSTER, name_of(cluster), "Portworx {0} is older than 3.5.2".format(text),
                    namespace=namespace_of(cluster))
    else:
        results.evaluated("PX-VERSION")


def _check_update_strategy(cluster, results):
    strategy = dig(cluster, "spec", "updateStrategy") or {}
    kind = strategy.get("type") or "RollingUpdate"
    max_unavailable = dig(strategy, "rollingUpdate", "maxUnavailable")
    results.evaluated("PX-UPDATE-STRATEGY")
    if kind != "RollingUpdate" or str(max_unavailable if max_unavailable is not None else 1) != "1":
        results.add("PX-UPDATE-STRATEGY", STORAGE_CLUSTER, name_of(cluster),
                    "updateStrategy is {0} with maxUnavailable {1}".format(kind, max_unavailable),
                    namespace=namespace_of(cluster))


def _check_stork(cluster, facts, results):
    results.evaluated("PX-STORK")
    if dig(cluster, "spec", "stork", "enabled") is False:
        results.add("PX-STORK", STORAGE_CLUSTER, name_of(cluster), "spec.stork.enabled is false", namespace=namespace_of(cluster))
        return
    deployments = [d for d in facts.get("stork_deployments") or [] if namespace_of(d) == namespace_of(cluster)]
    if not deployments:
        results.add("PX-STORK", "Deployment", "stork", "no stork Deployment runs", namespace=namespace_of(cluster))
        return
    ready = dig(deployments[0], "status", "readyReplicas") or 0
    if ready < 1:
        results.add("PX-STORK", "Deployment", "stork", "the stork Deployment has no ready replica", namespace=namespace_of(cluster))


def _check_autopilot(cluster, facts, results):
    results.evaluated("PX-AUTOPILOT")
    if not dig(cluster, "spec", "autopilot", "enabled"):
        results.add("PX-AUTOPILOT", STORAGE_CLUSTER, name_of(cluster), "spec.autopilot.enabled is not true",
                    namespace=namespace_of(cluster))
    rules = facts.get("autopilot_rules")
    if rules is None:
        results.skip("PX-REBALANCE-RULE", "the cluster does not serve AutopilotRule")
        return
    results.evaluated("PX-REBALANCE-RULE")
    rebalancing = [r for r in rules if any(a.get("name") == REBALANCE_ACTION for a in dig(r, "spec", "actions") or [])]
    if not rebalancing:
        results.add("PX-REBALANCE-RULE", "AutopilotRule", "pool-rebalance", "no AutopilotRule rebalances the pools")


def _check_nodes(facts, results):
    nodes = facts.get("storage_nodes")
    if nodes is None:
        results.skip("PX-NODES-ONLINE", "the cluster does not serve StorageNode")
        return
    results.evaluated("PX-NODES-ONLINE")
    for node in nodes:
        phase = dig(node, "status", "phase")
        if phase != "Online":
            results.add("PX-NODES-ONLINE", "StorageNode", name_of(node), "phase is {0}".format(phase),
                        namespace=namespace_of(node))
