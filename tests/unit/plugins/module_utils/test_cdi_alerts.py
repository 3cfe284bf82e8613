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


def test_decode_reads_raw_http_bodies_and_dicts():
    assert cdi_alerts.decode(RawResponse(ANSWER)) == ANSWER
    assert cdi_alerts.decode(ANSWER) == ANSWER
    assert cdi_alerts.decode(RawResponse("not a dict")) == {}


def test_only_cdi_alerts_are_kept():
    alerts = cdi_alerts.cdi_alerts(ANSWER)
    assert [a["name"] for a in alerts] == ["CDIDefaultStorageClassDegraded", "CDIMultipleDefaultVirtStorageClasses"]
    assert cdi_alerts.firing(alerts) == ["CDIMultipleDefaultVirtStorageClasses"]
    assert cdi_alerts.active(alerts, cdi_alerts.CLEARED_BY_ONE_DEFAULT) == ["CDIMultipleDefaultVirtStorageClasses"]
    assert cdi_alerts.cdi_alerts({}) == []
