# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CDI alerts about default StorageClasses: read from the cluster's monitoring, or derived.

CDI computes three alerts from the StorageClasses and their StorageProfiles:
``CDIMultipleDefaultVirtStorageClasses`` (more than one virt default),
``CDINoDefaultStorageClass`` (no default at all while a DataVolume waits for one) and
``CDIDefaultStorageClassDegraded`` (the default lacks ReadWriteMany or smart clone).

Where to read them: on OpenShift the Prometheus ``/api/v1/alerts`` API is served to a token holder
by the ``thanos-querier`` Route in ``openshift-monitoring``. The API server's service proxy is no
way in: it does not pass the caller's bearer token on, and thanos-querier's web port refuses a
request without one. When the Route cannot be read (no Route, unreachable, 401/403), the same
conditions are derived from the objects CDI derives them from, and the result says which source
was used.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage import (
    CLUSTER_DEFAULT_ANNOTATION,
    VIRT_DEFAULT_ANNOTATION,
    is_annotated_default,
    offers,
)

MONITORING_NAMESPACE = "openshift-monitoring"
THANOS_ROUTE = "thanos-querier"
ALERTS_API_PATH = "/api/v1/alerts"
DEFAULT_CLASS_ALERTS = ("CDIDefaultStorageClassDegraded", "CDIMultipleDefaultVirtStorageClasses", "CDINoDefaultStorageClass")
#: The alerts that making exactly one class the default must clear.
CLEARED_BY_ONE_DEFAULT = ("CDIMultipleDefaultVirtStorageClasses", "CDINoDefaultStorageClass")
#: Clone strategies CDI counts as smart clone (no host-assisted copy).
SMART_CLONE_STRATEGIES = ("csi-clone", "snapshot")
DERIVED = "derived from the StorageClasses and StorageProfiles"


def route_host(route):
    """The host a Route serves: ``spec.host``, else the first admitted ``status.ingress`` host."""
    host = ((route or {}).get("spec") or {}).get("host")
    if host:
        return host
    for ingress in ((route or {}).get("status") or {}).get("ingress") or []:
        if ingress.get("host"):
            return ingress["host"]
    return None


def alerts_endpoint(base_url):
    return base_url.rstrip("/") + ALERTS_API_PATH


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


def _derived(name, summary):
    return {"name": name, "state": "firing", "summary": summary, "active_at": None}


def _smart_clone(storage_class, profile, snapshot_classes):
    strategy = ((profile or {}).get("status") or {}).get("cloneStrategy")
    provisioner = (storage_class or {}).get("provisioner")
    has_snapshot_class = any(vsc.get("driver") == provisioner for vsc in snapshot_classes or [])
    if strategy == "csi-clone":
        return True
    # Without a strategy CDI snapshots when a VolumeSnapshotClass exists for the provisioner, else copies.
    return strategy in (None, "snapshot") and has_snapshot_class


def derive_alerts(storage_classes, profiles_by_name, snapshot_classes=None):
    """The default-class alerts CDI would raise for these objects, in the shape of :func:`cdi_alerts`.

    ``CDINoDefaultStorageClass`` is reported when there is no default class at all; CDI raises it
    once a DataVolume waits for one.
    """
    virt_defaults = [sc for sc in storage_classes if is_annotated_default(sc, VIRT_DEFAULT_ANNOTATION)]
    cluster_defaults = [sc for sc in storage_classes if is_annotated_default(sc, CLUSTER_DEFAULT_ANNOTATION)]
    alerts = []
    if len(virt_defaults) > 1:
        alerts.append(_derived("CDIMultipleDefaultVirtStorageClasses", "More than one default virtualization StorageClass: {0}".format(
            ", ".join(sorted(sc["metadata"]["name"] for sc in virt_defaults)))))
    default = (virt_defaults or cluster_defaults or [None])[0]
    if default is None:
        alerts.append(_derived("CDINoDefaultStorageClass", "No default StorageClass or default virtualization StorageClass"))
    else:
        name = default["metadata"]["name"]
        profile = profiles_by_name.get(name)
        if not offers(profile, "ReadWriteMany") or not _smart_clone(default, profile, snapshot_classes):
            alerts.append(_derived("CDIDefaultStorageClassDegraded",
                                   "Default StorageClass {0} lacks ReadWriteMany or smart clone".format(name)))
    return sorted(alerts, key=lambda a: a["name"])


def firing(alerts, names=None):
    return sorted(set(a["name"] for a in alerts if a["state"] == "firing" and (names is None or a["name"] in names)))


def active(alerts, names):
    """Names among ``names`` that are pending or firing."""
    return sorted(set(a["name"] for a in alerts if a["name"] in names and a["state"] in ("pending", "firing")))
