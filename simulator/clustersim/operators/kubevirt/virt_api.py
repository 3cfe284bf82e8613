"""virt-api's imperative endpoints in ``subresources.kubevirt.io/v1`` (kubevirt/kubevirt v1.6,
``pkg/virt-api/rest/lifecycle.go``, ``subresource.go``, routes in ``pkg/virt-api/api.go``).

* ``virtualmachines/start|stop|restart`` (PUT, 202): the rules of :mod:`.run_strategy` -- a new
  ``spec.runStrategy`` (Halted → Always on start; Always/Once → Halted on stop), or state change
  requests (Manual, RerunOnFailure, restart) that the VM controller carries out; 409 Conflict on
  ``virtualmachine.kubevirt.io`` for a request the run strategy does not support, 400 for a
  restart ``gracePeriodSeconds`` other than 0.
* ``virtualmachines/migrate`` (PUT, 202): a ``kubevirt-migrate-vm-`` migration of the running
  VMI; 409 when it does not run; a refusal of the migration webhook comes back as virt-api's 500.
* ``virtualmachineinstances/pause|unpause`` (PUT, 200): virt-handler pauses the domain and sets
  the VMI condition Paused (reason PausedByUser); 409 when the VMI does not run, is already
  paused / is not paused; 403 for a VMI with a liveness probe.
* ``virtualmachineinstances/freeze|unfreeze`` (PUT, 200) on a running VMI:
  ``status.fsFreezeStatus`` "frozen" while frozen.
* ``virtualmachineinstances/guestosinfo`` (GET): the guest agent's report; a VMI that does not
  run or has no agent is virt-api's plain-text 500.
* ``GET /apis/subresources.kubevirt.io/v1/version``: the version document of virt-api.

``dryRun: ["All"]`` in the body (or ``?dryRun=All``) validates without changing anything.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from ... import errors
from ...cluster import HttpResponse
from ...controller import Controller, serves_route, serves_subresource
from ...errors import ApiError
from ...util import dig, now_rfc3339, set_condition
from .model import MIGRATIONS, VMIS, VMS, condition_of
from .run_strategy import StatePlan, check_restart_options, plan_restart, plan_start, plan_stop

VERSION_PATH = "/apis/subresources.kubevirt.io/v1/version"
KUBEVIRT_VERSION = "v1.6.2"  # the seeded KubeVirt CR's observedKubeVirtVersion
KUBEVIRT_COMMIT = "29fd465b6f916287f5ce5bcc263489f694f32553"  # tag v1.6.2 of kubevirt/kubevirt
KUBEVIRT_BUILD_DATE = "2025-09-30T11:58:30Z"
GUEST_AGENT_VERSION = "9.0.0"  # qemu-guest-agent of RHEL 9 (not checked against a real guest)
GUEST_AGENT_COMMANDS = ("guest-exec", "guest-fsfreeze-freeze", "guest-fsfreeze-thaw", "guest-get-osinfo",
                        "guest-get-users", "guest-info", "guest-network-get-interfaces", "guest-ping")


def body_of(req: Any) -> Dict[str, Any]:
    if req.method != "PUT":
        raise errors.method_not_allowed()
    return req.body if isinstance(req.body, dict) else {}


def dry_run(req: Any, body: Dict[str, Any]) -> bool:
    return bool(req.dry_run or "All" in (body.get("dryRun") or []))


def accepted() -> HttpResponse:
    return HttpResponse(code=202, body=b"")


def done() -> HttpResponse:
    """virt-api's proxied virt-handler calls answer 200 with an empty body."""
    return HttpResponse(code=200, body=b"")


def vmi_conflict(vmi: Dict[str, Any], message: str) -> ApiError:
    return errors.conflict("virtualmachineinstance", vmi["metadata"]["name"], "kubevirt.io", message)


def failure_text(error: ApiError) -> HttpResponse:
    return HttpResponse(code=500, body=error.message.encode(), content_type="text/plain")


