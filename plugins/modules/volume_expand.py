#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: volume_expand
short_description: Grow a PersistentVolumeClaim or a VM disk without downtime
version_added: 0.1.0
author:
  - ocpvirt.portworx maintainers (@ocpvirt)
description:
  - Raises C(spec.resources.requests.storage) of a PersistentVolumeClaim, addressed directly or
    as the disk of a KubeVirt VirtualMachine, and waits until the volume has really grown.
  - Refuses, before writing anything, to shrink a claim, to grow a claim whose StorageClass does
    not set C(allowVolumeExpansion), and to grow a claim that is not Bound.
  - A size below the current request is refused, except to recover from a failed resize. Kubernetes 1.33
    (OpenShift 4.20) has C(RecoverVolumeExpansionFailure) on by default, so the API server accepts a lower
    request when it is strictly above C(status.capacity), and the external-resizer then tries the smaller size
    instead. The module lowers the request only then, and only when the resize is unfinished and a controller
    failure is recorded on the claim (condition C(ControllerResizeError), or C(allocatedResourceStatuses)
    C(ControllerResizeInfeasible)); RV(recovery) reports it. The failure counts only while the controller
    expansion is unfinished (C(allocatedResourceStatuses) C(ControllerResizeInProgress) or
    C(ControllerResizeInfeasible), or no status and C(status.capacity) below C(allocatedResources)); a
    C(ControllerResizeError) left from an attempt the controller has since finished (for example with
    C(NodeResizePending)) is refused. A size at or below the capacity is refused, because
    a volume never shrinks and a request never goes back to the old capacity. A smaller size while the resize is
    still in progress with no failure is refused too, because the resizer finishes the size it started.
  - A size equal to the current request is no change; a resize started earlier is then only
    waited for. A resize requested earlier and not finished (for example by a run that was killed while waiting)
    is reported first, as a warning and in RV(previous_run).
  - The guest filesystem of a VM disk is not grown by this module; RV(action_required) says so.
  - When the resize fails, the failure names the claim, its C(ControllerResizeError) or C(NodeResizeError)
    condition message (the driver's reason, for example a full storage pool), its most recent Warning events
    and the fix. You can free or add Portworx pool capacity so that the external-resizer retries the same size by
    itself (with backoff; an infeasible size only after its slow-retry interval, 5 minutes by default). Or you can
    run the task again with a smaller size above the capacity.
  - A resize that Kubernetes marks infeasible for the size asked for (C(ControllerResizeInfeasible),
    C(NodeResizeInfeasible)) fails at once instead of waiting for O(wait_timeout). A final error that the resizer
    retries (Portworx answers a full pool with gRPC C(Internal)) is waited for. If the wait times out, the fix is
    given as well.
  - Option values are checked before any request; see the option descriptions.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ocpvirt.portworx.common.WAIT
options:
  name:
    description:
      - Name of the PersistentVolumeClaim to grow, a DNS-1123 subdomain.
      - Mutually exclusive with O(vm) and O(disk).
    type: str
  namespace:
    description:
      - Namespace of the claim or of the VirtualMachine, a DNS-1123 label.
    type: str
    required: true
  vm:
    description:
      - Name of the VirtualMachine whose disk to grow, a DNS-1123 label. Requires O(disk).
    type: str
  disk:
    description:
      - Name of the disk of O(vm) to grow. It is resolved to its volume and, for a C(dataVolume)
        volume, to the claim of the same name as the DataVolume.
    type: str
  size:
    description:
      - The new absolute size as a Kubernetes quantity, for example V(20Gi). Below the current request only to
        recover from a failed resize, see the description. It must be a whole number of bytes of
        at least 1Mi, with a suffix V(Ki), V(Mi), V(Gi), V(Ti) (or V(k), V(M), V(G), V(T)); V(10GB) is refused, and so is
        V(20), which would mean 20 bytes.
    type: str
    required: true
notes:
  - Supports check mode (the patch is sent as a server-side dry run) and diff mode.
"""

EXAMPLES = r"""
- name: Grow a claim to 20Gi
  ocpvirt.portworx.volume_expand:
    name: data-claim
    namespace: vms
    size: 20Gi

- name: Grow the root disk of a VM
  ocpvirt.portworx.volume_expand:
    vm: rhel9-web
    disk: rootdisk
    namespace: vms
    size: 60Gi
  register: grown

- name: Retry a resize that failed for lack of pool space with a smaller size (still above the capacity)
  ocpvirt.portworx.volume_expand:
    vm: rhel9-web
    disk: rootdisk
    namespace: vms
    size: 45Gi

- name: Tell the operator what is left to do
  ansible.builtin.debug:
    msg: "{{ grown.action_required }}"
  when: grown.action_required is not none
"""

RETURN = r"""
claim:
  description: The claim before and after the change.
  returned: success
  type: dict
  contains:
    name:
      description: Name of the claim.
      type: str
      sample: rhel9-web-rootdisk
    namespace:
      description: Namespace of the claim.
      type: str
      sample: vms
    storage_class:
      description: StorageClass of the claim.
      type: str
      sample: px-rwx-block-kubevirt
    volume_mode:
      description: C(Filesystem) or C(Block).
      type: str
      sample: Block
    old_request:
      description: The requested size before the task.
      type: str
      sample: 30Gi
    old_capacity:
      description: The capacity before the task.
      type: str
      sample: 30Gi
    request:
      description: The requested size now.
      type: str
      sample: 60Gi
    capacity:
      description: The capacity now.
      type: str
      sample: 60Gi
    phase:
      description: Phase of the claim.
      type: str
      sample: Bound
    conditions:
      description: Resize conditions still present (C(Resizing), C(FileSystemResizePending), C(ControllerResizeError), C(NodeResizeError)).
      type: list
      elements: dict
      sample: []
vm_disk:
  description: How the VM disk was resolved; only when O(vm) was given.
  returned: when O(vm) is given
  type: dict
  sample: {"disk": "rootdisk", "claim": "rhel9-web-rootdisk", "data_volume": "rhel9-web-rootdisk"}
action_required:
  description: What the user still has to do (grow the guest filesystem, or start the workload
    so the kubelet finishes a pending filesystem resize); null when nothing.
  returned: success
  type: str
  sample: Grow the partition and filesystem inside the guest operating system to use the new space.
previous_run:
  description:
    - A resize requested earlier and not finished when this run started (request above the capacity, or a resize
      condition set), with claim, requested, capacity, conditions, since (the oldest resize condition time) and summary.
  returned: when there was one
  type: dict
  sample: {"claim": "vms/db01-data", "requested": "40Gi", "capacity": "30Gi", "conditions": ["Resizing"],
           "since": "2026-12-02T09:00:00Z", "summary": "PersistentVolumeClaim vms/db01-data: a resize to 40Gi was requested earlier ..."}
recovery:
  description:
    - Set when the task lowered the request of a failed resize to retry it with a smaller size.
    - C(abandoned_request) is the request that failed and C(request) the size asked for now. C(capacity) is the
      claim's capacity, which the new size is above. C(failure) is the recorded failure
      (C(ControllerResizeError) and its message, or C(ControllerResizeInfeasible)).
  returned: when the request was lowered
  type: dict
  sample: {"abandoned_request": "40Gi", "request": "35Gi", "capacity": "30Gi",
           "failure": "ControllerResizeError: failed to expand pvc with rpc error: code = Internal desc = ..."}
warning_events:
  description: The claim's most recent Warning events, each as C(reason) and message, newest first.
  returned: when the resize failed or timed out
  type: list
  elements: str
  sample: ['VolumeResizeFailed: resize volume "pvc-0f3c" by resizer "pxd.portworx.com" failed: rpc error: code = Internal
            desc = Failed to update volume size: ...']
claim_conditions:
  description:
    - The claim's resize conditions when Kubernetes marks the resize to the size asked for infeasible.
    - Kubernetes tries that size again only after the external-resizer's slow-retry interval.
  returned: when the resize is infeasible
  type: list
  elements: dict
retries:
  description: Number of transient API errors that were retried.
  returned: when there were any
  type: int
  sample: 1
"""

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import KUBEVIRT_API, STORAGE_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.expansion import (
    expansion_patch,
    expansion_progress,
    claim_in_use,
    claim_subject,
    failed_resize_fix,
    follow_up,
    storage_class_name,
    unfinished_resize,
    warning_events,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure, NotFound, WaitTimeout
from ansible_collections.ocpvirt.portworx.plugins.module_utils.resize_recovery import controller_failure, plan_resize
from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import OcpVirtModule
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import MEBIBYTE, describe_name, dns_label, dns_subdomain, quantity
from ansible_collections.ocpvirt.portworx.plugins.module_utils.vm_disk_claim import resolve_disk_claim


OPTION_RULES = (
    ("namespace", dns_label("Namespace")),
    ("name", dns_subdomain("PersistentVolumeClaim")),
    ("vm", dns_label("VirtualMachine")),
    ("disk", dns_label("disk")),
    ("size", quantity(example="20Gi", at_least=MEBIBYTE)),
)


class VolumeExpandModule(OcpVirtModule):
    option_rules = OPTION_RULES

    def option_subject(self):
        if self.params["vm"] is not None:
            return "VirtualMachine {0}/{1}".format(describe_name(self.params["namespace"]), describe_name(self.params["vm"]))
        return "PersistentVolumeClaim {0}/{1}".format(describe_name(self.params["namespace"]), describe_name(self.params["name"]))

    def __init__(self):
        super(VolumeExpandModule, self).__init__(
            argument_spec=dict(
                name=dict(type="str"),
                namespace=dict(type="str", required=True),
                vm=dict(type="str"),
                disk=dict(type="str"),
                size=dict(type="str", required=True),
            ),
            mutually_exclusive=[("name", "vm"), ("name", "disk")],
            required_together=[("vm", "disk")],
            required_one_of=[("name", "vm")],
        )

    _last_seen = None  # the claim as the wait last read it

    def execute_module(self):
        namespace = self.params["namespace"]
        size = self.params["size"]
        vm_disk = None
        claim = self.params["name"]
        if self.params["vm"]:
            vm = self.cluster.get(KUBEVIRT_API, "VirtualMachine", self.params["vm"], namespace)
            if vm is None:
                raise NotFound("VirtualMachine {0}/{1}".format(namespace, self.params["vm"]), "check the name and namespace")
            vm_disk = resolve_disk_claim(vm, self.params["disk"])
            claim = vm_disk.claim
            self.result["vm_disk"] = vm_disk.facts()
        pvc = self.cluster.get("v1", "PersistentVolumeClaim", claim, namespace)
        if pvc is None:
            raise NotFound("PersistentVolumeClaim {0}/{1}".format(namespace, claim), "check the name and namespace")
        class_name = storage_class_name(pvc)
        storage_class = self.cluster.get(STORAGE_API, "StorageClass", class_name) if class_name else None
        plan = plan_resize(pvc, storage_class, size)
        previous = unfinished_resize(pvc)
        if previous is not None:
            self.result["previous_run"] = previous
            self.warn("previous run: {0}; {1}".format(
                previous["summary"], "waiting for it" if not plan.needs_patch else "asking for {0} now".format(size)))
        if plan.recovery is not None:
            self.result["recovery"] = plan.recovery
            self.warn("{0}: {1} the request from {2} to {3} to retry the failed resize smaller ({4}); Kubernetes 1.33 "
                      "allows a request above status.capacity {5} (RecoverVolumeExpansionFailure)".format(
                          claim_subject(pvc), "check mode: would lower" if self.check_mode else "lowering",
                          plan.old_request, size, plan.recovery["failure"], plan.old_capacity))

        current = pvc
        if plan.needs_patch:
            written = self.cluster.patch("v1", "PersistentVolumeClaim", claim, expansion_patch(size), namespace)
            self.changed()
            self.set_diff({"request": plan.old_request}, {"request": size})
            current = written or pvc
        if self.wait_enabled:
            try:
                current = self.waiter().until(
                    "{0} to reach {1}".format(claim_subject(pvc), size),
                    lambda: self._progress(claim, namespace, size),
                )
            except WaitTimeout as timeout:
                raise self._with_warning_events(self._with_fix(timeout), claim, namespace)
            except ModuleFailure as failure:
                raise self._with_warning_events(failure, claim, namespace)
        self.result["claim"] = plan.facts(current)
        self.result["action_required"] = follow_up(current, vm_disk=vm_disk is not None)

    def _with_warning_events(self, failure, claim, namespace):
        """The failure with the claim's recent Warning events (the resizer's own words) added."""
        try:
            events = self.cluster.list("v1", "Event", namespace=namespace,
                                       field_selector="involvedObject.kind=PersistentVolumeClaim,involvedObject.name={0}".format(claim))
        except ModuleFailure as unreadable:
            self.warn("Could not read the events of the claim: {0}".format(unreadable.msg))
            return failure
        recent = warning_events(events)
        failure.details["warning_events"] = recent
        failure.msg = "{0}; recent Warning events: {1}".format(failure.msg, " | ".join(recent) if recent else "none")
        return failure

    def _with_fix(self, timeout):
        """A timeout with a controller resize failure on the claim says what to do about it (``failed_resize_fix``)."""
        last = self._last_seen
        if last is not None and controller_failure(last) is not None:
            timeout.msg = "{0}. {1}".format(timeout.msg, failed_resize_fix(last))
        return timeout

    def _progress(self, claim, namespace, size):
        pvc = self.cluster.get("v1", "PersistentVolumeClaim", claim, namespace)
        self._last_seen = pvc
        pods = self.cluster.list("v1", "Pod", namespace=namespace)
        done, state = expansion_progress(pvc, size, claim_in_use(pods, claim))
        if done:
            return True, pvc
        return False, state


def main():
    VolumeExpandModule().run()


if __name__ == "__main__":
    main()
