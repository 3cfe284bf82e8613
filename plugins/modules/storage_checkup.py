#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: storage_checkup
short_description: Run the OpenShift Virtualization storage checkup and explain its result
version_added: 0.3.0
author:
  - ocpvirt.portworx maintainers (@ocpvirt)
description:
  - Runs the storage checkup as Red Hat documents it, in a test namespace - the ServiceAccount C(storage-checkup-sa), the
    Role and RoleBinding C(storage-checkup-role), cluster-reader rights (ClusterRoleBinding
    C(kubevirt-storage-checkup-clustereader)), the ConfigMap C(storage-checkup-config) and the Job C(storage-checkup)
    with the checkup image - waits for it, and reads the results from the ConfigMap's C(status.*) keys.
  - Reports each failed check with what it means, how to fix it and the objects it names (for example the
    StorageProfiles with empty C(claimPropertySets)), and fails the task when the checkup failed unless
    O(fail_on_failure=false).
  - Cleans up the Job, the RBAC objects and the ServiceAccount afterwards unless O(keep_resources=true); the ConfigMap
    with the result stays (it is what M(ocpvirt.portworx.readiness_info) reports as the last result) unless
    O(keep_result=false).
  - A finished result for the same settings is no change; the checkup is then not run again unless O(rerun=true). A
    checkup that is still running is only waited for.
  - Refuses, before writing anything, a namespace or StorageClass that does not exist and timeouts that are not
    durations such as V(10m).
  - When a write fails after earlier ones succeeded (setting the checkup up, or cleaning up after it), the failure
    names what is left in place, with RV(half_done) and RV(done); running the task again re-uses it, or reports
    the result and cleans up.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ocpvirt.portworx.common.WAIT
options:
  namespace:
    description: The test namespace the checkup runs in (its test VMs and claims are created there).
    type: str
    required: true
  storage_class:
    description: Check this StorageClass instead of the default one (C(spec.param.storageClass)).
    type: str
  timeout:
    description: How long the checkup may run (C(spec.timeout)), a duration such as V(10m).
    type: str
    default: 10m
  vmi_timeout:
    description: Timeout of each VM operation (C(spec.param.vmiTimeout)), a duration; the checkup's default is 3m.
    type: str
  num_of_vms:
    description: VMs booted at once in the concurrent boot check (C(spec.param.numOfVMs)); the checkup's default is 10.
    type: int
  image:
    description:
      - The checkup image. The default is Red Hat's image for OpenShift Virtualization 4.20 (its exact tag was not
        checked against the 4.20 documentation); use the image of your OpenShift Virtualization release.
    type: str
    default: registry.redhat.io/container-native-virtualization/kubevirt-storage-checkup-rhel9:v4.20
  cluster_reader:
    description: Bind the ServiceAccount to the C(cluster-reader) ClusterRole, as the documentation asks.
    type: bool
    default: true
  rerun:
    description: Run the checkup again even when a finished result for the same settings exists.
    type: bool
    default: false
  keep_resources:
    description: Keep the Job, Role, RoleBinding, ClusterRoleBinding and ServiceAccount after the run.
    type: bool
    default: false
  keep_result:
    description: Keep the ConfigMap with the result after the run.
    type: bool
    default: true
  fail_on_failure:
    description: Fail the task when the checkup reports a failure.
    type: bool
    default: true
notes:
  - Supports check mode (the objects are sent as server-side dry runs; the checkup does not run).
"""

EXAMPLES = r"""
- name: Run the storage checkup before production
  ocpvirt.portworx.storage_checkup:
    namespace: storage-checkup
    wait_timeout: 900
  register: checkup

- name: Check one class, keep everything for debugging, do not fail
  ocpvirt.portworx.storage_checkup:
    namespace: storage-checkup
    storage_class: px-rwx-block-kubevirt
    keep_resources: true
    rerun: true
    fail_on_failure: false
"""

RETURN = r"""
checkup:
  description: The checkup's outcome.
  returned: success or when the checkup failed
  type: dict
  contains:
    succeeded:
      description: C(status.succeeded).
      type: bool
    failed_checks:
      description: Each line of C(status.failureReason) with its meaning, the fix and the objects its result key names.
      type: list
      elements: dict
      sample: [{"reason": "there are StorageProfiles with empty ClaimPropertySets (unknown provisioners)",
                "meaning": "CDI does not know these classes' provisioners, ...", "fix": "Set spec.claimPropertySets ...",
                "objects": ["stork-snapshot-sc"]}]
    notes:
      description: Observations that are not failures (StorageProfiles without a VolumeSnapshotClass).
      type: list
      elements: str
    results:
      description: Every C(status.result.*) key without its prefix.
      type: dict
    start_timestamp:
      description: C(status.startTimestamp).
      type: str
    completion_timestamp:
      description: C(status.completionTimestamp).
      type: str
