# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
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

import json

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import api_failure
from ansible_collections.ocpvirt.portworx.plugins.module_utils.retry import call_with_retry

ALERTS_PATH = "/api/v1/namespaces/openshift-monitoring/services/https:thanos-querier:web/proxy/api/v1/alerts"
DEFAULT_CLASS_ALERTS = ("CDIDefaultStorageClassDegraded", "CDIMultipleDefaultVirtStorageClasses", "CDINoDefaultStorageClass")
#: The alerts that making exactly one class the default must clear.
CLEARED_BY_ONE_DEFAULT = ("CDIMultipleDefaultVirtStorageClasses", "CDINoDefaultStorageClass")


def decode(response):
    """The JSON body of a raw API answer (the client hands back the HTTP response for proxy paths)."""
    if isinstance(response, dict):
        return response
    data = getattr(response, "data", response)
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    try:
        decoded = json.loads(data)
    except (TypeError, ValueError):
        return {}
    return decoded if isinstance(decoded, dict) else {}


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
    """The CDI alerts as the cluster's Thanos querier reports them, with transient errors retried.

    The answer is not a Kubernetes object, so it is read unserialized (the client would look for
    its ``kind``).
    """
    try:
        response = call_with_retry(
            lambda: cluster.dynamic.request("get", ALERTS_PATH, serialize=False), cluster.policy, on_retry=cluster.on_retry
        )
    except Exception as exc:  # noqa: B902 - every API/transport error becomes a one-line failure
        raise api_failure(exc, "read", "the CDI alerts at " + ALERTS_PATH)
    return cdi_alerts(decode(response))


def firing(alerts, names=None):
    return sorted(set(a["name"] for a in alerts if a["state"] == "firing" and (names is None or a["name"] in names)))


def active(alerts, names):
    """Names among ``names`` that are pending or firing."""
    return sorted(set(a["name"] for a in alerts if a["name"] in names and a["state"] in ("pending", "firing")))
