"""Portworx storage nodes: a node back from maintenance restarts Portworx before it is Online.

* When a node is uncordoned after maintenance (``spec.unschedulable`` true → unset), its
  StorageNode (same name as the node) goes ``Initializing`` (phase and ``NodeState`` condition),
  simulating Portworx starting again after the reboot, and is ``Online`` again after
  ``portworx_node_restart`` seconds.
* Operator fault ``storage-node-offline`` (target: the node name) keeps that StorageNode
  ``Offline`` while it is armed (checked every ``portworx_poll`` seconds); disarmed, it goes Online.
* The StorageCluster ``status.phase`` is ``Online`` while every StorageNode is Online, else
  ``Degraded``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional

from ..util import dig, set_condition

if TYPE_CHECKING:  # pragma: no cover
    from ..cluster import Cluster

STORAGE_NODES = "core.libopenstorage.org/storagenodes"
STORAGE_CLUSTERS = "core.libopenstorage.org/storageclusters"
OFFLINE_FAULT = "storage-node-offline"


def setup(cluster: "Cluster") -> None:
    store = cluster.store
    held: Dict[str, bool] = {}

    def storage_node(node_name: str) -> Optional[Dict[str, Any]]:
        for candidate in store.list(STORAGE_NODES, copy=False):
            if candidate["metadata"]["name"] == node_name:
                return candidate
        return None

    def set_phase(node_name: str, phase: str) -> None:
        found = storage_node(node_name)
        if found is None:
            return

        def change(obj: Dict[str, Any]) -> None:
            status = obj.setdefault("status", {})
            status["phase"] = phase
            set_condition(status.setdefault("conditions", []), "NodeState", phase,
                          message="" if phase == "Online" else f"Portworx on {node_name} is {phase}")
        store.mutate(STORAGE_NODES, node_name, change, found["metadata"]["namespace"])
        refresh_cluster()

    def refresh_cluster() -> None:
        nodes = store.list(STORAGE_NODES, copy=False)
        phase = "Online" if all(dig(n, "status", "phase") == "Online" for n in nodes) else "Degraded"
        for stc in store.list(STORAGE_CLUSTERS, copy=False):
            if dig(stc, "status", "phase") in ("Online", "Degraded") and dig(stc, "status", "phase") != phase:
                store.mutate(STORAGE_CLUSTERS, stc["metadata"]["name"],
                             lambda o: o.setdefault("status", {}).__setitem__("phase", phase), stc["metadata"]["namespace"])

    def back_online(node_name: str) -> None:
        if not held.get(node_name):
            set_phase(node_name, "Online")

    def on_node(event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if event != "MODIFIED" or new is None or old is None:
            return
        if dig(old, "spec", "unschedulable") and not dig(new, "spec", "unschedulable"):
            name = new["metadata"]["name"]
            if storage_node(name) is not None:
                set_phase(name, "Initializing")
                cluster.after(cluster.duration("portworx_node_restart", 0.3), back_online, name)

    def poll_faults() -> None:
        for node in store.list(STORAGE_NODES, copy=False):
            name = node["metadata"]["name"]
            armed = cluster.faults.peek(OFFLINE_FAULT, name)
            if armed and dig(node, "status", "phase") != "Offline":
                held[name] = True
                set_phase(name, "Offline")
            elif not armed and held.pop(name, False):
                set_phase(name, "Online")
        cluster.after(cluster.duration("portworx_poll", 0.1), poll_faults, background=True)

    def restart() -> None:
        # A reset (or a state load) cancels every queued task, the fault poll included.
        held.clear()
        cluster.after(0.1, poll_faults, background=True)

    cluster.on_change("nodes", on_node)
    cluster.on_reset(restart)
    cluster.after(0.1, poll_faults, background=True)
