"""What virt-handler and virt-controller report in a running VMI's status and its VM's status.

Field names and values follow kubevirt/kubevirt v1.6: ``staging/src/kubevirt.io/api/core/v1/types.go``
(VirtualMachineInstanceStatus, VirtualMachineInstanceNetworkInterface, GuestOSInfo,
PersistentVolumeClaimInfo), ``pkg/virt-handler/vm.go`` (interfaces, guest agent, Paused),
``pkg/virt-controller/watch/vm/vm.go`` (``syncReadyConditionFromVMI``, ``syncConditions``,
printable status).  Pure functions of plain dicts.

The simulated guest runs a guest agent (the seeded VMs come from the RHEL 9 template, which
installs qemu-guest-agent) unless the VMI is annotated ``clustersim.io/guest-agent: "false"``;
with an agent the VMI has AgentConnected, ``guestOSInfo`` and the guest's interface names.
"""
from __future__ import annotations

import hashlib
from typing import Any, Callable, Dict, List, Optional

from ...util import dig, now_rfc3339
from .model import claim_of, is_hotpluggable

GUEST_AGENT_ANNOTATION = "clustersim.io/guest-agent"
LAUNCHER_IMAGE_VERSION = "registry.redhat.io/container-native-virtualization/virt-launcher-rhel9@sha256:" + "0" * 64
RHEL_9_GUEST = {"id": "rhel", "name": "Red Hat Enterprise Linux", "prettyName": "Red Hat Enterprise Linux 9.6 (Plow)",
                "version": "9.6", "versionId": "9.6", "kernelRelease": "5.14.0-570.12.1.el9_6.x86_64",
                "kernelVersion": "#1 SMP PREEMPT_DYNAMIC Tue Apr 22 05:16:45 EDT 2025", "machine": "x86_64"}
VM_CONDITIONS_NOT_COPIED = ("Ready", "Failure", "RestartRequired")


def has_guest_agent(vmi: Dict[str, Any]) -> bool:
    return (vmi["metadata"].get("annotations") or {}).get(GUEST_AGENT_ANNOTATION) != "false"


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("/".join(parts).encode()).digest()


def pod_ip(pod_name: str) -> str:
    """A stable address in OpenShift's default cluster network (10.128.0.0/14) for a pod."""
    d = _digest("ip", pod_name)
    return f"10.{128 + d[0] % 4}.{d[1]}.{2 + d[2] % 250}"


def mac_address(vmi_uid: str, interface: str) -> str:
    d = _digest("mac", vmi_uid, interface)
    return "02:" + ":".join(f"{b:02x}" for b in d[:5])  # locally administered, as KubeVirt's pool uses


def interfaces(vmi: Dict[str, Any], launcher_ip: str) -> List[Dict[str, Any]]:
    """``status.interfaces``: one entry per spec interface; the pod network's carries the pod IP."""
    agent = has_guest_agent(vmi)
    pod_networks = {n.get("name") for n in dig(vmi, "spec", "networks") or [] if "pod" in n}
    result = []
    for index, interface in enumerate(dig(vmi, "spec", "domain", "devices", "interfaces") or []):
        name = interface.get("name")
        entry: Dict[str, Any] = {"name": name, "mac": interface.get("macAddress") or mac_address(vmi["metadata"]["uid"], name),
                                 "podInterfaceName": "eth0" if name in pod_networks else f"pod{index}",
                                 "infoSource": "domain, guest-agent" if agent else "domain", "queueCount": 1,
                                 "linkState": "up"}
        if name in pod_networks:
            entry.update(ipAddress=launcher_ip, ipAddresses=[launcher_ip])
        if agent:
            entry["interfaceName"] = f"enp{index + 1}s0"
        result.append(entry)
    return result


def disk_targets(vmi: Dict[str, Any]) -> Dict[str, str]:
    """Guest device names by disk: virtio disks vda, vdb, ...; scsi/sata disks and LUNs sda, ..."""
    counters = {"vd": 0, "sd": 0}
    targets = {}
    for disk in dig(vmi, "spec", "domain", "devices", "disks") or []:
        bus = (disk.get("disk") or disk.get("lun") or disk.get("cdrom") or {}).get("bus") or "virtio"
        prefix = "vd" if bus == "virtio" and "lun" not in disk else "sd"
        targets[disk.get("name")] = prefix + chr(ord("a") + counters[prefix])
        counters[prefix] += 1
    return targets


