"""metrics-server: ``metrics.k8s.io/v1beta1`` NodeMetrics and PodMetrics (read-only), what
``kubectl top nodes|pods`` reads.

Types from kubernetes/metrics ``pkg/apis/metrics/v1beta1/types.go`` (release-1.33); served as
metrics-server serves them (kubernetes-sigs/metrics-server ``pkg/api``): lists and single
objects of nodes, pods in a namespace or in all namespaces, ``labelSelector`` honoured, only
running pods, ``404 nodes.metrics.k8s.io "x" not found`` / ``pods.metrics.k8s.io "x" not found``
otherwise.  Usage is computed, not measured: a container uses what it requests (CPU in
nanocores, memory in KiB, metrics-server's units), a node the sum of its running pods.
``window`` is metrics-server's default resolution (15 s); ``timestamp`` is now.
"""
from __future__ import annotations

import datetime as _dt
from fractions import Fraction
from typing import Any, Dict, List, Optional

from .. import errors
from ..cluster import HttpRequest, HttpResponse
from ..controller import Controller, serves_route
from ..quantity import QuantityError, parse_quantity
from ..selectors import labels_match, parse_label_selector

PREFIX = "/apis/metrics.k8s.io/v1beta1/"
API_VERSION = "metrics.k8s.io/v1beta1"
WINDOW = "15s"


def _amount(value: Any) -> Fraction:
    try:
        return parse_quantity(value) if value not in (None, "") else Fraction(0)
    except QuantityError:
        return Fraction(0)


def container_usage(container: Dict[str, Any]) -> Dict[str, Fraction]:
    requests = (container.get("resources") or {}).get("requests") or {}
    return {"cpu": _amount(requests.get("cpu")), "memory": _amount(requests.get("memory"))}


def render_usage(usage: Dict[str, Fraction]) -> Dict[str, str]:
    return {"cpu": f"{int(usage['cpu'] * 10**9)}n", "memory": f"{int(usage['memory'] // 1024)}Ki"}


def _stamp() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta(obj: Dict[str, Any], now: str) -> Dict[str, Any]:
    meta = obj["metadata"]
    out = {"name": meta["name"], "creationTimestamp": now}
    if meta.get("namespace"):
        out["namespace"] = meta["namespace"]
    if meta.get("labels"):
        out["labels"] = dict(meta["labels"])
    return out


def pod_metrics(pod: Dict[str, Any], now: str) -> Dict[str, Any]:
    containers = [{"name": c.get("name", ""), "usage": render_usage(container_usage(c))}
                  for c in (pod.get("spec") or {}).get("containers") or []]
    return {"kind": "PodMetrics", "apiVersion": API_VERSION, "metadata": _meta(pod, now), "timestamp": now,
            "window": WINDOW, "containers": containers}


def node_metrics(node: Dict[str, Any], pods: List[Dict[str, Any]], now: str) -> Dict[str, Any]:
    total = {"cpu": Fraction(0), "memory": Fraction(0)}
    for pod in pods:
        for container in (pod.get("spec") or {}).get("containers") or []:
            for resource, amount in container_usage(container).items():
                total[resource] += amount
    return {"kind": "NodeMetrics", "apiVersion": API_VERSION, "metadata": _meta(node, now), "timestamp": now,
            "window": WINDOW, "usage": render_usage(total)}


class MetricsServer(Controller):
    name = "metrics"

    def _running_pods(self, namespace: Optional[str] = None, node: Optional[str] = None) -> List[Dict[str, Any]]:
        fields = "status.phase=Running" + (f",spec.nodeName={node}" if node else "")
        return self.store.list("pods", namespace, field_selector=fields, copy=False)

    @serves_route("GET", PREFIX)
    def serve(self, http: HttpRequest) -> HttpResponse:
        parts = [p for p in http.path[len(PREFIX):].split("/") if p]
        labels = parse_label_selector(http.param("labelSelector"))
        now = _stamp()
        if parts and parts[0] == "nodes" and len(parts) <= 2:
            return HttpResponse(200, self._nodes(parts[1:], labels, now))
        namespace = None
        if len(parts) >= 3 and parts[0] == "namespaces":
            namespace, parts = parts[1], parts[2:]
        if parts and parts[0] == "pods" and len(parts) <= 2:
            return HttpResponse(200, self._pods(namespace, parts[1:], labels, now))
        raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")

    def _nodes(self, name: List[str], labels: Any, now: str) -> Dict[str, Any]:
        if name:
            node = self.store.peek("nodes", name[0])
            if node is None:
                raise errors.not_found("nodes", name[0], "metrics.k8s.io")
            return node_metrics(node, self._running_pods(node=name[0]), now)
        items = [node_metrics(n, self._running_pods(node=n["metadata"]["name"]), now)
                 for n in self.store.list("nodes", copy=False)
                 if labels_match(labels, n["metadata"].get("labels"))]
        return {"kind": "NodeMetricsList", "apiVersion": API_VERSION, "metadata": {}, "items": items}

    def _pods(self, namespace: Optional[str], name: List[str], labels: Any, now: str) -> Dict[str, Any]:
        if name:
            pod = self.store.peek("pods", name[0], namespace)
            if pod is None or (pod.get("status") or {}).get("phase") != "Running":
                raise errors.not_found("pods", name[0], "metrics.k8s.io")
            return pod_metrics(pod, now)
        items = [pod_metrics(p, now) for p in self._running_pods(namespace)
                 if labels_match(labels, p["metadata"].get("labels"))]
        return {"kind": "PodMetricsList", "apiVersion": API_VERSION, "metadata": {}, "items": items}


CONTROLLERS = [MetricsServer]
