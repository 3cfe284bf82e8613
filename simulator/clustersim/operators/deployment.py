"""The Deployment controller (kubernetes/kubernetes release-1.33, ``pkg/controller/deployment``).

* ``sync.go`` ``getNewReplicaSet``: the ReplicaSet whose template equals the Deployment's (the
  ``pod-template-hash`` label aside) is the new one; else one is created, named
  ``<deployment>-<hash>`` (:func:`._workloads.compute_hash`), its template and selector labelled
  ``pod-template-hash``, with the annotations ``deployment.kubernetes.io/revision`` (one more
  than the highest), ``desired-replicas`` and ``max-replicas``; the Deployment carries the
  revision annotation too;
* ``rolling.go`` (RollingUpdate, honouring ``maxSurge`` / ``maxUnavailable``) and
  ``recreate.go`` (old ReplicaSets to 0, then the new one up once no old pod is active), the
  arithmetic in :mod:`._rollout`; a paused Deployment is only scaled (``sync.go`` ``sync``);
* ``sync.go`` ``cleanupDeployment``: old ReplicaSets with no replicas beyond
  ``revisionHistoryLimit`` (default 10) are deleted;
* status and conditions as ``syncRolloutStatus`` writes them, so ``kubectl rollout status``
  completes once the new ReplicaSet's pods are available. ``progressDeadlineSeconds`` is not
  enforced (no ``ProgressDeadlineExceeded``); ``collisionCount`` stays unset.
Events ``ScalingReplicaSet`` ("Scaled up replica set x from a to b").
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..controller import Controller, watches
from ..util import clone, dig
from . import _rollout as rollout
from ._workloads import compute_hash, controller_ref, create_quietly, delete_quietly, owned, record_event, set_conditions
from .replicaset import KEY as RS_KEY, PodSetController

KEY = "apps/deployments"
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX = "deployment.kubernetes.io/max-replicas"
COMPONENT = "deployment-controller"


def template_without_hash(rs: Dict[str, Any]) -> Dict[str, Any]:
    template = clone(dig(rs, "spec", "template") or {})
    labels = dig(template, "metadata", "labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return template


def revision_of(rs: Dict[str, Any]) -> int:
    try:
        return int(dig(rs, "metadata", "annotations", REVISION) or 0)
    except ValueError:
        return 0


class DeploymentController(PodSetController):
    name = "deployment"
    key = KEY
    owner_kind = "Deployment"
    component = COMPONENT

    @watches(KEY)
    def on_deployment(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        self.on_owner(event, new, old)

    @watches(RS_KEY)
    def on_replicaset(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        self.on_dependent(event, new, old)

    def sync(self, deployment: Dict[str, Any]) -> None:
        if deployment["metadata"].get("deletionTimestamp"):
            return
        all_rs = sorted(owned(self.store, RS_KEY, deployment), key=lambda rs: (revision_of(rs), rs["metadata"]["name"]))
        template = dig(deployment, "spec", "template") or {}
        new_rs = next((rs for rs in all_rs if template_without_hash(rs) == template), None)
        old = [rs for rs in all_rs if rs is not new_rs]
        created = False
        if dig(deployment, "spec", "paused"):
            if new_rs is not None:
                self.scale(deployment, new_rs, rollout.replicas_of(deployment))
        else:
            if new_rs is None:
                new_rs = self.create_replicaset(deployment, all_rs)
                created = new_rs is not None
            if new_rs is not None:
                self.roll(deployment, new_rs, old)
        self.set_revision(deployment, new_rs)
        self.cleanup(deployment, old)
        fresh = sorted(owned(self.store, RS_KEY, deployment), key=lambda rs: (revision_of(rs), rs["metadata"]["name"]))
        new_rs = next((rs for rs in fresh if template_without_hash(rs) == template), None)
        self.report(deployment, new_rs, fresh, created)

    def roll(self, deployment: Dict[str, Any], new_rs: Dict[str, Any], old: List[Dict[str, Any]]) -> None:
        desired = rollout.replicas_of(deployment)
        if (dig(deployment, "spec", "strategy", "type") or "RollingUpdate") == "Recreate":
            for rs in old:
                self.scale(deployment, rs, 0)
            if all(int(dig(rs, "status", "replicas") or 0) == 0 for rs in old):
                self.scale(deployment, new_rs, desired)
            return
        new_size = rollout.new_replicas(deployment, new_rs, old + [new_rs])
        if new_size != rollout.replicas_of(new_rs):
            new_rs = self.scale(deployment, new_rs, new_size) or new_rs
        for rs in old:
            size = rollout.old_scale_downs(deployment, new_rs, old)[rs["metadata"]["name"]]
            if size != rollout.replicas_of(rs):
                self.scale(deployment, rs, size)

    def create_replicaset(self, deployment: Dict[str, Any], all_rs: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        template = clone(dig(deployment, "spec", "template") or {})
        pod_hash = compute_hash(template)
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
        selector = clone(dig(deployment, "spec", "selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
        surge, _ = rollout.fenceposts(deployment)
        desired = rollout.replicas_of(deployment)
        revision = max([revision_of(rs) for rs in all_rs] + [0]) + 1
        meta = deployment["metadata"]
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": f"{meta['name']}-{pod_hash}", "labels": dict(template["metadata"]["labels"]),
                           "annotations": {REVISION: str(revision), DESIRED: str(desired), MAX: str(desired + surge)},
                           "ownerReferences": [controller_ref(deployment)]},
              "spec": {"replicas": 0, "minReadySeconds": int(dig(deployment, "spec", "minReadySeconds") or 0),
                       "selector": selector, "template": template}}
        created = create_quietly(self.store, RS_KEY, rs, meta["namespace"])
        if created is not None:
            size = desired if (dig(deployment, "spec", "strategy", "type") == "Recreate" and not all_rs) else \
                rollout.new_replicas(deployment, created, all_rs + [created])
            if dig(deployment, "spec", "strategy", "type") == "Recreate" and all_rs:
                size = 0
            created = self.scale(deployment, created, size) or created
        return created

    def scale(self, deployment: Dict[str, Any], rs: Dict[str, Any], size: int) -> Optional[Dict[str, Any]]:
        before = rollout.replicas_of(rs)
        surge, _ = rollout.fenceposts(deployment)
        desired = rollout.replicas_of(deployment)
        annotations = {DESIRED: str(desired), MAX: str(desired + surge)}
        if before == size and all(dig(rs, "metadata", "annotations", k) == v for k, v in annotations.items()):
            return rs

        def write(obj: Dict[str, Any]) -> None:
            obj["spec"]["replicas"] = size
            obj["metadata"].setdefault("annotations", {}).update(annotations)
        result = self.store.mutate(RS_KEY, rs["metadata"]["name"], write, rs["metadata"]["namespace"])
        if before != size:
            direction = "up" if size > before else "down"
            record_event(self.store, deployment, "ScalingReplicaSet",
                         f"Scaled {direction} replica set {rs['metadata']['name']} from {before} to {size}", COMPONENT)
        return result

    def set_revision(self, deployment: Dict[str, Any], new_rs: Optional[Dict[str, Any]]) -> None:
        if new_rs is None:
            return
        all_rs = owned(self.store, RS_KEY, deployment)
        highest = max(revision_of(rs) for rs in all_rs) if all_rs else 0
        target = new_rs
        if revision_of(new_rs) < highest and any(revision_of(rs) == highest and rs is not new_rs
                                                 and rs["metadata"]["name"] != new_rs["metadata"]["name"] for rs in all_rs):
            highest += 1  # an old template came back (rollback): it becomes the newest revision
            self.store.mutate(RS_KEY, target["metadata"]["name"],
                              lambda o: o["metadata"].setdefault("annotations", {}).update({REVISION: str(highest)}),
                              target["metadata"]["namespace"])
        wanted = str(max(highest, revision_of(new_rs)))
        if dig(deployment, "metadata", "annotations", REVISION) != wanted:
            self.store.mutate(KEY, deployment["metadata"]["name"],
                              lambda o: o["metadata"].setdefault("annotations", {}).update({REVISION: wanted}),
                              deployment["metadata"]["namespace"])

    def cleanup(self, deployment: Dict[str, Any], old: List[Dict[str, Any]]) -> None:
        limit = dig(deployment, "spec", "revisionHistoryLimit")
        limit = 10 if limit is None else int(limit)
        idle = [rs for rs in old if rollout.replicas_of(rs) == 0 and not int(dig(rs, "status", "replicas") or 0)]
        for rs in idle[:max(len(idle) - limit, 0)]:
            delete_quietly(self.store, RS_KEY, rs["metadata"]["name"], rs["metadata"]["namespace"])

    def report(self, deployment: Dict[str, Any], new_rs: Optional[Dict[str, Any]], all_rs: List[Dict[str, Any]],
               created: bool) -> None:
        current = self.store.peek(KEY, deployment["metadata"]["name"], deployment["metadata"]["namespace"])
        if current is None:
            return
        status = rollout.counts(current, new_rs, all_rs)
        status["conditions"] = clone(dig(current, "status", "conditions") or [])
        set_conditions(status, "Available", *rollout.available_condition(current, status), with_update_time=True)
        previous = next((c for c in status["conditions"] if c.get("type") == "Progressing"), None)
        progressing = rollout.progressing_condition(current, status, new_rs, created, previous)
        if progressing is not None:
            set_conditions(status, "Progressing", *progressing, with_update_time=True)
        failure = rollout.replica_failure_condition(new_rs, all_rs)
        known = next((c for c in status["conditions"] if c.get("type") == "ReplicaFailure"), None)
        if failure is None or known is None or (known.get("status"), known.get("reason")) != (failure["status"], failure["reason"]):
            status["conditions"] = [c for c in status["conditions"] if c.get("type") != "ReplicaFailure"]
            if failure is not None:
                status["conditions"].append(failure)  # SetDeploymentCondition: same status and reason is no change
        status["conditions"].sort(key=lambda c: {"Available": 0, "Progressing": 1}.get(c.get("type"), 2))
        self.write_status(current, status)


CONTROLLERS = [DeploymentController]
