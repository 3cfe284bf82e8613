#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: optional_objects
short_description: Create or update objects of optional APIs, skipping those the cluster does not serve
version_added: 0.1.0
author:
  - ocpvirt.portworx maintainers (@ocpvirt)
description:
  - For each definition in O(objects), creates the object when it is missing, merge-patches the fields the
    definition names when they differ, and writes nothing when the object already has them.
  - An object whose API (C(apiVersion) and C(kind)) the cluster does not serve is skipped and reported in
    RV(not_served) instead of failing, for components that are optional on OpenShift such as the CSI snapshot API
    (the CSISnapshot capability) or Portworx Autopilot's C(AutopilotRule).
  - All objects in one module process, each with one read and at most one write.
  - When a later object's write fails after an earlier one succeeded, the failure names the objects already
    written, with RV(half_done) and RV(done); running the task again finishes.
options:
  objects:
    description:
      - Full definitions (C(apiVersion), C(kind), C(metadata.name), and C(metadata.namespace) for namespaced
        kinds), applied in order.
      - Fields a definition does not name are left alone on an existing object.
    type: list
    elements: dict
    required: true
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
notes:
  - Supports check mode (every write is a server-side dry run) and diff mode. Transient API errors are retried.
"""

EXAMPLES = r"""
- name: The default Portworx VolumeSnapshotClass, when the snapshot API is served
  ocpvirt.portworx.optional_objects:
    objects:
      - apiVersion: snapshot.storage.k8s.io/v1
        kind: VolumeSnapshotClass
        metadata:
          name: px-csi-snapclass
        driver: pxd.portworx.com
        deletionPolicy: Delete
  register: optional
  # optional.not_served lists "VolumeSnapshotClass px-csi-snapclass" on a cluster without the capability
"""

RETURN = r"""
objects:
  description: One entry per definition, in order.
  returned: always
  type: list
  elements: dict
  sample: [{"api_version": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass", "name": "px-csi-snapclass",
            "served": true, "outcome": "unchanged"}]
not_served:
  description: C(Kind name) of each object skipped because the cluster does not serve its API.
  returned: always
  type: list
  elements: str
  sample: ["AutopilotRule pool-rebalance"]
retries:
  description: How many transient API errors were retried.
  returned: when there were any
  type: int
half_done:
  description: True when a write failed after earlier writes of the same task had succeeded.
  returned: when a later write failed
  type: bool
done:
  description: The objects already created or patched when a later one failed.
  returned: when a later write failed
  type: list
  elements: str
  sample: ["VolumeSnapshotClass px-csi-snapclass created"]
"""

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure, half_done
from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import OcpVirtModule
from ansible_collections.ocpvirt.portworx.plugins.module_utils.optional_object_plan import ARGUMENT_SPEC, OPTION_RULES, identify, object_write


class OptionalObjectsModule(OcpVirtModule):
    has_wait_options = False
    option_rules = OPTION_RULES

    def option_subject(self):
        return "optional objects"

    def execute_module(self):
        definitions = [identify(index, definition) for index, definition in enumerate(self.params["objects"])]
        reports, before, after = [], {}, {}
        for definition in definitions:
            try:
                report = self._ensure(definition, before, after)
            except ModuleFailure as failure:
                self.result["objects"] = reports
                done = ["{kind} {name} {outcome}".format(**r) for r in reports if r["outcome"] in ("created", "patched")]
                raise half_done(failure, done, "The later objects were not applied; run the task again to finish")
            reports.append(report)
        self.result["objects"] = reports
        self.result["not_served"] = ["{kind} {name}".format(**r) for r in reports if not r["served"]]
        self.set_diff(before, after)

    def _ensure(self, definition, before, after):
        api_version, kind, metadata = definition["apiVersion"], definition["kind"], definition["metadata"]
        name, namespace = metadata["name"], metadata.get("namespace")
        report = {"api_version": api_version, "kind": kind, "name": name, "served": self.cluster.served(api_version, kind)}
        if not report["served"]:
            report["outcome"] = "skipped"
            return report
        key = "{0} {1}".format(kind, name)
        existing = self.cluster.get(api_version, kind, name, namespace)
        action, payload = object_write(existing, definition)
        if action == "none":
            report["outcome"] = "unchanged"
            return report
        if action == "create":
            result, report["outcome"] = self.cluster.create(payload), "created"
        else:
            result, report["outcome"] = self.cluster.patch(api_version, kind, name, payload, namespace), "patched"
        self.changed()
        before[key], after[key] = existing or {}, result
        return report


def main():
    OptionalObjectsModule(argument_spec=ARGUMENT_SPEC).run()


if __name__ == "__main__":
    main()
