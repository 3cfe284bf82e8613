"""Pure KubeVirt rules: what a VM wants, what a VMI and its launcher pod look like, when a VMI can
live-migrate, and virt-api's checks of hot-plug requests.  No store, no cluster: every input is a
plain dict, so each rule is unit-tested alone (tests/simulator/test_kubevirt_controllers_unit.py).
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Dict, List, Optional

from ... import errors
from ...errors import ApiError
from ...quantity import format_bytes, parse_quantity
from ...util import clone, dig, now_rfc3339

VMS = "kubevirt.io/virtualmachines"
VMIS = "kubevirt.io/virtualmachineinstances"
MIGRATIONS = "kubevirt.io/virtualmachineinstancemigrations"
PODS = "pods"
CLAIMS = "persistentvolumeclaims"
DATA_VOLUMES = "cdi.kubevirt.io/datavolumes"
NODE_HINT_ANNOTATION = "clustersim.io/node"
LAUNCHER_OVERHEAD = 256 * 2 ** 20
MIGRATION_PHASES = ["Pending", "Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running", "Succeeded"]
HOTPLUG_PHASES = ["Pending", "Bound", "AttachedToNode", "MountedToPod", "Ready"]
MIGRATION_WEBHOOK = 'admission webhook "migration-create-validator.kubevirt.io" denied the request: '
VM_WEBHOOK = 'admission webhook "virtualmachine-validator.kubevirt.io" denied the request: '

ClaimLookup = Callable[[str], Optional[Dict[str, Any]]]


def should_run(vm: Dict[str, Any]) -> bool:
    spec = vm.get("spec") or {}
    if spec.get("running") is not None:
        return bool(spec["running"])
    return spec.get("runStrategy") in ("Always", "RerunOnFailure")


def claim_of(volume: Dict[str, Any]) -> Optional[str]:
    if volume.get("persistentVolumeClaim"):
        return volume["persistentVolumeClaim"].get("claimName")
    if volume.get("dataVolume"):
        return volume["dataVolume"].get("name")
    return None


def is_hotpluggable(volume: Dict[str, Any]) -> bool:
    return bool((volume.get("persistentVolumeClaim") or volume.get("dataVolume") or {}).get("hotpluggable"))


def memory_of(spec: Dict[str, Any]) -> int:
    domain = spec.get("domain") or {}
    value = dig(domain, "resources", "requests", "memory") or dig(domain, "memory", "guest") or "1Gi"
    return quantity_bytes(value)


def launcher_memory(vmi: Dict[str, Any]) -> int:
    """What the virt-launcher pod requests: the guest memory plus the launcher's overhead."""
    return memory_of(vmi.get("spec") or {}) + LAUNCHER_OVERHEAD


@functools.lru_cache(maxsize=1024, typed=True)  # typed: True must not hit the entry of 1
def quantity_bytes(value: Any) -> int:
    """``int(parse_quantity(value))``, memoised: placement reads the same few strings ("512Gi",
    "2Gi") thousands of times and Fraction arithmetic dominated start-up with many VMs."""
    return int(parse_quantity(value))


def condition_of(obj: Optional[Dict[str, Any]], condition_type: str) -> Dict[str, Any]:
    for entry in dig(obj, "status", "conditions") or []:
        if entry.get("type") == condition_type:
            return entry
    return {}


# --- live migration -------------------------------------------------------------------------

def _unshared_claim(vmi: Dict[str, Any], claim: ClaimLookup) -> Optional[str]:
    for volume in dig(vmi, "spec", "volumes") or []:
        claim_name = claim_of(volume)
        found = claim(claim_name) if claim_name else None
        if found is not None and "ReadWriteMany" not in (dig(found, "spec", "accessModes") or []):
            return claim_name
    return None


def _bridges_pod_network(vmi: Dict[str, Any]) -> bool:
    pod_networks = {n.get("name") for n in dig(vmi, "spec", "networks") or [] if "pod" in n}
    interfaces = dig(vmi, "spec", "domain", "devices", "interfaces") or []
    return any("bridge" in i and i.get("name") in pod_networks for i in interfaces)


def migratability(vmi: Dict[str, Any], claim: ClaimLookup) -> Dict[str, str]:
    """The LiveMigratable condition virt-controller computes (pkg/virt-controller/watch/vmi.go,
    kubevirt/kubevirt v1.6): every claim shared (ReadWriteMany), no bridge on the pod network."""
    unshared = _unshared_claim(vmi, claim)
    if unshared:
        return {"status": "False", "reason": "DisksNotLiveMigratable",
                "message": f"cannot migrate VMI: PVC {unshared} is not shared, live migration requires that "
                           "all PVCs must be shared (using ReadWriteMany access mode)"}
    if _bridges_pod_network(vmi):
        return {"status": "False", "reason": "InterfaceNotLiveMigratable",
                "message": "cannot migrate VMI which does not use masquerade to connect to the pod network"}
    return {"status": "True", "reason": "", "message": ""}