result_from:
  description: V(this run) or V(earlier run) (a finished result for the same settings was reported).
  returned: success
  type: str
cleaned_up:
  description: The objects deleted after the run.
  returned: success
  type: list
  elements: str
half_done:
  description: True when a write failed after earlier writes of the same task had succeeded.
  returned: when a later write failed
  type: bool
done:
  description: What the checkup had left in place when a later write failed (objects created before the
    checkup could start, or objects not cleaned up after it finished).
  returned: when a later write failed
  type: list
  elements: str
  sample: ["the checkup was not started; left in place: ServiceAccount ns/storage-checkup-sa (created)"]
"""

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import KUBEVIRT_API, STORAGE_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.cluster import describe
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure, Refusal, half_done
from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import OcpVirtModule
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage_checkup import (
    CLUSTER_READER_BINDING,
    CONFIG_MAP,
    DEFAULT_IMAGE,
    JOB,
    ROLE,
    SERVICE_ACCOUNT,
    checkup_objects,
    checkup_state,
    config_data,
    interpret,
    same_config,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import (
    count, describe_name, dns_label, dns_subdomain, duration, image_reference,
)

# The test namespace is a DNS-1123 label, StorageClasses are subdomains; the checkup reads both
# timeouts with Go's time.ParseDuration and needs at least one VM for its concurrent boot check.
OPTION_RULES = (
    ("namespace", dns_label("Namespace")),
    ("storage_class", dns_subdomain("StorageClass")),
    ("timeout", duration("10m")),
    ("vmi_timeout", duration("3m")),
    ("num_of_vms", count(minimum=1)),
    ("image", image_reference(DEFAULT_IMAGE)),
)

RBAC_API = "rbac.authorization.k8s.io/v1"


class StorageCheckupModule(OcpVirtModule):
    option_rules = OPTION_RULES

    def option_subject(self):
        return "The storage checkup in Namespace {0}".format(describe_name(self.params["namespace"]))

    def __init__(self):
        super(StorageCheckupModule, self).__init__(
            argument_spec=dict(
                namespace=dict(type="str", required=True),
                storage_class=dict(type="str"),
                timeout=dict(type="str", default="10m"),
                vmi_timeout=dict(type="str"),
                num_of_vms=dict(type="int"),
                image=dict(type="str", default=DEFAULT_IMAGE),
                cluster_reader=dict(type="bool", default=True),
                rerun=dict(type="bool", default=False),
                keep_resources=dict(type="bool", default=False),
                keep_result=dict(type="bool", default=True),
                fail_on_failure=dict(type="bool", default=True),
            ),
        )
        self.result["cleaned_up"] = []

    def execute_module(self):
        namespace = self.params["namespace"]
        self._refuse_bad_input(namespace)
        config_map = self.cluster.get("v1", "ConfigMap", CONFIG_MAP, namespace)
        state = checkup_state(config_map)
        reuse = same_config(config_map, self.params) and not (state == "complete" and self.params["rerun"])
        if state == "complete" and reuse:
            self.result["result_from"] = "earlier run"
        elif state == "running" and reuse and self.cluster.get("batch/v1", "Job", JOB, namespace) is not None:
            self.result["result_from"] = "this run"  # started by an earlier task: wait for it
        else:
            self._start(namespace)
            self.result["result_from"] = "this run"
        if self.check_mode:
            return
        if checkup_state(config_map) != "complete" or self.result["result_from"] == "this run":
            if not self.wait_enabled:
                return
            config_map = self.waiter().until("the storage checkup in namespace {0} to finish".format(namespace),
                                             lambda: self._finished(namespace))
        self._clean_up(namespace)
        self._report(interpret(config_map))

    def _refuse_bad_input(self, namespace):
        if self.cluster.get("v1", "Namespace", namespace) is None:
            raise Refusal(describe("Namespace", namespace), "it does not exist", "Create the test namespace first.")
        if self.params["storage_class"] and self.cluster.get(STORAGE_API, "StorageClass", self.params["storage_class"]) is None:
            raise Refusal(describe("StorageClass", self.params["storage_class"]), "it does not exist",
                          "Check the name, or leave storage_class out to check the default class.")
        if not self.cluster.served(KUBEVIRT_API, "VirtualMachine"):
            raise Refusal("storage checkup", "the cluster does not serve kubevirt.io/v1 VirtualMachines", "Install OpenShift Virtualization first.")

    def _start(self, namespace):
        self.changed()
        done = []
        for definition in checkup_objects(namespace, self.params):
            try:
                self._ensure(definition, namespace, done)
            except ModuleFailure as failure:
                raise half_done(failure, ["the checkup was not started; left in place: " + ", ".join(done)] if done else [],
                                "Run the task again: it re-uses them, starts the checkup and cleans up after it")

    def _ensure(self, definition, namespace, done):
        """Create (or bring up to date) one object the checkup needs; ``done`` gets what was written."""
        kind, name = definition["kind"], definition["metadata"]["name"]
        subject = describe(kind, name, definition["metadata"].get("namespace"))
        existing = self.cluster.get(definition["apiVersion"], kind, name, definition["metadata"].get("namespace"))
        if kind == "Job" and existing is not None:
            self.cluster.delete("batch/v1", "Job", JOB, namespace, propagation="Background")
            if not self.check_mode:
                self.waiter().until("the old checkup Job to go", lambda: (self.cluster.get("batch/v1", "Job", JOB, namespace) is None, "still there"))
            existing = None
        if existing is None:
            self.cluster.create(definition)
            done.append(subject + " (created)")
        elif kind == "ConfigMap":
            self.cluster.update("v1", "ConfigMap", CONFIG_MAP, lambda cm: cm.__setitem__("data", config_data(self.params)) or True, namespace)
            done.append(subject + " (reset)")
        elif kind == "Role" and existing.get("rules") != definition["rules"]:
            self.cluster.update(RBAC_API, "Role", ROLE, lambda role: role.__setitem__("rules", definition["rules"]) or True, namespace)
            done.append(subject + " (updated)")

    def _finished(self, namespace):
        config_map = self.cluster.get("v1", "ConfigMap", CONFIG_MAP, namespace)
        if checkup_state(config_map) == "complete":
            return True, config_map
        job = self.cluster.get("batch/v1", "Job", JOB, namespace)
        failed = any(c.get("type") == "Failed" and c.get("status") == "True" for c in ((job or {}).get("status") or {}).get("conditions") or [])
        if failed:
            raise ModuleFailure("The storage checkup Job {0}/{1} failed without writing a result to ConfigMap {2}; read the Job's "
                                "pod log.".format(namespace, JOB, CONFIG_MAP), reason="CheckupFailed")
        return False, "ConfigMap {0}: {1}".format(CONFIG_MAP, checkup_state(config_map))

    def _clean_up(self, namespace):
        doomed = []
        if not self.params["keep_resources"]:
            doomed = [("batch/v1", "Job", JOB, namespace), (RBAC_API, "RoleBinding", ROLE, namespace), (RBAC_API, "Role", ROLE, namespace),
                      ("v1", "ServiceAccount", SERVICE_ACCOUNT, namespace), (RBAC_API, "ClusterRoleBinding", CLUSTER_READER_BINDING, None)]
        if not self.params["keep_result"]:
            doomed.append(("v1", "ConfigMap", CONFIG_MAP, namespace))
        for index, (api_version, kind, name, ns) in enumerate(doomed):
            try:
                if self.cluster.get(api_version, kind, name, ns) is None:
                    continue
                self.cluster.delete(api_version, kind, name, ns, propagation="Background")
            except ModuleFailure as failure:
                left = ", ".join(describe(k, n, other_ns) for dummy, k, n, other_ns in doomed[index:])
                raise half_done(failure, ["the checkup finished; not cleaned up yet: " + left],
                                "Run the task again: it reports the result and removes them")
            self.changed()
            self.result["cleaned_up"].append(describe(kind, name, ns))

    def _report(self, outcome):
        self.result["checkup"] = outcome
        for note in outcome["notes"]:
            self.warn(note)
        if outcome["succeeded"] or not self.params["fail_on_failure"]:
            return
        raise ModuleFailure("The storage checkup failed: {0}".format("; ".join(
            "{0} ({1}{2}). {3}".format(f["reason"], f["meaning"], ": " + ", ".join(f["objects"]) if f["objects"] else "", f["fix"])
            for f in outcome["failed_checks"]) or "no failure reason given"), reason="CheckupFailed")


def main():
    StorageCheckupModule().run()


if __name__ == "__main__":
    main()
