"""OpenShift cluster monitoring, as far as a client reads alerts from it (Thanos querier).

What it simulates
-----------------
* **The service proxy refuses.** ``/api/v1/namespaces/openshift-monitoring/services/
  https:thanos-querier:web/proxy/...`` (and the same for ``prometheus-k8s``) answers ``401`` with
  the plain-text body ``Unauthorized``: the kube-apiserver authenticates the caller and then drops
  the ``Authorization`` header before proxying (kubernetes/kubernetes
  ``staging/src/k8s.io/apiserver/pkg/endpoints/filters/authentication.go``), and the web port
  9091 of both services is a kube-rbac-proxy (openshift/cluster-monitoring-operator
  ``assets/thanos-querier/deployment.yaml``, ``assets/prometheus-k8s/prometheus.yaml``) that
  answers a request without a token ``401 Unauthorized`` (brancz/kube-rbac-proxy
  ``pkg/filters/auth.go``). A caller without a valid token gets the apiserver's own 401 first.
* **The Route answers.** The ``thanos-querier`` Route in ``openshift-monitoring`` (host
  ``thanos-querier-openshift-monitoring.apps.clustersim.example.com``, path ``/api``; seeded, and
  recreated when deleted or when its namespace appears, as the cluster-monitoring-operator does)
  is where a token holder reads the Prometheus HTTP API. The Route's host does not resolve here, so
  the simulator serves it on its own listener: ``GET <simulator URL>/api/v1/alerts`` with the
  bearer token answers ``{"status": "success", "data": {"alerts": [...]}}`` — Prometheus's
  always-firing ``Watchdog`` plus the CDI alerts of the ``cdi`` plug-in (its public ``alerts()``).
  Without the Route, the router answers ``503`` (no route for the host).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..cluster import HttpRequest, HttpResponse
from ..controller import Controller, serves_route, watches
from ..seed import thanos_querier_route
from ..util import now_rfc3339

NAMESPACE = "openshift-monitoring"
ROUTE_KEY = "route.openshift.io/routes"
ROUTE = "thanos-querier"
THANOS_PROXY = f"/api/v1/namespaces/{NAMESPACE}/services/https:thanos-querier:web/proxy"
PROMETHEUS_PROXY = f"/api/v1/namespaces/{NAMESPACE}/services/https:prometheus-k8s:web/proxy"
#: The alerts path of the ``thanos-querier`` Route, served on the simulator's listener.
ROUTE_ALERTS_PATH = "/api/v1/alerts"
WATCHDOG_SUMMARY = "An alert that should always be firing to certify that Alertmanager is working properly."


def unauthorized() -> HttpResponse:
    """What kube-rbac-proxy answers a request that carries no bearer token (Go's ``http.Error``)."""
    return HttpResponse(401, "Unauthorized\n", "text/plain; charset=utf-8", {"X-Content-Type-Options": "nosniff"})


class ThanosQuerier(Controller):
    """The monitoring stack's read side: the proxied web ports refuse, the Route serves alerts."""

    name = "monitoring"

    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        self.started = now_rfc3339()

    @serves_route("*", THANOS_PROXY)
    def thanos_through_service_proxy(self, request: HttpRequest) -> HttpResponse:
        return unauthorized()

    @serves_route("*", PROMETHEUS_PROXY)
    def prometheus_through_service_proxy(self, request: HttpRequest) -> HttpResponse:
        return unauthorized()

    @serves_route("GET", ROUTE_ALERTS_PATH)
    def alerts_through_route(self, request: HttpRequest) -> Any:
        if self.store.peek(ROUTE_KEY, ROUTE, NAMESPACE) is None:
            return HttpResponse(503, "Application is not available\n", "text/plain; charset=utf-8")
        return {"status": "success", "data": {"alerts": self.alerts()}}

    def alerts(self) -> List[Dict[str, Any]]:
        """Every alert pending or firing now: Prometheus's Watchdog, then CDI's."""
        watchdog = {"labels": {"alertname": "Watchdog", "namespace": NAMESPACE, "severity": "none"},
                    "annotations": {"summary": WATCHDOG_SUMMARY}, "state": "firing", "activeAt": self.started,
                    "value": "1e+00"}
        cdi = self.cluster.controller("cdi").alerts() if self.cluster.has_controller("cdi") else []
        return [watchdog] + cdi

    # ------------------------------------------------------------------ the Route, kept in place
    @watches("namespaces")
    def on_namespace(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is not None and new["metadata"]["name"] == NAMESPACE and not new["metadata"].get("deletionTimestamp"):
            self.ensure_route()

    @watches(ROUTE_KEY)
    def on_route(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        gone = old if event == "DELETED" else None
        if gone is not None and gone["metadata"].get("namespace") == NAMESPACE and gone["metadata"]["name"] == ROUTE:
            self.ensure_route()

    def ensure_route(self) -> None:
        namespace = self.store.peek("namespaces", NAMESPACE)
        if namespace is None or namespace["metadata"].get("deletionTimestamp"):
            return
        if self.store.peek(ROUTE_KEY, ROUTE, NAMESPACE) is None:
            self.store.create(ROUTE_KEY, thanos_querier_route())


CONTROLLERS = [ThanosQuerier]
