#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: portworx_upgrade
short_description: Upgrade Portworx under running KubeVirt VMs, one node at a time
version_added: 0.3.0
author:
  - ocpvirt.portworx maintainers (@ocpvirt)
description:
  - Sets a new Portworx image on the StorageCluster and follows the Portworx Operator's rolling update node by node
    (StorageNode versions and phases, C(UpdatePaused) and C(FailedToEvictVM) events) until every node runs it.
  - Refuses, before writing anything, unless C(spec.updateStrategy.rollingUpdate.maxUnavailable) is 1 (absent means the
    operator's default, 1), every storage node is Online, every running VM on Portworx can live-migrate or is listed in
    O(allow_restart_vms), and the StorageCluster is not annotated
    C(operator.libopenstorage.org/evict-vms-during-update=false). The operator migrates only live-migratable VMs off a
    node; the others lose their storage while Portworx restarts under them.
  - Reports each C(UpdatePaused) (the operator is migrating a node's VMs). On C(FailedToEvictVM) it names the VM, the
    migration and why it failed, and then stops (O(on_failed_eviction=stop)) or migrates the VM again itself
    (O(on_failed_eviction=retry)); the operator never retries a failed migration.
  - Never sets C(operator.libopenstorage.org/evict-vms-during-update=false) unless O(accept_vm_downtime=true).
  - An image the StorageCluster already has is no change; a rollout started earlier is only followed.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ocpvirt.portworx.common.WAIT
options:
  image:
    description: The new Portworx image with its version tag, for example V(portworx/oci-monitor:3.6.1).
    type: str
    required: true
  name:
    description: Name of the StorageCluster. Default the only StorageCluster in O(namespace).
    type: str
  namespace:
    description: Namespace of the StorageCluster.
    type: str
    default: portworx
  allow_restart_vms:
    description:
      - VMs (C(namespace/name)) that cannot live-migrate but may go down while Portworx restarts on their node.
    type: list
    elements: str
    default: []
  accept_vm_downtime:
    description:
      - Accept VM downtime; the only way this module sets C(operator.libopenstorage.org/evict-vms-during-update=false)
        (the operator then restarts Portworx without migrating VMs) and skips the live-migration check.
    type: bool
    default: false
  on_failed_eviction:
    description:
      - What to do when the operator reports C(FailedToEvictVM). V(stop) fails the task with the VM, the migration and its
        failure reason; V(retry) starts a new live migration of the VM, at most O(migration_retries) times per VM.
    type: str
    choices: [stop, retry]
    default: stop
  migration_retries:
    description: Live migrations this module starts per VM with O(on_failed_eviction=retry).
    type: int
    default: 1
notes:
  - Supports check mode (the StorageCluster patch is a server-side dry run; the rollout is not followed).
  - O(wait_timeout) bounds the whole rollout; on a real cluster allow several minutes per node.
"""

EXAMPLES = r"""
- name: Upgrade Portworx, letting one VM without RWX disks restart
  ocpvirt.portworx.portworx_upgrade:
    image: portworx/oci-monitor:3.6.1
    allow_restart_vms: [vms/legacy-db]
    on_failed_eviction: retry
    wait_timeout: 7200
  register: upgrade

- name: Show the order the nodes were updated in
  ansible.builtin.debug:
    msg: "{{ upgrade.update_order }}"
"""

RETURN = r"""
storage_cluster:
  description: Namespace/name of the StorageCluster.
  returned: always
  type: str
  sample: portworx/px-cluster
from_version:
  description: The Portworx version before the task.
  returned: success
  type: str
  sample: 3.6.0
to_version:
  description: The version of O(image).
  returned: success
  type: str
  sample: 3.6.1
vms:
  description: The running VMs on Portworx, their node and whether they can live-migrate.
  returned: success
  type: list
  elements: dict
nodes:
  description: Each StorageNode with its version and phase when the task ended.
  returned: always
  type: list
  elements: dict
update_order:
  description: The storage nodes in the order they reached the new version while the task watched.
  returned: always
  type: list
  elements: str
pauses:
  description: The C(UpdatePaused) events seen, with node, message and count.
  returned: always
  type: list
  elements: dict
failed_evictions:
  description: Each C(FailedToEvictVM) seen, with the VM, the migration, the node and the failure reason.
  returned: always
  type: list
  elements: dict
retried_migrations:
  description: The live migrations this module started with O(on_failed_eviction=retry).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import KUBEVIRT_API, PORTWORX_API, STORAGE_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.cluster import describe
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure, Refusal
from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import OcpVirtModule
from ansible_collections.ocpvirt.portworx.plugins.module_utils.portworx_upgrade_plan import (
    failed_eviction,
    fresh_events,
    migration_failure_reason,
    plan_upgrade,
    portworx_vmis,
    rollout_state,
    vm_key,
    vm_migratability,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import (
    count, describe_name, dns_label, dns_subdomain, image_reference, namespaced_name,
)


OPTION_RULES = (
    ("namespace", dns_label("Namespace")),
    ("name", dns_subdomain("StorageCluster")),
    # The target version is the image's tag (image_version), so a reference without one is refused here.
    ("image", image_reference("portworx/oci-monitor:3.6.1", require_tag=True)),
    ("allow_restart_vms[]", namespaced_name("VirtualMachine")),
    ("migration_retries", count(minimum=0)),
)


class PortworxUpgradeModule(OcpVirtModule):
    option_rules = OPTION_RULES

    def option_subject(self):
        name = self.params["name"]
        return "StorageCluster {0}/{1}".format(
            describe_name(self.params["namespace"]), describe_name(name) if name is not None else "(the only one)")

    def __init__(self):
        super(PortworxUpgradeModule, self).__init__(
            argument_spec=dict(
                image=dict(type="str", required=True),
                name=dict(type="str"),
                namespace=dict(type="str", default="portworx"),
                allow_restart_vms=dict(type="list", elements="str", default=[]),
                accept_vm_downtime=dict(type="bool", default=False),
                on_failed_eviction=dict(type="str", choices=["stop", "retry"], default="stop"),
                migration_retries=dict(type="int", default=1),
            ),
        )
        self.result.update(nodes=[], update_order=[], pauses=[], failed_evictions=[], retried_migrations=[])
        self._retries = {}  # "ns/vm" -> [migration names this module started]
        self._handled = set()  # failed operator migrations already acted on

    def execute_module(self):
        cluster = self._storage_cluster()
        namespace, name = cluster["metadata"]["namespace"], cluster["metadata"]["name"]
        self.result["storage_cluster"] = "{0}/{1}".format(namespace, name)
        nodes = self.cluster.list(PORTWORX_API, "StorageNode", namespace=namespace)
        vms = vm_migratability(self._portworx_vmis())
        plan = plan_upgrade(self.params, cluster, nodes, vms)
        self.result.update(from_version=plan.current, to_version=plan.target, vms=vms)
        self._baseline = dict((e["metadata"]["name"], int(e.get("count") or 1)) for e in self._events(namespace))
        if plan.patch is not None:
            self.cluster.patch(PORTWORX_API, "StorageCluster", name, plan.patch, namespace)
            self.changed()
            self.set_diff({"image": (cluster.get("spec") or {}).get("image")}, {"image": plan.image})
        if self.wait_enabled:
            self.waiter().until("Portworx {0} on every storage node".format(plan.target),
                                lambda: self._follow(namespace, name, plan.target),
                                **self._progress_details())
        else:
            self.result["nodes"] = rollout_state(cluster, nodes, plan.target)["nodes"]

    def _storage_cluster(self):
        namespace = self.params["namespace"]
        if self.params["name"]:
            found = self.cluster.get(PORTWORX_API, "StorageCluster", self.params["name"], namespace)
            if found is None:
                raise Refusal(describe("StorageCluster", self.params["name"], namespace), "it does not exist", "Check the name and namespace.")
            return found
        clusters = self.cluster.list(PORTWORX_API, "StorageCluster", namespace=namespace)
        if len(clusters) != 1:
            raise Refusal("StorageClusters in namespace {0}".format(namespace), "there are {0}, not exactly one".format(len(clusters)),
                          "Give the StorageCluster's name.")
        return clusters[0]

    def _portworx_vmis(self):
        vmis = self.cluster.list(KUBEVIRT_API, "VirtualMachineInstance") if self.cluster.served(KUBEVIRT_API, "VirtualMachineInstance") else []
        claims = dict(((c["metadata"]["namespace"], c["metadata"]["name"]), c) for c in self.cluster.list("v1", "PersistentVolumeClaim"))
        classes = dict((c["metadata"]["name"], c) for c in self.cluster.list(STORAGE_API, "StorageClass"))
        return portworx_vmis(vmis, claims, classes)

    def _events(self, namespace):
        return [e for e in self.cluster.list("v1", "Event", namespace=namespace)
                if (e.get("involvedObject") or {}).get("kind") in ("StorageNode", "StorageCluster")]

    def _progress_details(self):
        return dict((k, self.result[k]) for k in ("update_order", "pauses", "failed_evictions", "retried_migrations"))

    # following the rollout ------------------------------------------------------------------
    def _follow(self, namespace, name, target):
        cluster = self.cluster.get(PORTWORX_API, "StorageCluster", name, namespace)
        state = rollout_state(cluster, self.cluster.list(PORTWORX_API, "StorageNode", namespace=namespace), target)
        self.result["nodes"] = state["nodes"]
        for node in state["updated"]:
            if node not in self.result["update_order"]:
                self.result["update_order"].append(node)
        for event in fresh_events(self._events(namespace), self._baseline):
            self._baseline[event["metadata"]["name"]] = int(event.get("count") or 1)
            if event["reason"] == "UpdatePaused":
                self._note_pause(event)
            else:
                self._on_failed_eviction(event)
        self._check_retries()
        pending = [r["name"] for r in state["nodes"] if r["name"] not in state["updated"]]
        updated = ", ".join(state["updated"]) or "none"
        return state["done"], "nodes on {0}: {1}; waiting for {2}".format(target, updated, ", ".join(pending) or "the StorageCluster status")

    def _note_pause(self, event):
        node = (event.get("involvedObject") or {}).get("name")
        for pause in self.result["pauses"]:
            if pause["node"] == node and pause["message"] == event.get("message"):
                pause["count"] = int(event.get("count") or 1)
                return
        self.result["pauses"].append({"node": node, "message": event.get("message"), "count": int(event.get("count") or 1)})

    def _on_failed_eviction(self, event):
        named = failed_eviction(event)
        if named is None or named["migration"] in self._handled:
            return
        self._handled.add(named["migration"])
        migration = self.cluster.get(KUBEVIRT_API, "VirtualMachineInstanceMigration", named["migration"], named["namespace"])
        vmi = self.cluster.get(KUBEVIRT_API, "VirtualMachineInstance", named["vm"], named["namespace"])
        failure = dict(named, vm=vm_key(named["namespace"], named["vm"]), reason=migration_failure_reason(migration, vmi),
                       event=event.get("message"))
        failure.pop("namespace")
        self.result["failed_evictions"].append(failure)
        if self.params["on_failed_eviction"] == "retry" and len(self._retries.get(failure["vm"], [])) < self.params["migration_retries"]:
            self._retry(named["namespace"], named["vm"])
            return
        raise ModuleFailure(
            "The Portworx update of node {0} is paused: live migration {1} of VM {2} failed ({3}). Stop or migrate the VM "
            "(or run again with on_failed_eviction: retry) so that the update can go on.".format(
                named["node"], named["migration"], failure["vm"], failure["reason"]),
            reason="FailedToEvictVM", **self._progress_details())

    def _retry(self, namespace, vm):
        created = self.cluster.create({
            "apiVersion": KUBEVIRT_API, "kind": "VirtualMachineInstanceMigration",
            "metadata": {"generateName": "{0}-px-upgrade-retry-".format(vm), "namespace": namespace},
            "spec": {"vmiName": vm}})
        self._retries.setdefault(vm_key(namespace, vm), []).append(created["metadata"]["name"])
        self.result["retried_migrations"].append({"vm": vm_key(namespace, vm), "migration": created["metadata"]["name"], "phase": None})

    def _check_retries(self):
        for retry in self.result["retried_migrations"]:
            if retry["phase"] in ("Succeeded", "Failed"):
                continue
            namespace, vm = retry["vm"].split("/", 1)
            migration = self.cluster.get(KUBEVIRT_API, "VirtualMachineInstanceMigration", retry["migration"], namespace)
            retry["phase"] = ((migration or {}).get("status") or {}).get("phase")
            if retry["phase"] != "Failed":
                continue
            if len(self._retries[retry["vm"]]) < self.params["migration_retries"]:
                self._retry(namespace, vm)
                return
            vmi = self.cluster.get(KUBEVIRT_API, "VirtualMachineInstance", vm, namespace)
            raise ModuleFailure("The Portworx update is paused: the retried live migration {0} of VM {1} failed too ({2}). "
                                "Stop or migrate the VM so that the update can go on.".format(
                                    retry["migration"], retry["vm"], migration_failure_reason(migration, vmi)),
                                reason="FailedToEvictVM", **self._progress_details())


def main():
    PortworxUpgradeModule().run()


if __name__ == "__main__":
    main()
