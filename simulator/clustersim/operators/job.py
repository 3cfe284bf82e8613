"""The Job controller (kubernetes/kubernetes release-1.33, ``pkg/controller/job``) and the
TTL-after-finished controller (``pkg/controller/ttlafterfinished``).

* ``job_controller.go`` ``syncJob`` / ``manageJob``: ``parallelism`` (default 1) pods run at a
  time, never more than the completions still missing; pods are ``generateName: <job>-``
  (``<job>-<index>-`` for ``completionMode: Indexed``, with the
  ``batch.kubernetes.io/job-completion-index`` annotation and label and ``hostname``
  ``<job>-<index>``), labelled ``batch.kubernetes.io/controller-uid``,
  ``batch.kubernetes.io/job-name``, ``controller-uid`` and ``job-name`` (what the apiserver's
  job strategy adds to the template, ``pkg/registry/batch/job/strategy.go``);
* success: ``succeeded`` reaches ``completions`` (without ``completions``: one pod succeeded
  and none active) → conditions SuccessCriteriaMet then Complete, reason
  ``CompletionsReached`` ("Reached expected number of succeeded pods"), ``completionTime``;
* failure: more Failed pods than ``backoffLimit`` (default 6) — under ``restartPolicy:
  OnFailure`` the active pods' restarts count (``pastBackoffLimitOnFailure``) — or
  ``activeDeadlineSeconds`` passed → FailureTarget then Failed with ``BackoffLimitExceeded``
  ("Job has reached the specified backoff limit") or ``DeadlineExceeded`` ("Job was active longer
  than specified deadline"); active pods are deleted;
* a failed pod is replaced after the pod-failure back-off (upstream 10 s doubling, capped at
  6 min, ``DefaultJobPodFailureBackOff``; here ``job_backoff`` seconds, default 0.1, doubling);
* ``suspend: true`` deletes active pods and sets Suspended (``JobSuspended``, "Job suspended");
* status ``startTime``, ``active``, ``ready``, ``succeeded``, ``failed``, ``terminating``,
  ``uncountedTerminatedPods``, ``completedIndexes`` (Indexed), ``observedGeneration`` is not a
  Job field;
* ``ttlSecondsAfterFinished``: the finished Job is deleted that many seconds later (background
  propagation, so its pods go too).
Not modelled: the ``batch.kubernetes.io/job-tracking`` pod finalizer, pod failure policies,
success policies, ``backoffLimitPerIndex``, ``podReplacementPolicy``, managedBy.
"""
from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Tuple

from ..controller import watches
from ..errors import ApiError
from ..util import clone, dig, now_rfc3339
from ._workloads import POD_KEY, controller_uid, create_quietly, delete_quietly, is_ready, pod_from_template, set_conditions
from .replicaset import PodSetController, parse_time

KEY = "batch/jobs"
COMPONENT = "job-controller"
INDEX = "batch.kubernetes.io/job-completion-index"
MSG_COMPLETE = "Reached expected number of succeeded pods"
MSG_BACKOFF = "Job has reached the specified backoff limit"
MSG_DEADLINE = "Job was active longer than specified deadline"


def finished_type(job: Dict[str, Any]) -> str:
    """``getFinishedStatus``: "Complete" or "Failed" once that condition is True, else ""."""
    for condition in dig(job, "status", "conditions") or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return condition["type"]
    return ""


def is_finished(job: Dict[str, Any]) -> bool:
    return finished_type(job) != ""


def completions_of(job: Dict[str, Any]) -> Optional[int]:
    value = dig(job, "spec", "completions")
    return None if value is None else int(value)


def outcome(job: Dict[str, Any], succeeded: int, failed: int, active: List[Dict[str, Any]], now: float
            ) -> Optional[Tuple[str, str, str]]:
    """(condition type, reason, message) when the Job is done, else None."""
    completions = completions_of(job)
    if (completions is not None and succeeded >= completions) or (completions is None and succeeded and not active):
        return "Complete", "CompletionsReached", MSG_COMPLETE
    limit = int(dig(job, "spec", "backoffLimit", default=6))
    restarts = sum(s.get("restartCount", 0) for p in active for s in dig(p, "status", "containerStatuses") or [])
    on_failure = dig(job, "spec", "template", "spec", "restartPolicy") == "OnFailure"
    if failed > limit or (on_failure and limit and restarts >= limit) or (on_failure and limit == 0 and restarts):
        return "Failed", "BackoffLimitExceeded", MSG_BACKOFF
    deadline = dig(job, "spec", "activeDeadlineSeconds")
    started = parse_time(dig(job, "status", "startTime"))
    if deadline is not None and started and now - started >= int(deadline):
        return "Failed", "DeadlineExceeded", MSG_DEADLINE
    return None


