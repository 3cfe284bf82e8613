"""The StatefulSet controller (kubernetes/kubernetes release-1.33, ``pkg/controller/statefulset``).

* ``stateful_set_utils.go``: pod ``<set>-<ordinal>`` with ``hostname`` = its name,
  ``subdomain`` = ``spec.serviceName``, labels ``controller-revision-hash``,
  ``statefulset.kubernetes.io/pod-name`` and ``apps.kubernetes.io/pod-index``; one claim per
  ``volumeClaimTemplates`` entry named ``<template>-<set>-<ordinal>`` (labels of the set's
  selector), mounted as the volume of the template's name; claims stay when pods go (the default
  ``persistentVolumeClaimRetentionPolicy`` Retain);
* ``stateful_set_control.go`` ``updateStatefulSet``: ``OrderedReady`` creates ordinal N only
  once 0..N-1 are Running and Ready and removes the highest ordinal first, one at a time;
  ``Parallel`` does all at once; a Failed or Succeeded pod is deleted and recreated; the
  ``RollingUpdate`` strategy then deletes, from the highest ordinal down to ``partition``, one
  pod not at ``updateRevision`` at a time (``OnDelete`` leaves that to the user);
* status ``replicas``, ``readyReplicas``, ``availableReplicas``, ``currentReplicas``,
  ``updatedReplicas``, ``currentRevision``, ``updateRevision`` (``<set>-<hash>``; the current
  revision follows the update revision once every pod runs it), ``observedGeneration``,
  ``collisionCount``. No ControllerRevision objects are written (the kind is not served).
"""
from __future__ import annotations

import re
import time
from typing import Any, Dict, List, Optional

from ..controller import watches
from ..util import clone, dig
from ._workloads import (POD_KEY, compute_hash, controller_ref, create_quietly, delete_quietly, is_ready, owned,
                         pod_from_template)
from .replicaset import PodSetController, is_available

KEY = "apps/statefulsets"
PVC_KEY = "persistentvolumeclaims"
REVISION_LABEL = "controller-revision-hash"
COMPONENT = "statefulset-controller"


def ordinal_of(set_name: str, pod: Dict[str, Any]) -> Optional[int]:
    match = re.fullmatch(re.escape(set_name) + r"-(\d+)", pod["metadata"]["name"])
    return int(match.group(1)) if match else None


def claim_name(template: Dict[str, Any], set_name: str, ordinal: int) -> str:
    return f"{template['metadata']['name']}-{set_name}-{ordinal}"


def running_and_ready(pod: Optional[Dict[str, Any]]) -> bool:
    return pod is not None and dig(pod, "status", "phase") == "Running" and is_ready(pod) \
        and not pod["metadata"].get("deletionTimestamp")


