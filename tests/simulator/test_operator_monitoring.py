"""Reading alerts from the simulated OpenShift monitoring (simulator/clustersim/operators/monitoring.py):
the service proxy is refused as on a real cluster, the thanos-querier Route answers a token holder."""
import json
import urllib.error
import urllib.request

import pytest

from clustersim.cluster import Cluster, HttpRequest
from clustersim.config import Config
from clustersim.operators import install_controllers
from clustersim.operators.monitoring import ROUTE_ALERTS_PATH, THANOS_PROXY, ThanosQuerier

ROUTE = ("route.openshift.io/v1", "Route", "thanos-querier", "openshift-monitoring")


def get(sim, path, token=None):
    request = urllib.request.Request(sim.url + path)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=10, context=sim.ssl_context) as answer:
            return answer.status, answer.headers.get("Content-Type"), answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers.get("Content-Type"), refused.read().decode()


def route(client):
    api_version, kind, name, namespace = ROUTE
    return client.resources.get(api_version=api_version, kind=kind).get(name=name, namespace=namespace).to_dict()


@pytest.fixture(autouse=True)
def fresh(sim):
    sim.reset()


@pytest.mark.parametrize("service", ["thanos-querier", "prometheus-k8s"])
def test_service_proxy_to_the_web_port_is_refused_like_kube_rbac_proxy_without_a_token(sim, service):
    path = THANOS_PROXY.replace("thanos-querier", service) + "/api/v1/alerts"
    code, content_type, body = get(sim, path, sim.token)
    assert (code, body) == (401, "Unauthorized\n")
    assert content_type.startswith("text/plain")


def test_service_proxy_without_a_token_is_refused_by_the_apiserver_itself(sim):
    # No credentials: system:anonymous (anonymous-auth), whom RBAC refuses the proxy.
    code, content_type, body = get(sim, THANOS_PROXY + "/api/v1/alerts")
    assert code == 403 and json.loads(body)["message"] == (
        'services "https:thanos-querier:web" is forbidden: User "system:anonymous" cannot get resource '
        '"services/proxy" in API group "" in the namespace "openshift-monitoring"')
    assert get(sim, THANOS_PROXY + "/api/v1/alerts", "not-the-token")[0] == 401


def test_route_serves_the_prometheus_alerts_api_to_a_token_holder(sim, client):
    seeded = route(client)
    assert seeded["spec"]["host"] == "thanos-querier-openshift-monitoring.apps.clustersim.example.com"
    assert seeded["spec"]["path"] == "/api" and seeded["status"]["ingress"][0]["conditions"][0]["type"] == "Admitted"
    code, content_type, body = get(sim, ROUTE_ALERTS_PATH, sim.token)
    assert code == 200 and content_type.startswith("application/json")
    answer = json.loads(body)
    assert answer["status"] == "success"
    assert [a["labels"]["alertname"] for a in answer["data"]["alerts"]][:1] == ["Watchdog"]
    # kube-rbac-proxy answers a missing or unknown token itself, in plain text.
    assert get(sim, ROUTE_ALERTS_PATH)[:3:2] == (401, "Unauthorized\n")
    assert get(sim, ROUTE_ALERTS_PATH, "not-the-token")[:3:2] == (401, "Unauthorized\n")


def test_a_deleted_route_is_recreated_as_the_monitoring_operator_does(sim, client):
    api_version, kind, name, namespace = ROUTE
    client.resources.get(api_version=api_version, kind=kind).delete(name=name, namespace=namespace)
    sim.settle()
    assert route(client)["spec"]["host"].startswith("thanos-querier-openshift-monitoring.")


def test_without_the_route_the_router_answers_503_and_without_cdi_only_watchdog_fires():
    cluster = Cluster(Config())
    install_controllers(cluster, [ThanosQuerier])
    handler = cluster.find_route("GET", ROUTE_ALERTS_PATH)
    assert handler(HttpRequest("GET", ROUTE_ALERTS_PATH, {}, {})).code == 503
    cluster.start()
    try:
        cluster.store.create("namespaces", {"metadata": {"name": "openshift-monitoring"}})
        assert cluster.settle()
        answer = handler(HttpRequest("GET", ROUTE_ALERTS_PATH, {}, {}))
        assert [a["labels"]["alertname"] for a in answer["data"]["alerts"]] == ["Watchdog"]
    finally:
        cluster.stop()
