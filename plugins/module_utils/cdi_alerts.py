# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CDI alerts about default StorageClasses, read from the cluster's monitoring stack.

The Thanos querier in ``openshift-monitoring`` answers the Prometheus ``/api/v1/alerts`` API; a
cluster user reaches it through the API server's service proxy, so the module needs no route or
extra credentials. CDI computes three alerts from the StorageClasses and their StorageProfiles:
``CDIMultipleDefaultVirtStorageClasses`` (more than one virt default),
``CDINoDefaultStorageClass`` (no default at all while a DataVolume waits for one) and
``CDIDefaultStorageClassDegraded`` (the default lacks ReadWriteMany or smart clone).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

ALERTS_PATH = "/api/v1/namespaces/openshift-monitoring/services/https:thanos-querier:web/proxy/api/v1/alerts"
DEFAULT_CLASS_ALERTS = ("CDIDefaultStorageClassDegraded", "CDIMultipleDefaultVirtStorageClasses", "CDINoDefaultStorageClass")
#: The alerts that making exactly one class the default must clear.
CLEARED_BY_ONE_DEFAULT = ("CDIMultipleDefaultVirtStorageClasses", "CDINoDefaultStorageClass")


def cdi_alerts(answer):
    """CDI alerts from a Prometheus ``/api/v1/alerts`` answer: ``[{name, state, summary, active_at}]``."""
    alerts = []
    for alert in ((answer or {}).get("data") or {}).get("alerts") or []:
        name = (alert.get("labels") or {}).get("alertname") or ""
        if not name.startswith("CDI"):
            continue
        alerts.append(
            {
                "name": name,
                "state": alert.get("state"),
                "summary": (alert.get("annotations") or {}).get("summary"),
                "active_at": alert.get("activeAt"),
            }
        )
    alerts.sort(key=lambda a: (a["name"], a["state"] or ""))
    return alerts


def read_alerts(cluster):
    """The CDI alerts as the cluster's Thanos querier reports them."""
    return cdi_alerts(cluster.read_json(ALERTS_PATH, "the CDI alerts at " + ALERTS_PATH))


def firing(alerts, names=None):
    return sorted(set(a["name"] for a in alerts if a["state"] == "firing" and (names is None or a["name"] in names)))


def active(alerts, names):
    """Names among ``names`` that are pending or firing."""
    return sorted(set(a["name"] for a in alerts if a["name"] in names and a["state"] in ("pending", "firing")))
