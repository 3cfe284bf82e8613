import json

from ansible_collections.ocpvirt.portworx.plugins.module_utils import cdi_alerts


ANSWER = {
    "status": "success",
    "data": {
        "alerts": [
            {"labels": {"alertname": "CDIMultipleDefaultVirtStorageClasses"}, "annotations": {"summary": "s"}, "state": "firing"},
            {"labels": {"alertname": "CDIDefaultStorageClassDegraded"}, "annotations": {}, "state": "pending"},
            {"labels": {"alertname": "Watchdog"}, "state": "firing"},
        ]
    },
}


class RawResponse(object):
    def __init__(self, body):
        self.data = json.dumps(body).encode()


def test_only_cdi_alerts_are_kept():
    alerts = cdi_alerts.cdi_alerts(ANSWER)
    assert [a["name"] for a in alerts] == ["CDIDefaultStorageClassDegraded", "CDIMultipleDefaultVirtStorageClasses"]
    assert cdi_alerts.firing(alerts) == ["CDIMultipleDefaultVirtStorageClasses"]
    assert cdi_alerts.active(alerts, cdi_alerts.CLEARED_BY_ONE_DEFAULT) == ["CDIMultipleDefaultVirtStorageClasses"]
    assert cdi_alerts.cdi_alerts({}) == []


class FakeDynamic(object):
    def __init__(self, failures):
        self.failures = list(failures)

    def request(self, method, path, serialize=True):
        assert serialize is False and path == cdi_alerts.ALERTS_PATH
        if self.failures:
            raise self.failures.pop(0)
        return RawResponse(ANSWER)


class FakeK8s(object):
    def __init__(self, failures):
        self.client = FakeDynamic(failures)


def fake_cluster(failures=()):
    from ansible_collections.ocpvirt.portworx.plugins.module_utils.cluster import ClusterClient
    from ansible_collections.ocpvirt.portworx.plugins.module_utils.retry import RetryPolicy

    cluster = ClusterClient(FakeK8s(failures), policy=RetryPolicy(sleep=lambda s: None))
    cluster.retries = []
    cluster.on_retry = lambda exc, delay: cluster.retries.append(delay)
    return cluster


class Status(Exception):
    def __init__(self, status):
        super(Status, self).__init__(status)
        self.status = status


def test_read_alerts_retries_transient_errors_and_fails_in_one_line():
    import pytest

    from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure

    cluster = fake_cluster([Status(503)])
    assert [a["name"] for a in cdi_alerts.read_alerts(cluster)][0] == "CDIDefaultStorageClassDegraded"
    assert len(cluster.retries) == 1
    with pytest.raises(ModuleFailure) as failed:
        cdi_alerts.read_alerts(fake_cluster([Status(403)]))
    assert failed.value.status == 403
