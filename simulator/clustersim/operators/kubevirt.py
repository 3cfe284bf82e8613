"""KubeVirt: VMs get VMIs and virt-launcher pods; live migration, eviction and volume hot-plug.

* VM controller: a VM meant to run (``spec.running: true`` or ``runStrategy`` Always /
  RerunOnFailure) gets a VMI on a schedulable worker (the template annotation
  ``clustersim.io/node`` when that node can take it) with a virt-launcher pod (labels
  ``kubevirt.io=virt-launcher`` and ``kubevirt.io/created-by=<vmi uid>``, annotation
  ``kubevirt.io/domain``, an emptyDir, the VM's memory request plus overhead).  A stopped VM loses
  its VMI.  Missing DataVolumes of ``spec.dataVolumeTemplates`` are created, owned by the VM (the
  VMI does not wait for them to be populated).  When a VMI disappears (its launcher pod was
  evicted or deleted) a running VM starts a new one after ``vm_restart``.
* VMI status: phase Running, ``nodeName``, ``volumeStatus``, conditions Ready and LiveMigratable
  (False with ``DisksNotLiveMigratable`` for a claim that is not ReadWriteMany,
  ``InterfaceNotLiveMigratable`` for bridge binding on the pod network), as virt-controller does.
* ``VirtualMachineInstanceMigration``: creation refused for a VMI that is not running or not
  live-migratable, or that already migrates; then Pending → Scheduling → Scheduled →
  PreparingTarget → TargetReady → Running → Succeeded, one step every ``migration_step`` seconds,
  moving the VMI and its launcher pod to another schedulable worker.  The operator fault
  ``migration-fail`` (target ``<namespace>/<vmi>``) makes the next migration of that VMI Failed.
* Eviction of a virt-launcher pod, like KubeVirt's ``virt-launcher-eviction-interceptor`` webhook:
  with evictionStrategy LiveMigrate / LiveMigrateIfPossible / External (the VMI's, else the
  cluster-wide one from the KubeVirt CR ``spec.configuration.evictionStrategy`` or the
  HyperConverged ``spec.evictionStrategy``) and a migratable VMI: 429 "Eviction triggered
  evacuation of VMI" and an evacuation migration; LiveMigrate on a non-migratable VMI: 429 and the
  VMI stays (a drain blocks); otherwise the pod is deleted and the VMI shuts down.
* ``subresources.kubevirt.io/v1`` ``virtualmachines/addvolume`` and ``removevolume`` (PUT, 202):
  the volume and disk are persisted in the VM template with ``hotpluggable: true``; on a running VM
  the VMI gets them too and ``status.volumeStatus[].phase`` walks Pending → Bound → AttachedToNode
  (a ``hp-volume-`` attachment pod) → MountedToPod → Ready, one step every ``hotplug_step``
  seconds; a DataVolume is attached once it is Succeeded, and one in WaitForFirstConsumer gets its
  claim bound on the VMI's node first (virt-controller's trigger pod); removal walks Detaching and
  then drops the entry.  Only ``scsi``/``virtio`` disks
  and LUNs on ``scsi`` are accepted, with KubeVirt's message (422).  A missing ``name``, ``disk`` or
  ``volumeSource`` is virt-api's 400; ``verifyVolumeOption`` refusals — a volume name or a volume
  source (claim / DataVolume name) the VM already uses, removing a volume that does not exist or
  is not hotpluggable — are its 409 Conflict on ``virtualmachine.kubevirt.io``.
  ``dryRun: ["All"]`` in the options validates without changing anything.
"""
from __future__ import annotations

import functools
import secrets
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from .. import errors
from ..errors import ApiError
from ..quantity import QuantityError, format_bytes, parse_quantity
from ..util import clone, dig, new_uid, now_rfc3339, set_condition
from .storage import bind_for_consumer

if TYPE_CHECKING:  # pragma: no cover
    from ..cluster import Cluster, SubresourceRequest

VMS = "kubevirt.io/virtualmachines"
VMIS = "kubevirt.io/virtualmachineinstances"
MIGRATIONS = "kubevirt.io/virtualmachineinstancemigrations"
PODS = "pods"
DATA_VOLUMES = "cdi.kubevirt.io/datavolumes"
NODE_HINT_ANNOTATION = "clustersim.io/node"
LAUNCHER_OVERHEAD = 256 * 2 ** 20
MIGRATION_PHASES = ["Pending", "Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running", "Succeeded"]
HOTPLUG_PHASES = ["Pending", "Bound", "AttachedToNode", "MountedToPod", "Ready"]
MIGRATING_STRATEGIES = ("LiveMigrate", "LiveMigrateIfPossible", "External")
EVICTION_WEBHOOK = 'admission webhook "virt-launcher-eviction-interceptor.kubevirt.io" denied the request: '
MIGRATION_WEBHOOK = 'admission webhook "migration-create-validator.kubevirt.io" denied the request: '
VM_WEBHOOK = 'admission webhook "virtualmachine-validator.kubevirt.io" denied the request: '


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


