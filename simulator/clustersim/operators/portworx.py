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

from ..controller import Controller, watches
from ..util import dig, set_condition

if TYPE_CHECKING:  # pragma: no cover
    from ..cluster import Cluster

STORAGE_NODES = "core.libopenstorage.org/storagenodes"
STORAGE_CLUSTERS = "core.libopenstorage.org/storageclusters"
OFFLINE_FAULT = "storage-node-offline"


class PortworxNodes(Controller):
    """The Portworx operator's view of its storage nodes: phases and the StorageCluster phase."""

    name = "portworx"

    def __init__(self, cluster: "Cluster") -> None:
        super().__init__(cluster)
        self.held: Dict[str, bool] = {}  # node name -> kept Offline by the armed fault

    def setup(self) -> None:
        self.cluster.after(0.1, self.poll_faults, background=True)

    def reset(self) -> None:
        # A reset (or a state load) cancels every queued task, the fault poll included.
        self.held.clear()
        self.cluster.after(0.1, self.poll_faults, background=True)

    def storage_node(self, node_name: str) -> Optional[Dict[str, Any]]:
        for candidate in self.store.list(STORAGE_NODES, copy=False):
            if candidate["metadata"]["name"] == node_name:
                return candidate
        return None

    def set_phase(self, node_name: str, phase: str) -> None:
        found = self.storage_node(node_name)
        if found is None:
            return

        def change(obj: Dict[str, Any]) -> None:
            status = obj.setdefault("status", {})
            status["phase"] = phase
            set_condition(status.setdefault("conditions", []), "NodeState", phase,
                          message="" if phase == "Online" else f"Portworx on {node_name} is {phase}")
        self.store.mutate(STORAGE_NODES, node_name, change, found["metadata"]["namespace"])
        self.refresh_cluster()

    def refresh_cluster(self) -> None:
        nodes = self.store.list(STORAGE_NODES, copy=False)
        phase = "Online" if all(dig(n, "status", "phase") == "Online" for n in nodes) else "Degraded"
        for stc in self.store.list(STORAGE_CLUSTERS, copy=False):
            if dig(stc, "status", "phase") in ("Online", "Degraded") and dig(stc, "status", "phase") != phase:
                self.store.mutate(STORAGE_CLUSTERS, stc["metadata"]["name"],
                                  lambda o: o.setdefault("status", {}).__setitem__("phase", phase),
                                  stc["metadata"]["namespace"])

    def back_online(self, node_name: str) -> None:
        if not self.held.get(node_name):
            self.set_phase(node_name, "Online")

    @watches("nodes")
    def on_node(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if event != "MODIFIED" or new is None or old is None:
            return
        if dig(old, "spec", "unschedulable") and not dig(new, "spec", "unschedulable"):
            name = new["metadata"]["name"]
            if self.storage_node(name) is not None:
                self.set_phase(name, "Initializing")
                self.cluster.after(self.cluster.duration("portworx_node_restart", 0.3), self.back_online, name)

    def poll_faults(self) -> None:
        for node in self.store.list(STORAGE_NODES, copy=False):
            name = node["metadata"]["name"]
            armed = self.cluster.faults.peek(OFFLINE_FAULT, name)
            if armed and dig(node, "status", "phase") != "Offline":
                self.held[name] = True
                self.set_phase(name, "Offline")
            elif not armed and self.held.pop(name, False):
                self.set_phase(name, "Online")
        self.cluster.after(self.cluster.duration("portworx_poll", 0.1), self.poll_faults, background=True)


CONTROLLERS = [PortworxNodes]
