# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Space for a snapshot schedule: the document's formula against the Portworx pools' free space.

[000] "Snapshots": a disk of 30GB with an hourly change rate of 10 percent and 7 snapshots kept
needs 30GB x 10% x 7 = 21GB more. Portworx keeps each snapshot's changed blocks on every replica of
the volume, so the pools must hold that reserve times the class's ``repl``. The formula and the
pool usage are the readiness audit's (``readiness/capacity.py``); this only puts them side by side
for the disks of one VM.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from decimal import Decimal

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.capacity import (
    GIB,
    pool_usage,
    quantity,
    snapshot_reserve,
)


def snapshot_space(disks, change_rate, retained, storage_nodes):
    """``disks``: ``[{"size": quantity, "repl": int}]``; ``storage_nodes``: the StorageNode objects.

    Returns the reserve (logical and raw, in GiB), the pools' free space and whether it fits.
    """
    logical, raw = Decimal(0), Decimal(0)
    for disk in disks:
        reserve = snapshot_reserve(quantity(disk.get("size")), change_rate, retained)
        logical += reserve
        raw += reserve * int(disk.get("repl") or 1)
    pools = pool_usage({"storage_nodes": storage_nodes})
    free = Decimal(str(pools["total_gib"])) - Decimal(str(pools["used_gib"]))
    report = {
        "disk_gib": _gib(sum((quantity(d.get("size")) for d in disks), Decimal(0))),
        "change_rate": change_rate,
        "snapshots_retained": retained,
        "reserve_gib": _gib(logical),
        "reserve_raw_gib": _gib(raw),
        "pool_total_gib": pools["total_gib"],
        "pool_free_gib": float(round(free, 1)),
        "pools_reported": bool(pools["nodes"]),
    }
    report["fits"] = bool(pools["nodes"]) and Decimal(str(report["reserve_raw_gib"])) <= free
    return report


def space_warning(report):
    """A one-line warning when the reserve does not fit (or cannot be checked), else None."""
    if not report["pools_reported"]:
        return "No Portworx StorageNode reports its pool size, so the snapshot reserve of {0} GiB could not be checked.".format(
            report["reserve_gib"])
    if report["fits"]:
        return None
    return ("Keeping {0} snapshots at a {1:g} change rate needs {2} GiB ({3} GiB with replicas) but the Portworx pools have "
            "{4} GiB free: add pool capacity (Autopilot can expand pools) or keep fewer snapshots.").format(
        report["snapshots_retained"], report["change_rate"], report["reserve_gib"], report["reserve_raw_gib"], report["pool_free_gib"])


def _gib(amount):
    return float(round(Decimal(amount) / GIB, 1))