def memory_of(spec: Dict[str, Any]) -> int:
    domain = spec.get("domain") or {}
    value = dig(domain, "resources", "requests", "memory") or dig(domain, "memory", "guest") or "1Gi"
    return quantity_bytes(value)


@functools.lru_cache(maxsize=1024, typed=True)  # typed: True must not hit the entry of 1
def quantity_bytes(value: Any) -> int:
    """``int(parse_quantity(value))``, memoised: placement reads the same few strings ("512Gi",
    "2Gi") thousands of times and Fraction arithmetic dominated start-up with many VMs."""
    return int(parse_quantity(value))


def setup(cluster: "Cluster") -> None:
    store = cluster.store

    def step(name: str, default: float) -> float:
        return cluster.duration(name, default)

    # --- placement -----------------------------------------------------------------------
    # Derived from the nodes only; rebuilt when a node changed (placement of thousands of VMs
    # must not re-read every node per VM).
    workers_cache: Dict[str, Any] = {"at": -1, "workers": []}

    def schedulable_workers() -> List[Tuple[str, int]]:
        """(name, allocatable memory) of the nodes KubeVirt may place VMIs on, sorted by name."""
        at = store.last_change("nodes")
        if workers_cache["at"] == at:
            return workers_cache["workers"]
        nodes = []
        for node in store.list("nodes", copy=False):
            labels = node["metadata"].get("labels") or {}
            if dig(node, "spec", "unschedulable"):
                continue
            if labels.get("kubevirt.io/schedulable") != "true":
                continue
            ready = [c for c in dig(node, "status", "conditions") or [] if c.get("type") == "Ready"]
            if ready and ready[0].get("status") != "True":
                continue
            nodes.append((node["metadata"]["name"], quantity_bytes(dig(node, "status", "allocatable", "memory") or "0")))
        workers_cache.update(at=at, workers=nodes)
        return nodes

    def pod_memory(pod: Dict[str, Any]) -> List[Tuple[str, int]]:
        """[(node, memory requested)] of a pod that holds memory on its node, for the tally below."""
        node_name = dig(pod, "spec", "nodeName")
        if not node_name or not isinstance(node_name, str) or dig(pod, "status", "phase") in ("Succeeded", "Failed"):
            return []
        total = 0
        for container in dig(pod, "spec", "containers") or []:
            value = dig(container, "resources", "requests", "memory")
            if value:
                try:
                    total += quantity_bytes(value)
                except (QuantityError, TypeError):  # runs inside every pod commit: must not raise
                    continue
        return [(node_name, total)] if total else []

    # Memory requested per node, kept up to date by the store on every pod commit: placing 5,000
    # VMs must not rescan every pod of every node for each VM (that was O(VMs x pods)).
    store.add_tally(PODS, "kubevirt-memory", pod_memory)

    def pick_node(need: int, hint: Optional[str] = None, exclude: Optional[str] = None) -> Optional[str]:
        candidates = []
        used = store.tally(PODS, "kubevirt-memory")
        for name, allocatable in schedulable_workers():
            if name == exclude:
                continue
            free = allocatable - used.get(name, 0)
            if free >= need:
                candidates.append((name != hint, -free, name))
        return min(candidates)[2] if candidates else None

    # --- VMI status ----------------------------------------------------------------------
    def cluster_eviction_strategy() -> Optional[str]:
        for kv in store.list("kubevirt.io/kubevirts", copy=False):
            strategy = dig(kv, "spec", "configuration", "evictionStrategy")
            if strategy:
                return strategy
        for hco in store.list("hco.kubevirt.io/hyperconvergeds", copy=False):
            strategy = dig(hco, "spec", "evictionStrategy")
            if strategy:
                return strategy
        return None

    def migratability(vmi: Dict[str, Any]) -> Dict[str, str]:
        namespace = vmi["metadata"]["namespace"]
        for volume in dig(vmi, "spec", "volumes") or []:
            claim_name = claim_of(volume)
            if not claim_name:
                continue
            claim = store.peek("persistentvolumeclaims", claim_name, namespace)
            modes = dig(claim, "spec", "accessModes") or []
            if claim is not None and "ReadWriteMany" not in modes:
                return {"status": "False", "reason": "DisksNotLiveMigratable",
                        "message": f"cannot migrate VMI: PVC {claim_name} is not shared, live migration requires that "
                                   "all PVCs must be shared (using ReadWriteMany access mode)"}
        pod_networks = {n.get("name") for n in dig(vmi, "spec", "networks") or [] if "pod" in n}
        for interface in dig(vmi, "spec", "domain", "devices", "interfaces") or []:
            if "bridge" in interface and interface.get("name") in pod_networks:
                return {"status": "False", "reason": "InterfaceNotLiveMigratable",
                        "message": "cannot migrate VMI which does not use masquerade to connect to the pod network"}
        return {"status": "True", "reason": "", "message": ""}

    def refresh_migratable(vmi: Dict[str, Any]) -> None:
        state = migratability(vmi)
        set_condition(vmi.setdefault("status", {}).setdefault("conditions", []), "LiveMigratable",
                      state["status"], state["reason"], state["message"])

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

    # --- VM → VMI ------------------------------------------------------------------------
    def launcher_pod(vmi: Dict[str, Any], node: str) -> Dict[str, Any]:
        name = vmi["metadata"]["name"]
        need = memory_of(vmi["spec"]) + LAUNCHER_OVERHEAD
        volumes: List[Dict[str, Any]] = [{"name": "private", "emptyDir": {}}, {"name": "sockets", "emptyDir": {}}]
        for volume in vmi["spec"].get("volumes") or []:
            claim_name = claim_of(volume)
            if claim_name and not (volume.get("persistentVolumeClaim") or volume.get("dataVolume") or {}).get("hotpluggable"):
                volumes.append({"name": volume["name"], "persistentVolumeClaim": {"claimName": claim_name}})
        return {
            "metadata": {
                "name": f"virt-launcher-{name}-{secrets.token_hex(3)[:5]}", "namespace": vmi["metadata"]["namespace"],
                "labels": {"kubevirt.io": "virt-launcher", "kubevirt.io/created-by": vmi["metadata"]["uid"],
                           "vm.kubevirt.io/name": name, "kubevirt.io/domain": name},
                "annotations": {"kubevirt.io/domain": name},
                "ownerReferences": [{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "name": name,
                                     "uid": vmi["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}],
            },
            "spec": {
                "nodeName": node, "restartPolicy": "Never", "volumes": volumes,
                "containers": [{"name": "compute", "image": "registry.redhat.io/container-native-virtualization/virt-launcher",
                                "resources": {"requests": {"memory": format_bytes(need), "cpu": "100m"}}}],
            },
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}], "startTime": now_rfc3339()},
        }

    def start_vmi(namespace: str, name: str) -> None:
        vm = store.peek(VMS, name, namespace)
        if vm is None or vm["metadata"].get("deletionTimestamp") or not should_run(vm):
            return
        if store.peek(VMIS, name, namespace) is not None:
            return
        template = dig(vm, "spec", "template") or {}
        spec = clone(template.get("spec") or {})
        hint = dig(template, "metadata", "annotations", NODE_HINT_ANNOTATION)
        node = pick_node(memory_of(spec) + LAUNCHER_OVERHEAD, hint)
        if node is None:
            set_vm_status(namespace, name, "ErrorUnschedulable", False)
            cluster.after(step("vm_restart", 0.2), start_vmi, namespace, name)
            return
        uid = new_uid()
        vmi = {
            "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
            "metadata": {"name": name, "namespace": namespace, "uid": uid,
                         "labels": dict(dig(template, "metadata", "labels") or {}, **{"kubevirt.io/nodeName": node}),
                         "annotations": dict(dig(template, "metadata", "annotations") or {}),
                         "finalizers": ["kubevirt.io/virtualMachineControllerFinalize"],
                         "ownerReferences": [{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "name": name,
                                              "uid": vm["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]},
            "spec": spec,
            "status": {"phase": "Running", "nodeName": node, "migrationMethod": "LiveMigration",
                       "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now_rfc3339()}],
                       "volumeStatus": [volume_status_entry(v, "Ready", bool((v.get("persistentVolumeClaim") or v.get("dataVolume") or {}).get("hotpluggable")))
                                        for v in spec.get("volumes") or []]},
        }
        refresh_migratable(vmi)
        store.create(VMIS, vmi)
        store.create(PODS, launcher_pod(vmi, node))
        set_vm_status(namespace, name, "Running", True)

    def set_vm_status(namespace: str, name: str, printable: str, ready: bool) -> None:
        def change(vm: Dict[str, Any]) -> None:
            status = vm.setdefault("status", {})
            status["printableStatus"] = printable
            status["ready"] = ready
            status["created"] = printable == "Running"
        store.mutate(VMS, name, change, namespace)

    def stop_vmi(namespace: str, name: str) -> None:
        vmi = store.peek(VMIS, name, namespace)
        if vmi is None:
            return
        for pod in launchers_of(vmi):
            delete_quietly(PODS, pod["metadata"]["name"], namespace)
        remove_vmi(namespace, name)
        set_vm_status(namespace, name, "Stopped", False)

    def remove_vmi(namespace: str, name: str) -> None:
        if store.peek(VMIS, name, namespace) is None:
            return
        store.mutate(VMIS, name, lambda o: o["metadata"].__setitem__("finalizers", []), namespace)
        delete_quietly(VMIS, name, namespace)

    def delete_quietly(key: str, name: str, namespace: str) -> None:
        try:
            store.delete(key, name, namespace)
        except ApiError:
            pass

    def launchers_of(vmi: Dict[str, Any]) -> List[Dict[str, Any]]:
        # Equality label selectors use the store's label index (no scan of every pod in "vms").
        return store.list(PODS, vmi["metadata"]["namespace"], copy=False,
                          label_selector=f"kubevirt.io/created-by={vmi['metadata']['uid']},kubevirt.io=virt-launcher")

    def create_template_data_volumes(vm: Dict[str, Any]) -> None:
        """virt-controller creates each missing ``dataVolumeTemplates`` DataVolume, owned by the VM,
        whether the VM runs or not."""
        namespace = vm["metadata"]["namespace"]
        for template in dig(vm, "spec", "dataVolumeTemplates") or []:
            name = dig(template, "metadata", "name")
            if not name or store.peek(DATA_VOLUMES, name, namespace) is not None:
                continue
            metadata = clone(template.get("metadata") or {})
            metadata.update(namespace=namespace, ownerReferences=[{
                "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "name": vm["metadata"]["name"],
                "uid": vm["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}])
            metadata.setdefault("labels", {})["kubevirt.io/created-by"] = vm["metadata"]["uid"]
            store.create(DATA_VOLUMES, {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
                                        "metadata": metadata, "spec": clone(template.get("spec") or {})})

    def on_vm(event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        vm = new or old
        namespace, name = vm["metadata"]["namespace"], vm["metadata"]["name"]
        if event == "DELETED" or (new and new["metadata"].get("deletionTimestamp")):
            stop_vmi(namespace, name)
            if new is not None and new["metadata"].get("finalizers"):
                store.mutate(VMS, name, lambda o: o["metadata"].__setitem__("finalizers", []), namespace)
            return
        create_template_data_volumes(new)
        if should_run(new):
            if store.peek(VMIS, name, namespace) is None:
                cluster.after(step("vm_start", 0.02), start_vmi, namespace, name)
        else:
            cluster.after(step("vm_stop", 0.02), stop_vmi, namespace, name)

    def on_pod(event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if event != "DELETED":
            return
        labels = old["metadata"].get("labels") or {}
        if labels.get("kubevirt.io") != "virt-launcher":
            return
        namespace = old["metadata"]["namespace"]
        name = (old["metadata"].get("annotations") or {}).get("kubevirt.io/domain")
        vmi = store.peek(VMIS, name, namespace) if name else None
        if vmi is None or vmi["metadata"]["uid"] != labels.get("kubevirt.io/created-by"):
            return
        if dig(vmi, "status", "nodeName") != dig(old, "spec", "nodeName"):
            return  # a migration source or target pod went away; the VMI lives elsewhere
        # The VMI's own launcher pod is gone: the guest is shut down.
        remove_vmi(namespace, name)
        set_vm_status(namespace, name, "Stopped", False)
        vm = store.peek(VMS, name, namespace)
        if vm is not None and should_run(vm):
            cluster.after(step("vm_restart", 0.1), start_vmi, namespace, name)

    # --- migrations ----------------------------------------------------------------------
    def in_flight(namespace: str, vmi_name: str, exclude: str = "") -> Optional[str]:
        for migration in store.list(MIGRATIONS, namespace, copy=False):
            if migration["metadata"]["name"] == exclude or dig(migration, "spec", "vmiName") != vmi_name:
                continue
            if dig(migration, "status", "phase") not in ("Succeeded", "Failed"):
                return migration["metadata"]["name"]
        return None

    def admit_migration(req: Any) -> None:
        if req.operation != "CREATE":
            return
        vmi_name = dig(req.obj, "spec", "vmiName")
        vmi = store.peek(VMIS, vmi_name, req.namespace) if vmi_name else None
        if vmi is None:
            raise errors.invalid("VirtualMachineInstanceMigration", req.name or "", [
                errors.invalid_field("spec.vmiName", vmi_name, f"the VMI \"{req.namespace}/{vmi_name}\" does not exist")],
                group="kubevirt.io")
        cond = [c for c in dig(vmi, "status", "conditions") or [] if c.get("type") == "LiveMigratable"]
        if not cond or cond[0].get("status") != "True":
            reason = cond[0].get("reason", "") if cond else ""
            message = cond[0].get("message", "") if cond else ""
            raise ApiError(422, "Invalid", f"{MIGRATION_WEBHOOK}Cannot migrate VMI, Reason: {reason}, Message: {message}")
        active = in_flight(req.namespace, vmi_name)
        if active:
            raise ApiError(422, "Invalid", f"{MIGRATION_WEBHOOK}in-flight migration detected. Active migration job "
                                           f"({active}) is currently already in progress for VMI {vmi_name}.")

    def on_migration(event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if event == "ADDED" and new is not None and not dig(new, "status", "phase"):
            namespace, name = new["metadata"]["namespace"], new["metadata"]["name"]
            set_migration(namespace, name, "Pending")
            cluster.after(step("migration_step", 0.03), advance_migration, namespace, name)

    def set_migration(namespace: str, name: str, phase: str, **extra: Any) -> None:
        def change(migration: Dict[str, Any]) -> None:
            status = migration.setdefault("status", {})
            status["phase"] = phase
            transitions = status.setdefault("phaseTransitionTimestamps", [])
            transitions.append({"phase": phase, "phaseTransitionTimestamp": now_rfc3339()})
            status.update(extra)
        store.mutate(MIGRATIONS, name, change, namespace)

    def fail_migration(namespace: str, name: str, vmi: Optional[Dict[str, Any]], reason: str) -> None:
        migration = store.peek(MIGRATIONS, name, namespace)
        target_pod = dig(migration, "status", "migrationState", "targetPod")
        if target_pod:
            delete_quietly(PODS, target_pod, namespace)
        set_migration(namespace, name, "Failed")
        if vmi is not None:
            def mark(o: Dict[str, Any]) -> None:
                state = o.setdefault("status", {}).setdefault("migrationState", {})
                state.update({"failed": True, "completed": True, "endTimestamp": now_rfc3339(), "failureReason": reason})
            store.mutate(VMIS, vmi["metadata"]["name"], mark, namespace)
            if dig(vmi, "status", "evacuationNodeName"):
                cluster.after(step("evacuation_retry", 0.2), evacuate, namespace, vmi["metadata"]["name"])

    def advance_migration(namespace: str, name: str) -> None:
        migration = store.peek(MIGRATIONS, name, namespace)
        if migration is None:
            return
        phase = dig(migration, "status", "phase")
        if phase in ("Succeeded", "Failed"):
            return
        vmi_name = dig(migration, "spec", "vmiName")
        vmi = store.peek(VMIS, vmi_name, namespace)
        if vmi is None:
            set_migration(namespace, name, "Failed")
            return
        following = MIGRATION_PHASES[MIGRATION_PHASES.index(phase) + 1]
        source = dig(vmi, "status", "nodeName")
        if following == "Scheduling":
            target = pick_node(memory_of(vmi["spec"]) + LAUNCHER_OVERHEAD, exclude=source)
            if target is None:
                fail_migration(namespace, name, vmi, "no schedulable node can take the target pod")
                return
            pod = launcher_pod(vmi, target)
            store.create(PODS, pod)
            set_migration(namespace, name, following, migrationState={
                "sourceNode": source, "targetNode": target, "targetPod": pod["metadata"]["name"],
                "migrationUid": migration["metadata"]["uid"]})
        elif following == "Running":
            if cluster.faults.take("migration-fail", f"{namespace}/{vmi_name}") is not None:
                fail_migration(namespace, name, vmi, "Live migration failed: simulated operator fault")
                return
            state = dict(dig(migration, "status", "migrationState") or {})

            def running(o: Dict[str, Any]) -> None:
                o.setdefault("status", {})["migrationState"] = {
                    "sourceNode": state.get("sourceNode"), "targetNode": state.get("targetNode"),
                    "targetPod": state.get("targetPod"), "migrationUid": state.get("migrationUid"),
                    "startTimestamp": now_rfc3339(), "mode": "PreCopy"}
            store.mutate(VMIS, vmi_name, running, namespace)
            set_migration(namespace, name, following)
        elif following == "Succeeded":
            state = dig(migration, "status", "migrationState") or {}
            target = state.get("targetNode")
            for pod in launchers_of(vmi):
                if dig(pod, "spec", "nodeName") == source:
                    delete_quietly(PODS, pod["metadata"]["name"], namespace)

            def moved(o: Dict[str, Any]) -> None:
                status = o.setdefault("status", {})
                status["nodeName"] = target
                status.pop("evacuationNodeName", None)
                o["metadata"].setdefault("labels", {})["kubevirt.io/nodeName"] = target
                migration_state = status.setdefault("migrationState", {})
                migration_state.update({"completed": True, "endTimestamp": now_rfc3339(), "targetNodeDomainDetected": True})
            store.mutate(VMIS, vmi_name, moved, namespace)
            set_migration(namespace, name, following)
            return
        else:
            set_migration(namespace, name, following)
        cluster.after(step("migration_step", 0.03), advance_migration, namespace, name)

    def evacuate(namespace: str, vmi_name: str) -> None:
        vmi = store.peek(VMIS, vmi_name, namespace)
        if vmi is None or not dig(vmi, "status", "evacuationNodeName"):
            return
        if dig(vmi, "status", "nodeName") != dig(vmi, "status", "evacuationNodeName") or in_flight(namespace, vmi_name):
            return
        try:
            store.create(MIGRATIONS, {"metadata": {"generateName": "kubevirt-evacuation-", "namespace": namespace,
                                                   "labels": {"kubevirt.io/vmi-name": vmi_name}},
                                      "spec": {"vmiName": vmi_name}})
        except ApiError:
            cluster.after(step("evacuation_retry", 0.2), evacuate, namespace, vmi_name)

    # --- eviction webhook ----------------------------------------------------------------
    def on_eviction(_cluster: Any, pod: Dict[str, Any], eviction: Dict[str, Any], dry_run: bool) -> Optional[bool]:
        labels = pod["metadata"].get("labels") or {}
        if labels.get("kubevirt.io") != "virt-launcher":
            return None
        namespace = pod["metadata"]["namespace"]
        name = (pod["metadata"].get("annotations") or {}).get("kubevirt.io/domain")
        vmi = store.peek(VMIS, name, namespace) if name else None
        if vmi is None:
            return None
        dry_run = dry_run or "All" in (dig(eviction, "deleteOptions", "dryRun") or [])
        strategy = dig(vmi, "spec", "evictionStrategy") or cluster_eviction_strategy()
        migratable = migratability(vmi)["status"] == "True"
        mark = False
        if strategy == "LiveMigrate":
            if not migratable:
                raise errors.too_many_requests(
                    f"{EVICTION_WEBHOOK}VMI {name} is configured with an eviction strategy but is not live-migratable")
            mark = True
        elif strategy == "LiveMigrateIfPossible":
            mark = migratable
        elif strategy == "External":
            mark = True
        if not mark:
            return None
        evacuation = f'Eviction triggered evacuation of VMI "{namespace}/{name}"'
        if dig(vmi, "status", "evacuationNodeName"):
            raise errors.too_many_requests(f"{EVICTION_WEBHOOK}Evacuation in progress: {evacuation}")
        if dig(vmi, "status", "nodeName") != dig(pod, "spec", "nodeName"):
            raise errors.too_many_requests(f"{EVICTION_WEBHOOK}Eviction request for target Pod")
        if not dry_run:
            node = dig(pod, "spec", "nodeName")
            store.mutate(VMIS, name, lambda o: o.setdefault("status", {}).__setitem__("evacuationNodeName", node), namespace)
            cluster.after(step("evacuation_start", 0.02), evacuate, namespace, name)
        raise errors.too_many_requests(f"{EVICTION_WEBHOOK}{evacuation}")

    # --- volume hot-plug -----------------------------------------------------------------
    def accepted() -> Any:
        # virt-api answers 202 Accepted with an empty body.
        from ..cluster import HttpResponse

        return HttpResponse(code=202, body=b"")

    def validate_disk(options: Dict[str, Any]) -> None:
        name = options.get("name") or ""
        disk = options.get("disk")
        prefix = "AddVolume request"
        if not disk:
            raise ApiError(422, "Invalid", f"{VM_WEBHOOK}{prefix} for [{name}] requires the disk field to be set.")
        if disk.get("disk") is not None:
            bus = (disk.get("disk") or {}).get("bus") or "scsi"
            if bus not in ("scsi", "virtio"):
                raise ApiError(422, "Invalid", f"{VM_WEBHOOK}{prefix} for disk [{name}] requires bus to be 'scsi' or "
                                               f"'virtio'. [{bus}] is not permitted.")
        elif disk.get("lun") is not None:
            bus = (disk.get("lun") or {}).get("bus") or "scsi"
            if bus != "scsi":
                raise ApiError(422, "Invalid", f"{VM_WEBHOOK}{prefix} for LUN [{name}] requires bus to be 'scsi'. "
                                               f"[{bus}] is not permitted.")
        else:
            raise ApiError(422, "Invalid", f"{VM_WEBHOOK}{prefix} for [{name}] requires diskDevice of type 'disk' or "
                                           "'lun' to be used.")

    def volume_source_name(source: Dict[str, Any]) -> str:
        if source.get("dataVolume") is not None:
            return (source.get("dataVolume") or {}).get("name") or ""
        if source.get("persistentVolumeClaim") is not None:
            return (source.get("persistentVolumeClaim") or {}).get("claimName") or ""
        return ""

    def verify_volume_option(vm_name: str, volumes: List[Dict[str, Any]], add: Optional[Dict[str, Any]] = None,
                             remove: Optional[str] = None) -> Dict[str, Any]:
        """virt-api's ``verifyVolumeOption``; its errors are wrapped in a 409 Conflict on
        ``virtualmachine.kubevirt.io``.  Returns the volume a removal targets."""
        def conflict(message: str) -> ApiError:
            return errors.conflict("virtualmachine", vm_name, "kubevirt.io", message)

        for volume in volumes:
            if add is not None:
                source_name = volume_source_name(add.get("volumeSource") or {})
                if volume.get("name") == add.get("name"):
                    raise conflict(f"Unable to add volume [{add.get('name')}] because volume with that name already exists")
                if source_name and volume_source_name(volume) == source_name:
                    raise conflict(f"Unable to add volume source [{source_name}] because it already exists")
            elif remove is not None and remove in (volume.get("name"), volume_source_name(volume)):
                if not (volume.get("persistentVolumeClaim") or volume.get("dataVolume") or {}).get("hotpluggable"):
                    raise conflict(f"Unable to remove volume [{volume.get('name')}] because it is not hotpluggable")
                return volume
        if remove is not None:
            raise conflict(f"Unable to remove volume [{remove}] because it does not exist")
        return {}

    def add_volume(req: "SubresourceRequest") -> Any:
        if req.method != "PUT":
            raise errors.method_not_allowed()
        options = req.body if isinstance(req.body, dict) else {}
        name = options.get("name")
        # virt-api's addVolumeRequestHandler checks, in this order (400 BadRequest):
        if not name:
            raise errors.bad_request("AddVolumeOptions requires name to be set")
        if options.get("disk") is None:
            raise errors.bad_request("AddVolumeOptions requires disk to not be nil")
        if options.get("volumeSource") is None:
            raise errors.bad_request("AddVolumeOptions requires VolumeSource to not be nil")
        source = options.get("volumeSource") or {}
        if not (source.get("persistentVolumeClaim") or source.get("dataVolume")):
            raise errors.bad_request(f"AddVolumeOptions requires a persistentVolumeClaim or dataVolume volumeSource for [{name}]")
        vm = store.peek(VMS, req.name, req.namespace)
        if vm is None:
            raise errors.not_found("virtualmachines", req.name, "kubevirt.io")
        # vmVolumePatchStatus: verifyVolumeOption errors are a 409 Conflict on the VM.
        verify_volume_option(req.name, dig(vm, "spec", "template", "spec", "volumes") or [], add=options)
        # then the VM status patch goes through the VM admission webhook (422).
        validate_disk(options)
        if req.dry_run or "All" in (options.get("dryRun") or []):
            return accepted()
        volume = {"name": name}
        volume.update(clone(source))
        for kind in ("persistentVolumeClaim", "dataVolume"):
            if kind in volume:
                volume[kind]["hotpluggable"] = True
        disk = clone(options["disk"])
        disk["name"] = name

        def persist(o: Dict[str, Any]) -> None:
            spec = o["spec"].setdefault("template", {}).setdefault("spec", {})
            spec.setdefault("volumes", []).append(volume)
            spec.setdefault("domain", {}).setdefault("devices", {}).setdefault("disks", []).append(disk)
        store.mutate(VMS, req.name, persist, req.namespace)
        if store.peek(VMIS, req.name, req.namespace) is not None:
            def attach(o: Dict[str, Any]) -> None:
                o["spec"].setdefault("volumes", []).append(clone(volume))
                o["spec"].setdefault("domain", {}).setdefault("devices", {}).setdefault("disks", []).append(clone(disk))
                o.setdefault("status", {}).setdefault("volumeStatus", []).append(volume_status_entry(volume, "Pending", True))
                refresh_migratable(o)
            store.mutate(VMIS, req.name, attach, req.namespace)
            cluster.after(step("hotplug_step", 0.03), advance_hotplug, req.namespace, req.name, name)
        return accepted()

    def set_volume_phase(namespace: str, vmi_name: str, volume: str, phase: str, **extra: Any) -> None:
        def change(o: Dict[str, Any]) -> None:
            for entry in dig(o, "status", "volumeStatus") or []:
                if entry["name"] == volume:
                    entry["phase"] = phase
                    entry.update(extra)
        store.mutate(VMIS, vmi_name, change, namespace)

    def hotplug_claim_not_ready(vmi: Dict[str, Any], volume_name: str, claim_name: str) -> str:
        """Why the hot-plugged claim cannot be attached yet ("" when it can).

        A DataVolume must be populated first; one waiting for its first consumer gets virt-controller's
        trigger pod on the VMI's node, which binds its claim there (``bind_for_consumer``).
        """
        namespace = vmi["metadata"]["namespace"]
        volume = next((v for v in dig(vmi, "spec", "volumes") or [] if v.get("name") == volume_name), {})
        if volume.get("dataVolume"):
            data_volume = store.peek(DATA_VOLUMES, claim_name, namespace)
            phase = dig(data_volume, "status", "phase")
            if phase in ("WaitForFirstConsumer", "PendingPopulation") and hasattr(cluster, "storage_controllers"):
                bind_for_consumer(cluster, namespace, claim_name, dig(vmi, "status", "nodeName"))
            if data_volume is not None and phase != "Succeeded":
                return f"DataVolume {claim_name} is {phase or 'Pending'}"
        claim = store.peek("persistentvolumeclaims", claim_name, namespace)
        if claim is None or dig(claim, "status", "phase") != "Bound":
            return f"PVC {claim_name} is not bound yet"
        return ""

    def advance_hotplug(namespace: str, vmi_name: str, volume_name: str) -> None:
        vmi = store.peek(VMIS, vmi_name, namespace)
        entry = next((e for e in dig(vmi, "status", "volumeStatus") or [] if e["name"] == volume_name), None)
        if vmi is None or entry is None or entry.get("phase") not in HOTPLUG_PHASES[:-1]:
            return
        following = HOTPLUG_PHASES[HOTPLUG_PHASES.index(entry["phase"]) + 1]
        claim_name = dig(entry, "persistentVolumeClaimInfo", "claimName")
        if following == "Bound":
            not_ready = hotplug_claim_not_ready(vmi, volume_name, claim_name)
            if not_ready:
                set_volume_phase(namespace, vmi_name, volume_name, "Pending", reason="PVCNotReady", message=not_ready)
                cluster.after(step("hotplug_step", 0.03), advance_hotplug, namespace, vmi_name, volume_name)
                return
            set_volume_phase(namespace, vmi_name, volume_name, following, reason="", message="")
        elif following == "AttachedToNode":
            pod_name = f"hp-volume-{secrets.token_hex(3)[:5]}"
            launchers = [p for p in launchers_of(vmi) if dig(p, "spec", "nodeName") == dig(vmi, "status", "nodeName")]
            owner = [{"apiVersion": "v1", "kind": "Pod", "name": launchers[0]["metadata"]["name"],
                      "uid": launchers[0]["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}] if launchers else []
            store.create(PODS, {
                "metadata": {"name": pod_name, "namespace": namespace, "ownerReferences": owner,
                             "labels": {"kubevirt.io": "hotplug-disk", "kubevirt.io/created-by": vmi["metadata"]["uid"]}},
                "spec": {"nodeName": dig(vmi, "status", "nodeName"), "restartPolicy": "Never",
                         "volumes": [{"name": volume_name, "persistentVolumeClaim": {"claimName": claim_name}}],
                         "containers": [{"name": "hotplug-disk", "image": "virt-launcher",
                                         "resources": {"requests": {"memory": "2Mi"}}}]},
                "status": {"phase": "Running"},
            })
            set_volume_phase(namespace, vmi_name, volume_name, following,
                             hotplugVolume={"attachPodName": pod_name}, reason="SuccessfulCreate",
                             message=f"Created hotplug attachment pod {pod_name}, for volume {volume_name}")
        elif following == "Ready":
            set_volume_phase(namespace, vmi_name, volume_name, following, target=f"sd{chr(ord('a') + len(dig(vmi, 'status', 'volumeStatus')) - 1)}",
                             reason="VolumeReady", message="Successfully attach hotplugged volume " + volume_name + " to VM")
            return
        else:
            set_volume_phase(namespace, vmi_name, volume_name, following, reason="", message="")
        cluster.after(step("hotplug_step", 0.03), advance_hotplug, namespace, vmi_name, volume_name)

    def remove_volume(req: "SubresourceRequest") -> Any:
        if req.method != "PUT":
            raise errors.method_not_allowed()
        options = req.body if isinstance(req.body, dict) else {}
        name = options.get("name")
        if not name:
            raise errors.bad_request("RemoveVolumeOptions requires name to be set")
        vm = store.peek(VMS, req.name, req.namespace)
        if vm is None:
            raise errors.not_found("virtualmachines", req.name, "kubevirt.io")
        volume = verify_volume_option(req.name, dig(vm, "spec", "template", "spec", "volumes") or [], remove=name)
        name = volume["name"]  # upstream also finds a volume by its claim/DataVolume name
        if req.dry_run or "All" in (options.get("dryRun") or []):
            return accepted()

        def drop(o: Dict[str, Any]) -> None:
            spec = o["spec"]["template"]["spec"]
            spec["volumes"] = [v for v in spec.get("volumes") or [] if v.get("name") != name]
            devices = spec.setdefault("domain", {}).setdefault("devices", {})
            devices["disks"] = [d for d in devices.get("disks") or [] if d.get("name") != name]
        store.mutate(VMS, req.name, drop, req.namespace)
        if store.peek(VMIS, req.name, req.namespace) is not None:
            set_volume_phase(req.namespace, req.name, name, "Detaching", reason="", message="")
            cluster.after(step("hotplug_step", 0.03), detach, req.namespace, req.name, name)
        return accepted()

    def detach(namespace: str, vmi_name: str, volume_name: str) -> None:
        vmi = store.peek(VMIS, vmi_name, namespace)
        if vmi is None:
            return
        entry = next((e for e in dig(vmi, "status", "volumeStatus") or [] if e["name"] == volume_name), None)
        attach_pod = dig(entry, "hotplugVolume", "attachPodName") if entry else None
        if attach_pod:
            delete_quietly(PODS, attach_pod, namespace)

        def drop(o: Dict[str, Any]) -> None:
            o["spec"]["volumes"] = [v for v in o["spec"].get("volumes") or [] if v.get("name") != volume_name]
            devices = o["spec"].setdefault("domain", {}).setdefault("devices", {})
            devices["disks"] = [d for d in devices.get("disks") or [] if d.get("name") != volume_name]
            o["status"]["volumeStatus"] = [e for e in o["status"].get("volumeStatus") or [] if e["name"] != volume_name]
            refresh_migratable(o)
        store.mutate(VMIS, vmi_name, drop, namespace)

    cluster.on_change(VMS, on_vm)
    cluster.on_change(PODS, on_pod)
    cluster.on_change(MIGRATIONS, on_migration)
    cluster.add_admission(MIGRATIONS, admit_migration)
    cluster.add_eviction_hook(on_eviction)
    cluster.add_subresource(VMS, "addvolume", add_volume, verbs=("update",))
    cluster.add_subresource(VMS, "removevolume", remove_volume, verbs=("update",))