def claim_info(claim_name: str, claim: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    info: Dict[str, Any] = {"claimName": claim_name}
    if claim is not None:
        info.update(accessModes=dig(claim, "spec", "accessModes") or [], volumeMode=dig(claim, "spec", "volumeMode") or "Filesystem",
                    capacity=dig(claim, "status", "capacity") or {}, requests=dig(claim, "spec", "resources", "requests") or {})
        if info["volumeMode"] == "Filesystem":
            info["filesystemOverhead"] = "0.06"  # CDI's default global filesystem overhead
    return info


def boot_volume_status(vmi: Dict[str, Any], claim: Callable[[str], Optional[Dict[str, Any]]]) -> List[Dict[str, Any]]:
    """``status.volumeStatus`` of the volumes the VMI starts with (hot-plugged ones walk their own phases)."""
    targets = disk_targets(vmi)
    result = []
    for volume in dig(vmi, "spec", "volumes") or []:
        entry: Dict[str, Any] = {"name": volume["name"], "target": targets.get(volume["name"], "")}
        claim_name = claim_of(volume)
        if claim_name:
            entry["persistentVolumeClaimInfo"] = claim_info(claim_name, claim(claim_name))
        if is_hotpluggable(volume):
            entry.update(hotplugVolume={}, phase="Ready", reason="VolumeReady", message="Volume is ready")
        result.append(entry)
    return result


def running_status(vmi: Dict[str, Any], pod: Dict[str, Any], claim: Callable[[str], Optional[Dict[str, Any]]]) -> Dict[str, Any]:
    """The status fields virt-handler reports once the domain runs in ``pod``."""
    spec = vmi.get("spec") or {}
    cpu = dig(spec, "domain", "cpu") or {}
    guest = dig(spec, "domain", "memory", "guest") or dig(spec, "domain", "resources", "requests", "memory")
    stamp = now_rfc3339()
    status: Dict[str, Any] = {
        "phase": "Running", "nodeName": pod["spec"]["nodeName"], "qosClass": "Burstable",
        "launcherContainerImageVersion": LAUNCHER_IMAGE_VERSION, "migrationMethod": "LiveMigration",
        "migrationTransport": "Unix", "runtimeUser": 107, "guestOSInfo": {},
        "activePods": {pod["metadata"]["uid"]: pod["spec"]["nodeName"]},
        "currentCPUTopology": {"cores": cpu.get("cores", 1), "sockets": cpu.get("sockets", 1), "threads": cpu.get("threads", 1)},
        "interfaces": interfaces(vmi, dig(pod, "status", "podIP") or ""),
        "volumeStatus": boot_volume_status(vmi, claim),
        "phaseTransitionTimestamps": [{"phase": phase, "phaseTransitionTimestamp": stamp}
                                      for phase in ("Pending", "Scheduling", "Scheduled", "Running")],
        "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": None, "lastTransitionTime": stamp}],
    }
    if guest:
        status["memory"] = {"guestAtBoot": guest, "guestCurrent": guest, "guestRequested": guest}
    if dig(spec, "domain", "machine", "type"):
        status["machine"] = {"type": spec["domain"]["machine"]["type"]}
    if has_guest_agent(vmi):
        status["guestOSInfo"] = dict(RHEL_9_GUEST)
        status["conditions"].append({"type": "AgentConnected", "status": "True", "lastProbeTime": None,
                                     "lastTransitionTime": stamp})
    return status


# --- the VM's status (virt-controller) ------------------------------------------------------

def printable_status(vm: Dict[str, Any], vmi: Optional[Dict[str, Any]], unschedulable: bool = False) -> str:
    if vmi is None:
        return "ErrorUnschedulable" if unschedulable else "Stopped"
    if vmi["metadata"].get("deletionTimestamp"):
        return "Stopping"
    if any(c.get("type") == "Paused" and c.get("status") == "True" for c in dig(vmi, "status", "conditions") or []):
        return "Paused"
    state = dig(vmi, "status", "migrationState") or {}
    if state.get("startTimestamp") and not state.get("completed"):
        return "Migrating"
    return "Running" if dig(vmi, "status", "phase") == "Running" else "Starting"


def vm_conditions(current: List[Dict[str, Any]], vmi: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """``syncConditions``: Ready from the VMI's Ready (False/VMINotExists without a VMI), every other
    VMI condition copied, VM conditions the VMI no longer has removed (Failure, RestartRequired kept)."""
    kept = {c.get("type"): c for c in current if c.get("type") in ("Failure", "RestartRequired")}
    previous = {c.get("type"): c for c in current}
    if vmi is None:
        ready = {"type": "Ready", "status": "False", "reason": "VMINotExists", "message": "VMI does not exist"}
        old = previous.get("Ready") or {}
        ready["lastProbeTime"] = None
        ready["lastTransitionTime"] = old.get("lastTransitionTime") if old.get("status") == "False" else now_rfc3339()
        result = [ready]
    else:
        copied = {c.get("type"): dict(c) for c in dig(vmi, "status", "conditions") or []
                  if c.get("type") not in VM_CONDITIONS_NOT_COPIED[1:]}
        ready = copied.pop("Ready", None) or {"type": "Ready", "status": "False", "reason": "VMIConditionMissing",
                                               "message": "VMI is missing the Ready condition"}
        result = [ready] + list(copied.values())
    return result + list(kept.values())


def vm_status(vm: Dict[str, Any], vmi: Optional[Dict[str, Any]], unschedulable: bool = False) -> Dict[str, Any]:
    printable = printable_status(vm, vmi, unschedulable)
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in dig(vmi, "status", "conditions") or [])
    return {"printableStatus": printable, "ready": bool(vmi is not None and ready),
            "created": vmi is not None, "conditions": vm_conditions(dig(vm, "status", "conditions") or [], vmi)}
