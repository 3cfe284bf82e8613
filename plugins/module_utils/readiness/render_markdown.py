# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit report as Markdown: summary, scores, findings by area with their fix, capacity."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.catalogue import AREAS


def cell(text):
    return str("" if text is None else text).replace("|", "\\|").replace("\n", " ")


def object_label(obj):
    namespace = obj.get("namespace")
    return "{0} {1}".format(obj.get("kind"), "{0}/{1}".format(namespace, obj.get("name")) if namespace else obj.get("name"))


def render_markdown(report, title="Readiness audit"):
    summary, cluster = report["summary"], report["cluster"]
    lines = ["# {0}".format(title), ""]
    lines.append("OpenShift {0}, Portworx {1} ({2} of {3} nodes online), {4} workers, {5} VMs.".format(
        cluster.get("openshift_version") or "unknown", cluster.get("portworx_version") or "unknown",
        cluster.get("portworx_nodes_online"), cluster.get("portworx_nodes"), cluster.get("workers"),
        cluster.get("virtual_machines")))
    lines += ["", "**Score {0}/100** - {1} critical, {2} warning, {3} info findings; {4} rules evaluated.".format(
        report["scores"]["overall"], summary["critical"], summary["warning"], summary["info"], summary["rules_evaluated"]), ""]
    lines += ["| Area | Score |", "|---|---|"]
    lines += ["| {0} | {1} |".format(area, report["scores"][area]) for area in AREAS]
    for area in AREAS:
        found = [f for f in report["findings"] if f["area"] == area]
        if not found:
            continue
        lines += ["", "## {0}".format(area), "", "| Rule | Severity | Object | Finding | Fix | Source |", "|---|---|---|---|---|---|"]
        for item in found:
            lines.append("| {0} | {1} | {2} | {3} | {4} | {5} |".format(
                item["rule"], item["severity"], cell(object_label(item["object"])), cell(item["detail"]),
                cell(item["fix"]), cell(item["source"])))
    lines += ["", "## Capacity", ""] + capacity_lines(report["capacity"])
    lines += ["", "## Checks", "", "| Rule | Status | Title |", "|---|---|---|"]
    lines += ["| {0} | {1} | {2} |".format(r["rule"], r["status"], cell(r["title"])) for r in report["checks"]]
    return "\n".join(lines) + "\n"


def capacity_lines(capacity):
    n1, storage, pools = capacity["n_minus_1"], capacity["storage"], capacity["pools"]
    return [
        "- N-1: the biggest worker ({0}) runs {1} GiB / {2}m CPU of VMs; the others have {3} GiB / {4}m free: {5}.".format(
            n1.get("biggest_worker"), n1.get("biggest_worker_vm_memory_gib"), n1.get("biggest_worker_vm_cpu_millicores"),
            n1.get("others_free_memory_gib"), n1.get("others_free_cpu_millicores"),
            "absorbed" if n1["absorbs_biggest_worker"] else "NOT absorbed"),
        "- VM disks: {0} GiB requested, {1} GiB raw with replicas, {2} GiB usable after filesystem overhead.".format(
            storage["vm_disk_gib"], storage["vm_disk_raw_gib"], storage["vm_disk_usable_gib"]),
        "- Snapshot reserve: {0} GiB (disk x {1} change rate x {2} retained).".format(
            storage["snapshot_reserve_gib"], storage["snapshot_change_rate"], storage["snapshots_retained"]),
        "- Boot images: {0} GiB x repl {1} = {2} GiB raw.".format(
            storage["boot_image_footprint_gib"], storage["boot_image_repl"], storage["boot_image_raw_gib"]),
        "- Portworx pools: {0} of {1} GiB used, mean {2} percent.".format(pools["used_gib"], pools["total_gib"], pools["mean_used_percent"]),
    ]
