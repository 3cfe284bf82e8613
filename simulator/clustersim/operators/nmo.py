"""Node Maintenance Operator (medik8s): NodeMaintenance cordons, taints and drains a node.

* Validating webhook (``vnodemaintenance.kb.io``) on create/update, with the operator's messages:
  the node must exist, one NodeMaintenance per node, ``spec.nodeName`` is immutable.
* A new NodeMaintenance gets the finalizer ``foregroundDeleteNodeMaintenance``, phase Running, the
  node is cordoned and tainted ``node.kubernetes.io/unschedulable:NoSchedule`` and
  ``medik8s.io/drain:NoSchedule``; then every ``nmo_drain_retry`` seconds each pod on the node
  (DaemonSet and mirror pods excepted) is evicted through the cluster's ``pods/eviction`` path
  (so KubeVirt's webhook migrates VMs or refuses).  Status: ``totalpods``, ``evictionPods``,
  ``drainProgress``, ``pendingPods``, ``lastError``; phase Succeeded once nothing is left.
  A VM that cannot be evicted keeps the phase Running with ``lastError``.
* Deleting the NodeMaintenance uncordons the node, removes both taints and the finalizer.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from .. import eviction
from ..errors import ApiError
from ..util import dig, now_rfc3339

if TYPE_CHECKING:  # pragma: no cover
    from ..cluster import Cluster

NMS = "nodemaintenance.medik8s.io/nodemaintenances"
FINALIZER = "foregroundDeleteNodeMaintenance"
WEBHOOK = 'admission webhook "vnodemaintenance.kb.io" denied the request: '
TAINTS = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
          {"key": "medik8s.io/drain", "effect": "NoSchedule"}]


def _evictable(pod: Dict[str, Any]) -> bool:
    owners = pod["metadata"].get("ownerReferences") or []
    if any(o.get("kind") == "DaemonSet" and o.get("controller") for o in owners):
        return False
    return "kubernetes.io/config.mirror" not in (pod["metadata"].get("annotations") or {})


def setup(cluster: "Cluster") -> None:
    store = cluster.store

    def denied(message: str) -> ApiError:
        return ApiError(403, "Forbidden", WEBHOOK + message)

    def admit(req: Any) -> None:
        if req.operation == "CREATE":
            node_name = dig(req.obj, "spec", "nodeName")
            if not node_name or store.peek("nodes", node_name) is None:
                raise denied(f"invalid nodeName, no node with name {node_name} found")
            for other in store.list(NMS, copy=False):
                if dig(other, "spec", "nodeName") == node_name:
                    raise denied(f"invalid nodeName, a NodeMaintenance for node {node_name} already exists")
        elif req.operation == "UPDATE" and req.subresource == "" and req.changed("spec", "nodeName"):
            raise denied("updating spec.NodeName isn't allowed")

    def node_pods(node_name: str) -> List[Dict[str, Any]]:
        return [p for p in pods_on(node_name) if _evictable(p)]

    def pods_on(node_name: str) -> List[Dict[str, Any]]:
        # The store indexes pods by spec.nodeName: a drain must not scan every pod of the cluster.
        return store.list("pods", copy=False, field_selector="spec.nodeName=" + node_name) if node_name else []

    def set_node(node_name: str, maintenance: bool) -> None:
        def change(node: Dict[str, Any]) -> None:
            spec = node.setdefault("spec", {})
            taints = [t for t in spec.get("taints") or [] if t.get("key") not in ("node.kubernetes.io/unschedulable", "medik8s.io/drain")]
            if maintenance:
                spec["unschedulable"] = True
                taints.extend(dict(t, timeAdded=now_rfc3339()) for t in TAINTS)
            else:
                spec.pop("unschedulable", None)
            spec["taints"] = taints
            if not taints:
                spec.pop("taints")
        store.mutate("nodes", node_name, change)

    def on_nm(event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is None:
            return
        name = new["metadata"]["name"]
        if new["metadata"].get("deletionTimestamp"):
            if FINALIZER in (new["metadata"].get("finalizers") or []):
                if store.peek("nodes", dig(new, "spec", "nodeName")) is not None:
                    set_node(dig(new, "spec", "nodeName"), False)
                store.remove_finalizer(NMS, name, FINALIZER)
            return
        if event == "ADDED":
            node_name = dig(new, "spec", "nodeName")
            pods = node_pods(node_name)

            def start(nm: Dict[str, Any]) -> None:
                nm["metadata"]["finalizers"] = list(nm["metadata"].get("finalizers") or []) + [FINALIZER]
                nm["status"] = {"phase": "Running",
                                "totalpods": len(pods_on(node_name)),
                    "evictionPods": len(pods), "drainProgress": 0, "pendingPods": [p["metadata"]["name"] for p in pods],
                    "lastUpdate": now_rfc3339()}
            store.mutate(NMS, name, start)
            set_node(node_name, True)
            cluster.after(cluster.duration("nmo_drain_retry", 0.05), drain, name)

    def drain(name: str) -> None:
        nm = store.peek(NMS, name)
        if nm is None or nm["metadata"].get("deletionTimestamp"):
            return
        node_name = dig(nm, "spec", "nodeName")
        last_error = ""
        for pod in node_pods(node_name):
            if pod["metadata"].get("deletionTimestamp"):
                continue
            try:
                for hook in list(cluster.eviction_hooks):
                    if hook(cluster, pod, {}, False):
                        break
                else:
                    if dig(pod, "status", "phase") not in ("Succeeded", "Failed"):
                        eviction.check_disruption_budgets(cluster, pod)
                    store.delete("pods", pod["metadata"]["name"], pod["metadata"]["namespace"])
            except ApiError as exc:
                last_error = (f'error when evicting pods/"{pod["metadata"]["name"]}" -n "{pod["metadata"]["namespace"]}": '
                              f"{exc.message}")
        remaining = node_pods(node_name)
        total = max(int(dig(nm, "status", "evictionPods") or 0), len(remaining), 1)
        done = not remaining

        def report(o: Dict[str, Any]) -> None:
            status = o.setdefault("status", {})
            status.update({"phase": "Succeeded" if done else "Running",
                           "drainProgress": 100 if done else int(100 * (total - len(remaining)) / total),
                           "pendingPods": [p["metadata"]["name"] for p in remaining], "lastUpdate": now_rfc3339()})
            status["lastError"] = last_error
            status["pendingPodsRefs"] = [{"name": p["metadata"]["name"], "namespace": p["metadata"]["namespace"]} for p in remaining]
        store.mutate(NMS, name, report)
        if not done:
            cluster.after(cluster.duration("nmo_drain_retry", 0.05), drain, name)

    cluster.add_admission(NMS, admit)
    cluster.on_change(NMS, on_nm)
