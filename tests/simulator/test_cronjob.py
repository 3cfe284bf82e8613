"""The CronJob controller over HTTP, its clock sped up (``cron_second``: a simulated minute lasts
0.6 s). kubernetes/kubernetes pkg/controller/cronjob (cronjob_controllerv2.go, utils.go)."""
import pytest
from clustersim.testing import eventually, simulator_fixture
from operator_helpers import items, read

NS = "default"

sim = simulator_fixture(scope="module", workers=2, vms=0,
                        durations={"cron_second": 0.01, "container_second": 0.01, "job_backoff": 0.01})


@pytest.fixture(scope="module")
def client(sim):
    return sim.client()


def cronjob(name, command, schedule="* * * * *", **spec):
    return {"metadata": {"name": name}, "spec": dict(spec, schedule=schedule, jobTemplate={
        "metadata": {"labels": {"cron": name}},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
            {"name": "main", "image": "registry.example.com/tool:1", "command": ["sh", "-c", command]}]}}}})}


def create(client, body):
    return client.resources.get(api_version="batch/v1", kind="CronJob").create(body=body, namespace=NS).to_dict()


def jobs_of(client, name):
    return [j for j in items(client, "batch/v1", "Job", NS)
            if any(r.get("name") == name for r in j["metadata"].get("ownerReferences") or [])]


def events_of(client, name):
    return [e for e in items(client, "v1", "Event", NS) if e["involvedObject"].get("name") == name]


def test_a_cronjob_runs_its_template_on_schedule_and_keeps_three_successes(client):
    created = create(client, cronjob("tick", "echo tick"))
    assert created["spec"]["concurrencyPolicy"] == "Allow" and created["spec"]["successfulJobsHistoryLimit"] == 3
    first = eventually("a first job", lambda: jobs_of(client, "tick"))[0]
    minutes = int(first["metadata"]["name"].rsplit("-", 1)[1])
    scheduled = first["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    assert scheduled.endswith(":00Z") and first["metadata"]["labels"]["cron"] == "tick"
    assert first["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    status = eventually("a success", lambda: read(client, "batch/v1", "CronJob", "tick", NS).get("status", {}).get(
        "lastSuccessfulTime") and read(client, "batch/v1", "CronJob", "tick", NS)["status"])
    assert status["lastScheduleTime"].endswith(":00Z")
    eventually("five runs", lambda: max(int(j["metadata"]["name"].rsplit("-", 1)[1])
                                        for j in jobs_of(client, "tick")) >= minutes + 4, timeout=20)
    eventually("history of three", lambda: len([j for j in jobs_of(client, "tick")
                                                if not j["metadata"].get("deletionTimestamp")]) <= 3 + 1)
    reasons = {e["reason"] for e in events_of(client, "tick")}
    assert {"SuccessfulCreate", "SawCompletedJob", "SuccessfulDelete"} <= reasons


def test_forbid_waits_for_the_running_job_and_replace_deletes_it(client):
    create(client, cronjob("forbid", "sleep infinity", concurrencyPolicy="Forbid"))
    create(client, cronjob("replace", "sleep infinity", concurrencyPolicy="Replace"))
    eventually("forbid waits", lambda: any(e["reason"] == "JobAlreadyActive" for e in events_of(client, "forbid")),
               timeout=20)
    assert len(jobs_of(client, "forbid")) == 1
    active = read(client, "batch/v1", "CronJob", "forbid", NS)["status"]["active"]
    assert [ref["name"] for ref in active] == [jobs_of(client, "forbid")[0]["metadata"]["name"]]
    eventually("replace deleted a job", lambda: any(e["reason"] == "SuccessfulDelete"
                                                    for e in events_of(client, "replace")), timeout=20)
    assert len(read(client, "batch/v1", "CronJob", "replace", NS)["status"]["active"]) == 1


def test_a_suspended_cronjob_starts_nothing(client):
    create(client, cronjob("paused", "echo no", suspend=True))
    latest = max(int(j["metadata"]["name"].rsplit("-", 1)[1]) for j in jobs_of(client, "tick"))
    eventually("two more minutes of tick", lambda: max(int(j["metadata"]["name"].rsplit("-", 1)[1])
                                                       for j in jobs_of(client, "tick")) >= latest + 2, timeout=20)
    assert not jobs_of(client, "paused")
