# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit as one self-contained HTML5 page: inline CSS and SVG, no script, no external asset.

Findings are grouped by area with their fix and source; two small SVG bar charts show the scores
and the capacity figures (VM load and Portworx pool usage).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from html import escape

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.catalogue import AREAS
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.render_markdown import capacity_lines, object_label

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1b1b1b;max-width:80rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.critical{color:#fff;background:#b00020}.warning{background:#ffd54f}.info{background:#e3f2fd}
.sev{padding:.1rem .4rem;border-radius:.2rem;font-weight:600}.passed{color:#1b5e20}.failed{color:#b00020}.skipped{color:#666}
.charts{display:flex;flex-wrap:wrap;gap:2rem}
"""


def _bar_color(value, inverse=False):
    good = value < 60 if inverse else value >= 90
    bad = value >= 85 if inverse else value < 60
    return "#2e7d32" if good else ("#c62828" if bad else "#f9a825")


def svg_bars(title, bars, inverse=False):
    """A horizontal bar chart of ``[(label, value 0-100)]``; ``inverse``: high is bad."""
    row, width, label_width = 22, 420, 150
    height = row * len(bars) + 30
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="{0}" height="{1}" role="img" aria-label="{2}">'.format(
        width, height, escape(title, quote=True)), '<title>{0}</title>'.format(escape(title)),
        '<text x="0" y="14" font-size="13" font-weight="bold">{0}</text>'.format(escape(title))]
    for position, (label, value) in enumerate(bars):
        y = 24 + position * row
        length = max(0.0, min(100.0, float(value))) * (width - label_width - 40) / 100.0
        parts.append('<text x="0" y="{0}" font-size="12">{1}</text>'.format(y + 13, escape(str(label))))
        parts.append('<rect x="{0}" y="{1}" width="{2:.1f}" height="16" fill="{3}"></rect>'.format(
            label_width, y, length, _bar_color(float(value), inverse)))
        parts.append('<text x="{0:.1f}" y="{1}" font-size="12">{2}</text>'.format(label_width + length + 4, y + 13, value))
    parts.append("</svg>")
    return "".join(parts)


def _findings_section(area, findings):
    rows = []
    for item in findings:
        rows.append("<tr><td>{0}</td><td><span class=\"sev {1}\">{1}</span></td><td>{2}</td><td>{3}</td><td>{4}</td><td>{5}</td></tr>".format(
            escape(item["rule"]), escape(item["severity"]), escape(object_label(item["object"])), escape(item["detail"]),
            escape(item["fix"]), escape(item["source"])))
    return ('<section id="area-{0}"><h2>{0} ({1} findings)</h2><table><thead><tr><th>Rule</th><th>Severity</th>'
            '<th>Object</th><th>Finding</th><th>Fix</th><th>Source</th></tr></thead><tbody>{2}</tbody></table></section>').format(
        escape(area), len(findings), "".join(rows))


def _checks_section(rows):
    body = "".join("<tr><td>{0}</td><td class=\"{1}\">{1}</td><td>{2}</td><td>{3}</td><td>{4}</td></tr>".format(
        escape(r["rule"]), escape(r["status"]), escape(r["area"]), escape(r["title"]),
        escape(r.get("reason") or str(r["findings"]))) for r in rows)
    return ('<section id="checks"><h2>Checks</h2><table><thead><tr><th>Rule</th><th>Status</th><th>Area</th><th>Title</th>'
            '<th>Findings / reason</th></tr></thead><tbody>{0}</tbody></table></section>').format(body)


def _capacity_bars(capacity):
    n1, pools = capacity["n_minus_1"], capacity["pools"]
    bars = [("VM memory", n1.get("cluster_vm_memory_percent", 0)), ("VM CPU", n1.get("cluster_vm_cpu_percent", 0)),
            ("Pools (mean)", pools["mean_used_percent"])]
    busiest = sorted(pools["nodes"], key=lambda n: -n["used_percent"])[:5]
    bars += [("Pool " + n["node"], n["used_percent"]) for n in busiest]
    return bars


def render_html(report, title="Readiness audit"):
    summary, cluster, scores = report["summary"], report["cluster"], report["scores"]
    head = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
            '<title>{0}</title><style>{1}</style></head><body>').format(escape(title), STYLE)
    intro = ("<header><h1>{0}</h1><p>OpenShift {1}, Portworx {2}, {3} workers, {4} VMs.</p>"
             "<p><strong>Score {5}/100</strong>: {6} critical, {7} warning, {8} info findings; {9} rules evaluated.</p></header>").format(
        escape(title), escape(str(cluster.get("openshift_version"))), escape(str(cluster.get("portworx_version"))),
        cluster.get("workers"), cluster.get("virtual_machines"), scores["overall"], summary["critical"], summary["warning"],
        summary["info"], summary["rules_evaluated"])
    charts = '<div class="charts">{0}{1}</div>'.format(
        svg_bars("Scores", [(area, scores[area]) for area in AREAS] + [("overall", scores["overall"])]),
        svg_bars("Capacity used (percent)", _capacity_bars(report["capacity"]), inverse=True))
    sections = "".join(_findings_section(area, [f for f in report["findings"] if f["area"] == area])
                       for area in AREAS if any(f["area"] == area for f in report["findings"]))
    capacity = "<section id=\"capacity\"><h2>Capacity</h2><ul>{0}</ul></section>".format(
        "".join("<li>{0}</li>".format(escape(line[2:])) for line in capacity_lines(report["capacity"])))
    return head + intro + charts + sections + capacity + _checks_section(report["checks"]) + "</body></html>\n"
