# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The campaign lock: one ``coordination.k8s.io/v1`` Lease for every maintenance campaign of a cluster.

Two campaigns that each read "no other node is down" and then each take a node down would leave
two workers unschedulable at once; preflight alone reads, then writes, with nothing in between.
The module judges read-only first (the Lease only read: held by another campaign, it refuses with
no write), then takes the lock and judges again under it: the first campaign creates the Lease, a
second one meets HTTP 409 and is refused, naming the holder. A Lease whose ``renewTime + leaseDurationSeconds`` has
passed (its holder crashed or was killed) is taken over with an update carrying the
``resourceVersion`` it was read at, so of two takers only one wins (the other gets 409 Conflict).
The fields follow the Lease API (kubernetes/kubernetes staging/src/k8s.io/api/coordination/v1/types.go:
``holderIdentity``, ``leaseDurationSeconds``, ``acquireTime``, ``renewTime``, ``leaseTransitions``),
as client-go's leader election uses them; campaign and node are annotations.

Pure decisions over the Lease as read; the module does the calls.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime

LOCK_API = "coordination.k8s.io/v1"
LOCK_KIND = "Lease"
LOCK_NAME = "ocpvirt-portworx-maintenance"
LOCK_NAMESPACE = "kube-system"
CAMPAIGN_ANNOTATION = "ocpvirt.portworx/campaign"
NODE_ANNOTATION = "ocpvirt.portworx/node"
#: MicroTime as the API serializes it (metav1.RFC3339Micro).
MICRO_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"

TAKE = "create"
RENEW = "renew"
TAKE_OVER = "take over"


class LockHeld(Exception):
    """Another campaign holds the lock and it has not expired."""

    def __init__(self, holder):
        super(LockHeld, self).__init__(describe_holder(holder))
        self.holder = holder


def format_time(moment):
    return moment.strftime(MICRO_TIME)


def parse_time(text):
    if not text:
        return None
    text = str(text)
    for layout in (MICRO_TIME, "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.datetime.strptime(text, layout)
        except ValueError:
            continue
    return None


def holder_of(lease):
    """What a Lease says about its holder: identity, campaign, node, since, expires (naive UTC datetimes)."""
    spec = (lease or {}).get("spec") or {}
    annotations = ((lease or {}).get("metadata") or {}).get("annotations") or {}
    renewed = parse_time(spec.get("renewTime")) or parse_time(spec.get("acquireTime"))
    duration = spec.get("leaseDurationSeconds") or 0
    return {
        "holder": spec.get("holderIdentity"),
        "campaign": annotations.get(CAMPAIGN_ANNOTATION),
        "node": annotations.get(NODE_ANNOTATION),
        "since": spec.get("acquireTime"),
        "renewed": spec.get("renewTime"),
        "expires": format_time(renewed + datetime.timedelta(seconds=duration)) if renewed else None,
    }


def is_expired(lease, now):
    holder = holder_of(lease)
    if not holder["holder"]:
        return True  # released
    expires = parse_time(holder["expires"])
    return expires is None or expires <= now


def describe_holder(holder):
    return "campaign '{0}' (node {1}) holds the maintenance lock since {2}, renewed {3}, until {4}".format(
        holder.get("campaign") or holder.get("holder"), holder.get("node") or "-", holder.get("since"), holder.get("renewed"),
        holder.get("expires"))


def lease_manifest(campaign, node, now, duration, namespace=LOCK_NAMESPACE):
    stamp = format_time(now)
    return {
        "apiVersion": LOCK_API,
        "kind": LOCK_KIND,
        "metadata": {"name": LOCK_NAME, "namespace": namespace,
                     "annotations": {CAMPAIGN_ANNOTATION: campaign, NODE_ANNOTATION: node}},
        "spec": {"holderIdentity": campaign, "leaseDurationSeconds": int(duration), "acquireTime": stamp,
                 "renewTime": stamp, "leaseTransitions": 0},
    }


def plan_lock(lease, campaign, node, now, duration):
    """``(action, lease_to_write)`` for ``campaign`` to hold the lock now, or raise :class:`LockHeld`.

    ``lease`` is the Lease as read (``None`` when there is none): create it; renew it when the
    campaign holds it; take it over (same ``resourceVersion``, ``leaseTransitions`` + 1) when it
    was released or has expired; otherwise someone else holds it.
    """
    if lease is None:
        return TAKE, lease_manifest(campaign, node, now, duration)
    spec = lease.get("spec") or {}
    wanted = copy.deepcopy(lease)
    wanted.setdefault("metadata", {}).setdefault("annotations", {})
    wanted["metadata"]["annotations"].update({CAMPAIGN_ANNOTATION: campaign, NODE_ANNOTATION: node})
    wanted.setdefault("spec", {}).update(renewTime=format_time(now), leaseDurationSeconds=int(duration))
    if spec.get("holderIdentity") == campaign:
        return RENEW, wanted
    if not is_expired(lease, now):
        raise LockHeld(holder_of(lease))
    wanted["spec"].update(holderIdentity=campaign, acquireTime=format_time(now),
                          leaseTransitions=int(spec.get("leaseTransitions") or 0) + 1)
    return TAKE_OVER, wanted


def plan_release(lease, campaign):
    """The Lease with its holder cleared, or ``None`` when ``campaign`` does not hold it (nothing to release)."""
    if lease is None or (lease.get("spec") or {}).get("holderIdentity") != campaign:
        return None
    wanted = copy.deepcopy(lease)
    wanted["spec"].pop("holderIdentity", None)
    annotations = wanted["metadata"].get("annotations") or {}
    annotations.pop(NODE_ANNOTATION, None)
    return wanted