# --- the VMI and its pods -------------------------------------------------------------------

def volume_status_entry(volume: Dict[str, Any], phase: str, hotplug: bool) -> Dict[str, Any]:
    entry: Dict[str, Any] = {"name": volume["name"], "target": "", "phase": phase}
    claim_name = claim_of(volume)
    if claim_name:
        entry["persistentVolumeClaimInfo"] = {"claimName": claim_name}
    if hotplug:
        entry["hotplugVolume"] = {}
    if phase == "Ready":
        entry["reason"] = "VolumeReady"
        entry["message"] = "Volume is ready"
    return entry


def owner_reference(kind: str, obj: Dict[str, Any], api_version: str = "kubevirt.io/v1") -> Dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True}


def new_vmi(vm: Dict[str, Any], spec: Dict[str, Any], node: str, uid: str) -> Dict[str, Any]:
    """The VMI virt-controller creates from a VM's template, already placed on ``node``."""
    template = dig(vm, "spec", "template") or {}
    name, namespace = vm["metadata"]["name"], vm["metadata"]["namespace"]
    return {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
        "metadata": {"name": name, "namespace": namespace, "uid": uid,
                     "labels": dict(dig(template, "metadata", "labels") or {}, **{"kubevirt.io/nodeName": node}),
                     "annotations": dict(dig(template, "metadata", "annotations") or {}),
                     "finalizers": ["kubevirt.io/virtualMachineControllerFinalize"],
                     "ownerReferences": [owner_reference("VirtualMachine", vm)]},
        "spec": spec,
        "status": {"phase": "Running", "nodeName": node, "migrationMethod": "LiveMigration",
                   "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now_rfc3339()}],
                   "volumeStatus": [volume_status_entry(v, "Ready", is_hotpluggable(v)) for v in spec.get("volumes") or []]},
    }


def launcher_pod(vmi: Dict[str, Any], node: str, suffix: str) -> Dict[str, Any]:
    """The virt-launcher pod of ``vmi`` on ``node`` (``suffix`` makes its generated name)."""
    name = vmi["metadata"]["name"]
    volumes: List[Dict[str, Any]] = [{"name": "private", "emptyDir": {}}, {"name": "sockets", "emptyDir": {}}]
    for volume in vmi["spec"].get("volumes") or []:
        claim_name = claim_of(volume)
        if claim_name and not is_hotpluggable(volume):
            volumes.append({"name": volume["name"], "persistentVolumeClaim": {"claimName": claim_name}})
    return {
        "metadata": {
            "name": f"virt-launcher-{name}-{suffix}", "namespace": vmi["metadata"]["namespace"],
            "labels": {"kubevirt.io": "virt-launcher", "kubevirt.io/created-by": vmi["metadata"]["uid"],
                       "vm.kubevirt.io/name": name, "kubevirt.io/domain": name},
            "annotations": {"kubevirt.io/domain": name},
            "ownerReferences": [owner_reference("VirtualMachineInstance", vmi)],
        },
        "spec": {
            "nodeName": node, "restartPolicy": "Never", "volumes": volumes,
            "containers": [{"name": "compute", "image": "registry.redhat.io/container-native-virtualization/virt-launcher",
                            "resources": {"requests": {"memory": format_bytes(launcher_memory(vmi)), "cpu": "100m"}}}],
        },
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}], "startTime": now_rfc3339()},
    }


def is_final_pod(pod: Optional[Dict[str, Any]]) -> bool:
    return dig(pod, "status", "phase") in ("Succeeded", "Failed")


def completed_pod_status(pod: Dict[str, Any]) -> Dict[str, Any]:
    """The status of a launcher pod whose guest left (migration source): phase Succeeded, every
    container terminated with exit code 0, Ready False with reason PodCompleted, as the kubelet
    reports a pod whose containers all exited successfully."""
    stamp = now_rfc3339()
    started = dig(pod, "status", "startTime") or stamp
    containers = [{"name": c.get("name"), "image": c.get("image"), "ready": False, "restartCount": 0, "started": False,
                   "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": stamp}}}
                  for c in dig(pod, "spec", "containers") or []]
    return {"phase": "Succeeded", "startTime": started, "containerStatuses": containers,
            "conditions": [{"type": "Ready", "status": "False", "reason": "PodCompleted", "lastTransitionTime": stamp},
                           {"type": "ContainersReady", "status": "False", "reason": "PodCompleted", "lastTransitionTime": stamp}]}


def data_volume_from_template(vm: Dict[str, Any], template: Dict[str, Any]) -> Dict[str, Any]:
    """A ``dataVolumeTemplates`` entry as the DataVolume virt-controller creates, owned by the VM."""
    metadata = clone(template.get("metadata") or {})
    metadata.update(namespace=vm["metadata"]["namespace"], ownerReferences=[owner_reference("VirtualMachine", vm)])
    metadata["labels"] = dict(metadata.get("labels") or {}, **{"kubevirt.io/created-by": vm["metadata"]["uid"]})
    return {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": metadata,
            "spec": clone(template.get("spec") or {})}


