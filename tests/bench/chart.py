"""A small SVG bar chart of the benchmark's ratios (no plotting library needed)."""

BAR_HEIGHT = 26
LEFT = 290
WIDTH = 720
SCALE_MAX = 2.0


def bars(report):
    """(label, ratio, target) for each ratio the report has; a ratio at or under its target passes."""
    rows = []
    if "day0" in report:
        rows.append(("day 0 / plain kubernetes.core", report["day0"]["day0_vs_baseline"], 1.0))
        rows.append(("re-run / first run", report["day0"]["rerun_vs_first"], 0.5))
        rows.append(("CPU-s per cluster / 8 s", report["day0"]["day0_cpu_s"] / 8.0, 1.0))
    if "fleet" in report:
        rows.append(("fleet wall / CPU bound", report["fleet"]["wall_vs_cpu_bound"], 1.0))
    if "maintenance" in report and report["maintenance"]["wall_vs_budget"] is not None:
        rows.append(("maintenance / (migrations + 2 s/node)", report["maintenance"]["wall_vs_budget"], 1.0))
    if "audit" in report:
        for module in report["audit"]["modules"]:
            rows.append(("{0} / 30 s".format(module["module"]), module["seconds"] / 30.0, 1.0))
    return rows


def write_svg(report, path):
    rows = bars(report)
    height = 40 + BAR_HEIGHT * len(rows)
    unit = (WIDTH - LEFT - 60) / SCALE_MAX
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="{0}" height="{1}" font-family="sans-serif" font-size="12">'.format(WIDTH, height),
             '<text x="10" y="18" font-weight="bold">ocpvirt.portworx benchmark (ratio; the line is the target)</text>']
    for index, (label, ratio, target) in enumerate(rows):
        y = 30 + index * BAR_HEIGHT
        colour = "#3a7d44" if ratio <= target else "#b83b3b"
        parts.append('<text x="10" y="{0}">{1}</text>'.format(y + 15, label))
        parts.append('<rect x="{0}" y="{1}" width="{2:.1f}" height="18" fill="{3}"/>'.format(LEFT, y + 2, min(ratio, SCALE_MAX) * unit, colour))
        parts.append('<line x1="{0:.1f}" x2="{0:.1f}" y1="{1}" y2="{2}" stroke="black"/>'.format(LEFT + target * unit, y, y + 22))
        parts.append('<text x="{0:.1f}" y="{1}">{2:.2f}</text>'.format(LEFT + min(ratio, SCALE_MAX) * unit + 6, y + 15, ratio))
    parts.append("</svg>")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(parts) + "\n")
