#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: virt_default_storage_class
short_description: Make one StorageClass the default for virtual machine disks, safely
version_added: 0.1.0
author:
  - ocpvirt.portworx maintainers (@ocpvirt)
description:
  - Ends with exactly one StorageClass annotated C(storageclass.kubevirt.io/is-default-virt-class=true),
    and with O(cluster_default=true) exactly one annotated C(storageclass.kubernetes.io/is-default-class=true).
  - Writes in the documented order, every other default is first set to V(false), then the
    target to V(true). A run interrupted between the two writes converges when run again.
  - When a later write fails after an earlier one succeeded, the failure says which classes were already
    un-defaulted and which class is the default now (or that none is), with RV(half_done); running the task
    again finishes the swap.
  - By default refuses a class whose CDI StorageProfile does not list ReadWriteMany, because VM disks on it
    cannot live-migrate, boot sources are not imported automatically and the
    C(CDIDefaultStorageClassDegraded) alert fires.
  - Reads the CDI alerts about default classes after the change from where OpenShift serves them to a token
    holder, the C(thanos-querier) Route in C(openshift-monitoring) (or O(alerts_url)), with the same token and CA
    as the API. The API server's service proxy is not used - it does not pass the token on, and thanos-querier
    refuses requests without one. When the alerts cannot be read there (no Route, unreachable, 401 or 403), the
    same conditions are derived from the objects CDI derives them from (the default classes, their
    StorageProfiles and the VolumeSnapshotClasses); RV(alerts_source) says which source was used.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ocpvirt.portworx.common.WAIT