# --- hot-plug requests (virt-api, pkg/virt-api/rest/subresource.go, kubevirt/kubevirt v1.6) --

def check_add_volume_options(options: Dict[str, Any]) -> None:
    """``addVolumeRequestHandler``'s 400s, in its order."""
    name = options.get("name")
    if not name:
        raise errors.bad_request("AddVolumeOptions requires name to be set")
    if options.get("disk") is None:
        raise errors.bad_request("AddVolumeOptions requires disk to not be nil")
    if options.get("volumeSource") is None:
        raise errors.bad_request("AddVolumeOptions requires VolumeSource to not be nil")
    source = options.get("volumeSource") or {}
    if not (source.get("persistentVolumeClaim") or source.get("dataVolume")):
        raise errors.bad_request(f"AddVolumeOptions requires a persistentVolumeClaim or dataVolume volumeSource for [{name}]")


def validate_disk(options: Dict[str, Any]) -> None:
    """The VM admission webhook's hot-plug disk rules (422)."""
    name = options.get("name") or ""
    disk = options.get("disk")
    prefix = f"{VM_WEBHOOK}AddVolume request"
    if not disk:
        raise ApiError(422, "Invalid", f"{prefix} for [{name}] requires the disk field to be set.")
    if disk.get("disk") is not None:
        bus = (disk.get("disk") or {}).get("bus") or "scsi"
        if bus not in ("scsi", "virtio"):
            raise ApiError(422, "Invalid", f"{prefix} for disk [{name}] requires bus to be 'scsi' or "
                                           f"'virtio'. [{bus}] is not permitted.")
        return
    if disk.get("lun") is None:
        raise ApiError(422, "Invalid", f"{prefix} for [{name}] requires diskDevice of type 'disk' or 'lun' to be used.")
    bus = (disk.get("lun") or {}).get("bus") or "scsi"
    if bus != "scsi":
        raise ApiError(422, "Invalid", f"{prefix} for LUN [{name}] requires bus to be 'scsi'. [{bus}] is not permitted.")


def volume_source_name(source: Dict[str, Any]) -> str:
    if source.get("dataVolume") is not None:
        return (source.get("dataVolume") or {}).get("name") or ""
    if source.get("persistentVolumeClaim") is not None:
        return (source.get("persistentVolumeClaim") or {}).get("claimName") or ""
    return ""


def _volume_conflict(vm_name: str, message: str) -> ApiError:
    return errors.conflict("virtualmachine", vm_name, "kubevirt.io", message)


def verify_add_volume(vm_name: str, volumes: List[Dict[str, Any]], add: Dict[str, Any]) -> None:
    """``verifyVolumeOption`` for an addition: name and source must be new (409 on the VM)."""
    source_name = volume_source_name(add.get("volumeSource") or {})
    for volume in volumes:
        if volume.get("name") == add.get("name"):
            raise _volume_conflict(vm_name, f"Unable to add volume [{add.get('name')}] because volume with that name already exists")
        if source_name and volume_source_name(volume) == source_name:
            raise _volume_conflict(vm_name, f"Unable to add volume source [{source_name}] because it already exists")


def verify_remove_volume(vm_name: str, volumes: List[Dict[str, Any]], remove: str) -> Dict[str, Any]:
    """``verifyVolumeOption`` for a removal: the volume (found by name or source) that goes."""
    for volume in volumes:
        if remove in (volume.get("name"), volume_source_name(volume)):
            if not is_hotpluggable(volume):
                raise _volume_conflict(vm_name, f"Unable to remove volume [{volume.get('name')}] because it is not hotpluggable")
            return volume
    raise _volume_conflict(vm_name, f"Unable to remove volume [{remove}] because it does not exist")


def hotplug_volume(options: Dict[str, Any]) -> Dict[str, Any]:
    """The template volume an accepted addvolume request persists (marked hotpluggable)."""
    volume = {"name": options["name"]}
    for kind, source in (options.get("volumeSource") or {}).items():
        volume[kind] = clone(source or {})
        if kind in ("persistentVolumeClaim", "dataVolume"):
            volume[kind]["hotpluggable"] = True
    return volume


def hotplug_disk(options: Dict[str, Any]) -> Dict[str, Any]:
    return dict(clone(options["disk"]), name=options["name"])


def next_hotplug_phase(phase: Optional[str]) -> Optional[str]:
    """The phase after ``phase`` on the way to Ready (None when there is none)."""
    if phase not in HOTPLUG_PHASES[:-1]:
        return None
    return HOTPLUG_PHASES[HOTPLUG_PHASES.index(phase) + 1]


def guest_memory_gib(vmi: Dict[str, Any]) -> float:
    return memory_of(vmi.get("spec") or {}) / 2 ** 30


def next_migration_phase(phase: Optional[str]) -> Optional[str]:
    if phase not in MIGRATION_PHASES[:-1]:
        return None
    return MIGRATION_PHASES[MIGRATION_PHASES.index(phase) + 1]
