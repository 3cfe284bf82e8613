"""CronJob validation at the API (kubernetes/kubernetes pkg/apis/batch/validation/validation.go
ValidateCronJobCreate / ValidateCronJobUpdate; robfig/cron/v3 ParseStandard messages), over HTTP.
Objects that never passed validation only exist through a loaded state: the update rules for them
and the controller's view of them are checked that way."""
import copy

import pytest
from api_helpers import raw
from clustersim.testing import eventually, simulator_fixture

NS = "default"
PATH = f"/apis/batch/v1/namespaces/{NS}/cronjobs"
MERGE = "application/merge-patch+json"

sim = simulator_fixture(scope="module", workers=1, vms=0, durations={"cron_second": 0.01})


def cronjob(name, **spec):
    template = {"spec": {"template": {"spec": {"restartPolicy": "Never",
                                               "containers": [{"name": "main", "image": "registry.example.com/t:1"}]}}}}
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
            "spec": dict({"schedule": "0 3 * * *", "jobTemplate": template}, **spec)}


def with_pod_spec(name, **pod_spec):
    body = cronjob(name)
    body["spec"]["jobTemplate"]["spec"]["template"]["spec"].update(pod_spec)
    return body


def with_job_spec(name, **job_spec):
    body = cronjob(name)
    body["spec"]["jobTemplate"]["spec"].update(job_spec)
    return body


def with_template_labels(name, labels):
    body = cronjob(name)
    body["spec"]["jobTemplate"]["spec"]["template"]["metadata"] = {"labels": labels}
    return body


def causes(body):
    return [(c["field"], c["message"]) for c in body["details"]["causes"]]


INVALID = [
    (cronjob("c-range", schedule="61 * * * *"),
     [("spec.schedule", 'Invalid value: "61 * * * *": end of range (61) above maximum (59): 61')]),
    (cronjob("c-fields", schedule="*/5 * * * * *"),
     [("spec.schedule", 'Invalid value: "*/5 * * * * *": expected exactly 5 fields, found 6: [*/5 * * * * *]')]),
    (cronjob("c-tz", schedule="CRON_TZ=UTC 0 3 * * *"),
     [("spec.schedule", 'Invalid value: "CRON_TZ=UTC 0 3 * * *": cannot use TZ or CRON_TZ in schedule, '
                        'use timeZone field instead')]),
    (cronjob("c-bad-tz", schedule="TZ=Mars/Olympus 0 3 * * *"),
     [("spec.schedule", 'Invalid value: "TZ=Mars/Olympus 0 3 * * *": provided bad location Mars/Olympus: '
                        'unknown time zone Mars/Olympus'),
      ("spec.schedule", 'Invalid value: "TZ=Mars/Olympus 0 3 * * *": cannot use TZ or CRON_TZ in schedule, '
                        'use timeZone field instead')]),
    (cronjob("c-empty", schedule=""), [("spec.schedule", "Required value")]),
    (cronjob("c-zone", timeZone="Europe/Pariss"),
     [("spec.timeZone", 'Invalid value: "Europe/Pariss": unknown time zone Europe/Pariss')]),
    (cronjob("c-zone-chars", timeZone="Europe/Paris 2"),
     [("spec.timeZone", 'Invalid value: "Europe/Paris 2": unknown time zone Europe/Paris 2')]),
    (cronjob("c-local", timeZone="Local"),
     [("spec.timeZone", 'Invalid value: "Local": timeZone must be an explicit time zone as defined in '
                        'https://www.iana.org/time-zones')]),
    (cronjob("c-zone-empty", timeZone=""),
     [("spec.timeZone", 'Invalid value: "": timeZone must be nil or non-empty string')]),
    (cronjob("c-policy", concurrencyPolicy="Sometimes"),
     [("spec.concurrencyPolicy", 'Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"')]),
    (cronjob("c-counts", startingDeadlineSeconds=-1, successfulJobsHistoryLimit=-1, failedJobsHistoryLimit=-2),
     [("spec.startingDeadlineSeconds", "Invalid value: -1: must be greater than or equal to 0"),
      ("spec.successfulJobsHistoryLimit", "Invalid value: -1: must be greater than or equal to 0"),
      ("spec.failedJobsHistoryLimit", "Invalid value: -2: must be greater than or equal to 0")]),
    (cronjob("n" * 53),
     [("metadata.name", f'Invalid value: "{"n" * 53}": must be no more than 52 characters')]),
    (with_pod_spec("c-restart", restartPolicy=None),
     [("spec.jobTemplate.spec.template.spec.restartPolicy", 'Required value: valid values: "OnFailure", "Never"')]),
    (with_pod_spec("c-restart-odd", restartPolicy="Sometimes"),
     [("spec.jobTemplate.spec.template.spec.restartPolicy",
       'Unsupported value: "Sometimes": supported values: "OnFailure", "Never"')]),
    (with_pod_spec("c-nocontainers", containers=[]),
     [("spec.jobTemplate.spec.template.spec.containers", "Required value")]),
    (with_template_labels("c-labels", {"app": "a b"}),
     [("spec.jobTemplate.spec.template.labels", 'Invalid value: "a b": a valid label must be an empty string or '
       "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character "
       "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
       "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")]),
    (with_job_spec("c-selector", manualSelector=True, backoffLimit=-1, activeDeadlineSeconds=-5),
     [("spec.jobTemplate.spec.activeDeadlineSeconds", "Invalid value: -5: must be greater than or equal to 0"),
      ("spec.jobTemplate.spec.backoffLimit", "Invalid value: -1: must be greater than or equal to 0"),
      ("spec.jobTemplate.spec.manualSelector", 'Unsupported value: true: supported values: "nil", "false"')]),
    (with_job_spec("c-per-index", backoffLimitPerIndex=2),
     [("spec.jobTemplate.spec.backoffLimitPerIndex", "Invalid value: 2: requires indexed completion mode")]),
]


