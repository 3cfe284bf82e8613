"""virt-controller's VM controller: a VM meant to run gets a placed VMI and its virt-launcher pod.

A stopped VM loses its VMI; missing ``dataVolumeTemplates`` DataVolumes are created, owned by the
VM; when the VMI's own launcher pod disappears the guest is gone, and a VM that should run starts
a new VMI after ``vm_restart``.
"""
from __future__ import annotations

import secrets
from typing import Any, Dict, Optional

from ...controller import Controller, watches
from ...util import clone, dig, new_uid
from .model import (CLAIMS, DATA_VOLUMES, NODE_HINT_ANNOTATION, PODS, VMIS, VMS, data_volume_from_template, is_final_pod,
                    launcher_memory, launcher_pod, new_vmi, should_run)
from .objects import delete_quietly, launchers_of, refresh_migratable, vmi_named_by_launcher
from .placement import Placement
from .run_strategy import run_strategy
from .vmi_status import pod_ip, running_status, vm_status


def launcher_suffix() -> str:
    return secrets.token_hex(3)[:5]


class VmiLifecycle(Controller):
    name = "kubevirt-vmi"

    def setup(self) -> None:
        self.placement = Placement(self.store)

    def step(self, name: str, default: float) -> float:
        return self.cluster.duration(name, default)

    # --- watches ---------------------------------------------------------------------------
    @watches(VMS)
    def on_vm(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        vm = new or old
        namespace, name = vm["metadata"]["namespace"], vm["metadata"]["name"]
        if event == "DELETED" or (new and new["metadata"].get("deletionTimestamp")):
            self.finalize_vm(namespace, name, new)
            return
        self.create_template_data_volumes(new)
        if dig(new, "status", "stateChangeRequests"):
            self.cluster.after(self.step("vm_start", 0.02), self.carry_out_requests, namespace, name)
        elif should_run(new):
            if self.store.peek(VMIS, name, namespace) is None:
                self.cluster.after(self.step("vm_start", 0.02), self.start_vmi, namespace, name)
        elif run_strategy(new) == "Halted":
            self.cluster.after(self.step("vm_stop", 0.02), self.stop_vmi, namespace, name)

    def finalize_vm(self, namespace: str, name: str, vm: Optional[Dict[str, Any]]) -> None:
        """A deleted VM: its VMI goes, then the VM's finalizer."""
        self.stop_vmi(namespace, name)
        if vm is not None and vm["metadata"].get("finalizers"):
            self.store.mutate(VMS, name, lambda o: o["metadata"].__setitem__("finalizers", []), namespace)

    def carry_out_requests(self, namespace: str, name: str) -> None:
        """virt-controller's handling of ``status.stateChangeRequests`` (virt-api's start/stop/restart
        under Manual or RerunOnFailure, and every restart): a Stop for the current VMI stops it, a
        Start starts one whatever the run strategy; then the requests are cleared."""
        vm = self.store.peek(VMS, name, namespace)
        requests = list(dig(vm, "status", "stateChangeRequests") or [])
        if vm is None or not requests:
            return
        vmi = self.store.peek(VMIS, name, namespace)
        if requests[0].get("action") == "Stop":
            if vmi is not None and requests[0].get("uid") in (None, vmi["metadata"]["uid"]):
                self.stop_vmi(namespace, name)
            requests.pop(0)
        self.store.mutate(VMS, name, lambda o: o["status"].pop("stateChangeRequests", None), namespace)
        if requests and requests[0].get("action") == "Start":
            self.start_vmi(namespace, name, requested=True)

    @watches(PODS)
    def on_pod(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if event != "DELETED":
            return
        vmi = self.vmi_of_launcher(old)
        if vmi is None or is_final_pod(old) or dig(vmi, "status", "nodeName") != dig(old, "spec", "nodeName"):
            return  # not a launcher, a completed migration source, or a target pod: the VMI lives elsewhere
        # The VMI's own launcher pod is gone: the guest is shut down.
        namespace, name = vmi["metadata"]["namespace"], vmi["metadata"]["name"]
        self.remove_vmi(namespace, name)
        vm = self.store.peek(VMS, name, namespace)
        if vm is not None and should_run(vm):
            self.cluster.after(self.step("vm_restart", 0.1), self.start_vmi, namespace, name)

    # --- public to the other KubeVirt controllers ------------------------------------------
    def vmi_of_launcher(self, pod: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """The VMI a virt-launcher pod runs (by its ``kubevirt.io/domain`` annotation and creator uid)."""
        vmi = vmi_named_by_launcher(self.store, pod)
        if vmi is None or vmi["metadata"]["uid"] != (pod["metadata"].get("labels") or {}).get("kubevirt.io/created-by"):
            return None
        return vmi

    def create_launcher(self, vmi: Dict[str, Any], node: str) -> Dict[str, Any]:
        return self.store.create(PODS, self.launcher_for(vmi, node))

    def launcher_for(self, vmi: Dict[str, Any], node: str) -> Dict[str, Any]:
        """A new launcher pod for ``vmi`` on ``node``, its uid and pod IP already chosen."""
        pod = launcher_pod(vmi, node, launcher_suffix())
        pod["metadata"]["uid"] = new_uid()
        address = pod_ip(pod["metadata"]["name"])
        pod["status"].update(podIP=address, podIPs=[{"ip": address}])
        return pod

    def claim_lookup(self, namespace: str) -> Any:
        return lambda claim: self.store.peek(CLAIMS, claim, namespace)

    @watches(VMIS)
    def on_vmi(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        vmi = new or old
        self.sync_vm_status(vmi["metadata"]["namespace"], vmi["metadata"]["name"])

    def sync_vm_status(self, namespace: str, name: str, unschedulable: bool = False) -> None:
        """virt-controller's VM status: printableStatus, ready, created, runStrategy, conditions."""
        vmi = self.store.peek(VMIS, name, namespace)

        def change(vm: Dict[str, Any]) -> None:
            status = vm.setdefault("status", {})
            status.update(vm_status(vm, vmi, unschedulable))
            status["runStrategy"] = run_strategy(vm)
        self.store.mutate(VMS, name, change, namespace)

    # --- VM → VMI --------------------------------------------------------------------------
    def start_vmi(self, namespace: str, name: str, requested: bool = False) -> None:
        """A VMI for the VM (``requested``: a start request, whatever the run strategy)."""
        vm = self.store.peek(VMS, name, namespace)
        if vm is None or vm["metadata"].get("deletionTimestamp") or not (requested or should_run(vm)):
            return
        if self.store.peek(VMIS, name, namespace) is not None:
            return
        template = dig(vm, "spec", "template") or {}
        spec = clone(template.get("spec") or {})
        hint = dig(template, "metadata", "annotations", NODE_HINT_ANNOTATION)
        node = self.placement.pick_node(launcher_memory({"spec": spec}), hint)
        if node is None:
            self.sync_vm_status(namespace, name, unschedulable=True)
            self.cluster.after(self.step("vm_restart", 0.2), self.start_vmi, namespace, name, requested)
            return
        vmi = new_vmi(vm, spec, node, new_uid())
        pod = self.launcher_for(vmi, node)
        vmi["status"] = running_status(vmi, pod, self.claim_lookup(namespace))
        refresh_migratable(self.store)(vmi)
        self.store.create(VMIS, vmi)
        self.store.create(PODS, pod)
        self.sync_vm_status(namespace, name)

    def stop_vmi(self, namespace: str, name: str) -> None:
        vmi = self.store.peek(VMIS, name, namespace)
        if vmi is None:
            # virt-controller's sync ends in updateStatus for every VM (pkg/virt-controller/watch/vm/vm.go),
            # so a VM created Halted reports printableStatus Stopped too.
            self.sync_vm_status(namespace, name)
            return
        for pod in launchers_of(self.store, vmi):
            delete_quietly(self.store, PODS, pod["metadata"]["name"], namespace)
        self.remove_vmi(namespace, name)

    def remove_vmi(self, namespace: str, name: str) -> None:
        if self.store.peek(VMIS, name, namespace) is None:
            return
        self.store.mutate(VMIS, name, lambda o: o["metadata"].__setitem__("finalizers", []), namespace)
        delete_quietly(self.store, VMIS, name, namespace)
        self.sync_vm_status(namespace, name)

    def create_template_data_volumes(self, vm: Dict[str, Any]) -> None:
        """virt-controller creates each missing ``dataVolumeTemplates`` DataVolume, owned by the VM,
        whether the VM runs or not."""
        namespace = vm["metadata"]["namespace"]
        for template in dig(vm, "spec", "dataVolumeTemplates") or []:
            name = dig(template, "metadata", "name")
            if name and self.store.peek(DATA_VOLUMES, name, namespace) is None:
                self.store.create(DATA_VOLUMES, data_volume_from_template(vm, template))
