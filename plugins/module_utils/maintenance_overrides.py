# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which maintenance refusals a named override may lift, and the rules no override lifts.

Each refusal finding that can be accepted names its override (``allow_vm_shutdown``,
``allow_drain_blockers``, ``allow_insufficient_room``, ``allow_control_plane``, ``adopt``); the
module lifts it only when the user set that override, and reports every override it used. The
one-node rule (``max_unavailable``), the Portworx rule (every other storage node Online) and the
etcd quorum of the control plane carry no override: no option bypasses them.

Control plane: OpenShift runs an etcd member on each control-plane node; etcd needs a majority
(``n // 2 + 1``) of its members to keep serving, so a control-plane node may go down only while
every other control-plane node beyond that majority is Ready, schedulable and not in maintenance
(etcd-io/etcd, Documentation "Failure tolerance": a cluster of n members tolerates (n-1)/2 failures).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.maintenance_preflight import (
    CONTROL_PLANE_LABELS,
    REFUSAL,
    finding,
    is_cordoned,
    is_ready,
    meta,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.maintenance_progress import owns_cordon, owns_node_maintenance

OVERRIDES = ("allow_vm_shutdown", "allow_drain_blockers", "allow_insufficient_room", "allow_control_plane", "adopt")


def is_control_plane(node):
    labels = meta(node, "labels") or {}
    return any(label in labels for label in CONTROL_PLANE_LABELS)


def etcd_quorum(members):
    return members // 2 + 1


def control_plane_findings(node_name, nodes, node_maintenances):
    """Refuse a control-plane node (override ``allow_control_plane``); never below etcd quorum (no override)."""
    target = next((n for n in nodes if meta(n, "name") == node_name), None)
    if target is None or not is_control_plane(target):
        return []
    in_maintenance = set((nm.get("spec") or {}).get("nodeName") for nm in node_maintenances)
    members = [n for n in nodes if is_control_plane(n)]
    healthy_others = [meta(n, "name") for n in members if meta(n, "name") != node_name and is_ready(n)
                      and not is_cordoned(n) and meta(n, "name") not in in_maintenance]
    quorum = etcd_quorum(len(members))
    subject = "Node {0}".format(node_name)
    findings = [finding(
        REFUSAL, subject, "is a control-plane node (it runs an etcd member and the API server)",
        "Maintain workers with this role, or set allow_control_plane=true for a planned control-plane maintenance.",
        override="allow_control_plane",
    )]
    if len(healthy_others) < quorum:
        findings.append(finding(
            REFUSAL, subject,
            "taking it down leaves {0} healthy control-plane node(s) ({1}) of {2}, below the etcd quorum of {3}".format(
                len(healthy_others), ", ".join(sorted(healthy_others)) or "none", len(members), quorum),
            "Bring the other control-plane nodes back (Ready, schedulable, no NodeMaintenance) first.",
        ))
    return findings


def ownership_findings(node, node_maintenance, record, campaign):
    """Refuse a NodeMaintenance or cordon the collection did not create for this campaign (override ``adopt``)."""
    findings = []
    subject = "Node {0}".format(meta(node, "name"))
    if node_maintenance is not None and not owns_node_maintenance(node_maintenance, campaign):
        nm_subject = "NodeMaintenance {0}".format(meta(node_maintenance, "name"))
        findings.append(finding(
            REFUSAL, nm_subject,
            "was not created by campaign '{0}' (reason: {1!r}); it is someone else's and is never taken over or deleted".format(
                campaign, (node_maintenance.get("spec") or {}).get("reason")),
            "Leave the node alone, or set adopt=true to take this NodeMaintenance over (reported).",
            override="adopt",
        ))
    elif node_maintenance is None and is_cordoned(node) and not owns_cordon(record, campaign):
        by = "campaign '{0}'".format(record["campaign"]) if record else "someone else (no ocpvirt.portworx progress annotation)"
        findings.append(finding(
            REFUSAL, subject, "is already cordoned by {0}; a cordon this campaign did not set is never undone or taken over".format(by),
            "Leave the node alone, or set adopt=true to take the cordon over (reported).",
            override="adopt",
        ))
    return findings


def apply_overrides(findings, params):
    """``(blocking, used)``: refusals no set override lifts, and the overrides that lifted one."""
    blocking, used = [], []
    for entry in findings:
        if entry["severity"] != REFUSAL:
            continue
        name = entry.get("override")
        if name and params.get(name):
            if name not in used:
                used.append(name)
            continue
        blocking.append(entry)
    return blocking, sorted(used)