@pytest.mark.parametrize("body, expected", INVALID, ids=[case[0]["metadata"]["name"][:16] for case in INVALID])
def test_an_invalid_cronjob_is_422_with_the_apiservers_causes(sim, body, expected):
    code, status = raw(sim, "POST", PATH, body)
    assert code == 422 and status["reason"] == "Invalid", status
    assert causes(status) == expected
    assert status["message"].startswith(f'CronJob.batch "{body["metadata"]["name"]}" is invalid: ')
    assert raw(sim, "GET", f"{PATH}/{body['metadata']['name']}")[0] == 404


@pytest.mark.parametrize("name, spec", [
    ("ok-zone", {"timeZone": "Europe/Paris", "schedule": "@daily"}),
    ("ok-every", {"schedule": "@every 1h30m", "concurrencyPolicy": "Forbid", "startingDeadlineSeconds": 0,
                  "successfulJobsHistoryLimit": 0, "failedJobsHistoryLimit": 0}),
    ("n" * 52, {"schedule": "*/10 6-18 * jan-mar mon-fri"}),
    ("ok-empty-policy", {"schedule": "0 3 * * *", "concurrencyPolicy": ""}),  # defaulted before validation
])
def test_a_valid_cronjob_is_created(sim, name, spec):
    code, created = raw(sim, "POST", PATH, cronjob(name, **spec))
    assert code == 201, created
    assert created["spec"]["schedule"] == spec["schedule"]
    assert created["spec"]["concurrencyPolicy"] == (spec.get("concurrencyPolicy") or "Allow")


