# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restoring a VirtualMachineSnapshot: what must hold before the write, and when it is done.

KubeVirt (v1.6 ``pkg/storage/snapshot/restore.go``) restores only onto a target without a VMI;
for a running target ``spec.targetReadinessPolicy`` decides: ``WaitGracePeriod`` (the default)
waits five minutes and fails, ``StopTarget`` stops the VM, ``FailImmediate`` fails at once. The
plan refuses a running target unless the user said it may be stopped (then ``StopTarget``), and
otherwise asks for ``FailImmediate`` so that a VM started in the meantime fails the restore instead
of being stopped. A target that exists and is not the snapshot's source is refused as KubeVirt
refuses it ("restore source and restore target are different but restore target already
exists"). A new target VM is created stopped (``runStrategy: Halted``); ``start`` starts it, or
the restored source, afterwards.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.cluster import describe
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure, Refusal
from ansible_collections.ocpvirt.portworx.plugins.module_utils.waiting import condition, condition_is

SNAPSHOT_API = "snapshot.kubevirt.io/v1beta1"
LAST_RESTORE_ANNOTATION = "restore.kubevirt.io/lastRestoreUID"


def _meta(obj):
    return (obj or {}).get("metadata") or {}


def _spec(obj):
    return (obj or {}).get("spec") or {}


def _status(obj):
    return (obj or {}).get("status") or {}


def snapshot_source(snapshot):
    return (_spec(snapshot).get("source") or {}).get("name")


def restore_failed(restore):
    return condition_is(restore, "Failure", "True")


class RestorePlan(object):
    def __init__(self, request, target, running, existing):
        self.name = request["name"]
        self.namespace = request["namespace"]
        self.snapshot = request["snapshot"]
        self.target = target
        self.running = running
        self.existing = existing
        self.stop_target = bool(request.get("stop_target"))

    @property
    def needs_create(self):
        return self.existing is None

    @property
    def readiness_policy(self):
        return "StopTarget" if self.stop_target else "FailImmediate"

    def definition(self):
        return {"apiVersion": SNAPSHOT_API, "kind": "VirtualMachineRestore",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": {"target": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": self.target},
                         "virtualMachineSnapshotName": self.snapshot,
                         "targetReadinessPolicy": self.readiness_policy}}


def _check_existing(request, existing, target):
    subject = describe("VirtualMachineRestore", request["name"], request["namespace"])
    spec = _spec(existing)
    if spec.get("virtualMachineSnapshotName") != request["snapshot"] or (spec.get("target") or {}).get("name") != target:
        raise Refusal(subject, "it already exists for snapshot {0} onto {1}, not snapshot {2} onto {3}".format(
            spec.get("virtualMachineSnapshotName"), (spec.get("target") or {}).get("name"), request["snapshot"], target),
            "Choose another restore name, or delete the existing restore first.")
    if restore_failed(existing):
        raise Refusal(subject, "it failed: {0}".format(condition(existing, "Failure").get("reason")),
                      "Delete the failed restore, fix the cause, then run again.")


def plan_restore(request, snapshot, existing, target_vm, target_vmi):
    """Check a restore request; ``request`` has ``name``, ``namespace``, ``snapshot``, ``target`` and ``stop_target``."""
    namespace = request["namespace"]
    snapshot_subject = describe("VirtualMachineSnapshot", request["snapshot"], namespace)
    if snapshot is None:
        raise Refusal(snapshot_subject, "it does not exist", "Check the name and namespace, or take it first with ocpvirt.portworx.vm_snapshot.")
    target = request.get("target") or snapshot_source(snapshot)
    if existing is not None:
        _check_existing(request, existing, target)
        return RestorePlan(request, target, False, existing)
    if not _status(snapshot).get("readyToUse"):
        raise Refusal(snapshot_subject, "it is not readyToUse (phase {0})".format(_status(snapshot).get("phase") or "none"),
                      "Wait until the snapshot is ready, then run again.")
    target_subject = describe("VirtualMachine", target, namespace)
    if target_vm is not None and _meta(target_vm).get("uid") != _status(snapshot).get("sourceUID"):
        raise Refusal(target_subject, "it exists and is not the VM the snapshot was taken of ({0}); KubeVirt only restores onto its "
                      "source or onto a new VM (restore source and restore target are different but restore target already "
                      "exists)".format(snapshot_source(snapshot)),
                      "Give a target name that does not exist yet, or delete that VM first.")
    running = target_vmi is not None
    if running and not request.get("stop_target"):
        raise Refusal(target_subject, "it is running and KubeVirt restores only a stopped VM",
                      "Stop the VM first, or set stop_target: true to let the restore stop it (the guest goes down).")
    return RestorePlan(request, target, running, None)


def restore_progress(restore):
    """Probe of the wait: ``(done, state)``; a failed restore raises ``ModuleFailure``."""
    subject = describe("VirtualMachineRestore", _meta(restore).get("name"), _meta(restore).get("namespace"))
    if restore is None:
        return False, "not found"
    if restore_failed(restore):
        raise ModuleFailure("{0} failed: {1}".format(subject, condition(restore, "Failure").get("reason")), reason="RestoreFailed")
    progressing = condition(restore, "Progressing")
    return bool(_status(restore).get("complete")), "complete {0}, Progressing {1}: {2}".format(
        _status(restore).get("complete"), progressing.get("status"), progressing.get("reason"))


def needs_start(vm):
    """Whether a restored VM must be started to run (its run strategy is Halted or ``running: false``)."""
    spec = _spec(vm)
    if spec.get("running") is not None:
        return not spec["running"]
    return spec.get("runStrategy") == "Halted"


def restore_facts(restore, plan):
    status = _status(restore)
    return {
        "name": plan.name,
        "namespace": plan.namespace,
        "snapshot": plan.snapshot,
        "target": plan.target,
        "target_readiness_policy": _spec(restore).get("targetReadinessPolicy") or plan.readiness_policy,
        "complete": bool(status.get("complete")),
        "restore_time": status.get("restoreTime"),
        "restores": [{"volume": r.get("volumeName"), "claim": r.get("persistentVolumeClaim"), "volume_snapshot": r.get("volumeSnapshotName")}
                     for r in status.get("restores") or []],
    }
