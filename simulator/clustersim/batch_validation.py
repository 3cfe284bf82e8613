"""What the apiserver's validation says about a CronJob (and the Job template inside it).

kubernetes/kubernetes ``pkg/apis/batch/validation/validation.go`` — ``ValidateCronJobCreate``,
``ValidateCronJobUpdate``, ``validateCronJobSpec``, ``validateScheduleFormat``,
``validateTimeZone``, ``validateConcurrencyPolicy``, ``ValidateJobTemplateSpec`` and
``validateJobSpec`` — as called by ``pkg/registry/batch/cronjob/strategy.go`` (``Validate`` /
``ValidateUpdate``).  Read through the code index in a copy of the 1.32/1.33 era (it has the
``SuccessCriteriaMet`` status rules and ``maxFailedIndexes``), not pinned to the release-1.33 tag.

* ``spec.schedule``: required; parsed as robfig/cron/v3 ``ParseStandard`` does (:mod:`.operators._cron`;
  the parser's message is the detail); any ``TZ`` in it is refused on create ("cannot use TZ or
  CRON_TZ in schedule, use timeZone field instead"), and on update unless the old schedule had one
  too — then only together with ``spec.timeZone`` ("cannot use both ...");
* ``spec.timeZone`` (on create, or when an update changes it): not empty, IANA name characters
  per component, not ``Local``, known to the tz database;
* ``startingDeadlineSeconds`` and the two history limits at least 0; ``concurrencyPolicy`` one of
  Allow / Forbid / Replace (the defaulter fills an empty one);
* ``spec.jobTemplate``: the Job spec rules below, no ``selector`` ("will be auto-generated") and no
  ``manualSelector: true``;
* on create only, a name of at most 52 characters (the controller adds an 11-character suffix to
  make Job names, which are at most 63).

Of ``validateJobSpec``: the non-negative counts, ``maxFailedIndexes`` needing
``backoffLimitPerIndex``, ``completionMode`` (Indexed needs ``completions``; the per-index fields
need Indexed), ``podReplacementPolicy``, and the pod template's ``restartPolicy`` (OnFailure or
Never; only Never with a ``podFailurePolicy``).  Of ``ValidatePodTemplateSpec`` only the template's
labels and annotations and that it has containers, each with a name; the rest of pod spec
validation, ``podFailurePolicy`` / ``successPolicy`` rules and ``managedBy`` are not simulated
(docs/simulator.md).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from . import errors
from .errors import FieldCause
from .operators._cron import CronError, known_zone, parse_standard
from .validation import metadata_causes

CRONJOB_NAME_MAX = 52  # DNS1035LabelMaxLength (63) minus the 11 characters of "-<minutes>"
CONCURRENCY_POLICIES = ["Allow", "Forbid", "Replace"]
COMPLETION_MODES = ["NonIndexed", "Indexed"]
POD_REPLACEMENT_POLICIES = ["Failed", "TerminatingOrFailed"]
JOB_RESTART_POLICIES = ["OnFailure", "Never"]
NON_NEGATIVE_JOB_FIELDS = ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
                           "ttlSecondsAfterFinished", "backoffLimitPerIndex", "maxFailedIndexes")
# https://data.iana.org/time-zones/theory.html#naming, digits and '+' tolerated (upstream's regexp)
_ZONE_COMPONENT = re.compile(r"^[A-Za-z.\-_0-9+]{1,14}$")
_NEGATIVE = "must be greater than or equal to 0"


def cronjob_create_causes(cronjob: Dict[str, Any]) -> List[FieldCause]:
    """``ValidateCronJobCreate`` without ObjectMeta (the store checks that for every kind)."""
    causes = cronjob_spec_causes(cronjob.get("spec") or {}, None)
    name = cronjob["metadata"].get("name") or ""
    if len(name) > CRONJOB_NAME_MAX:
        causes.append(errors.invalid_field("metadata.name", name, f"must be no more than {CRONJOB_NAME_MAX} characters"))
    return causes


def cronjob_spec_causes(spec: Dict[str, Any], old_spec: Optional[Dict[str, Any]]) -> List[FieldCause]:
    """``validateCronJobSpec``; ``old_spec`` is None on create."""
    causes: List[FieldCause] = []
    schedule = spec.get("schedule") or ""
    if not schedule:
        causes.append(errors.required_field("spec.schedule"))
    else:
        tz_allowed = old_spec is not None and "TZ" in (old_spec.get("schedule") or "")
        causes.extend(schedule_causes(schedule, tz_allowed, spec.get("timeZone")))
    causes.extend(_non_negative(spec, "spec", ("startingDeadlineSeconds",)))
    if old_spec is None or old_spec.get("timeZone") != spec.get("timeZone"):
        causes.extend(time_zone_causes(spec.get("timeZone")))
    policy = spec.get("concurrencyPolicy") or ""
    if not policy:
        causes.append(errors.required_field("spec.concurrencyPolicy"))
    elif policy not in CONCURRENCY_POLICIES:
        causes.append(errors.unsupported_field("spec.concurrencyPolicy", policy, CONCURRENCY_POLICIES))
    causes.extend(job_template_causes(spec.get("jobTemplate") or {}, "spec.jobTemplate"))
    causes.extend(_non_negative(spec, "spec", ("successfulJobsHistoryLimit", "failedJobsHistoryLimit")))
    return causes


def schedule_causes(schedule: str, tz_allowed: bool, time_zone: Optional[str]) -> List[FieldCause]:
    """``validateScheduleFormat``: the parser's refusal, then the ``TZ`` rules."""
    causes = []
    try:
        parse_standard(schedule)
    except CronError as exc:
        causes.append(errors.invalid_field("spec.schedule", schedule, str(exc)))
    if "TZ" in schedule:
        if tz_allowed and time_zone is not None:
            causes.append(errors.invalid_field("spec.schedule", schedule,
                                               "cannot use both timeZone field and TZ or CRON_TZ in schedule"))
        elif not tz_allowed:
            causes.append(errors.invalid_field("spec.schedule", schedule,
                                               "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
    return causes


def time_zone_causes(time_zone: Optional[str]) -> List[FieldCause]:
    """``validateTimeZone`` (absent is fine: the controller manager's zone)."""
    path = "spec.timeZone"
    if time_zone is None:
        return []
    if time_zone == "":
        return [errors.invalid_field(path, time_zone, "timeZone must be nil or non-empty string")]
    for part in time_zone.split("/"):
        if part in (".", "..") or part.startswith("-") or not _ZONE_COMPONENT.match(part):
            return [errors.invalid_field(path, time_zone, f"unknown time zone {time_zone}")]
    causes = []
    if time_zone.lower() == "local":
        causes.append(errors.invalid_field(path, time_zone, "timeZone must be an explicit time zone as defined in "
                                                            "https://www.iana.org/time-zones"))
    if ".." in time_zone:
        causes.append(errors.invalid_field(path, time_zone, "time: invalid location name"))
    elif not known_zone(time_zone):
        causes.append(errors.invalid_field(path, time_zone, f"unknown time zone {time_zone}"))
    return causes


def job_template_causes(template: Dict[str, Any], path: str) -> List[FieldCause]:
    """``ValidateJobTemplateSpec``: a Job spec whose selector the Job's strategy generates."""
    spec = template.get("spec") or {}
    causes = job_spec_causes(spec, f"{path}.spec")
    if spec.get("selector") is not None:
        causes.append(errors.invalid_field(f"{path}.spec.selector", spec["selector"], "`selector` will be auto-generated"))
    if spec.get("manualSelector") is True:
        causes.append(FieldCause(f"{path}.spec.manualSelector", 'Unsupported value: true: supported values: "nil", "false"',
                                 "FieldValueNotSupported"))
    return causes


def job_spec_causes(spec: Dict[str, Any], path: str) -> List[FieldCause]:
    """``validateJobSpec``, the parts listed in the module docstring."""
    causes = _non_negative(spec, path, NON_NEGATIVE_JOB_FIELDS)
    if spec.get("maxFailedIndexes") is not None and spec.get("backoffLimitPerIndex") is None:
        causes.append(errors.required_field(f"{path}.backoffLimitPerIndex", "when maxFailedIndexes is specified"))
    causes.extend(_completion_mode_causes(spec, path))
    replacement = spec.get("podReplacementPolicy")
    if replacement is not None:
        allowed = ["Failed"] if spec.get("podFailurePolicy") is not None else POD_REPLACEMENT_POLICIES
        if replacement not in allowed:
            causes.append(errors.unsupported_field(f"{path}.podReplacementPolicy", replacement, allowed))
    template = spec.get("template") or {}
    causes.extend(pod_template_causes(template, f"{path}.template"))
    causes.extend(_restart_policy_causes(spec, f"{path}.template.spec.restartPolicy"))
    return causes


def _completion_mode_causes(spec: Dict[str, Any], path: str) -> List[FieldCause]:
    mode = spec.get("completionMode")
    causes: List[FieldCause] = []
    if mode is not None and mode not in COMPLETION_MODES:
        causes.append(errors.unsupported_field(f"{path}.completionMode", mode, COMPLETION_MODES))
    if mode == "Indexed" and spec.get("completions") is None:
        causes.append(errors.required_field(f"{path}.completions", "when completion mode is Indexed"))
    if mode in (None, "NonIndexed"):
        for field_name in ("backoffLimitPerIndex", "maxFailedIndexes"):
            if spec.get(field_name) is not None:
                causes.append(errors.invalid_field(f"{path}.{field_name}", spec[field_name],
                                                   "requires indexed completion mode"))
    return causes


def _restart_policy_causes(spec: Dict[str, Any], path: str) -> List[FieldCause]:
    """A Job's pods are not restarted in place forever: ``Always`` (the pod defaulter's value when
    none is given) or nothing is "Required", another unknown value unsupported."""
    policy = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy") or ""
    if policy in ("", "Always"):
        return [errors.required_field(path, 'valid values: "OnFailure", "Never"')]
    if policy not in JOB_RESTART_POLICIES:
        return [errors.unsupported_field(path, policy, JOB_RESTART_POLICIES)]
    if spec.get("podFailurePolicy") is not None and policy != "Never":
        return [errors.invalid_field(path, policy, 'only "Never" is supported when podFailurePolicy is specified')]
    return []


def pod_template_causes(template: Dict[str, Any], path: str) -> List[FieldCause]:
    """The part of ``ValidatePodTemplateSpec`` simulated: labels, annotations, named containers."""
    causes = metadata_causes(template.get("metadata") or {}, path)
    containers = (template.get("spec") or {}).get("containers") or []
    if not containers:
        causes.append(errors.required_field(f"{path}.spec.containers"))
    for index, container in enumerate(containers):
        if isinstance(container, dict) and not container.get("name"):
            causes.append(errors.required_field(f"{path}.spec.containers[{index}].name"))
    return causes


def _non_negative(spec: Dict[str, Any], path: str, names: Any) -> List[FieldCause]:
    """``ValidateNonnegativeField`` for each of ``names`` that is set."""
    return [errors.invalid_field(f"{path}.{name}", spec[name], _NEGATIVE)
            for name in names if isinstance(spec.get(name), int) and spec[name] < 0]