def pods_to_start(job: Dict[str, Any], active: int, succeeded: int) -> int:
    parallelism = int(dig(job, "spec", "parallelism", default=1))
    completions = completions_of(job)
    wanted = parallelism if completions is None else min(parallelism, completions - succeeded)
    if completions is None and succeeded:
        wanted = 0
    return max(wanted - active, 0)


def completed_indexes(indexes: List[int]) -> str:
    """``1,3-5,7``: the compressed form of ``status.completedIndexes``."""
    ranges: List[str] = []
    for index in sorted(set(indexes)):
        if ranges and ranges[-1].split("-")[-1] == str(index - 1):
            ranges[-1] = ranges[-1].split("-")[0] + f"-{index}"
        else:
            ranges.append(str(index))
    return ",".join(ranges)


class JobController(PodSetController):
    name = "job"
    key = KEY
    owner_kind = "Job"
    component = COMPONENT

    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        self.backoff_until: Dict[str, float] = {}
        self.failures_seen: Dict[str, int] = {}
        self.expiring: set = set()

    def reset(self) -> None:
        super().reset()
        self.backoff_until = {}
        self.failures_seen = {}
        self.expiring = set()

    @watches(KEY)
    def on_job(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        self.on_owner(event, new, old)

    @watches(POD_KEY)
    def on_pod(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        self.on_dependent(event, new, old)

    def job_pods(self, job: Dict[str, Any]) -> List[Dict[str, Any]]:
        uid = job["metadata"]["uid"]
        pods = self.store.list(POD_KEY, job["metadata"]["namespace"],
                               label_selector=f"batch.kubernetes.io/controller-uid={uid}", copy=False)
        return [p for p in pods if controller_uid(p) == uid]

    def new_pod(self, job: Dict[str, Any], index: Optional[int]) -> Dict[str, Any]:
        meta = job["metadata"]
        labels = {"batch.kubernetes.io/controller-uid": meta["uid"], "batch.kubernetes.io/job-name": meta["name"],
                  "controller-uid": meta["uid"], "job-name": meta["name"]}
        template = clone(dig(job, "spec", "template") or {})
        prefix = f"{meta['name']}-"
        if index is not None:
            labels[INDEX] = str(index)
            template.setdefault("metadata", {}).setdefault("annotations", {})[INDEX] = str(index)
            template.setdefault("spec", {})["hostname"] = f"{meta['name']}-{index}"
            prefix = f"{meta['name']}-{index}-"
        return pod_from_template(job, template, labels, generate_name=prefix)

    def sync(self, job: Dict[str, Any]) -> None:
        if job["metadata"].get("deletionTimestamp") or is_finished(job):
            self.schedule_ttl(job)
            return
        now = time.time()
        pods = self.job_pods(job)
        active = [p for p in pods if dig(p, "status", "phase") not in ("Succeeded", "Failed")
                  and not p["metadata"].get("deletionTimestamp")]
        succeeded = [p for p in pods if dig(p, "status", "phase") == "Succeeded"]
        failed = [p for p in pods if dig(p, "status", "phase") == "Failed"]
        indexed = dig(job, "spec", "completionMode") == "Indexed"
        done_indexes = sorted({int(dig(p, "metadata", "annotations", INDEX) or 0) for p in succeeded}) if indexed else []
        count = len(done_indexes) if indexed else len(succeeded)
        result = outcome(job, count, len(failed), active, now)
        suspended = bool(dig(job, "spec", "suspend"))
        if result is not None or suspended:
            for pod in active:
                delete_quietly(self.store, POD_KEY, pod["metadata"]["name"], job["metadata"]["namespace"])
            active = []
        elif self.backoff_until.get(job["metadata"]["uid"], 0) <= now:
            self.start_pods(job, active, done_indexes, count, len(failed))
            active = [p for p in self.job_pods(job) if dig(p, "status", "phase") not in ("Succeeded", "Failed")]
        self.report(job, active, count, len(failed), done_indexes if indexed else None, result, suspended)
        deadline = dig(job, "spec", "activeDeadlineSeconds")
        if result is None and deadline is not None and not suspended:
            started = parse_time(dig(job, "status", "startTime")) or now
            self.enqueue(job["metadata"]["namespace"], job["metadata"]["name"], delay=max(started + int(deadline) - now, 0.05))

    def start_pods(self, job: Dict[str, Any], active: List[Dict[str, Any]], done: List[int], succeeded: int,
                   failed: int) -> None:
        missing = pods_to_start(job, len(active), succeeded)
        if not missing:
            return
        uid = job["metadata"]["uid"]
        if failed > self.failures_seen.get(uid, 0):
            self.failures_seen[uid] = failed
            delay = self.cluster.duration("job_backoff", 0.1) * (2 ** (failed - 1))
            self.backoff_until[uid] = time.time() + delay
            self.enqueue(job["metadata"]["namespace"], job["metadata"]["name"], delay=delay)
            return
        indexed = dig(job, "spec", "completionMode") == "Indexed"
        busy = {int(dig(p, "metadata", "annotations", INDEX) or 0) for p in active} if indexed else set()
        free = [i for i in range(completions_of(job) or 0) if i not in busy and i not in done] if indexed else []
        for position in range(missing):
            index = free[position] if indexed and position < len(free) else None
            if indexed and index is None:
                return
            pod = create_quietly(self.store, POD_KEY, self.new_pod(job, index), job["metadata"]["namespace"])
            if pod is None:
                return

    def report(self, job: Dict[str, Any], active: List[Dict[str, Any]], succeeded: int, failed: int,
               indexes: Optional[List[int]], result: Optional[Tuple[str, str, str]], suspended: bool) -> None:
        current = self.store.peek(KEY, job["metadata"]["name"], job["metadata"]["namespace"])
        if current is None:
            return
        status = clone(current.get("status") or {})
        if not suspended:
            status.setdefault("startTime", now_rfc3339())
        status.update(active=len(active), ready=sum(1 for p in active if is_ready(p)), succeeded=succeeded,
                      failed=failed, terminating=0, uncountedTerminatedPods={})
        for field in ("active", "succeeded", "failed"):
            if not status[field]:
                status.pop(field)
        if indexes is not None:
            status["completedIndexes"] = completed_indexes(indexes)
        if suspended and result is None:
            set_conditions(status, "Suspended", "True", "JobSuspended", "Job suspended")
        elif any(c.get("type") == "Suspended" for c in status.get("conditions") or []):
            set_conditions(status, "Suspended", "False", "JobResumed", "Job resumed")
        if result is not None:
            interim = "SuccessCriteriaMet" if result[0] == "Complete" else "FailureTarget"
            set_conditions(status, interim, "True", result[1], result[2])
            set_conditions(status, result[0], "True", result[1], result[2])
            if result[0] == "Complete":
                status["completionTime"] = now_rfc3339()
        self.write_status(current, status)
        if result is not None:
            self.schedule_ttl(self.store.peek(KEY, job["metadata"]["name"], job["metadata"]["namespace"]) or current)

    def schedule_ttl(self, job: Dict[str, Any]) -> None:
        ttl = dig(job, "spec", "ttlSecondsAfterFinished")
        if ttl is None or not is_finished(job) or job["metadata"].get("deletionTimestamp") or \
                job["metadata"]["uid"] in self.expiring:
            return
        self.expiring.add(job["metadata"]["uid"])
        self.cluster.after(float(ttl) * self.cluster.duration("ttl_second", 1.0), self.expire,
                           job["metadata"]["namespace"], job["metadata"]["name"], job["metadata"]["uid"])

    def expire(self, namespace: str, name: str, uid: str) -> None:
        job = self.store.peek(KEY, name, namespace)
        if job is None or job["metadata"].get("uid") != uid:
            return
        try:
            self.store.delete(KEY, name, namespace, propagation="Background", internal=False)
        except ApiError:
            pass


CONTROLLERS = [JobController]
