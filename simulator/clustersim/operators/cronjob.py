"""The CronJob controller (kubernetes/kubernetes ``pkg/controller/cronjob``: ``cronjob_controllerv2.go``
``syncCronJob`` / ``cleanupFinishedJobs``, ``utils.go`` ``mostRecentScheduleTime`` /
``getJobFromTemplate2``; read through the code index, checked against the release-1.33 layout but
not pinned to its tag).

* child Jobs are those whose controller reference is the CronJob; a finished Job leaves
  ``status.active`` (event ``SawCompletedJob`` "Saw completed job: <name>, status: Complete"), a
  succeeded one moves ``status.lastSuccessfulTime`` to its ``completionTime``, an active entry
  whose Job is gone is dropped (``MissingJob``);
* a CronJob being deleted, ``suspend: true`` or an unknown ``timeZone`` (``UnknownTimeZone``)
  starts nothing; an unparsable schedule is the Warning ``UnparseableSchedule``
  (:mod:`._cron`); a schedule with a ``TZ=`` / ``CRON_TZ=`` prefix runs in that zone, with the
  Warning ``UnsupportedSchedule`` (``formatSchedule``; the API refuses such schedules on create,
  so only an object loaded from a state has one);
* the most recent schedule time not after now and after ``lastScheduleTime`` (else the
  creation time; with ``startingDeadlineSeconds``, not before now minus the deadline) is run
  once: more than 100 missed is ``TooManyMissedTimes``; already run (``lastScheduleTime``
  equal, or its Job active) starts nothing; ``concurrencyPolicy: Forbid`` with an active Job
  waits (``JobAlreadyActive``), ``Replace`` deletes the active Jobs first (``SuccessfulDelete``
  "Deleted job <name>", background propagation);
* the Job is ``<cronjob>-<scheduled unix minutes>`` with the template's labels, annotations plus
  ``batch.kubernetes.io/cronjob-scheduled-timestamp`` (RFC 3339 in the CronJob's time zone;
  feature CronJobsScheduledAnnotation, on by default in 1.33), a controller reference and the
  template's spec (event ``SuccessfulCreate`` "Created job <name>"; a refusal
  ``FailedCreate``); it is appended to ``status.active`` (an ObjectReference) and
  ``lastScheduleTime`` becomes the scheduled time;
* finished Jobs beyond ``successfulJobsHistoryLimit`` (default 3) / ``failedJobsHistoryLimit``
  (default 1) are deleted oldest ``startTime`` first;
* the CronJob is looked at again 100 ms after its next schedule time.

Time: a simulated cron second lasts ``cron_second`` real seconds (default 1, times
``--time-scale``). The controller's clock starts at the real time when it starts and then runs
``1 / cron_second`` times as fast, so with the default it is the wall clock; the times it writes
(``lastScheduleTime``, Job names, the scheduled-timestamp annotation) are on that clock, and a
creation time it reads is mapped onto it.
"""
from __future__ import annotations

import datetime
import time
import zoneinfo
from typing import Any, Dict, List, Optional, Tuple

from ..controller import watches
from ..errors import ApiError
from ..util import clone, dig
from ._cron import CronError, Schedule, parse_standard
from ._workloads import controller_ref, controller_uid, record_event
from .job import KEY as JOB_KEY, finished_type, is_finished
from .replicaset import PodSetController, parse_time

KEY = "batch/cronjobs"
COMPONENT = "cronjob-controller"
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
MANY_MISSED = 100
NEXT_DELTA = 0.1  # nextScheduleDelta


