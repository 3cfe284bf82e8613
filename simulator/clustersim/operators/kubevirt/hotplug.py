"""Volume hot-plug: virt-api's ``addvolume``/``removevolume`` and virt-controller/virt-handler's
attachment of the volume to a running VMI.

``subresources.kubevirt.io/v1`` ``virtualmachines/addvolume`` and ``removevolume`` (PUT, 202;
kubevirt/kubevirt v1.6 ``pkg/virt-api/rest/subresource.go``): the volume and disk are persisted
in the VM template with ``hotpluggable: true``; on a running VM the VMI gets them too and
``status.volumeStatus[].phase`` walks Pending → Bound → AttachedToNode (a ``hp-volume-``
attachment pod) → MountedToPod → Ready, one step every ``hotplug_step`` seconds.  A DataVolume is
attached once it is Succeeded; one in WaitForFirstConsumer gets its claim bound on the VMI's node
first (virt-controller's trigger pod).  Removal walks Detaching and then drops the entry.
``dryRun: ["All"]`` in the options validates without changing anything.
"""
from __future__ import annotations

import secrets
from typing import Any, Dict, Optional

from ... import errors
from ...cluster import HttpResponse
from ...controller import Controller, serves_subresource
from ...util import clone, dig
from ..storage import bind_for_consumer
from .model import (CLAIMS, DATA_VOLUMES, PODS, VMIS, VMS, check_add_volume_options, hotplug_disk, hotplug_volume,
                    is_final_pod, next_hotplug_phase, owner_reference, validate_disk, verify_add_volume, verify_remove_volume,
                    volume_status_entry)
from .objects import delete_quietly, launchers_of, refresh_migratable


def accepted() -> HttpResponse:
    """virt-api answers 202 Accepted with an empty body."""
    return HttpResponse(code=202, body=b"")


def options_of(req: Any) -> Dict[str, Any]:
    if req.method != "PUT":
        raise errors.method_not_allowed()
    return req.body if isinstance(req.body, dict) else {}


def is_dry_run(req: Any, options: Dict[str, Any]) -> bool:
    return bool(req.dry_run or "All" in (options.get("dryRun") or []))


def template_volumes(vm: Dict[str, Any]) -> Any:
    return dig(vm, "spec", "template", "spec", "volumes") or []


def drop_volume(spec: Dict[str, Any], name: str) -> None:
    """Remove volume ``name`` and its disk from a VM template spec or a VMI spec."""
    spec["volumes"] = [v for v in spec.get("volumes") or [] if v.get("name") != name]
    devices = spec.setdefault("domain", {}).setdefault("devices", {})
    devices["disks"] = [d for d in devices.get("disks") or [] if d.get("name") != name]


def append_volume(spec: Dict[str, Any], volume: Dict[str, Any], disk: Dict[str, Any]) -> None:
    spec.setdefault("volumes", []).append(clone(volume))
    spec.setdefault("domain", {}).setdefault("devices", {}).setdefault("disks", []).append(clone(disk))


