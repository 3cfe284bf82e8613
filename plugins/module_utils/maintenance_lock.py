# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The campaign lock: one ``coordination.k8s.io/v1`` Lease for every maintenance campaign of a cluster.

Two runs that each read "no other node is down" and then each take a node down would leave two
workers unschedulable at once; preflight alone reads, then writes, with nothing in between. The
module judges read-only first (the Lease only read: held by another run, it refuses with no write),
then takes the lock and judges again under it: the first run creates the Lease, a second one meets
HTTP 409 and is refused, naming the holder. A Lease whose ``renewTime + leaseDurationSeconds`` has
passed (its holder crashed or was killed) is taken over with an update carrying the
``resourceVersion`` it was read at, so of two takers only one wins (the other gets 409 Conflict).
The fields follow the Lease API (kubernetes/kubernetes staging/src/k8s.io/api/coordination/v1/types.go:
``holderIdentity``, ``leaseDurationSeconds``, ``acquireTime``, ``renewTime``, ``leaseTransitions``),
as client-go's leader election uses them; campaign, run and node are annotations.

The holder is one *run* of a campaign (``holderIdentity`` is ``"<campaign> (run <run id>)"``), not
the campaign: two jobs started with the same campaign are two holders, and the second is refused
while the first holds the lock (a holder named by the campaign alone let both through). A run that
stops on a failure or an interruption leaves the lock to its campaign (annotation
``ocpvirt.portworx/stopped``): another campaign still waits for it to expire, a later run of the same
campaign takes it over at once. A released Lease (no holder) or an expired one is taken over by
anyone; a live one only with the named override ``take_over_lock`` (its holder is certainly dead).

Pure decisions over the Lease as read; the module does the calls.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
from collections import namedtuple

LOCK_API = "coordination.k8s.io/v1"
LOCK_KIND = "Lease"
LOCK_NAME = "ocpvirt-portworx-maintenance"
LOCK_NAMESPACE = "kube-system"
CAMPAIGN_ANNOTATION = "ocpvirt.portworx/campaign"
RUN_ANNOTATION = "ocpvirt.portworx/run"
NODE_ANNOTATION = "ocpvirt.portworx/node"
#: Set by a run that stopped (failed, interrupted) holding the lock: why and when. Its campaign may take the lock over.
STOPPED_ANNOTATION = "ocpvirt.portworx/stopped"
#: Set when a run released the lock: who, when and why (what a later run reports it took over).
RELEASED_ANNOTATION = "ocpvirt.portworx/released"
#: The named override that takes a live lock from a holder the user knows is dead.
TAKE_OVER_OVERRIDE = "take_over_lock"
#: MicroTime as the API serializes it (metav1.RFC3339Micro).
MICRO_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"

TAKE = "create"
RENEW = "renew"
RENEW_EXPIRED = "renew expired"
TAKE_OVER = "take over"

#: Why a Lease held by another holder may be taken: no holder, past its expiry, left to this campaign, or the override.
RELEASED, EXPIRED, STOPPED, FORCED = "released", "expired", "stopped", "forced"

#: ``action`` (TAKE, RENEW, RENEW_EXPIRED, TAKE_OVER), the Lease to write, the holder taken over (with ``why``) or
#: None, and whether the take-over needed ``take_over_lock``.
LockPlan = namedtuple("LockPlan", "action lease previous forced")


class LockHeld(Exception):
    """Another run holds the lock and it has not expired."""

    def __init__(self, holder, campaign=None):
        super(LockHeld, self).__init__(describe_holder(holder))
        self.holder = holder
        #: True when the holder is another run of the campaign asking.
        self.same_campaign = campaign is not None and holder.get("campaign") == campaign


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


def holder_identity(campaign, run):
    """The Lease's ``holderIdentity`` for one run of a campaign (the campaign alone when no run is known)."""
    return "{0} (run {1})".format(campaign, run) if run else campaign


def holder_of(lease):
    """What a Lease says about its holder: identity, campaign, run, node, since, renewed, expires, stopped, released."""
    spec = (lease or {}).get("spec") or {}
    annotations = ((lease or {}).get("metadata") or {}).get("annotations") or {}
    renewed = parse_time(spec.get("renewTime")) or parse_time(spec.get("acquireTime"))
    duration = spec.get("leaseDurationSeconds") or 0
    return {
        "holder": spec.get("holderIdentity"),
        "campaign": annotations.get(CAMPAIGN_ANNOTATION),
        "run": annotations.get(RUN_ANNOTATION),
        "node": annotations.get(NODE_ANNOTATION),
        "since": spec.get("acquireTime"),
        "renewed": spec.get("renewTime"),
        "expires": format_time(renewed + datetime.timedelta(seconds=duration)) if renewed else None,
        "stopped": annotations.get(STOPPED_ANNOTATION),
        "released": annotations.get(RELEASED_ANNOTATION),
    }


def is_expired(lease, now):
    holder = holder_of(lease)
    if not holder["holder"]:
        return True  # released
    expires = parse_time(holder["expires"])
    return expires is None or expires <= now