def test_an_update_is_validated_as_a_create_is(sim):
    assert raw(sim, "POST", PATH, cronjob("upd"))[0] == 201
    code, status = raw(sim, "PATCH", f"{PATH}/upd", {"spec": {"schedule": "TZ=UTC 0 3 * * *"}}, content_type=MERGE)
    assert code == 422 and causes(status) == [
        ("spec.schedule", 'Invalid value: "TZ=UTC 0 3 * * *": cannot use TZ or CRON_TZ in schedule, '
                          'use timeZone field instead')]
    code, status = raw(sim, "PATCH", f"{PATH}/upd", {"spec": {"jobTemplate": {"spec": {"template": {"spec": {
        "restartPolicy": "Always"}}}}}}, content_type=MERGE)
    assert code == 422 and causes(status)[0][0] == "spec.jobTemplate.spec.template.spec.restartPolicy"
    assert raw(sim, "PATCH", f"{PATH}/upd", {"spec": {"schedule": "30 3 * * *"}}, content_type=MERGE)[0] == 200


def loaded(sim, *bodies):
    """Load the current state plus ``bodies`` (as a dump would hold them, never validated)."""
    state = sim.dump()
    for body in bodies:
        stored = copy.deepcopy(body)
        stored["metadata"]["namespace"] = NS
        stored["spec"].setdefault("concurrencyPolicy", "Allow")
        state["objects"].append(stored)
    sim.load(state)


def test_a_stored_tz_schedule_may_be_kept_but_not_combined_with_a_time_zone(sim):
    loaded(sim, cronjob("legacy-tz", schedule="TZ=UTC 0 3 * * *", suspend=True),
           cronjob("legacy-zone", timeZone="Mars/Olympus", suspend=True), cronjob("l" * 60, suspend=True))
    legacy = f"{PATH}/legacy-tz"
    assert raw(sim, "PATCH", legacy, {"spec": {"schedule": "TZ=UTC 30 3 * * *"}}, content_type=MERGE)[0] == 200
    code, status = raw(sim, "PATCH", legacy, {"spec": {"timeZone": "UTC"}}, content_type=MERGE)
    assert code == 422 and causes(status) == [
        ("spec.schedule", 'Invalid value: "TZ=UTC 30 3 * * *": cannot use both timeZone field and TZ or CRON_TZ '
                          "in schedule")]
    # an unchanged time zone is not looked at again; a changed one is
    assert raw(sim, "PATCH", f"{PATH}/legacy-zone", {"spec": {"schedule": "0 4 * * *"}}, content_type=MERGE)[0] == 200
    code, status = raw(sim, "PATCH", f"{PATH}/legacy-zone", {"spec": {"timeZone": "Mars/Phobos"}}, content_type=MERGE)
    assert code == 422 and causes(status) == [
        ("spec.timeZone", 'Invalid value: "Mars/Phobos": unknown time zone Mars/Phobos')]
    # the 52-character limit is for creation only: an older, longer name can still be updated
    assert raw(sim, "PATCH", f"{PATH}/{'l' * 60}", {"spec": {"schedule": "0 5 * * *"}}, content_type=MERGE)[0] == 200


def test_the_controller_reports_stored_schedules_the_api_would_refuse(sim):
    loaded(sim, cronjob("legacy-bad", schedule="61 * * * *"), cronjob("legacy-prefix", schedule="TZ=UTC * * * * *"))

    def events(name, reason):
        code, listed = raw(sim, "GET", f"/api/v1/namespaces/{NS}/events")
        return [e for e in listed["items"] if e["involvedObject"].get("name") == name and e["reason"] == reason]

    def jobs(prefix):
        code, listed = raw(sim, "GET", f"/apis/batch/v1/namespaces/{NS}/jobs")
        return [j for j in listed["items"] if j["metadata"]["name"].startswith(prefix)]
    event = eventually("UnparseableSchedule", lambda: events("legacy-bad", "UnparseableSchedule"))[0]
    assert "end of range (61) above maximum (59): 61" in event["message"] and event["type"] == "Warning"
    # a zone prefix is run in its zone, with a warning (formatSchedule)
    eventually("a job of the prefixed schedule", lambda: jobs("legacy-prefix-"), timeout=15)
    warning = events("legacy-prefix", "UnsupportedSchedule")[0]
    assert warning["message"].startswith('CRON_TZ or TZ used in schedule "TZ=UTC * * * * *" is not officially supported')
    assert not jobs("legacy-bad-")