options:
  name:
    description:
      - The StorageClass to make the default for VM disks, a DNS-1123 subdomain.
      - In check mode a class that does not exist yet (an earlier task of the run would create it) is planned
        against with a warning and its ReadWriteMany check is left to the real run, which refuses a missing class.
    type: str
    required: true
  cluster_default:
    description:
      - Also make it the Kubernetes default StorageClass (and un-default the others).
      - With V(false) the Kubernetes default annotation is left as it is.
    type: bool
    default: false
  require_rwx:
    description:
      - Refuse a class whose StorageProfile does not list ReadWriteMany.
      - ReadWriteMany with Block volumes is preferred; ReadWriteMany with only Filesystem gives a warning.
    type: bool
    default: true
  alerts_url:
    description:
      - Base URL of the Prometheus API that serves C(/api/v1/alerts), for example
        C(https://thanos-querier-openshift-monitoring.apps.example.com).
      - Must be an absolute C(http://) or C(https://) URL with a host and without a query or fragment, as the API path
        is appended to it; other values are refused before any request.
      - Default - C(https://) and the host of the Route C(thanos-querier) in C(openshift-monitoring).
    type: str
notes:
  - Supports check mode (every patch is sent as a server-side dry run) and diff mode.
  - With O(wait=true) the task waits until C(CDIMultipleDefaultVirtStorageClasses) and
    C(CDINoDefaultStorageClass) are no longer active. When the monitoring API cannot be read the
    task does not fail; the alerts are then derived and a warning says why.
"""

EXAMPLES = r"""
- name: Make the Portworx RWX block class the default for VM disks
  ocpvirt.portworx.virt_default_storage_class:
    name: px-rwx-block-kubevirt
  register: virt_default

- name: Also make it the cluster default
  ocpvirt.portworx.virt_default_storage_class:
    name: px-rwx-block-kubevirt
    cluster_default: true

- name: Show what was the default before
  ansible.builtin.debug:
    var: virt_default.previous_defaults
"""

RETURN = r"""
default:
  description: The StorageClass that is now the default for VM disks.
  returned: success
  type: str
  sample: px-rwx-block-kubevirt
previous_defaults:
  description: The classes that carried a default annotation V(true) before the task.
  returned: success
  type: dict
  contains:
    virt:
      description: Classes annotated C(storageclass.kubevirt.io/is-default-virt-class=true).
      type: list
      elements: str
      sample: [px-csi-db]
    cluster:
      description: Classes annotated C(storageclass.kubernetes.io/is-default-class=true).
      type: list
      elements: str
      sample: [px-csi-db]
defaults:
  description: The default classes after the task, in the same form as RV(previous_defaults).
  returned: success
  type: dict
  sample: {"virt": ["px-rwx-block-kubevirt"], "cluster": ["px-csi-db"]}
claim_property_sets:
  description: C(status.claimPropertySets) of the target's CDI StorageProfile.
  returned: success
  type: list
  elements: dict
  sample: [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}]
alerts:
  description:
    - The CDI alerts that are pending or firing after the change, as the monitoring reports them or, when it
      could not be read, as derived from the cluster's objects (see RV(alerts_source)).
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Alert name.
      type: str
      sample: CDIDefaultStorageClassDegraded
    state:
      description: V(pending) or V(firing).
      type: str
      sample: firing
    summary:
      description: The alert's summary annotation.
      type: str
    active_at:
      description: When the alert became active.
      type: str
alerts_source:
  description:
    - Where RV(alerts) come from - the alerts URL that was read, or C(derived from the StorageClasses and
      StorageProfiles) followed by why the monitoring could not be read.
  returned: success
  type: str
  sample: https://thanos-querier-openshift-monitoring.apps.example.com/api/v1/alerts
firing_alerts:
  description: Names of the CDI alerts firing after the change.
  returned: success
  type: list
  elements: str
  sample: []
half_done:
  description: True when a write failed after earlier writes of the swap had succeeded.
  returned: when a later write failed
  type: bool
undefaulted:
  description: The classes whose default annotation was already set to V(false) when a later write failed.
  returned: when a later write failed
  type: list
  elements: str
  sample: ["px-csi-db"]
retries:
  description: Number of transient API errors that were retried.
  returned: when there were any
  type: int
  sample: 1
"""

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import CDI_API, ROUTE_API, SNAPSHOT_API, STORAGE_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.cdi_alerts import (
    CLEARED_BY_ONE_DEFAULT,
    DERIVED,
    MONITORING_NAMESPACE,
    THANOS_ROUTE,
    active,
    alerts_endpoint,
    cdi_alerts,
    derive_alerts,
    firing,
    route_host,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.check_mode import planned_storage_class, would_exist_warning
from ansible_collections.ocpvirt.portworx.plugins.module_utils.default_class import annotation_patch, defaults_now, plan_default_class
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure
from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import OcpVirtModule
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import base_url, describe_name, dns_subdomain


OPTION_RULES = (
    ("name", dns_subdomain("StorageClass")),
    ("alerts_url", base_url("https://thanos-querier-openshift-monitoring.apps.example.com")),
)


class VirtDefaultStorageClassModule(OcpVirtModule):
    option_rules = OPTION_RULES

    def option_subject(self):
        return "StorageClass {0}".format(describe_name(self.params["name"]))

    def __init__(self):
        super(VirtDefaultStorageClassModule, self).__init__(
            argument_spec=dict(
                name=dict(type="str", required=True),
                cluster_default=dict(type="bool", default=False),
                require_rwx=dict(type="bool", default=True),
                alerts_url=dict(type="str"),
            ),
        )
        self._alerts_url = None
        self._monitoring_problem = None

    def execute_module(self):
        name = self.params["name"]
        classes = self.cluster.list(STORAGE_API, "StorageClass")
        profiles = {}
        if self.cluster.served(CDI_API, "StorageProfile"):
            profiles = dict((p["metadata"]["name"], p) for p in self.cluster.list(CDI_API, "StorageProfile"))
        require_rwx, planned = self.params["require_rwx"], None
        if self.check_mode and name not in [sc["metadata"]["name"] for sc in classes]:
            self.warn(would_exist_warning("StorageClass {0}".format(name), "whether its StorageProfile offers ReadWriteMany"))
            planned = planned_storage_class(name)
            classes, require_rwx = classes + [planned], False
        plan = plan_default_class(classes, profiles, name, self.params["cluster_default"], require_rwx)
        for warning in plan.warnings:
            self.warn(warning)

        # A dry-run patch of a class that does not exist yet would answer 404: preview it, do not send it.
        self._apply([write for write in plan.writes if planned is None or write[0] != name])
        if plan.changes:
            self.changed()
            self.set_diff(plan.state(classes), plan.state(classes, after=True))

        self.result["default"] = name
        self.result["previous_defaults"] = plan.previous
        self.result["defaults"] = plan.state(classes, after=True)
        self.result["claim_property_sets"] = ((profiles.get(name) or {}).get("status") or {}).get("claimPropertySets") or []
        alerts = self._alerts()
        if self.wait_enabled:
            alerts = self.waiter().until(
                "the CDI alerts {0} to clear".format(", ".join(CLEARED_BY_ONE_DEFAULT)),
                self._alerts_cleared,
            )
        self.result["alerts"] = alerts
        self.result["firing_alerts"] = firing(alerts)
        if "CDIDefaultStorageClassDegraded" in self.result["firing_alerts"]:
            self.warn(
                "CDIDefaultStorageClassDegraded is firing: the default class lacks ReadWriteMany or smart clone "
                "(a VolumeSnapshotClass for its provisioner, or cloneStrategy csi-clone)."
            )

    def _apply(self, writes):
        """The annotation writes in order; a failure after the first says what is left half-done."""
        done = []
        for class_name, values in writes:
            try:
                self.cluster.patch(STORAGE_API, "StorageClass", class_name, annotation_patch(values))
            except ModuleFailure as failure:
                if done:
                    raise self._half_done(failure, done)
                raise
            done.append(class_name)

    def _half_done(self, failure, done):
        """``failure`` plus which classes were already un-defaulted and which class is default now."""
        try:
            now = defaults_now(self.cluster.list(STORAGE_API, "StorageClass"))
            state = "the virt default is now {0}, the cluster default {1}".format(
                ", ".join(now["virt"]) or "none", ", ".join(now["cluster"]) or "none")
        except ModuleFailure as unreadable:
            now = None
            state = "the current defaults could not be read ({0})".format(unreadable.msg)
        failure.msg = "{0}. Half done: {1} already un-defaulted; {2}. Run the task again to finish the swap".format(
            failure.msg, ", ".join(done), state)
        failure.details.update(half_done=True, undefaulted=list(done), defaults=now)
        self.changed()
        return failure

    def _alerts(self):
        """The CDI alerts from the monitoring, else derived from the objects; ``alerts_source`` says which."""
        url = self._alerts_endpoint()
        if url is not None:
            try:
                alerts = cdi_alerts(self.cluster.read_url_json(url, "the CDI alerts at " + url))
                self.result["alerts_source"] = url
                return alerts
            except ModuleFailure as failure:
                self._monitoring_problem = failure.msg
        if not self.result.get("alerts_source", "").startswith(DERIVED):
            self.warn("Could not read the CDI alerts from the cluster monitoring ({0}); derived them from the StorageClasses "
                      "and StorageProfiles instead.".format(self._monitoring_problem))
        self.result["alerts_source"] = "{0} ({1})".format(DERIVED, self._monitoring_problem)
        return self._derived_alerts()

    def _alerts_endpoint(self):
        """``<alerts_url>/api/v1/alerts``, by default on the thanos-querier Route's host; None when there is none.

        Once the monitoring could not be read, every later poll of the run derives, so one run never mixes sources.
        """
        if self._monitoring_problem is not None:
            return None
        if self._alerts_url is None:
            base = self.params.get("alerts_url")
            if not base:
                route = self.cluster.get(ROUTE_API, "Route", THANOS_ROUTE, MONITORING_NAMESPACE) if self.cluster.served(ROUTE_API, "Route") else None
                host = route_host(route)
                if host is None:
                    self._monitoring_problem = "no Route {0}/{1} with a host".format(MONITORING_NAMESPACE, THANOS_ROUTE)
                    return None
                base = "https://" + host
            self._alerts_url = alerts_endpoint(base)
        return self._alerts_url

    def _derived_alerts(self):
        classes = self.cluster.list(STORAGE_API, "StorageClass")
        profiles = {}
        if self.cluster.served(CDI_API, "StorageProfile"):
            profiles = dict((p["metadata"]["name"], p) for p in self.cluster.list(CDI_API, "StorageProfile"))
        snapshot_classes = []
        if self.cluster.served(SNAPSHOT_API, "VolumeSnapshotClass"):
            snapshot_classes = self.cluster.list(SNAPSHOT_API, "VolumeSnapshotClass")
        return derive_alerts(classes, profiles, snapshot_classes)

    def _alerts_cleared(self):
        alerts = self._alerts()
        still = active(alerts, CLEARED_BY_ONE_DEFAULT)
        return (not still), (alerts if not still else "active: {0}".format(", ".join(still)))


def main():
    VirtDefaultStorageClassModule().run()


if __name__ == "__main__":
    main()