def describe_holder(holder):
    """``campaign 'c' (node n) holds the maintenance lock for run r since ..., renewed ..., until ...``."""
    text = "campaign '{0}' (node {1}) holds the maintenance lock{2} since {3}, renewed {4}, until {5}".format(
        holder.get("campaign") or holder.get("holder"), holder.get("node") or "-",
        " for run {0}".format(holder["run"]) if holder.get("run") else "", holder.get("since"), holder.get("renewed"),
        holder.get("expires"))
    if holder.get("stopped"):
        text += " (that run stopped: {0}; a run of the same campaign may take the lock over)".format(holder["stopped"])
    return text


def lease_manifest(campaign, node, now, duration, namespace=LOCK_NAMESPACE, run=None):
    stamp = format_time(now)
    annotations = {CAMPAIGN_ANNOTATION: campaign, NODE_ANNOTATION: node}
    if run:
        annotations[RUN_ANNOTATION] = run
    return {
        "apiVersion": LOCK_API,
        "kind": LOCK_KIND,
        "metadata": {"name": LOCK_NAME, "namespace": namespace, "annotations": annotations},
        "spec": {"holderIdentity": holder_identity(campaign, run), "leaseDurationSeconds": int(duration), "acquireTime": stamp,
                 "renewTime": stamp, "leaseTransitions": 0},
    }


def why_free(lease, campaign, now):
    """Why a Lease held by another holder may be taken now (RELEASED, EXPIRED, STOPPED), or None while it is held."""
    holder = holder_of(lease)
    if not holder["holder"]:
        return RELEASED
    if is_expired(lease, now):
        return EXPIRED
    if holder["stopped"] and holder["campaign"] == campaign:
        return STOPPED
    return None


def plan_lock(lease, campaign, node, now, duration, run=None, take_over_from=None):
    """The :class:`LockPlan` for run ``run`` of ``campaign`` to hold the lock now, or raise :class:`LockHeld`.

    ``lease`` is the Lease as read (``None`` when there is none): create it; renew it when this run holds
    it (RENEW_EXPIRED when it had expired meanwhile); take it over (same ``resourceVersion``,
    ``leaseTransitions`` + 1) when it was released, has expired, or was left to this campaign by a run that
    stopped, or, with ``take_over_from`` (the ``holderIdentity`` the user overrode, as seen at the read-only
    look), from that live holder and no other: a holder that took the lock since is a live run, not the dead
    one the override was given for; otherwise another run holds it.
    """
    me = holder_identity(campaign, run)
    if lease is None:
        return LockPlan(TAKE, lease_manifest(campaign, node, now, duration, run=run), None, False)
    spec = lease.get("spec") or {}
    wanted = copy.deepcopy(lease)
    annotations = wanted.setdefault("metadata", {}).setdefault("annotations", {})
    for stale in (STOPPED_ANNOTATION, RELEASED_ANNOTATION, RUN_ANNOTATION):
        annotations.pop(stale, None)
    annotations.update({CAMPAIGN_ANNOTATION: campaign, NODE_ANNOTATION: node})
    if run:
        annotations[RUN_ANNOTATION] = run
    wanted.setdefault("spec", {}).update(renewTime=format_time(now), leaseDurationSeconds=int(duration))
    if spec.get("holderIdentity") == me:
        return LockPlan(RENEW_EXPIRED if is_expired(lease, now) else RENEW, wanted, None, False)
    why = why_free(lease, campaign, now)
    if why is None:
        if take_over_from is None or spec.get("holderIdentity") != take_over_from:
            raise LockHeld(holder_of(lease), campaign)
        why = FORCED
    wanted["spec"].update(holderIdentity=me, acquireTime=format_time(now),
                          leaseTransitions=int(spec.get("leaseTransitions") or 0) + 1)
    return LockPlan(TAKE_OVER, wanted, dict(holder_of(lease), why=why), why == FORCED)


def holds(lease, campaign, run=None):
    return lease is not None and (lease.get("spec") or {}).get("holderIdentity") == holder_identity(campaign, run)


def plan_release(lease, campaign, run=None, now=None, why="released"):
    """The Lease with its holder cleared and who released it why, or ``None`` when this run does not hold it."""
    if not holds(lease, campaign, run):
        return None
    wanted = copy.deepcopy(lease)
    wanted["spec"].pop("holderIdentity", None)
    annotations = wanted["metadata"].setdefault("annotations", {})
    annotations.pop(NODE_ANNOTATION, None)
    annotations.pop(STOPPED_ANNOTATION, None)
    annotations[RELEASED_ANNOTATION] = "{0}{1}: {2}".format(
        holder_identity(campaign, run), " at {0}".format(format_time(now)) if now else "", why)
    return wanted


def plan_hand_over(lease, campaign, run, now, why):
    """The Lease left to ``campaign`` by this run, which stopped (``why``), or ``None`` when this run does not hold it.

    The holder, its node and its renewal stay: another campaign still waits until it expires; a later run of
    the same campaign takes it over at once (``why_free`` answers STOPPED).
    """
    if not holds(lease, campaign, run):
        return None
    wanted = copy.deepcopy(lease)
    wanted["metadata"].setdefault("annotations", {})[STOPPED_ANNOTATION] = "{0} at {1}".format(why, format_time(now))
    return wanted


def plan_restore(current, before):
    """``current`` (the Lease as this run wrote it) put back to ``before``: its spec and annotations, at the current version."""
    wanted = copy.deepcopy(current)
    wanted["spec"] = copy.deepcopy(before.get("spec") or {})
    wanted["metadata"]["annotations"] = copy.deepcopy((before.get("metadata") or {}).get("annotations") or {})
    return wanted
