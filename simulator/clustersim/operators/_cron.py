"""Cron schedules as the CronJob controller reads them: pure functions.

The controller parses ``spec.schedule`` with ``cron.ParseStandard`` of github.com/robfig/cron/v3
(``parser.go``, ``spec.go``, ``constantdelay.go``; vendored by kubernetes/kubernetes release-1.33).
No cron library is installed in the project's environment, so this is a small implementation
of the same grammar and semantics:

* five fields — minute (0-59), hour (0-23), day of month (1-31), month (1-12 or ``jan``-``dec``),
  day of week (0-6 or ``sun``-``sat``) — each a comma list of ``*`` / ``?``, ``N``, ``N-M``, with
  an optional ``/STEP`` (``N/STEP`` runs from N to the field's maximum);
* an optional ``TZ=<zone>`` / ``CRON_TZ=<zone>`` prefix names the schedule's time zone (an unknown
  one is "provided bad location <zone>: unknown time zone <zone>"; v3.0.1 slices up to the first
  space and panics without one, which the simulator answers as no fields at all);
* descriptors ``@yearly`` / ``@annually``, ``@monthly``, ``@weekly``, ``@daily`` / ``@midnight``,
  ``@hourly`` and ``@every <duration>`` (Go duration units ``h``, ``m``, ``s``, ``ms``; at least 1 s);
* day matching: when day of month or day of week is ``*`` / ``?`` (without a step) both must
  match, otherwise either (``dayMatches``);
* :meth:`Schedule.next` is the first matching whole minute strictly after ``t`` in the
  schedule's time zone (robfig searches at most five years ahead and then gives up: None).

Errors are :class:`CronError` with robfig's messages where they are short and stable.
"""
from __future__ import annotations

import datetime
import re
import zoneinfo
from dataclasses import dataclass, replace
from typing import FrozenSet, List, Optional, Tuple

MONTHS = {name: i for i, name in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
DAYS = {name: i for i, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
# (minimum, maximum, names) of minute, hour, day of month, month, day of week
BOUNDS: List[Tuple[int, int, dict]] = [(0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, MONTHS), (0, 6, DAYS)]
DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
               "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
SEARCH_YEARS = 5


class CronError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    minutes: FrozenSet[int] = frozenset()
    hours: FrozenSet[int] = frozenset()
    days: FrozenSet[int] = frozenset()
    months: FrozenSet[int] = frozenset()
    weekdays: FrozenSet[int] = frozenset()
    day_star: bool = False
    weekday_star: bool = False
    every: Optional[float] = None  # seconds, for @every
    zone: Optional[str] = None  # the TZ= / CRON_TZ= prefix, when the schedule has one

    def day_matches(self, day: datetime.datetime) -> bool:
        dom = day.day in self.days
        dow = (day.isoweekday() % 7) in self.weekdays
        if self.day_star or self.weekday_star:
            return dom and dow
        return dom or dow

    def next(self, after: datetime.datetime) -> Optional[datetime.datetime]:
        """The first activation strictly after ``after`` (an aware datetime), or None."""
        if self.every is not None:
            return after.replace(microsecond=0) + datetime.timedelta(seconds=self.every)
        t = after.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
        limit = after.year + SEARCH_YEARS
        while t.year <= limit:
            if t.month not in self.months:
                t = _first_of_next_month(t)
            elif not self.day_matches(t):
                t = (t + datetime.timedelta(days=1)).replace(hour=0, minute=0)
            elif t.hour not in self.hours:
                t = (t + datetime.timedelta(hours=1)).replace(minute=0)
            elif t.minute not in self.minutes:
                t = t + datetime.timedelta(minutes=1)
            else:
                return t
        return None


def _first_of_next_month(t: datetime.datetime) -> datetime.datetime:
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    return t.replace(year=year, month=month, day=1, hour=0, minute=0)


def _number(text: str, names: dict) -> int:
    if text.lower() in names:
        return names[text.lower()]
    if not text.isdigit():
        raise CronError(f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax')
    return int(text)


def _field(expression: str, minimum: int, maximum: int, names: dict) -> Tuple[FrozenSet[int], bool]:
    """The values of one field and whether it was a bare ``*`` / ``?`` (robfig's star bit)."""
    values: set = set()
    star = False
    for part in expression.split(","):
        range_text, _, step_text = part.partition("/")
        step = _number(step_text, {}) if step_text else 1
        if range_text in ("*", "?"):
            low, high = minimum, maximum
            star = star or not step_text or step == 1
        else:
            low_text, dash, high_text = range_text.partition("-")
            low = _number(low_text, names)
            high = _number(high_text, names) if dash else (maximum if step_text else low)
        if low < minimum:
            raise CronError(f"beginning of range ({low}) below minimum ({minimum}): {part}")
        if high > maximum:
            raise CronError(f"end of range ({high}) above maximum ({maximum}): {part}")
        if low > high:
            raise CronError(f"beginning of range ({low}) beyond end of range ({high}): {part}")
        if step == 0:
            raise CronError(f"step of range should be a positive number: {part}")
        values.update(range(low, high + 1, step))
    return frozenset(values), star


def _every(text: str) -> float:
    matches = list(_DURATION.finditer(text))
    if not matches or "".join(m.group(0) for m in matches) != text:
        raise CronError(f"failed to parse duration @every {text}: time: invalid duration \"{text}\"")
    unit = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    seconds = sum(float(m.group(1)) * unit[m.group(2)] for m in matches)
    return float(max(int(seconds), 1))  # robfig: at least one second, truncated to whole seconds


def _zone_prefix(spec: str) -> Tuple[Optional[str], str]:
    """The ``TZ=`` / ``CRON_TZ=`` zone of a schedule (checked against the tz database) and the rest."""
    if not spec.startswith(("TZ=", "CRON_TZ=")):
        return None, spec
    name, _, rest = spec.partition(" ")
    name = name.partition("=")[2]
    if not known_zone(name):
        raise CronError(f"provided bad location {name}: unknown time zone {name}")
    return name, rest


def known_zone(name: str) -> bool:
    """``time.LoadLocation`` succeeds: "" and "UTC" are UTC, "Local" the process's zone, anything
    else a tz database entry (Go reads the system's zoneinfo, as Python's ``zoneinfo`` does)."""
    if name in ("", "UTC", "Local"):
        return True
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory of the database
        return False
    return True


def parse_standard(spec: str) -> Schedule:
    """``cron.ParseStandard``: an optional zone prefix, then five fields or a descriptor."""
    if not spec:
        raise CronError("empty spec string")
    zone, text = _zone_prefix(spec)
    schedule = _parse_fields(text.strip())
    return replace(schedule, zone=zone) if zone else schedule


def _parse_fields(text: str) -> Schedule:
    if text.startswith("@every "):
        return Schedule(every=_every(text[len("@every "):].strip()))
    if text.startswith("@"):
        if text not in DESCRIPTORS:
            raise CronError(f"unrecognized descriptor: {text}")
        text = DESCRIPTORS[text]
    fields = text.split()
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    parsed = [_field(f, *BOUNDS[i]) for i, f in enumerate(fields)]
    return Schedule(minutes=parsed[0][0], hours=parsed[1][0], days=parsed[2][0], months=parsed[3][0],
                    weekdays=parsed[4][0], day_star=parsed[2][1], weekday_star=parsed[4][1])
