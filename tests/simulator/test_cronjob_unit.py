"""Cron schedules (robfig/cron/v3 ParseStandard semantics) and the CronJob controller's pure
decisions (kubernetes/kubernetes pkg/controller/cronjob utils.go), without a server."""
import datetime

import pytest

from clustersim.operators._cron import CronError, parse_standard
from clustersim.operators.cronjob import job_name, most_recent_schedule, rfc3339, schedule_zone, start_order

UTC = datetime.timezone.utc


def at(*fields):
    return datetime.datetime(*fields, tzinfo=UTC)


@pytest.mark.parametrize("spec, after, expected", [
    ("* * * * *", at(2026, 12, 2, 9, 30, 15), at(2026, 12, 2, 9, 31)),
    ("*/15 * * * *", at(2026, 12, 2, 9, 30), at(2026, 12, 2, 9, 45)),
    ("5 4 * * sun", at(2026, 12, 2, 9, 30), at(2026, 12, 6, 4, 5)),  # 2026-12-06 is a Sunday
    ("0 0 1 jan *", at(2026, 12, 2), at(2027, 1, 1)),
    ("0 12 13 * 5", at(2026, 12, 2), at(2026, 12, 4, 12)),  # day of month OR Friday: both restricted
    ("0 12 13 * *", at(2026, 12, 2), at(2026, 12, 13, 12)),
    ("30 6-16/4 * * 1-5", at(2026, 12, 2, 7), at(2026, 12, 2, 10, 30)),
    ("10/20 * * * *", at(2026, 12, 2, 9, 31), at(2026, 12, 2, 9, 50)),
    ("@hourly", at(2026, 12, 2, 9, 30), at(2026, 12, 2, 10)),
    ("@weekly", at(2026, 12, 2), at(2026, 12, 6)),
    ("@every 90s", at(2026, 12, 2, 9, 30, 10, 500), at(2026, 12, 2, 9, 31, 40)),
])
def test_next_activation(spec, after, expected):
    assert parse_standard(spec).next(after) == expected


def test_an_impossible_date_has_no_next_activation():
    assert parse_standard("0 0 30 2 *").next(at(2026, 1, 1)) is None


@pytest.mark.parametrize("spec, message", [
    ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
    ("61 * * * *", "end of range (61) above maximum (59): 61"),
    ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
    ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
    ("*/0 * * * *", "step of range should be a positive number: */0"),
    ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
    ("@sometimes", "unrecognized descriptor: @sometimes"),
    ("", "empty spec string"),
    ("TZ=Mars/Olympus * * * * *", "provided bad location Mars/Olympus: unknown time zone Mars/Olympus"),
    ("CRON_TZ=UTC * * * *", "expected exactly 5 fields, found 4: [* * * *]"),
])
def test_unparsable_schedules(spec, message):
    with pytest.raises(CronError) as info:
        parse_standard(spec)
    assert str(info.value) == message


def test_a_zone_prefix_names_the_schedules_zone():
    assert parse_standard("CRON_TZ=Europe/Paris 0 3 * * *").zone == "Europe/Paris"
    assert parse_standard("TZ=UTC @hourly").zone == "UTC"
    assert parse_standard("0 3 * * *").zone is None
    paris = {"spec": {"timeZone": "Europe/Paris"}}
    assert str(schedule_zone(paris, parse_standard("CRON_TZ=Asia/Tokyo 0 3 * * *"))) == "Asia/Tokyo"
    assert str(schedule_zone(paris, parse_standard("0 3 * * *"))) == "Europe/Paris"
    assert schedule_zone(paris, parse_standard("TZ=UTC 0 3 * * *")) == UTC


def cronjob(last=None, deadline=None, name="backup"):
    spec = {"schedule": "*/5 * * * *"}
    if deadline is not None:
        spec["startingDeadlineSeconds"] = deadline
    return {"metadata": {"name": name}, "spec": spec, "status": {"lastScheduleTime": last} if last else {}}


def test_the_most_recent_unmet_time_counts_what_was_missed():
    schedule = parse_standard("*/5 * * * *")
    created = at(2026, 12, 2, 9, 1)
    assert most_recent_schedule(cronjob(), schedule, at(2026, 12, 2, 9, 4), created) == (None, 0)
    assert most_recent_schedule(cronjob(), schedule, at(2026, 12, 2, 9, 5, 1), created) == (at(2026, 12, 2, 9, 5), 1)
    assert most_recent_schedule(cronjob(), schedule, at(2026, 12, 2, 9, 21), created) == (at(2026, 12, 2, 9, 20), 4)
    since_last = cronjob(last="2026-12-02T09:15:00Z")
    assert most_recent_schedule(since_last, schedule, at(2026, 12, 2, 9, 21), created) == (at(2026, 12, 2, 9, 20), 1)
    # startingDeadlineSeconds: nothing older than now - deadline is considered
    assert most_recent_schedule(cronjob(deadline=60), schedule, at(2026, 12, 2, 9, 23), created) == (None, 0)
    far_behind = most_recent_schedule(cronjob(), schedule, at(2027, 12, 2, 9, 21), created)
    assert far_behind[0] == at(2027, 12, 2, 9, 20) and far_behind[1] > 100


def test_job_names_annotations_and_history_order():
    assert job_name(cronjob(), at(2026, 12, 2, 9, 5)) == f"backup-{int(at(2026, 12, 2, 9, 5).timestamp()) // 60}"
    assert rfc3339(at(2026, 12, 2, 9, 5)) == "2026-12-02T09:05:00Z"
    berlin = datetime.timezone(datetime.timedelta(hours=1))
    assert rfc3339(at(2026, 12, 2, 9, 5).astimezone(berlin)) == "2026-12-02T10:05:00+01:00"
    jobs = [{"metadata": {"name": "b"}, "status": {"startTime": "2026-12-02T09:10:00Z"}},
            {"metadata": {"name": "c"}, "status": {}},
            {"metadata": {"name": "a"}, "status": {"startTime": "2026-12-02T09:10:00Z"}},
            {"metadata": {"name": "d"}, "status": {"startTime": "2026-12-02T09:05:00Z"}}]
    assert [j["metadata"]["name"] for j in sorted(jobs, key=start_order)] == ["d", "a", "b", "c"]
