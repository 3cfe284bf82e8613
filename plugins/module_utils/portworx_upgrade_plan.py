# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upgrading Portworx under running VMs: the guard before the image change and reading the rollout.

The Portworx Operator (libopenstorage/operator ``pkg/controller/storagecluster/update.go`` and
``kubevirt.go``) restarts Portworx node by node, ``maxUnavailable`` nodes at a time, and first
live-migrates the node's **live-migratable** VMs, pausing the node with the StorageNode event
``UpdatePaused``; a failed migration is not retried and gives ``FailedToEvictVM``. VMs that cannot
live-migrate are not waited for: they lose their storage while Portworx restarts under them. So the
guard refuses, before writing, unless one node is updated at a time ([000] "Upgrades": Portworx
keeps replicas on at most three nodes) and every running VM on Portworx can live-migrate (or is
listed as allowed to restart), and unless the operator still evicts VMs
(``operator.libopenstorage.org/evict-vms-during-update`` not ``"false"``). Setting that annotation
to ``"false"`` accepts VM downtime; only the explicit ``accept_vm_downtime`` does it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.ocpvirt.portworx.plugins.module_utils.cluster import describe
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Refusal
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage import is_portworx
from ansible_collections.ocpvirt.portworx.plugins.module_utils.versions import image_tag
from ansible_collections.ocpvirt.portworx.plugins.module_utils.versions import version_tuple as shared_version_tuple
from ansible_collections.ocpvirt.portworx.plugins.module_utils.waiting import condition

EVICT_VMS_ANNOTATION = "operator.libopenstorage.org/evict-vms-during-update"
# upstream's wording ("... on node N. Stop or migrate the VM ...") and the Portworx documentation's ("... Please stop ...")
FAILED_EVICTION = re.compile(r"Live migration (?P<migration>\S+) failed for VM (?P<namespace>[^/\s]+)/(?P<vm>\S+) on node (?P<node>[^.\s]+)")


def _meta(obj):
    return (obj or {}).get("metadata") or {}


def _dig(obj, *path):
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def image_version(image):
    """The tag of ``portworx/oci-monitor:3.6.1`` (a digest after it is not part of it); None without one."""
    return image_tag(image)


def version_tuple(version):
    """Any digits count: two image tags are compared, not a version against a minimum."""
    return shared_version_tuple(version, require_minor=False)


def vm_key(namespace, name):
    return "{0}/{1}".format(namespace, name)


def portworx_vmis(vmis, claims, classes):
    """Running VMIs with at least one volume on a Portworx class."""
    found = []
    for vmi in vmis:
        if _dig(vmi, "status", "phase") != "Running":
            continue
        namespace = _meta(vmi).get("namespace")
        for volume in _dig(vmi, "spec", "volumes") or []:
            claim_name = (volume.get("persistentVolumeClaim") or {}).get("claimName") or (volume.get("dataVolume") or {}).get("name")
            claim = claims.get((namespace, claim_name)) if claim_name else None
            if claim is not None and is_portworx(classes.get(_dig(claim, "spec", "storageClassName"))):
                found.append(vmi)
                break
    return found


def vm_migratability(vmis):
    """``[{vm, node, live_migratable, reason}]`` from each VMI's ``LiveMigratable`` condition."""
    report = []
    for vmi in vmis:
        cond = condition(vmi, "LiveMigratable")
        report.append({"vm": vm_key(_meta(vmi).get("namespace"), _meta(vmi).get("name")), "node": _dig(vmi, "status", "nodeName"),
                       "live_migratable": str(cond.get("status")) == "True",
                       "reason": " ".join(x for x in (cond.get("reason"), cond.get("message")) if x) or "no LiveMigratable condition"})
    return report


class UpgradePlan(object):
    def __init__(self, cluster, image, vms, accept_downtime):
        self.cluster = cluster
        self.image = image
        self.target = image_version(image)
        self.current = _dig(cluster, "status", "version")
        self.vms = vms
        self.accept_downtime = accept_downtime

    @property
    def patch(self):
        """The merge patch to send, or None when the StorageCluster already asks for the image."""
        patch = {}
        if _dig(self.cluster, "spec", "image") != self.image:
            patch["spec"] = {"image": self.image}
        if self.accept_downtime and (_meta(self.cluster).get("annotations") or {}).get(EVICT_VMS_ANNOTATION) != "false":
            patch["metadata"] = {"annotations": {EVICT_VMS_ANNOTATION: "false"}}
        return patch or None


