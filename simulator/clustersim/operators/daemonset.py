"""The DaemonSet controller (kubernetes/kubernetes release-1.33, ``pkg/controller/daemon``).

* ``daemon_controller.go`` ``nodeShouldRunDaemonPod``: a node runs the daemon pod when it
  matches the template's node selector / affinity and every ``NoSchedule``/``NoExecute`` taint is
  tolerated — with the tolerations every daemon pod gets (``util/daemonset_util.go``
  ``AddOrUpdateDaemonPodTolerations``: not-ready and unreachable NoExecute; disk-, memory-,
  pid-pressure and unschedulable NoSchedule), so cordoned nodes keep their daemon pods;
* the pod (``generateName: <ds>-``, labels ``controller-revision-hash`` and
  ``pod-template-generation``) is pinned to its node by required node affinity on
  ``metadata.name`` (``ReplaceDaemonSetPodNodeNameNodeAffinity``) and bound by the scheduler;
  surplus pods (on nodes that no longer qualify, or duplicates) are deleted, Failed ones replaced;
* ``update.go`` ``rollingUpdate``: pods of an older template are deleted while at most
  ``maxUnavailable`` (default 1) daemon pods are unavailable; ``OnDelete`` waits for the user;
* ``status.go`` ``updateDaemonSetStatus``: ``desiredNumberScheduled``,
  ``currentNumberScheduled``, ``numberMisscheduled``, ``numberReady``, ``numberAvailable``,
  ``numberUnavailable``, ``updatedNumberScheduled``, ``observedGeneration``.
"""
from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

from ..controller import watches
from ..util import clone, dig
from ._rollout import int_or_percent
from ._scheduling import matches_node_affinity, untolerated_taint
from ._workloads import POD_KEY, compute_hash, create_quietly, delete_quietly, is_ready, owned, pod_from_template
from .replicaset import PodSetController, is_available

KEY = "apps/daemonsets"
COMPONENT = "daemonset-controller"
DAEMON_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]


def daemon_template(ds: Dict[str, Any]) -> Dict[str, Any]:
    template = clone(dig(ds, "spec", "template") or {})
    spec = template.setdefault("spec", {})
    tolerations = list(spec.get("tolerations") or [])
    for toleration in DAEMON_TOLERATIONS:
        if toleration not in tolerations:
            tolerations.append(toleration)
    spec["tolerations"] = tolerations
    return template


def should_run(ds: Dict[str, Any], node: Dict[str, Any]) -> bool:
    template = daemon_template(ds)
    probe = {"metadata": {}, "spec": template["spec"]}
    return matches_node_affinity(probe, node) and untolerated_taint(probe, node) is None


def pinned_to(pod: Dict[str, Any]) -> Optional[str]:
    if dig(pod, "spec", "nodeName"):
        return pod["spec"]["nodeName"]
    terms = dig(pod, "spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution",
                "nodeSelectorTerms") or []
    for term in terms:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("values"):
                return field["values"][0]
    return None


