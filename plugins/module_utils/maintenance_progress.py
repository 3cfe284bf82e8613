# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-node progress of a maintenance campaign, kept in one annotation on the Node.

The annotation is written in the same patch as the cordon (or right after the NodeMaintenance is
created), so it is also the mark of ownership: a cordon or NodeMaintenance without it was made by
someone else and is never undone or taken over unless ``adopt`` says so. Its steps let a re-run
say what the previous run left and resume where it stopped:

``entering``         cordoned (or NodeMaintenance created), drain not finished
``entered``          drained
``node-tasks-done``  the role's node tasks finished (written by the role)
``leaving``          uncordon (or NodeMaintenance deletion) sent, not yet back in service
``left``             back in service
``interrupted``      an extra key: the signal that stopped a wait, and when
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

PROGRESS_ANNOTATION = "ocpvirt.portworx/maintenance-progress"
#: On a NodeMaintenance the collection created: the campaign that created (or adopted) it.
OWNER_ANNOTATION = "ocpvirt.portworx/campaign"
ENTERING, ENTERED, NODE_TASKS_DONE, LEAVING, LEFT = "entering", "entered", "node-tasks-done", "leaving", "left"
STEPS = (ENTERING, ENTERED, NODE_TASKS_DONE, LEAVING, LEFT)


def read_progress(node):
    """The progress record on the Node (a dict), or ``None`` when there is none or it is not ours."""
    annotations = ((node or {}).get("metadata") or {}).get("annotations") or {}
    raw = annotations.get(PROGRESS_ANNOTATION)
    if not raw:
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("step") not in STEPS or not record.get("campaign"):
        return None
    return record


def progress_patch(campaign, step, since, method=None, interrupted=None):
    record = {"campaign": campaign, "step": step, "since": since}
    if method:
        record["method"] = method
    if interrupted:
        record["interrupted"] = interrupted
    return {"metadata": {"annotations": {PROGRESS_ANNOTATION: json.dumps(record, sort_keys=True)}}}


def previous_run(node_name, record):
    """What the last run left on the node (``None`` when it left nothing unfinished)."""
    if record is None or (record["step"] == LEFT and not record.get("interrupted")):
        return None
    report = {"node": node_name, "campaign": record["campaign"], "step": record["step"], "since": record.get("since")}
    for key in ("method", "interrupted"):
        if record.get(key):
            report[key] = record[key]
    return report


def describe_previous_run(report):
    text = "previous run left node {0} at step '{1}' since {2} (campaign '{3}'".format(
        report["node"], report["step"], report.get("since"), report["campaign"])
    if report.get("method"):
        text += ", method {0}".format(report["method"])
    text += ")"
    if report.get("interrupted"):
        text += ", interrupted: {0}".format(report["interrupted"])
    return text


def owns_cordon(record, campaign):
    return record is not None and record["campaign"] == campaign and record["step"] != LEFT


def owns_node_maintenance(nm, campaign):
    return (((nm or {}).get("metadata") or {}).get("annotations") or {}).get(OWNER_ANNOTATION) == campaign