class Hotplug(Controller):
    name = "kubevirt-hotplug"

    def step_delay(self) -> float:
        return self.cluster.duration("hotplug_step", 0.03)

    def vm_or_404(self, req: Any) -> Dict[str, Any]:
        vm = self.store.peek(VMS, req.name, req.namespace)
        if vm is None:
            raise errors.not_found("virtualmachines", req.name, "kubevirt.io")
        return vm

    # --- virt-api --------------------------------------------------------------------------
    @serves_subresource(VMS, "addvolume", verbs=("update",))
    def add_volume(self, req: Any) -> HttpResponse:
        options = options_of(req)
        check_add_volume_options(options)
        vm = self.vm_or_404(req)
        # vmVolumePatchStatus: verifyVolumeOption errors are a 409 Conflict on the VM;
        verify_add_volume(req.name, template_volumes(vm), options)
        # then the VM patch goes through the VM admission webhook (422).
        validate_disk(options)
        if is_dry_run(req, options):
            return accepted()
        volume, disk = hotplug_volume(options), hotplug_disk(options)
        self.store.mutate(VMS, req.name, lambda o: append_volume(
            o["spec"].setdefault("template", {}).setdefault("spec", {}), volume, disk), req.namespace)
        if self.store.peek(VMIS, req.name, req.namespace) is not None:
            self.attach(req.namespace, req.name, volume, disk)
        return accepted()

    @serves_subresource(VMS, "removevolume", verbs=("update",))
    def remove_volume(self, req: Any) -> HttpResponse:
        options = options_of(req)
        if not options.get("name"):
            raise errors.bad_request("RemoveVolumeOptions requires name to be set")
        vm = self.vm_or_404(req)
        # upstream also finds a volume by its claim/DataVolume name
        name = verify_remove_volume(req.name, template_volumes(vm), options["name"])["name"]
        if is_dry_run(req, options):
            return accepted()
        self.store.mutate(VMS, req.name, lambda o: drop_volume(o["spec"]["template"]["spec"], name), req.namespace)
        if self.store.peek(VMIS, req.name, req.namespace) is not None:
            self.set_volume_phase(req.namespace, req.name, name, "Detaching", reason="", message="")
            self.cluster.after(self.step_delay(), self.detach, req.namespace, req.name, name)
        return accepted()

    # --- attachment ------------------------------------------------------------------------
    def attach(self, namespace: str, vmi_name: str, volume: Dict[str, Any], disk: Dict[str, Any]) -> None:
        refresh = refresh_migratable(self.store)

        def change(o: Dict[str, Any]) -> None:
            append_volume(o["spec"], volume, disk)
            o.setdefault("status", {}).setdefault("volumeStatus", []).append(volume_status_entry(volume, "Pending", True))
            refresh(o)
        self.store.mutate(VMIS, vmi_name, change, namespace)
        self.cluster.after(self.step_delay(), self.advance, namespace, vmi_name, volume["name"])

    def set_volume_phase(self, namespace: str, vmi_name: str, volume: str, phase: str, **extra: Any) -> None:
        def change(o: Dict[str, Any]) -> None:
            for entry in dig(o, "status", "volumeStatus") or []:
                if entry["name"] == volume:
                    entry["phase"] = phase
                    entry.update(extra)
        self.store.mutate(VMIS, vmi_name, change, namespace)

    def claim_not_ready(self, vmi: Dict[str, Any], volume_name: str, claim_name: str) -> str:
        """Why the hot-plugged claim cannot be attached yet ("" when it can).

        A DataVolume must be populated first; one waiting for its first consumer gets virt-controller's
        trigger pod on the VMI's node, which binds its claim there (``bind_for_consumer``).
        """
        namespace = vmi["metadata"]["namespace"]
        volume = next((v for v in dig(vmi, "spec", "volumes") or [] if v.get("name") == volume_name), {})
        if volume.get("dataVolume"):
            data_volume = self.store.peek(DATA_VOLUMES, claim_name, namespace)
            phase = dig(data_volume, "status", "phase")
            if phase in ("WaitForFirstConsumer", "PendingPopulation"):
                bind_for_consumer(self.cluster, namespace, claim_name, dig(vmi, "status", "nodeName"))
            if data_volume is not None and phase != "Succeeded":
                return f"DataVolume {claim_name} is {phase or 'Pending'}"
        claim = self.store.peek(CLAIMS, claim_name, namespace)
        if claim is None or dig(claim, "status", "phase") != "Bound":
            return f"PVC {claim_name} is not bound yet"
        return ""

    def advance(self, namespace: str, vmi_name: str, volume_name: str) -> None:
        vmi = self.store.peek(VMIS, vmi_name, namespace)
        entry = next((e for e in dig(vmi, "status", "volumeStatus") or [] if e["name"] == volume_name), None)
        following = next_hotplug_phase(dig(entry, "phase"))
        if vmi is None or entry is None or following is None:
            return
        if following == "Bound":
            not_ready = self.claim_not_ready(vmi, volume_name, dig(entry, "persistentVolumeClaimInfo", "claimName"))
            if not_ready:
                following, extra = "Pending", {"reason": "PVCNotReady", "message": not_ready}
            else:
                extra = {"reason": "", "message": ""}
        elif following == "AttachedToNode":
            extra = self.create_attachment_pod(vmi, entry)
        elif following == "Ready":
            extra = {"target": f"sd{chr(ord('a') + len(dig(vmi, 'status', 'volumeStatus')) - 1)}",
                     "reason": "VolumeReady", "message": f"Successfully attach hotplugged volume {volume_name} to VM"}
        else:
            extra = {"reason": "", "message": ""}
        self.set_volume_phase(namespace, vmi_name, volume_name, following, **extra)
        if following != "Ready":
            self.cluster.after(self.step_delay(), self.advance, namespace, vmi_name, volume_name)

    def create_attachment_pod(self, vmi: Dict[str, Any], entry: Dict[str, Any]) -> Dict[str, Any]:
        """virt-controller's ``hp-volume-`` pod mounting the claim on the VMI's node, owned by the
        launcher pod there; returns the volume status fields that name it."""
        namespace, node, volume_name = vmi["metadata"]["namespace"], dig(vmi, "status", "nodeName"), entry["name"]
        pod_name = f"hp-volume-{secrets.token_hex(3)[:5]}"
        launchers = [p for p in launchers_of(self.store, vmi) if dig(p, "spec", "nodeName") == node and not is_final_pod(p)]
        owner = [owner_reference("Pod", launchers[0], "v1")] if launchers else []
        self.store.create(PODS, {
            "metadata": {"name": pod_name, "namespace": namespace, "ownerReferences": owner,
                         "labels": {"kubevirt.io": "hotplug-disk", "kubevirt.io/created-by": vmi["metadata"]["uid"]}},
            "spec": {"nodeName": node, "restartPolicy": "Never",
                     "volumes": [{"name": volume_name, "persistentVolumeClaim": {
                         "claimName": dig(entry, "persistentVolumeClaimInfo", "claimName")}}],
                     "containers": [{"name": "hotplug-disk", "image": "virt-launcher",
                                     "resources": {"requests": {"memory": "2Mi"}}}]},
            "status": {"phase": "Running"},
        })
        return {"hotplugVolume": {"attachPodName": pod_name}, "reason": "SuccessfulCreate",
                "message": f"Created hotplug attachment pod {pod_name}, for volume {volume_name}"}

    def follow_migration(self, namespace: str, vmi_name: str) -> None:
        """After a migration the VMI's hot-plugged volumes are attached on the target node: a new
        attachment pod there (owned by the target launcher) replaces the source node's one
        (upstream the migration controller gives the target pod its attachment pods,
        pkg/virt-controller/watch/migration/migration.go, and the VMI controller removes the
        source's, pkg/virt-controller/watch/vmi/volume-hotplug.go; here both at completion)."""
        vmi = self.store.peek(VMIS, vmi_name, namespace)
        for entry in dig(vmi, "status", "volumeStatus") or []:
            old_pod = dig(entry, "hotplugVolume", "attachPodName")
            if not old_pod:
                continue
            delete_quietly(self.store, PODS, old_pod, namespace)
            fields = self.create_attachment_pod(vmi, entry)
            self.set_volume_phase(namespace, vmi_name, entry["name"], entry["phase"], hotplugVolume=fields["hotplugVolume"])

    def detach(self, namespace: str, vmi_name: str, volume_name: str) -> None:
        vmi = self.store.peek(VMIS, vmi_name, namespace)
        if vmi is None:
            return
        entry = next((e for e in dig(vmi, "status", "volumeStatus") or [] if e["name"] == volume_name), None)
        attach_pod = dig(entry, "hotplugVolume", "attachPodName")
        if attach_pod:
            delete_quietly(self.store, PODS, attach_pod, namespace)
        refresh = refresh_migratable(self.store)

        def drop(o: Dict[str, Any]) -> None:
            drop_volume(o["spec"], volume_name)
            o["status"]["volumeStatus"] = [e for e in o["status"].get("volumeStatus") or [] if e["name"] != volume_name]
            refresh(o)
        self.store.mutate(VMIS, vmi_name, drop, namespace)