def guest_agent_info(vmi: Dict[str, Any]) -> Dict[str, Any]:
    """``VirtualMachineInstanceGuestAgentInfo`` as the simulated agent reports it."""
    return {"guestAgentVersion": GUEST_AGENT_VERSION, "hostname": vmi["metadata"]["name"],
            "os": dict(dig(vmi, "status", "guestOSInfo") or {}), "timezone": "UTC, 0",
            "fsFreezeStatus": dig(vmi, "status", "fsFreezeStatus") or "thawed",
            "supportedCommands": [{"name": name, "enabled": True} for name in GUEST_AGENT_COMMANDS]}


def version_document(observed: Optional[str]) -> Dict[str, str]:
    return {"gitVersion": observed or KUBEVIRT_VERSION, "gitCommit": KUBEVIRT_COMMIT if not observed or
            observed == KUBEVIRT_VERSION else "", "gitTreeState": "clean", "buildDate": KUBEVIRT_BUILD_DATE,
            "goVersion": "go1.23.9", "compiler": "gc", "platform": "linux/amd64"}


class VirtApi(Controller):
    name = "kubevirt-api"

    def vm_or_404(self, req: Any) -> Dict[str, Any]:
        vm = self.store.peek(VMS, req.name, req.namespace)
        if vm is None:
            raise errors.not_found("virtualmachine", req.name, "kubevirt.io")
        return vm

    def vmi_or_404(self, namespace: str, name: str) -> Dict[str, Any]:
        vmi = self.store.peek(VMIS, name, namespace)
        if vmi is None:
            raise errors.not_found("virtualmachineinstance", name, "kubevirt.io")
        return vmi

    def apply(self, req: Any, vm: Dict[str, Any], plan: StatePlan, body: Dict[str, Any]) -> HttpResponse:
        if dry_run(req, body):
            return accepted()

        def change(o: Dict[str, Any]) -> None:
            o.setdefault("spec", {}).update(plan.spec)
            if plan.requests:
                o.setdefault("status", {})["stateChangeRequests"] = list(plan.requests)
                o["status"].pop("startFailure", None)
        self.store.mutate(VMS, vm["metadata"]["name"], change, vm["metadata"]["namespace"])
        return accepted()

    # --- VM lifecycle ----------------------------------------------------------------------
    @serves_subresource(VMS, "start", verbs=("update",))
    def start(self, req: Any) -> HttpResponse:
        body = body_of(req)
        vm = self.vm_or_404(req)
        return self.apply(req, vm, plan_start(vm, self.store.peek(VMIS, req.name, req.namespace)), body)

    @serves_subresource(VMS, "stop", verbs=("update",))
    def stop(self, req: Any) -> HttpResponse:
        body = body_of(req)
        vm = self.vm_or_404(req)
        plan = plan_stop(vm, self.store.peek(VMIS, req.name, req.namespace), body.get("gracePeriod"))
        return self.apply(req, vm, plan, body)

    @serves_subresource(VMS, "restart", verbs=("update",))
    def restart(self, req: Any) -> HttpResponse:
        body = body_of(req)
        check_restart_options(body.get("gracePeriodSeconds"))
        vm = self.vm_or_404(req)
        return self.apply(req, vm, plan_restart(vm, self.store.peek(VMIS, req.name, req.namespace)), body)

    @serves_subresource(VMS, "migrate", verbs=("update",))
    def migrate(self, req: Any) -> HttpResponse:
        body = body_of(req)
        self.vm_or_404(req)
        vmi = self.vmi_or_404(req.namespace, req.name)
        if dig(vmi, "status", "phase") != "Running":
            raise errors.conflict("virtualmachine", req.name, "kubevirt.io", "VM is not running")
        spec: Dict[str, Any] = {"vmiName": req.name}
        if body.get("addedNodeSelector"):
            spec["addedNodeSelector"] = body["addedNodeSelector"]
        migration = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
                     "metadata": {"generateName": "kubevirt-migrate-vm-", "namespace": req.namespace}, "spec": spec}
        try:
            self.store.create(MIGRATIONS, migration, req.namespace, dry_run=dry_run(req, body), internal=False)
        except ApiError as exc:
            raise errors.internal_error(f"Internal error occurred: {exc.message}") from None
        return accepted()

    # --- VMI: pause, freeze ----------------------------------------------------------------
    def running_vmi(self, req: Any, not_running: str) -> Dict[str, Any]:
        vmi = self.vmi_or_404(req.namespace, req.name)
        if dig(vmi, "status", "phase") != "Running":
            raise vmi_conflict(vmi, not_running)
        return vmi

    @serves_subresource(VMIS, "pause", verbs=("update",))
    def pause(self, req: Any) -> HttpResponse:
        body = body_of(req)
        vmi = self.running_vmi(req, "VM is not running")
        if dig(vmi, "spec", "livenessProbe") is not None:
            raise errors.forbidden("virtualmachineinstance", req.name, "Pausing VMIs with LivenessProbe is currently not supported",
                                   "kubevirt.io")
        if condition_of(vmi, "Paused"):
            raise vmi_conflict(vmi, "VMI is already paused")
        if not dry_run(req, body):
            self.set_paused(req.namespace, req.name, True)
        return done()

    @serves_subresource(VMIS, "unpause", verbs=("update",))
    def unpause(self, req: Any) -> HttpResponse:
        body = body_of(req)
        vm = self.store.peek(VMS, req.name, req.namespace)
        if vm is not None and dig(vm, "status", "snapshotInProgress") is not None:
            raise errors.conflict("virtualmachine", req.name, "kubevirt.io", "VM snapshot is in progress")
        vmi = self.running_vmi(req, "VMI is not running")
        if not condition_of(vmi, "Paused"):
            raise vmi_conflict(vmi, "VMI is not paused")
        if not dry_run(req, body):
            self.set_paused(req.namespace, req.name, False)
        return done()

    def set_paused(self, namespace: str, name: str, paused: bool) -> None:
        """virt-handler's Paused condition (pkg/virt-handler/vm.go, reason PausedByUser)."""
        def change(vmi: Dict[str, Any]) -> None:
            conditions = vmi.setdefault("status", {}).setdefault("conditions", [])
            if paused:
                set_condition(conditions, "Paused", "True", "PausedByUser", "VMI was paused by user",
                              lastProbeTime=now_rfc3339())
            else:
                conditions[:] = [c for c in conditions if c.get("type") != "Paused"]
        self.store.mutate(VMIS, name, change, namespace)

    @serves_subresource(VMIS, "freeze", verbs=("update",))
    def freeze(self, req: Any) -> HttpResponse:
        body_of(req)
        self.running_vmi(req, "VM is not running")
        self.store.mutate(VMIS, req.name, lambda o: o["status"].__setitem__("fsFreezeStatus", "frozen"), req.namespace)
        return done()

    @serves_subresource(VMIS, "unfreeze", verbs=("update",))
    def unfreeze(self, req: Any) -> HttpResponse:
        body_of(req)
        self.running_vmi(req, "VMI is not running")
        self.store.mutate(VMIS, req.name, lambda o: o["status"].pop("fsFreezeStatus", None), req.namespace)
        return done()

    @serves_subresource(VMIS, "guestosinfo", verbs=("get",))
    def guest_os_info(self, req: Any) -> HttpResponse:
        """The guest agent's report (``subresource.go`` ``GuestOSInfo``).  virt-api proxies the GET
        to virt-handler and answers any failure, its own checks included, as a plain-text 500."""
        if req.method != "GET":
            raise errors.method_not_allowed()
        vmi = self.vmi_or_404(req.namespace, req.name)
        if dig(vmi, "status", "phase") != "Running":
            return failure_text(vmi_conflict(vmi, "VMI is not running"))
        if not condition_of(vmi, "AgentConnected"):
            return failure_text(vmi_conflict(vmi, "VMI does not have guest agent connected"))
        return HttpResponse(code=200, body=guest_agent_info(vmi))

    # --- /version --------------------------------------------------------------------------
    @serves_route("GET", VERSION_PATH)
    def version(self, http: Any) -> HttpResponse:
        with self.cluster.api_lock():
            observed = next((dig(kv, "status", "observedKubeVirtVersion")
                             for kv in self.store.list("kubevirt.io/kubevirts", copy=False)), None)
        return HttpResponse(code=200, body=version_document(observed))