def _check_strategy(subject, cluster):
    strategy = _dig(cluster, "spec", "updateStrategy") or {}
    if strategy.get("type") == "OnDelete":
        raise Refusal(subject, "its updateStrategy is OnDelete, so the operator would not roll the new image out node by node",
                      "Set spec.updateStrategy to {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}.")
    value = _dig(strategy, "rollingUpdate", "maxUnavailable")
    if value is not None and str(value) != "1":
        raise Refusal(subject, "spec.updateStrategy.rollingUpdate.maxUnavailable is {0}; updating more than one node at once can pause or "
                      "restart VMs, and Portworx keeps a volume's replicas on at most three nodes".format(value),
                      "Set spec.updateStrategy.rollingUpdate.maxUnavailable to 1, then run again.", max_unavailable=value)


def _check_versions(subject, current, target):
    if target is None:
        raise Refusal(subject, "the image has no version tag", "Give the image with its tag, for example portworx/oci-monitor:3.6.1.")
    if version_tuple(current) and version_tuple(target) and version_tuple(target) < version_tuple(current):
        raise Refusal(subject, "version {0} is older than the running {1}; the operator does not downgrade Portworx".format(target, current),
                      "Give a version newer than {0}.".format(current))


def _check_nodes(subject, nodes):
    not_online = sorted("{0} ({1})".format(_meta(n).get("name"), _dig(n, "status", "phase") or "no phase")
                        for n in nodes if _dig(n, "status", "phase") != "Online")
    if not_online:
        raise Refusal(subject, "StorageNodes {0} are not Online; an upgrade now would take more than one node down".format(", ".join(not_online)),
                      "Bring every storage node back Online (end its maintenance), then run again.")


def plan_upgrade(request, cluster, nodes, vms):
    """Check an upgrade request. ``vms`` is :func:`vm_migratability` of the running VMs on Portworx."""
    subject = describe("StorageCluster", _meta(cluster).get("name"), _meta(cluster).get("namespace"))
    target = image_version(request["image"])
    _check_versions(subject, _dig(cluster, "status", "version"), target)
    plan = UpgradePlan(cluster, request["image"], vms, request.get("accept_vm_downtime"))
    if plan.patch is None:
        return plan  # the rollout was started before: only follow it
    _check_strategy(subject, cluster)
    accept = request.get("accept_vm_downtime")
    if not accept and (_meta(cluster).get("annotations") or {}).get(EVICT_VMS_ANNOTATION, "").lower() == "false":
        raise Refusal(subject, "it is annotated {0}: \"false\", so the operator would restart Portworx under running VMs".format(EVICT_VMS_ANNOTATION),
                      "Remove the annotation, or set accept_vm_downtime: true if VM downtime is accepted.")
    if _dig(cluster, "spec", "image") != request["image"]:
        _check_nodes(subject, nodes)
    allowed = set(request.get("allow_restart_vms") or [])
    blocked = [v for v in vms if not v["live_migratable"] and v["vm"] not in allowed]
    if blocked and not accept:
        raise Refusal(subject, "VMs that cannot live-migrate run on Portworx and would go down when Portworx restarts on their node: {0}".format(
            "; ".join("{0} on {1} ({2})".format(v["vm"], v["node"], v["reason"]) for v in blocked)),
            "Make them live-migratable (RWX volumes, masquerade networking), stop them, or list them in allow_restart_vms.",
            blocked_vms=blocked)
    return plan


def rollout_state(cluster, nodes, target):
    """Where the rollout is: per node version and phase, and whether it is complete."""
    rows = sorted(({"name": _meta(n).get("name"), "version": _dig(n, "spec", "version"), "phase": _dig(n, "status", "phase")} for n in nodes),
                  key=lambda r: r["name"])
    done = bool(rows) and all(r["version"] == target and r["phase"] == "Online" for r in rows) and _dig(cluster, "status", "version") == target
    return {"nodes": rows, "updated": [r["name"] for r in rows if r["version"] == target and r["phase"] == "Online"], "done": done}


def fresh_events(events, baseline):
    """The UpdatePaused / FailedToEvictVM events that are new or repeated since ``baseline`` ({name: count})."""
    fresh = []
    for event in events:
        if event.get("reason") not in ("UpdatePaused", "FailedToEvictVM"):
            continue
        name = _meta(event).get("name")
        if int(event.get("count") or 1) > baseline.get(name, 0):
            fresh.append(event)
    return fresh


def failed_eviction(event):
    """``{migration, namespace, vm, node}`` named by a FailedToEvictVM message; None when it names none."""
    match = FAILED_EVICTION.search(event.get("message") or "")
    return match.groupdict() if match else None


def migration_failure_reason(migration, vmi):
    """Why a live migration failed: the VMI's ``migrationState.failureReason`` for that migration, else the migration's."""
    state = _dig(vmi, "status", "migrationState") or {}
    if state.get("failureReason") and state.get("migrationUid") in (None, _meta(migration).get("uid")):
        return state["failureReason"]
    own = _dig(migration, "status", "migrationState") or {}
    if own.get("failureReason"):
        return own["failureReason"]
    return "migration phase {0}".format(_dig(migration, "status", "phase") or "unknown")