class StatefulSetController(PodSetController):
    name = "statefulset"
    key = KEY
    owner_kind = "StatefulSet"
    component = COMPONENT

    @watches(KEY)
    def on_statefulset(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        self.on_owner(event, new, old)

    @watches(POD_KEY)
    def on_pod(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        self.on_dependent(event, new, old)

    def revision(self, sts: Dict[str, Any]) -> str:
        return f"{sts['metadata']['name']}-{compute_hash(dig(sts, 'spec', 'template') or {})}"

    def new_pod(self, sts: Dict[str, Any], ordinal: int, revision: str) -> Dict[str, Any]:
        name = f"{sts['metadata']['name']}-{ordinal}"
        pod = pod_from_template(sts, dig(sts, "spec", "template") or {}, {
            REVISION_LABEL: revision, "statefulset.kubernetes.io/pod-name": name,
            "apps.kubernetes.io/pod-index": str(ordinal)}, name=name)
        pod["spec"]["hostname"] = name
        if dig(sts, "spec", "serviceName"):
            pod["spec"]["subdomain"] = sts["spec"]["serviceName"]
        volumes = [v for v in pod["spec"].get("volumes") or []]
        for template in dig(sts, "spec", "volumeClaimTemplates") or []:
            volumes = [v for v in volumes if v.get("name") != template["metadata"]["name"]]
            volumes.append({"name": template["metadata"]["name"],
                            "persistentVolumeClaim": {"claimName": claim_name(template, sts["metadata"]["name"], ordinal)}})
        if volumes:
            pod["spec"]["volumes"] = volumes
        return pod

    def ensure_claims(self, sts: Dict[str, Any], ordinal: int) -> None:
        namespace = sts["metadata"]["namespace"]
        for template in dig(sts, "spec", "volumeClaimTemplates") or []:
            name = claim_name(template, sts["metadata"]["name"], ordinal)
            if self.store.peek(PVC_KEY, name, namespace) is None:
                claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                         "metadata": {"name": name, "labels": dict(dig(sts, "spec", "selector", "matchLabels") or {},
                                                                   **(dig(template, "metadata", "labels") or {}))},
                         "spec": clone(template.get("spec") or {})}
                create_quietly(self.store, PVC_KEY, claim, namespace)

    def sync(self, sts: Dict[str, Any]) -> None:
        if sts["metadata"].get("deletionTimestamp"):
            return
        revision = self.revision(sts)
        by_ordinal = {}
        for pod in owned(self.store, POD_KEY, sts):
            ordinal = ordinal_of(sts["metadata"]["name"], pod)
            if ordinal is not None:
                by_ordinal[ordinal] = pod
        self.converge(sts, by_ordinal, revision)
        pods = owned(self.store, POD_KEY, sts)
        self.report(sts, pods, revision)

    def converge(self, sts: Dict[str, Any], pods: Dict[int, Dict[str, Any]], revision: str) -> None:
        replicas = int(dig(sts, "spec", "replicas", default=1))
        ordered = (dig(sts, "spec", "podManagementPolicy") or "OrderedReady") == "OrderedReady"
        namespace = sts["metadata"]["namespace"]
        for ordinal in range(replicas):
            pod = pods.get(ordinal)
            if pod is not None and dig(pod, "status", "phase") in ("Failed", "Succeeded") \
                    and not pod["metadata"].get("deletionTimestamp"):
                delete_quietly(self.store, POD_KEY, pod["metadata"]["name"], namespace)
                return
            if pod is None:
                self.ensure_claims(sts, ordinal)
                create_quietly(self.store, POD_KEY, self.new_pod(sts, ordinal, revision), namespace)
                if ordered:
                    return
            elif ordered and not running_and_ready(pod):
                return
        surplus = sorted((o for o in pods if o >= replicas), reverse=True)
        for ordinal in surplus:
            if not pods[ordinal]["metadata"].get("deletionTimestamp"):
                delete_quietly(self.store, POD_KEY, pods[ordinal]["metadata"]["name"], namespace)
            if ordered:
                return
        if surplus:
            return
        self.roll(sts, pods, revision, replicas)

    def roll(self, sts: Dict[str, Any], pods: Dict[int, Dict[str, Any]], revision: str, replicas: int) -> None:
        strategy = dig(sts, "spec", "updateStrategy") or {}
        if (strategy.get("type") or "RollingUpdate") != "RollingUpdate":
            return
        partition = int(dig(strategy, "rollingUpdate", "partition") or 0)
        if not all(running_and_ready(pods.get(o)) for o in range(replicas)):
            return
        for ordinal in range(replicas - 1, partition - 1, -1):
            pod = pods[ordinal]
            if dig(pod, "metadata", "labels", REVISION_LABEL) != revision:
                delete_quietly(self.store, POD_KEY, pod["metadata"]["name"], sts["metadata"]["namespace"])
                return

    def report(self, sts: Dict[str, Any], pods: List[Dict[str, Any]], revision: str) -> None:
        current = self.store.peek(KEY, sts["metadata"]["name"], sts["metadata"]["namespace"])
        if current is None:
            return
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        updated = sum(1 for p in live if dig(p, "metadata", "labels", REVISION_LABEL) == revision)
        current_revision = dig(current, "status", "currentRevision") or revision
        replicas = int(dig(current, "spec", "replicas", default=1))
        if updated == len(live) == replicas:
            current_revision = revision
        min_ready = int(dig(current, "spec", "minReadySeconds") or 0)
        now = time.time()
        status = {"observedGeneration": current["metadata"].get("generation", 1), "replicas": len(live),
                  "readyReplicas": sum(1 for p in live if is_ready(p)),
                  "availableReplicas": sum(1 for p in live if is_available(p, min_ready, now)),
                  "currentReplicas": sum(1 for p in live if dig(p, "metadata", "labels", REVISION_LABEL) == current_revision),
                  "updatedReplicas": updated, "currentRevision": current_revision, "updateRevision": revision,
                  "collisionCount": 0}
        self.write_status(current, {k: v for k, v in status.items() if v or k in ("replicas", "availableReplicas",
                                                                                  "collisionCount")})


CONTROLLERS = [StatefulSetController]