def _stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339(moment: datetime.datetime) -> str:
    """Go's ``time.RFC3339`` of a zoned time: ``Z`` for UTC, else the offset."""
    text = moment.replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _utc(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(int(seconds), datetime.timezone.utc)


def zone_of(cronjob: Dict[str, Any]) -> datetime.tzinfo:
    """``spec.timeZone`` (IANA name) or UTC (the controller manager's local zone on OpenShift)."""
    name = dig(cronjob, "spec", "timeZone")
    if not name:
        return datetime.timezone.utc
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise CronError(f'invalid timeZone: "{name}": unknown time zone {name}') from exc


def schedule_zone(cronjob: Dict[str, Any], schedule: Schedule) -> datetime.tzinfo:
    """``formatSchedule``: a ``TZ=`` / ``CRON_TZ=`` prefix of the schedule wins over
    ``spec.timeZone`` ("", "UTC" and "Local" are UTC here)."""
    if schedule.zone is None:
        return zone_of(cronjob)
    if schedule.zone in ("", "UTC", "Local"):
        return datetime.timezone.utc
    return zoneinfo.ZoneInfo(schedule.zone)


def most_recent_schedule(cronjob: Dict[str, Any], schedule: Schedule, now: datetime.datetime,
                         created: datetime.datetime) -> Tuple[Optional[datetime.datetime], int]:
    """``mostRecentScheduleTime``: (the latest unmet time not after ``now`` or None, how many
    were missed)."""
    last = dig(cronjob, "status", "lastScheduleTime")
    earliest = _utc(parse_time(last)) if last else created
    deadline = dig(cronjob, "spec", "startingDeadlineSeconds")
    if deadline is not None:
        earliest = max(earliest, now - datetime.timedelta(seconds=int(deadline)))
    zone = schedule_zone(cronjob, schedule)
    earliest = earliest.astimezone(zone)
    first = schedule.next(earliest)
    if first is None or now < first:
        return None, 0
    recent, missed, t = first, 0, first
    while t is not None and t <= now:
        recent, missed = t, missed + 1
        if missed == MANY_MISSED * 10:  # far behind: only the latest time matters now
            t = max(t, schedule.next((now - datetime.timedelta(days=1)).astimezone(zone)) or t)
            continue
        t = schedule.next(t)
    return recent, missed


class CronJobController(PodSetController):
    name = "cronjob"
    key = KEY
    owner_kind = "CronJob"
    component = COMPONENT

    def setup(self) -> None:
        self.real_start = time.time()
        self.wakeups: Dict[Tuple[str, str], float] = {}

    def reset(self) -> None:
        super().reset()
        self.wakeups = {}

    def wake_at(self, namespace: str, name: str, delay: float) -> None:
        """One pending wake-up per CronJob: the earliest wins (upstream ``AddAfter`` dedups too)."""
        target = time.time() + delay
        pending = self.wakeups.get((namespace, name))
        if pending is not None and time.time() < pending <= target + 0.01:
            return
        self.wakeups[(namespace, name)] = target
        self.cluster.after(delay, self.woken, namespace, name, target)

    def woken(self, namespace: str, name: str, target: float) -> None:
        if self.wakeups.get((namespace, name)) == target:
            self.wakeups.pop((namespace, name))
        self.enqueue(namespace, name)

    def now(self) -> datetime.datetime:
        """The controller's clock (see the module docstring)."""
        speed = 1.0 / max(self.cluster.duration("cron_second", 1.0), 1e-6)
        return _utc(self.real_start + (time.time() - self.real_start) * speed)

    def on_clock(self, real_stamp: float) -> datetime.datetime:
        speed = 1.0 / max(self.cluster.duration("cron_second", 1.0), 1e-6)
        return _utc(self.real_start + (real_stamp - self.real_start) * speed)

    def real_delay(self, seconds: float) -> float:
        return max(seconds, 0.0) * self.cluster.duration("cron_second", 1.0)

    @watches(KEY)
    def on_cronjob(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        self.on_owner(event, new, old)

    @watches(JOB_KEY)
    def on_job(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        self.on_dependent(event, new, old)

    def children(self, cronjob: Dict[str, Any]) -> List[Dict[str, Any]]:
        uid = cronjob["metadata"]["uid"]
        return [j for j in self.store.list(JOB_KEY, cronjob["metadata"]["namespace"], copy=False)
                if controller_uid(j) == uid]

    def sync(self, cronjob: Dict[str, Any]) -> None:
        status = clone(cronjob.get("status") or {})
        jobs = self.children(cronjob)
        self.reconcile_children(cronjob, status, jobs)
        wait = None
        if not cronjob["metadata"].get("deletionTimestamp"):
            wait = self.maybe_start(cronjob, status)
        self.cleanup_finished(cronjob, status, self.children(cronjob))
        self.write_cron_status(cronjob, status)
        if wait is not None:
            meta = cronjob["metadata"]
            self.wake_at(meta["namespace"], meta["name"], self.real_delay(wait))

    def reconcile_children(self, cronjob: Dict[str, Any], status: Dict[str, Any], jobs: List[Dict[str, Any]]) -> None:
        active = list(status.get("active") or [])
        active_uids = {ref.get("uid") for ref in active}
        for job in jobs:
            uid, name = job["metadata"]["uid"], job["metadata"]["name"]
            finished = is_finished(job)
            if uid not in active_uids and not finished:
                record_event(self.store, cronjob, "UnexpectedJob",
                             f"Saw a job that the controller did not create or forgot: {name}", COMPONENT, "Warning")
            elif uid in active_uids and finished:
                active = [ref for ref in active if ref.get("uid") != uid]
                record_event(self.store, cronjob, "SawCompletedJob",
                             f"Saw completed job: {name}, status: {finished_type(job)}", COMPONENT)
            if finished_type(job) == "Complete" and dig(job, "status", "completionTime"):
                completion = job["status"]["completionTime"]
                if parse_time(completion) > parse_time(status.get("lastSuccessfulTime")):
                    status["lastSuccessfulTime"] = completion
        present = {job["metadata"]["uid"] for job in jobs}
        for ref in list(active):
            if ref.get("uid") not in present:
                record_event(self.store, cronjob, "MissingJob", f"Active job went missing: {ref.get('name')}", COMPONENT)
                active.remove(ref)
        if active:
            status["active"] = active
        else:
            status.pop("active", None)

    def maybe_start(self, cronjob: Dict[str, Any], status: Dict[str, Any]) -> Optional[float]:
        """Start the Job now due, if any; returns the simulated seconds until the next look."""
        spec = cronjob.get("spec") or {}
        try:
            zone = zone_of(cronjob)
        except CronError as exc:
            record_event(self.store, cronjob, "UnknownTimeZone", str(exc), COMPONENT, "Warning")
            return None
        if spec.get("suspend"):
            return None
        try:
            schedule = parse_standard(spec.get("schedule") or "")
        except CronError as exc:
            record_event(self.store, cronjob, "UnparseableSchedule",
                         f'unparseable schedule: "{spec.get("schedule")}" : {exc}', COMPONENT, "Warning")
            return None
        if "TZ" in spec["schedule"]:
            record_event(self.store, cronjob, "UnsupportedSchedule", f'CRON_TZ or TZ used in schedule "{spec["schedule"]}" '
                         "is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/"
                         "cron-jobs/ for more details", COMPONENT, "Warning")
            zone = schedule_zone(cronjob, schedule)
        now = self.now()
        created = self.on_clock(parse_time(cronjob["metadata"].get("creationTimestamp")))
        probe = dict(cronjob, status=status)
        due, missed = most_recent_schedule(probe, schedule, now, created)
        if due is not None and not self.already_handled(cronjob, status, due, spec, now, missed):
            self.start_job(cronjob, status, due.astimezone(zone))
        return seconds_to_next(schedule, now, zone)

    def already_handled(self, cronjob: Dict[str, Any], status: Dict[str, Any], due: datetime.datetime,
                        spec: Dict[str, Any], now: datetime.datetime, missed: int) -> bool:
        """Every reason of ``syncCronJob`` not to start the Job due now (events as upstream)."""
        if missed > MANY_MISSED:
            record_event(self.store, cronjob, "TooManyMissedTimes", "too many missed start times. Set or decrease "
                         ".spec.startingDeadlineSeconds or check clock skew", COMPONENT, "Warning")
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and due + datetime.timedelta(seconds=int(deadline)) < now:
            record_event(self.store, cronjob, "MissSchedule", "Missed scheduled time to start a job: "
                         + due.strftime("%a, %d %b %Y %H:%M:%S +0000"), COMPONENT, "Warning")
            return True
        name = job_name(cronjob, due)
        if any(ref.get("name") == name for ref in status.get("active") or []) or \
                status.get("lastScheduleTime") == _stamp(due):
            return True
        policy = spec.get("concurrencyPolicy") or "Allow"
        if policy == "Forbid" and status.get("active"):
            record_event(self.store, cronjob, "JobAlreadyActive", "Not starting job because prior execution is "
                         "running and concurrency policy is Forbid", COMPONENT)
            return True
        if policy == "Replace":
            for ref in list(status.get("active") or []):
                self.delete_job(cronjob, status, ref.get("name"), ref.get("uid"))
        return False

    def start_job(self, cronjob: Dict[str, Any], status: Dict[str, Any], due: datetime.datetime) -> None:
        template = dig(cronjob, "spec", "jobTemplate") or {}
        meta = template.get("metadata") or {}
        annotations = dict(meta.get("annotations") or {}, **{SCHEDULED_ANNOTATION: rfc3339(due)})
        body = {"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": job_name(cronjob, due), "labels": dict(meta.get("labels") or {}),
                             "annotations": annotations, "ownerReferences": [controller_ref(cronjob)]},
                "spec": clone(template.get("spec") or {})}
        if not body["metadata"]["labels"]:
            body["metadata"].pop("labels")
        namespace = cronjob["metadata"]["namespace"]
        try:
            job = self.store.create(JOB_KEY, body, namespace, internal=False)
        except ApiError as exc:
            if exc.code == 409:
                job = self.store.peek(JOB_KEY, body["metadata"]["name"], namespace)
                if job is None or controller_uid(job) != cronjob["metadata"]["uid"]:
                    return
            else:
                record_event(self.store, cronjob, "FailedCreate", f"Error creating job: {exc.message}", COMPONENT,
                             "Warning")
                return
        else:
            record_event(self.store, cronjob, "SuccessfulCreate", f"Created job {job['metadata']['name']}", COMPONENT)
        if not any(ref.get("uid") == job["metadata"]["uid"] for ref in status.get("active") or []):
            status.setdefault("active", []).append(
                {"apiVersion": "batch/v1", "kind": "Job", "name": job["metadata"]["name"], "namespace": namespace,
                 "uid": job["metadata"]["uid"], "resourceVersion": job["metadata"].get("resourceVersion")})
        status["lastScheduleTime"] = _stamp(due)

    def delete_job(self, cronjob: Dict[str, Any], status: Dict[str, Any], name: str, uid: Optional[str]) -> None:
        try:
            self.store.delete(JOB_KEY, name, cronjob["metadata"]["namespace"], propagation="Background",
                              internal=False)
        except ApiError as exc:
            if exc.code != 404:
                record_event(self.store, cronjob, "FailedDelete", f"Deleted job: {exc.message}", COMPONENT, "Warning")
                return
        active = [ref for ref in status.get("active") or [] if ref.get("uid") != uid]
        if active:
            status["active"] = active
        else:
            status.pop("active", None)
        record_event(self.store, cronjob, "SuccessfulDelete", f"Deleted job {name}", COMPONENT)

    def cleanup_finished(self, cronjob: Dict[str, Any], status: Dict[str, Any], jobs: List[Dict[str, Any]]) -> None:
        spec = cronjob.get("spec") or {}
        for wanted, limit in (("Complete", spec.get("successfulJobsHistoryLimit")),
                              ("Failed", spec.get("failedJobsHistoryLimit"))):
            if limit is None:
                continue
            finished = sorted((j for j in jobs if finished_type(j) == wanted and not j["metadata"].get("deletionTimestamp")),
                              key=start_order)
            for job in finished[:max(len(finished) - int(limit), 0)]:
                self.delete_job(cronjob, status, job["metadata"]["name"], job["metadata"]["uid"])

    def write_cron_status(self, cronjob: Dict[str, Any], status: Dict[str, Any]) -> None:
        meta = cronjob["metadata"]
        current = self.store.peek(KEY, meta["name"], meta["namespace"])
        if current is None or current["metadata"].get("uid") != meta.get("uid"):
            return
        self.write_status(current, status)


def seconds_to_next(schedule: Schedule, now: datetime.datetime, zone: datetime.tzinfo) -> Optional[float]:
    """``nextScheduleTimeDuration``: until the first activation after now, plus 100 ms."""
    following = schedule.next(now.astimezone(zone))
    if following is None:
        return None
    return (following - now).total_seconds() + NEXT_DELTA


def start_order(job: Dict[str, Any]) -> Tuple[int, float, str]:
    """``byJobStartTime``: Jobs without ``startTime`` last, then oldest first, names break ties."""
    started = dig(job, "status", "startTime")
    return (0 if started else 1, parse_time(started), job["metadata"]["name"])


def job_name(cronjob: Dict[str, Any], due: datetime.datetime) -> str:
    """``getJobName``: the CronJob's name and the scheduled time in minutes since the epoch."""
    return f"{cronjob['metadata']['name']}-{int(due.timestamp()) // 60}"


CONTROLLERS = [CronJobController]
