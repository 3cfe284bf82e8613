"""Node Maintenance Operator (medik8s): NodeMaintenance cordons, taints and drains a node.

* Validating webhook (``vnodemaintenance.kb.io``) on create/update, with the operator's messages:
  the node must exist, one NodeMaintenance per node, ``spec.nodeName`` is immutable.
* A new NodeMaintenance gets the finalizer ``foregroundDeleteNodeMaintenance``, phase Running, the
  node is cordoned and tainted ``node.kubernetes.io/unschedulable:NoSchedule`` and
  ``medik8s.io/drain:NoSchedule``; then every ``nmo_drain_retry`` seconds each pod on the node
  (DaemonSet and mirror pods excepted) is evicted through the cluster's eviction layer
  (``clustersim.eviction.evict_pod``, the same path as ``pods/eviction``, so KubeVirt's webhook
  migrates VMs or refuses).  Status: ``totalpods``, ``evictionPods``,
  ``drainProgress``, ``pendingPods``, ``lastError``; phase Succeeded once nothing is left.
  A VM that cannot be evicted keeps the phase Running with ``lastError``.
* Deleting the NodeMaintenance uncordons the node, removes both taints and the finalizer.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..controller import Controller, admits, watches
from ..errors import ApiError
from ..eviction import evict_pod
from ..util import dig, now_rfc3339

NMS = "nodemaintenance.medik8s.io/nodemaintenances"
FINALIZER = "foregroundDeleteNodeMaintenance"
WEBHOOK = 'admission webhook "vnodemaintenance.kb.io" denied the request: '
TAINTS = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
          {"key": "medik8s.io/drain", "effect": "NoSchedule"}]


def denied(message: str) -> ApiError:
    return ApiError(403, "Forbidden", WEBHOOK + message)


def evictable(pod: Dict[str, Any]) -> bool:
    owners = pod["metadata"].get("ownerReferences") or []
    if any(o.get("kind") == "DaemonSet" and o.get("controller") for o in owners):
        return False
    return "kubernetes.io/config.mirror" not in (pod["metadata"].get("annotations") or {})


def drain_error(pod: Dict[str, Any], exc: ApiError) -> str:
    """The drain library's message for a pod it could not evict (NMO's ``status.lastError``)."""
    return f'error when evicting pods/"{pod["metadata"]["name"]}" -n "{pod["metadata"]["namespace"]}": {exc.message}'


def node_taints(spec: Dict[str, Any], maintenance: bool) -> List[Dict[str, Any]]:
    """The node's taints without NMO's two, plus both again when entering maintenance."""
    taints = [t for t in spec.get("taints") or [] if t.get("key") not in {t["key"] for t in TAINTS}]
    if maintenance:
        taints.extend(dict(t, timeAdded=now_rfc3339()) for t in TAINTS)
    return taints


class NodeMaintenance(Controller):
    name = "nmo"

    def retry_delay(self) -> float:
        return self.cluster.duration("nmo_drain_retry", 0.05)

    @admits(NMS)
    def admit(self, req: Any) -> None:
        if req.operation == "CREATE":
            node_name = dig(req.obj, "spec", "nodeName")
            if not node_name or self.store.peek("nodes", node_name) is None:
                raise denied(f"invalid nodeName, no node with name {node_name} found")
            for other in self.store.list(NMS, copy=False):
                if dig(other, "spec", "nodeName") == node_name:
                    raise denied(f"invalid nodeName, a NodeMaintenance for node {node_name} already exists")
        elif req.operation == "UPDATE" and req.subresource == "" and req.changed("spec", "nodeName"):
            raise denied("updating spec.NodeName isn't allowed")

    def pods_on(self, node_name: str) -> List[Dict[str, Any]]:
        # The store indexes pods by spec.nodeName: a drain must not scan every pod of the cluster.
        return self.store.list("pods", copy=False, field_selector="spec.nodeName=" + node_name) if node_name else []

    def node_pods(self, node_name: str) -> List[Dict[str, Any]]:
        return [p for p in self.pods_on(node_name) if evictable(p)]

    def set_node(self, node_name: str, maintenance: bool) -> None:
        def change(node: Dict[str, Any]) -> None:
            spec = node.setdefault("spec", {})
            taints = node_taints(spec, maintenance)
            if maintenance:
                spec["unschedulable"] = True
            else:
                spec.pop("unschedulable", None)
            spec["taints"] = taints
            if not taints:
                spec.pop("taints")
        self.store.mutate("nodes", node_name, change)

    @watches(NMS)
    def on_nm(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is None:
            return
        if new["metadata"].get("deletionTimestamp"):
            self.finish(new)
        elif event == "ADDED":
            self.begin(new)

    def begin(self, nm: Dict[str, Any]) -> None:
        node_name = dig(nm, "spec", "nodeName")
        pods = self.node_pods(node_name)
        total = len(self.pods_on(node_name))

        def start(o: Dict[str, Any]) -> None:
            o["metadata"]["finalizers"] = list(o["metadata"].get("finalizers") or []) + [FINALIZER]
            o["status"] = {"phase": "Running", "totalpods": total, "evictionPods": len(pods), "drainProgress": 0,
                           "pendingPods": [p["metadata"]["name"] for p in pods], "lastUpdate": now_rfc3339()}
        self.store.mutate(NMS, nm["metadata"]["name"], start)
        self.set_node(node_name, True)
        self.cluster.after(self.retry_delay(), self.drain, nm["metadata"]["name"])

    def finish(self, nm: Dict[str, Any]) -> None:
        if FINALIZER in (nm["metadata"].get("finalizers") or []):
            if self.store.peek("nodes", dig(nm, "spec", "nodeName")) is not None:
                self.set_node(dig(nm, "spec", "nodeName"), False)
            self.store.remove_finalizer(NMS, nm["metadata"]["name"], FINALIZER)

    def drain(self, name: str) -> None:
        nm = self.store.peek(NMS, name)
        if nm is None or nm["metadata"].get("deletionTimestamp"):
            return
        node_name = dig(nm, "spec", "nodeName")
        last_error = ""
        for pod in self.node_pods(node_name):
            if pod["metadata"].get("deletionTimestamp"):
                continue
            try:
                evict_pod(self.cluster, pod)
            except ApiError as exc:
                last_error = drain_error(pod, exc)
        remaining = self.node_pods(node_name)
        self.report(nm, remaining, last_error)
        if remaining:
            self.cluster.after(self.retry_delay(), self.drain, name)

    def report(self, nm: Dict[str, Any], remaining: List[Dict[str, Any]], last_error: str) -> None:
        total = max(int(dig(nm, "status", "evictionPods") or 0), len(remaining), 1)
        done = not remaining

        def change(o: Dict[str, Any]) -> None:
            status = o.setdefault("status", {})
            status.update({"phase": "Succeeded" if done else "Running",
                           "drainProgress": 100 if done else int(100 * (total - len(remaining)) / total),
                           "pendingPods": [p["metadata"]["name"] for p in remaining], "lastUpdate": now_rfc3339()})
            status["lastError"] = last_error
            status["pendingPodsRefs"] = [{"name": p["metadata"]["name"], "namespace": p["metadata"]["namespace"]} for p in remaining]
        self.store.mutate(NMS, nm["metadata"]["name"], change)


CONTROLLERS = [NodeMaintenance]
