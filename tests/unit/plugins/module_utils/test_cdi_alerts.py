import json

import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils import cdi_alerts
from ansible_collections.ocpvirt.portworx.plugins.module_utils.cluster import ClusterClient
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure
from ansible_collections.ocpvirt.portworx.plugins.module_utils.retry import RetryPolicy

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
URL = "https://thanos-querier-openshift-monitoring.apps.example.com/api/v1/alerts"


def test_only_cdi_alerts_are_kept():
    alerts = cdi_alerts.cdi_alerts(ANSWER)
    assert [a["name"] for a in alerts] == ["CDIDefaultStorageClassDegraded", "CDIMultipleDefaultVirtStorageClasses"]
    assert cdi_alerts.firing(alerts) == ["CDIMultipleDefaultVirtStorageClasses"]
    assert cdi_alerts.active(alerts, cdi_alerts.CLEARED_BY_ONE_DEFAULT) == ["CDIMultipleDefaultVirtStorageClasses"]
    assert cdi_alerts.cdi_alerts({}) == []


def test_alerts_are_read_on_the_route_host_not_through_the_service_proxy():
    route = {"spec": {"host": "thanos-querier-openshift-monitoring.apps.example.com"}}
    assert cdi_alerts.alerts_endpoint("https://" + cdi_alerts.route_host(route)) == URL
    assert cdi_alerts.route_host({"status": {"ingress": [{"host": "h.example.com"}]}}) == "h.example.com"
    assert cdi_alerts.route_host(None) is None
    assert cdi_alerts.alerts_endpoint("http://127.0.0.1:8443/") == "http://127.0.0.1:8443/api/v1/alerts"
    assert not hasattr(cdi_alerts, "ALERTS_PATH")  # the /services/https:thanos-querier:web/proxy path is gone


class Response(object):
    def __init__(self, status, body):
        self.status = status
        self.reason = {200: "OK", 401: "Unauthorized", 503: "Service Unavailable"}.get(status, "")
        self.data = json.dumps(body).encode()

    def read(self):
        return self.data


class Configuration(object):
    def auth_settings(self):
        return {"BearerToken": {"value": "Bearer sha256~token"}}


class RestClient(object):
    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []

    def request(self, method, url, headers=None):
        self.requests.append((method, url, dict(headers or {})))
        return self.answers.pop(0)


class FakeK8s(object):
    def __init__(self, answers):
        self.client = type("Dynamic", (), {})()
        self.client.client = type("ApiClient", (), {})()
        self.client.client.configuration = Configuration()
        self.client.client.rest_client = RestClient(answers)


def cluster(answers):
    return ClusterClient(FakeK8s(answers), policy=RetryPolicy(sleep=lambda s: None))


def test_the_route_is_read_with_the_clients_own_token_and_transient_errors_are_retried():
    client = cluster([Response(503, {}), Response(200, ANSWER)])
    answer = client.read_url_json(URL, "the CDI alerts")
    assert [a["name"] for a in cdi_alerts.cdi_alerts(answer)][0] == "CDIDefaultStorageClassDegraded"
    requests = client.k8s.client.client.rest_client.requests
    assert len(requests) == 2 and requests[-1][1] == URL
    assert requests[-1][2]["Authorization"] == "Bearer sha256~token"


def test_an_unauthorized_answer_is_a_one_line_failure():
    with pytest.raises(ModuleFailure) as failed:
        cluster([Response(401, {"message": "no token"})]).read_url_json(URL, "the CDI alerts")
    assert failed.value.status == 401 and "\n" not in failed.value.msg


def sc(name, virt=False, cluster_default=False, provisioner="pxd.portworx.com"):
    annotations = {}
    if virt:
        annotations["storageclass.kubevirt.io/is-default-virt-class"] = "true"
    if cluster_default:
        annotations["storageclass.kubernetes.io/is-default-class"] = "true"
    return {"metadata": {"name": name, "annotations": annotations}, "provisioner": provisioner}


def profile(modes, clone=None):
    status = {"claimPropertySets": [{"accessModes": [m], "volumeMode": "Block"} for m in modes]}
    if clone:
        status["cloneStrategy"] = clone
    return {"status": status}


def names(alerts):
    return [a["name"] for a in alerts]


def test_derivation_follows_the_objects_cdi_derives_its_alerts_from():
    rwx = profile(["ReadWriteMany"], "csi-clone")
    assert cdi_alerts.derive_alerts([sc("a", virt=True), sc("b")], {"a": rwx, "b": rwx}) == []
    assert names(cdi_alerts.derive_alerts([sc("a", virt=True), sc("b", virt=True)], {"a": rwx, "b": rwx})) == [
        "CDIMultipleDefaultVirtStorageClasses"]
    assert names(cdi_alerts.derive_alerts([sc("a"), sc("b")], {"a": rwx})) == ["CDINoDefaultStorageClass"]
    rwo = profile(["ReadWriteOnce"], "csi-clone")
    assert names(cdi_alerts.derive_alerts([sc("a", cluster_default=True)], {"a": rwo})) == ["CDIDefaultStorageClassDegraded"]
    copy_only = profile(["ReadWriteMany"], "copy")
    assert names(cdi_alerts.derive_alerts([sc("a", virt=True)], {"a": copy_only})) == ["CDIDefaultStorageClassDegraded"]
    snapshot = profile(["ReadWriteMany"])
    assert names(cdi_alerts.derive_alerts([sc("a", virt=True)], {"a": snapshot})) == ["CDIDefaultStorageClassDegraded"]
    assert cdi_alerts.derive_alerts([sc("a", virt=True)], {"a": snapshot}, [{"driver": "pxd.portworx.com"}]) == []
    assert all(a["state"] == "firing" for a in cdi_alerts.derive_alerts([sc("a")], {}))
