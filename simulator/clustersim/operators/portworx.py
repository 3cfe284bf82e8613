"""Portworx storage nodes: a node back from maintenance restarts Portworx before it is Online.

* When a node is uncordoned after maintenance (``spec.unschedulable`` true → unset), its
  StorageNode (same name as the node) goes ``Initializing`` (phase and ``NodeState`` condition),
  simulating Portworx starting again after the reboot, and is ``Online`` again after
  ``portworx_node_restart`` seconds.
* Operator fault ``storage-node-offline`` (target: the node name) keeps that StorageNode
  ``Offline`` while it is armed (checked every ``portworx_poll`` seconds); disarmed, it goes Online.
* The StorageCluster ``status.phase`` is ``Online`` while every StorageNode is Online, else
  ``Degraded``.

Rolling update of a new Portworx image (``PortworxRollout``, controller ``portworx-rollout``),
after libopenstorage/operator master 303cc37 (2024-08-15) ``pkg/controller/storagecluster/update.go``
(``rollingUpdate``) and ``kubevirt.go`` (``GetVMPodsToEvictByNode``, ``StartEvictingVMPods``):

* A change of ``spec.image`` (the version is its tag, ``portworx/oci-monitor:3.6.1`` → ``3.6.1``)
  starts a rollout; the StorageCluster gets the condition ``Update`` ``InProgress`` (source
  Portworx). Every ``portworx_update_step`` seconds (default 0.1) the operator picks outdated
  StorageNodes (by name; nodes it already marked first) while fewer than
  ``spec.updateStrategy.rollingUpdate.maxUnavailable`` (an int or a percentage of the nodes,
  default 1) are unavailable (updating, or not Online).
* Unless the StorageCluster is annotated ``operator.libopenstorage.org/evict-vms-during-update:
  "false"``, a picked node is annotated ``operator.libopenstorage.org/unschedulable: "true"`` and
  its running virt-launcher pods whose VMI runs there and is ``LiveMigratable`` are evicted first:
  a Warning Event ``UpdatePaused`` on the StorageNode ("The update of the storage node <node> has
  been paused because there are <n> KubeVirt VMs running on the node. Portworx will live-migrate
  the VMs and the storage node will be updated after there are no VMs left on this node.") and one
  VirtualMachineInstanceMigration per VM, annotated
  ``operator.libopenstorage.org/controller-revision-hash`` (here a hash of the image) and
  ``operator.libopenstorage.org/vmi-migration-source-node``. A migration of that revision from that
  node that **Failed** is not retried: every step records the Warning Event ``FailedToEvictVM``
  ("Live migration <migration> failed for VM <ns>/<vm> on node <node>. Stop or migrate the VM so
  that the update of the storage node can proceed."; the Portworx documentation words it "Please
  stop or migrate the VM manually to continue the update of the storage node.") and the node waits.
  VMs that are not live-migratable are **not** waited for (upstream skips them: they go down with
  Portworx on that node; the simulator does not model that outage).
* A node without such VMs restarts Portworx: phase ``Updating`` (NodeState ``Updating``) for
  ``portworx_update_restart`` seconds (default 0.2), then ``spec.version`` is the new version,
  Online, and the unschedulable annotation goes. When every node runs the new version the
  StorageCluster's ``status.version`` follows and ``Update`` is ``Completed``.
* Events repeat as client-go's recorder aggregates them: same object, reason and message → ``count``
  and ``lastTimestamp`` grow (source component ``portworx-operator``, not checked upstream).
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from ..controller import Controller, watches
from ..errors import ApiError
from ..util import dig, now_rfc3339, set_condition

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


OPERATOR_PREFIX = "operator.libopenstorage.org"
EVICT_VMS_ANNOTATION = OPERATOR_PREFIX + "/evict-vms-during-update"
UNSCHEDULABLE_ANNOTATION = OPERATOR_PREFIX + "/unschedulable"
REVISION_ANNOTATION = OPERATOR_PREFIX + "/controller-revision-hash"
SOURCE_NODE_ANNOTATION = OPERATOR_PREFIX + "/vmi-migration-source-node"
EVENTS = "events"
PODS = "pods"
VMIS = "kubevirt.io/virtualmachineinstances"
MIGRATIONS = "kubevirt.io/virtualmachineinstancemigrations"
PAUSED = ("The update of the storage node {node} has been paused because there are {count} KubeVirt VMs running on the "
          "node. Portworx will live-migrate the VMs and the storage node will be updated after there are no VMs left on "
          "this node.")
EVICTION_FAILED = ("Live migration {migration} failed for VM {namespace}/{vmi} on node {node}. "
                   "Stop or migrate the VM so that the update of the storage node can proceed.")


def image_version(image: str) -> str:
    """The tag of ``portworx/oci-monitor:3.6.1``; ``""`` for an image pinned only by digest
    (``...@sha256:...``), whose version cannot be read from its name."""
    last = (image or "").split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


def max_unavailable(cluster: Dict[str, Any], nodes: int) -> int:
    """``spec.updateStrategy.rollingUpdate.maxUnavailable``: an int or a percentage (rounded up), default 1."""
    value = dig(cluster, "spec", "updateStrategy", "rollingUpdate", "maxUnavailable")
    if value is None:
        return 1
    if isinstance(value, str) and value.endswith("%"):
        return max(1, -(-int(value[:-1]) * nodes // 100))
    return max(1, int(value))


def nodes_to_update(nodes: List[Dict[str, Any]], version: str, limit: int, marked: List[str]) -> List[str]:
    """Outdated Online nodes to take down now: as many as ``limit`` minus the unavailable ones."""
    unavailable = sum(1 for n in nodes if dig(n, "status", "phase") != "Online")
    outdated = [n["metadata"]["name"] for n in nodes
                if dig(n, "spec", "version") != version and dig(n, "status", "phase") == "Online"]
    outdated.sort(key=lambda name: (name not in marked, name))
    return outdated[:max(0, limit - unavailable)]


class PortworxRollout(Controller):
    """The Portworx operator's rolling update of a new image, node by node, VMs migrated off first."""

    name = "portworx-rollout"

    def __init__(self, cluster: "Cluster") -> None:
        super().__init__(cluster)
        self.running: Dict[str, bool] = {}  # "<namespace>/<cluster>" -> a step is scheduled

    def reset(self) -> None:
        self.running.clear()

    @watches(STORAGE_CLUSTERS)
    def on_cluster(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is None or event != "MODIFIED" or dig(new, "spec", "image") == dig(old, "spec", "image"):
            return
        if not image_version(dig(new, "spec", "image")):
            # Not checked against the operator: with no version in the image name the simulator
            # has nothing to roll the nodes to, so it leaves them (and status.version) alone.
            return
        key = f"{new['metadata']['namespace']}/{new['metadata']['name']}"
        self.store.mutate(STORAGE_CLUSTERS, new["metadata"]["name"], lambda o: set_condition(
            o.setdefault("status", {}).setdefault("conditions", []), "Update", "InProgress",
            message=f"Updating Portworx to {image_version(dig(new, 'spec', 'image'))}", source="Portworx"),
            new["metadata"]["namespace"])
        if not self.running.get(key):
            self.running[key] = True
            self.cluster.after(self.cluster.duration("portworx_update_step", 0.1), self.step, *key.split("/"))

    def step(self, namespace: str, name: str) -> None:
        cluster = self.store.peek(STORAGE_CLUSTERS, name, namespace)
        if cluster is None:
            self.running.pop(f"{namespace}/{name}", None)
            return
        image = dig(cluster, "spec", "image") or ""
        version = image_version(image)
        nodes = self.store.list(STORAGE_NODES, namespace, copy=False)
        if all(dig(n, "spec", "version") == version and dig(n, "status", "phase") == "Online" for n in nodes):
            self.finish(namespace, name, version)
            return
        marked = [n["metadata"]["name"] for n in self.store.list("nodes", copy=False)
                  if (n["metadata"].get("annotations") or {}).get(UNSCHEDULABLE_ANNOTATION) == "true"]
        evict = (cluster["metadata"].get("annotations") or {}).get(EVICT_VMS_ANNOTATION, "true").lower() != "false"
        revision = hashlib.sha256(image.encode()).hexdigest()[:10]
        for node_name in nodes_to_update(nodes, version, max_unavailable(cluster, len(nodes)), marked):
            if not evict or not self.vms_left(namespace, node_name, revision):
                self.restart(namespace, node_name, version)
        self.cluster.after(self.cluster.duration("portworx_update_step", 0.1), self.step, namespace, name)

    def vms_left(self, namespace: str, node_name: str, revision: str) -> bool:
        """Start (or report) the eviction of the node's migratable VMs; True while any is left."""
        self.set_node_annotation(node_name, True)
        launchers = [p for p in self.store.list(PODS, field_selector=f"spec.nodeName={node_name}", copy=False)
                     if (p["metadata"].get("labels") or {}).get("kubevirt.io") == "virt-launcher"
                     and dig(p, "status", "phase") not in ("Succeeded", "Failed")]
        vmis = [vmi for vmi in (self.vmi_of(p) for p in launchers) if vmi is not None
                and dig(vmi, "status", "nodeName") == node_name and _migratable(vmi)]
        if not vmis:
            return False
        self.record(namespace, node_name, "UpdatePaused", PAUSED.format(node=node_name, count=len(vmis)))
        for vmi in vmis:
            self.evict(namespace, node_name, vmi, revision)
        return True

    def vmi_of(self, pod: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        name = (pod["metadata"].get("annotations") or {}).get("kubevirt.io/domain")
        return self.store.peek(VMIS, name, pod["metadata"]["namespace"]) if name else None

    def evict(self, namespace: str, node_name: str, vmi: Dict[str, Any], revision: str) -> None:
        vmi_namespace, vmi_name = vmi["metadata"]["namespace"], vmi["metadata"]["name"]
        for migration in self.store.list(MIGRATIONS, vmi_namespace, copy=False):
            if dig(migration, "spec", "vmiName") != vmi_name:
                continue
            if dig(migration, "status", "phase") not in ("Succeeded", "Failed"):
                return  # in progress: look again at the next step
            annotations = migration["metadata"].get("annotations") or {}
            if annotations.get(SOURCE_NODE_ANNOTATION) == node_name and annotations.get(REVISION_ANNOTATION) == revision:
                if dig(migration, "status", "phase") == "Failed":
                    self.record(namespace, node_name, "FailedToEvictVM", EVICTION_FAILED.format(
                        migration=migration["metadata"]["name"], namespace=vmi_namespace, vmi=vmi_name, node=node_name))
                return
        try:
            self.store.create(MIGRATIONS, {
                "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
                "metadata": {"generateName": f"{vmi_name}-", "namespace": vmi_namespace,
                             "labels": {"app.kubernetes.io/managed-by": "portworx-operator"},
                             "annotations": {REVISION_ANNOTATION: revision, SOURCE_NODE_ANNOTATION: node_name}},
                "spec": {"vmiName": vmi_name}}, vmi_namespace)
        except ApiError:
            pass  # upstream logs "Failed to start live migration" and tries again at the next reconcile

    def restart(self, namespace: str, node_name: str, version: str) -> None:
        self.cluster.controller("portworx").set_phase(node_name, "Updating")
        self.cluster.after(self.cluster.duration("portworx_update_restart", 0.2), self.updated, namespace, node_name, version)

    def updated(self, namespace: str, node_name: str, version: str) -> None:
        if self.store.peek(STORAGE_NODES, node_name, namespace) is None:
            return
        self.store.mutate(STORAGE_NODES, node_name, lambda o: o.setdefault("spec", {}).__setitem__("version", version), namespace)
        self.cluster.controller("portworx").set_phase(node_name, "Online")
        self.set_node_annotation(node_name, False)

    def finish(self, namespace: str, name: str, version: str) -> None:
        self.running.pop(f"{namespace}/{name}", None)

        def done(obj: Dict[str, Any]) -> None:
            status = obj.setdefault("status", {})
            status["version"] = version
            set_condition(status.setdefault("conditions", []), "Update", "Completed",
                          message=f"Portworx updated to {version}", source="Portworx")
        self.store.mutate(STORAGE_CLUSTERS, name, done, namespace)

    def set_node_annotation(self, node_name: str, unschedulable: bool) -> None:
        node = self.store.peek("nodes", node_name)
        if node is None or ((node["metadata"].get("annotations") or {}).get(UNSCHEDULABLE_ANNOTATION) == "true") == unschedulable:
            return

        def change(obj: Dict[str, Any]) -> None:
            annotations = obj["metadata"].setdefault("annotations", {})
            if unschedulable:
                annotations[UNSCHEDULABLE_ANNOTATION] = "true"
            else:
                annotations.pop(UNSCHEDULABLE_ANNOTATION, None)
        self.store.mutate("nodes", node_name, change)

    def record(self, namespace: str, node_name: str, reason: str, message: str) -> None:
        """A Warning Event on the StorageNode, aggregated like client-go's event correlator."""
        digest = hashlib.sha256(f"{node_name}/{reason}/{message}".encode()).hexdigest()[:16]
        name, now = f"{node_name}.{digest}", now_rfc3339()
        if self.store.peek(EVENTS, name, namespace) is not None:
            self.store.mutate(EVENTS, name, lambda o: o.update(count=int(o.get("count") or 1) + 1, lastTimestamp=now), namespace)
            return
        node = self.store.peek(STORAGE_NODES, node_name, namespace) or {"metadata": {}}
        self.store.create(EVENTS, {
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {"apiVersion": "core.libopenstorage.org/v1", "kind": "StorageNode", "name": node_name,
                               "namespace": namespace, "uid": node["metadata"].get("uid")},
            "reason": reason, "message": message, "type": "Warning", "count": 1,
            "source": {"component": "portworx-operator"}, "firstTimestamp": now, "lastTimestamp": now}, namespace)


def _migratable(vmi: Dict[str, Any]) -> bool:
    return any(c.get("type") == "LiveMigratable" and c.get("status") == "True" for c in dig(vmi, "status", "conditions") or [])


CONTROLLERS = [PortworxNodes, PortworxRollout]
