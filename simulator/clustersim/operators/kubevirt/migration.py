"""``VirtualMachineInstanceMigration``: virt-api's create validation and virt-controller's phases.

Creation is refused for a VMI that does not exist, is not live-migratable, or already migrates;
then Pending → Scheduling → Scheduled → PreparingTarget → TargetReady → Running → Succeeded, one
bookkeeping step every ``migration_step`` seconds (default 0.1) and the memory transfer of the
Running phase ``migration_transfer_per_gib`` seconds per GiB of guest memory (default 0.15), all
scaled by ``--time-scale``; the VMI then runs on another schedulable worker.  The
operator fault ``migration-fail`` (target ``<namespace>/<vmi>``) makes the next migration of that
VMI Failed.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from ... import errors
from ...controller import Controller, admits, watches
from ...errors import ApiError
from ...util import dig, now_rfc3339
from .model import (MIGRATION_WEBHOOK, MIGRATIONS, PODS, VMIS, completed_pod_status, condition_of, guest_memory_gib,
                    is_final_pod, launcher_memory, next_migration_phase)
from .objects import delete_quietly, launchers_of
from .vmi_status import interfaces

FINISHED = ("Succeeded", "Failed")


class Migration(Controller):
    name = "kubevirt-migration"

    def step_delay(self) -> float:
        """Each bookkeeping phase (target pod scheduled, target prepared, ...)."""
        return self.cluster.duration("migration_step", 0.1)

    def transfer_delay(self, vmi: Dict[str, Any]) -> float:
        """The Running phase copies the guest memory: ``migration_transfer_per_gib`` seconds per GiB
        (the default, 0.15 s, keeps a 4 GiB guest's migration near one second at time-scale 1)."""
        return self.cluster.duration("migration_transfer_per_gib", 0.15) * guest_memory_gib(vmi)

    @property
    def lifecycle(self) -> Any:
        return self.cluster.controller("kubevirt-vmi")

    # --- public ----------------------------------------------------------------------------
    def in_flight(self, namespace: str, vmi_name: str, exclude: str = "") -> Optional[str]:
        """The name of an unfinished migration of ``vmi_name`` (other than ``exclude``), if any."""
        for migration in self.store.list(MIGRATIONS, namespace, copy=False):
            if migration["metadata"]["name"] == exclude or dig(migration, "spec", "vmiName") != vmi_name:
                continue
            if dig(migration, "status", "phase") not in FINISHED:
                return migration["metadata"]["name"]
        return None

    # --- admission (virt-api's migration-create-validator) ---------------------------------
    @admits(MIGRATIONS)
    def admit_migration(self, req: Any) -> None:
        if req.operation != "CREATE":
            return
        vmi_name = dig(req.obj, "spec", "vmiName")
        vmi = self.store.peek(VMIS, vmi_name, req.namespace) if vmi_name else None
        if vmi is None:
            raise errors.invalid("VirtualMachineInstanceMigration", req.name or "", [
                errors.invalid_field("spec.vmiName", vmi_name, f"the VMI \"{req.namespace}/{vmi_name}\" does not exist")],
                group="kubevirt.io")
        migratable = condition_of(vmi, "LiveMigratable")
        if migratable.get("status") != "True":
            raise ApiError(422, "Invalid", f"{MIGRATION_WEBHOOK}Cannot migrate VMI, Reason: {migratable.get('reason', '')}, "
                                           f"Message: {migratable.get('message', '')}")
        active = self.in_flight(req.namespace, vmi_name)
        if active:
            raise ApiError(422, "Invalid", f"{MIGRATION_WEBHOOK}in-flight migration detected. Active migration job "
                                           f"({active}) is currently already in progress for VMI {vmi_name}.")

    @watches(MIGRATIONS)
    def on_migration(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if event == "ADDED" and new is not None and not dig(new, "status", "phase"):
            namespace, name = new["metadata"]["namespace"], new["metadata"]["name"]
            self.set_phase(namespace, name, "Pending")
            self.cluster.after(self.step_delay(), self.advance, namespace, name)

    # --- phases ----------------------------------------------------------------------------
    def set_phase(self, namespace: str, name: str, phase: str, **extra: Any) -> None:
        def change(migration: Dict[str, Any]) -> None:
            status = migration.setdefault("status", {})
            status["phase"] = phase
            transitions = status.setdefault("phaseTransitionTimestamps", [])
            transitions.append({"phase": phase, "phaseTransitionTimestamp": now_rfc3339()})
            status.update(extra)
        self.store.mutate(MIGRATIONS, name, change, namespace)

    def advance(self, namespace: str, name: str) -> None:
        migration = self.store.peek(MIGRATIONS, name, namespace)
        following = next_migration_phase(dig(migration, "status", "phase"))
        if migration is None or following is None:
            return
        vmi = self.store.peek(VMIS, dig(migration, "spec", "vmiName"), namespace)
        if vmi is None:
            self.set_phase(namespace, name, "Failed")
            return
        handler = {"Scheduling": self.schedule_target, "Running": self.start_transfer,
                   "Succeeded": self.complete}.get(following)
        if handler is not None:
            if not handler(migration, vmi):
                return
        else:
            self.set_phase(namespace, name, following)
        if following != "Succeeded":
            delay = self.transfer_delay(vmi) if following == "Running" else self.step_delay()
            self.cluster.after(delay, self.advance, namespace, name)

    def schedule_target(self, migration: Dict[str, Any], vmi: Dict[str, Any]) -> bool:
        """Scheduling: a target launcher pod on another node with room; False when none can take it."""
        namespace, source = vmi["metadata"]["namespace"], dig(vmi, "status", "nodeName")
        target = self.lifecycle.placement.pick_node(launcher_memory(vmi), exclude=source)
        if target is None:
            self.fail(migration, vmi, "no schedulable node can take the target pod")
            return False
        sources = [p["metadata"]["name"] for p in launchers_of(self.store, vmi)
                   if dig(p, "spec", "nodeName") == source and not is_final_pod(p)]
        pod = self.lifecycle.create_launcher(vmi, target)
        self.set_phase(namespace, migration["metadata"]["name"], "Scheduling", migrationState={
            "sourceNode": source, "sourcePod": sources[0] if sources else "", "targetNode": target,
            "targetPod": pod["metadata"]["name"], "migrationUid": migration["metadata"]["uid"]})
        return True

    def start_transfer(self, migration: Dict[str, Any], vmi: Dict[str, Any]) -> bool:
        """Running: the VMI's migrationState starts (unless the ``migration-fail`` fault fires)."""
        namespace, vmi_name = vmi["metadata"]["namespace"], vmi["metadata"]["name"]
        if self.cluster.faults.take("migration-fail", f"{namespace}/{vmi_name}") is not None:
            self.fail(migration, vmi, "Live migration failed: simulated operator fault")
            return False
        state = dig(migration, "status", "migrationState") or {}
        started = {key: state.get(key) for key in ("sourceNode", "sourcePod", "targetNode", "targetPod", "migrationUid")}
        started.update(startTimestamp=now_rfc3339(), mode="PreCopy")
        self.store.mutate(VMIS, vmi_name, lambda o: o.setdefault("status", {}).__setitem__("migrationState", started),
                          namespace)
        self.set_phase(namespace, migration["metadata"]["name"], "Running")
        return True

    def complete(self, migration: Dict[str, Any], vmi: Dict[str, Any]) -> bool:
        """Succeeded: the VMI runs on the target node.  The source launcher pod's guest has left:
        it stays on the source node in phase Succeeded (virt-controller's migration controller never
        deletes it, kubevirt/kubevirt v1.6 pkg/virt-controller/watch/migration/migration.go) until
        the VMI goes (``deleteAllMatchingPods`` in pkg/virt-controller/watch/vmi/lifecycle.go, or
        the garbage collector through its ownerReference)."""
        namespace, vmi_name = vmi["metadata"]["namespace"], vmi["metadata"]["name"]
        source = dig(vmi, "status", "nodeName")
        target = dig(migration, "status", "migrationState", "targetNode")
        for pod in launchers_of(self.store, vmi):
            if dig(pod, "spec", "nodeName") == source and not is_final_pod(pod):
                self.store.mutate(PODS, pod["metadata"]["name"],
                                  lambda o: o.__setitem__("status", completed_pod_status(o)), namespace)

        target_pod = self.store.peek(PODS, dig(migration, "status", "migrationState", "targetPod") or "", namespace)

        def moved(o: Dict[str, Any]) -> None:
            status = o.setdefault("status", {})
            status["nodeName"] = target
            if target_pod is not None:  # virt-handler on the target now reports the domain
                status["activePods"] = {target_pod["metadata"]["uid"]: target}
                status["interfaces"] = interfaces(o, dig(target_pod, "status", "podIP") or "")
            status.pop("evacuationNodeName", None)
            o["metadata"].setdefault("labels", {})["kubevirt.io/nodeName"] = target
            status.setdefault("migrationState", {}).update(
                {"completed": True, "endTimestamp": now_rfc3339(), "targetNodeDomainDetected": True})
        self.store.mutate(VMIS, vmi_name, moved, namespace)
        self.cluster.controller("kubevirt-hotplug").follow_migration(namespace, vmi_name)
        self.set_phase(namespace, migration["metadata"]["name"], "Succeeded")
        return True

    def fail(self, migration: Dict[str, Any], vmi: Dict[str, Any], reason: str) -> None:
        namespace, vmi_name = vmi["metadata"]["namespace"], vmi["metadata"]["name"]
        current = self.store.peek(MIGRATIONS, migration["metadata"]["name"], namespace)
        target_pod = dig(current, "status", "migrationState", "targetPod")
        if target_pod:
            delete_quietly(self.store, PODS, target_pod, namespace)
        self.set_phase(namespace, migration["metadata"]["name"], "Failed")

        def mark(o: Dict[str, Any]) -> None:
            state = o.setdefault("status", {}).setdefault("migrationState", {})
            state.update({"failed": True, "completed": True, "endTimestamp": now_rfc3339(), "failureReason": reason})
        self.store.mutate(VMIS, vmi_name, mark, namespace)
        if dig(vmi, "status", "evacuationNodeName"):
            self.cluster.controller("kubevirt-eviction").evacuate_later(namespace, vmi_name)