class DaemonSetController(PodSetController):
    name = "daemonset"
    key = KEY
    owner_kind = "DaemonSet"
    component = COMPONENT

    @watches(KEY)
    def on_daemonset(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        self.on_owner(event, new, old)

    @watches(POD_KEY)
    def on_pod(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        self.on_dependent(event, new, old)

    @watches("nodes")
    def on_node(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is not None and old is not None and new.get("spec") == old.get("spec") and \
                dig(new, "metadata", "labels") == dig(old, "metadata", "labels"):
            return
        for ds in self.store.list(KEY, copy=False):
            self.enqueue(ds["metadata"]["namespace"], ds["metadata"]["name"])

    def new_pod(self, ds: Dict[str, Any], node: str, revision: str) -> Dict[str, Any]:
        template = daemon_template(ds)
        pod = pod_from_template(ds, template, {"controller-revision-hash": revision,
                                               "pod-template-generation": str(ds["metadata"].get("generation", 1))})
        affinity = pod["spec"].setdefault("affinity", {})
        affinity["nodeAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}
        return pod

    def sync(self, ds: Dict[str, Any]) -> None:
        if ds["metadata"].get("deletionTimestamp"):
            return
        revision = compute_hash(dig(ds, "spec", "template") or {})
        nodes = [n for n in self.store.list("nodes", copy=False) if should_run(ds, n)]
        wanted = {n["metadata"]["name"] for n in nodes}
        # getNodesToDaemonPods: a terminating pod still occupies its node (only terminal ones that are
        # being deleted do not), so a replacement waits until the old pod is gone
        pods = [p for p in owned(self.store, POD_KEY, ds)
                if not (p["metadata"].get("deletionTimestamp") and dig(p, "status", "phase") in ("Succeeded", "Failed"))]
        namespace = ds["metadata"]["namespace"]
        by_node: Dict[str, List[Dict[str, Any]]] = {}
        for pod in pods:
            by_node.setdefault(pinned_to(pod) or "", []).append(pod)
        for node, on_node in by_node.items():
            live = [p for p in on_node if not p["metadata"].get("deletionTimestamp")]
            keep = [p for p in live if dig(p, "status", "phase") != "Failed"][:1] if node in wanted else []
            for pod in live:
                if pod not in keep:
                    delete_quietly(self.store, POD_KEY, pod["metadata"]["name"], namespace)
        for node in sorted(wanted):
            if node not in by_node:
                create_quietly(self.store, POD_KEY, self.new_pod(ds, node, revision), namespace)
        self.roll(ds, revision, wanted)
        self.report(ds, revision, wanted)

    def roll(self, ds: Dict[str, Any], revision: str, wanted: set) -> None:
        strategy = dig(ds, "spec", "updateStrategy") or {}
        if (strategy.get("type") or "RollingUpdate") != "RollingUpdate":
            return
        pods = [p for p in owned(self.store, POD_KEY, ds) if pinned_to(p) in wanted]
        max_unavailable = max(int_or_percent(dig(strategy, "rollingUpdate", "maxUnavailable") or 1, len(wanted), False), 1)
        unavailable = len(wanted) - sum(1 for p in pods if is_ready(p) and not p["metadata"].get("deletionTimestamp"))
        for pod in pods:
            if unavailable >= max_unavailable:
                return
            if dig(pod, "metadata", "labels", "controller-revision-hash") != revision and \
                    not pod["metadata"].get("deletionTimestamp"):
                delete_quietly(self.store, POD_KEY, pod["metadata"]["name"], ds["metadata"]["namespace"])
                unavailable += 1

    def report(self, ds: Dict[str, Any], revision: str, wanted: set) -> None:
        current = self.store.peek(KEY, ds["metadata"]["name"], ds["metadata"]["namespace"])
        if current is None:
            return
        pods = [p for p in owned(self.store, POD_KEY, current) if not p["metadata"].get("deletionTimestamp")]
        scheduled = {pinned_to(p) for p in pods if dig(p, "spec", "nodeName")}
        on_wanted = [p for p in pods if pinned_to(p) in wanted]
        min_ready = int(dig(current, "spec", "minReadySeconds") or 0)
        now = time.time()
        available = sum(1 for p in on_wanted if is_available(p, min_ready, now))
        status = {"observedGeneration": current["metadata"].get("generation", 1),
                  "desiredNumberScheduled": len(wanted), "currentNumberScheduled": len(scheduled & wanted),
                  "numberMisscheduled": len(scheduled - wanted),
                  "numberReady": sum(1 for p in on_wanted if is_ready(p)),
                  "updatedNumberScheduled": sum(1 for p in on_wanted if dig(p, "spec", "nodeName") and
                                                dig(p, "metadata", "labels", "controller-revision-hash") == revision),
                  "numberAvailable": available, "numberUnavailable": max(len(wanted) - available, 0)}
        self.write_status(current, {k: v for k, v in status.items() if v or k not in ("numberAvailable", "numberUnavailable",
                                                                                      "updatedNumberScheduled")})


CONTROLLERS = [DaemonSetController]
