#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: image_registry
short_description: Enable (or remove) the OpenShift internal image registry on a Portworx volume
version_added: 0.1.0
author:
  - ocpvirt.portworx maintainers (@ocpvirt)
description:
  - On bare metal with Portworx there is no object storage, so the image registry operator starts
    C(Removed); the Migration Toolkit for Virtualization needs the registry for its VDDK image.
  - With O(state=managed), creates the claim O(pvc_name) in C(openshift-image-registry) (or accepts
    an existing one; a bigger claim is kept, a smaller one is grown exactly as
    M(ocpvirt.portworx.volume_expand) does), then sends one merge patch to
    C(configs.imageregistry.operator.openshift.io/cluster) with C(managementState), C(replicas),
    C(storage.pvc.claim), C(defaultRoute) and, for ReadWriteOnce, C(rolloutStrategy=Recreate).
  - The registry claim is a plain PVC, not a CDI DataVolume, so a class is judged by what its provisioner gives
    such a claim, not by its StorageProfile (which only steers DataVolumes). The Portworx CSI provisioner
    C(pxd.portworx.com) gives a ReadWriteOnce or ReadWriteMany Filesystem claim on any class (ReadWriteMany as a
    sharedv4 volume, also without C(sharedv4=true)); for other provisioners the StorageProfile decides.
  - Without O(storage_class), picks a Portworx class that gives O(access_mode) with Filesystem volumes,
    sharedv4 classes first, then the most Portworx replicas.
  - Refuses before writing anything - more than one replica on a ReadWriteOnce claim; a class that
    cannot give the access mode with Filesystem (the message lists what its StorageProfile offers and
    names a class that would work); a Portworx class with C(repl) below 2 unless
    O(allow_single_replica=true).
  - Waits for the claim to be Bound, the ClusterOperator C(image-registry) to be Available, not
    Progressing and not Degraded, the registry pods to be Ready and the route to have a host.
  - With O(state=removed), sets C(managementState=Removed) and waits for the registry to be gone.
    The claim and its data are kept.
  - When the Config patch fails after the claim was created or expanded, the failure says so, with RV(half_done)
    and RV(done); running the task again finishes.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ocpvirt.portworx.common.WAIT
options:
  state:
    description:
      - V(managed) runs the registry on the claim, V(removed) removes the registry (the claim stays).
    type: str
    choices: [managed, removed]
    default: managed
  storage_class:
    description:
      - StorageClass for a new claim. Default - discover a Portworx class that gives a plain claim
        O(access_mode) with Filesystem volumes and that keeps at least 2 replicas (any replication
        with O(allow_single_replica=true)); sharedv4 classes first, then the most replicas.
      - For an existing claim it must be the claim's class, or omitted. A DNS-1123 subdomain; an empty name is refused.
    type: str
  pvc_name:
    description:
      - Name of the registry claim in C(openshift-image-registry), a DNS-1123 subdomain.
    type: str
    default: registry-storage-pvc
  pvc_size:
    description:
      - Size of the claim as a Kubernetes quantity, a whole number of bytes of at least 1Mi (for example V(300Gi);
        V(300GB) is refused, and so is V(300), which would mean 300 bytes). An existing smaller claim is grown to it.
    type: str
    default: 300Gi
  access_mode:
    description:
      - Access mode of the claim. V(ReadWriteOnce) limits the registry to one pod with the Recreate
        rollout and is not for production (the task warns).
    type: str
    choices: [ReadWriteMany, ReadWriteOnce]
    default: ReadWriteMany
  replicas:
    description:
      - Number of registry pods, at least 1.
    type: int
    default: 2
  default_route:
    description:
      - Expose the registry with the route C(default-route) in C(openshift-image-registry).
    type: bool
    default: true
  allow_single_replica:
    description:
      - Accept a Portworx class whose C(repl) is below 2 (the registry then does not survive the
        loss of the node that holds its volume).
    type: bool
    default: false
notes:
  - Supports check mode (every write is sent as a server-side dry run) and diff mode.
"""

EXAMPLES = r"""
- name: Run the registry with two pods on a discovered Portworx RWX filesystem class
  ocpvirt.portworx.image_registry:
  register: registry

- name: Show the registry route
  ansible.builtin.debug:
    msg: "{{ registry.route_host }}"

- name: Run the registry on a given class with a 500Gi claim
  ocpvirt.portworx.image_registry:
    storage_class: px-rwx-file-kubvirt
    pvc_size: 500Gi

- name: Remove the registry again (the claim is kept)
  ocpvirt.portworx.image_registry:
    state: removed
"""

RETURN = r"""
config:
  description: Spec and status of C(configs.imageregistry.operator.openshift.io/cluster) after the task.
  returned: success
  type: dict
  contains:
    spec:
      description: The config spec; the value of C(httpSecret) is masked.
      type: dict
      sample: {"managementState": "Managed", "replicas": 2, "storage": {"pvc": {"claim": "registry-storage-pvc"}}}
    status:
      description: The config status.
      type: dict
claim:
  description: The registry claim; null with O(state=removed) when there is none.
  returned: success
  type: dict
  contains:
    name:
      description: Name of the claim.
      type: str
      sample: registry-storage-pvc
    namespace:
      description: Always C(openshift-image-registry).
      type: str
    storage_class:
      description: Its StorageClass.
      type: str
      sample: px-rwx-file-kubvirt
    access_modes:
      description: Its access modes.
      type: list
      elements: str
      sample: [ReadWriteMany]
    request:
      description: Requested size.
      type: str
      sample: 300Gi
    capacity:
      description: Provisioned size.
      type: str
      sample: 300Gi
    phase:
      description: Phase of the claim.
      type: str
      sample: Bound
    created:
      description: Whether this task created the claim.
      type: bool
    expanded:
      description: Whether this task grew the claim.
      type: bool
route_host:
  description: Host of the route C(default-route); null without a route.
  returned: success
  type: str
  sample: default-route-openshift-image-registry.apps.ocp.example.com
storage_class:
  description: The class the registry claim is on; null with O(state=removed) and no claim.
  returned: success
  type: str
  sample: px-rwx-file-kubvirt
cluster_operator:
  description: Conditions of the ClusterOperator C(image-registry), as C(type -> status).
  returned: success
  type: dict
  sample: {"Available": "True", "Progressing": "False", "Degraded": "False"}
retries:
  description: Number of transient API errors that were retried.
  returned: when there were any
  type: int
  sample: 1
half_done:
  description: True when a write failed after earlier writes of the same task had succeeded.
  returned: when a later write failed
  type: bool
done:
  description: The claim created (or expanded) when the registry Config patch that should point at it failed.
  returned: when a later write failed
  type: list
  elements: str
  sample: ["PersistentVolumeClaim openshift-image-registry/registry-storage-pvc created, the registry Config not changed yet"]
"""

import copy

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import APPS_API, CDI_API, CONFIG_API, IMAGE_REGISTRY_API, ROUTE_API, STORAGE_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure, NotFound, half_done
from ansible_collections.ocpvirt.portworx.plugins.module_utils.expansion import (
    capacity,
    claim_in_use,
    expansion_patch,
    expansion_progress,
    phase,
    requested_size,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.module import OcpVirtModule
from ansible_collections.ocpvirt.portworx.plugins.module_utils.registry_plan import (
    DEFAULT_ROUTE,
    READ_WRITE_ONCE,
    REGISTRY_CONFIG_NAME,
    REGISTRY_DEPLOYMENT,
    REGISTRY_NAMESPACE,
    REGISTRY_OPERATOR,
    check_replicas,
    config_patch,
    desired_spec,
    owned_view,
    plan_claim,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.registry_state import (
    ARGUMENT_SPEC,
    OPTION_RULES,
    claim_bound,
    conditions,
    operator_settled,
    pods_ready,
    route_admitted,
    route_host,
)


class ImageRegistryModule(OcpVirtModule):
    option_rules = OPTION_RULES

    def option_subject(self):
        return "configs.imageregistry.operator.openshift.io/cluster"

    def __init__(self):
        super(ImageRegistryModule, self).__init__(argument_spec=copy.deepcopy(ARGUMENT_SPEC))

    def execute_module(self):
        config = self.cluster.get(IMAGE_REGISTRY_API, "Config", REGISTRY_CONFIG_NAME)
        if config is None:
            raise NotFound("configs.imageregistry.operator.openshift.io/cluster", "is this an OpenShift cluster with the image registry operator?")
        pvc_name = self.params["pvc_name"]
        existing = self.cluster.get("v1", "PersistentVolumeClaim", pvc_name, REGISTRY_NAMESPACE)
        claim_plan = None
        if self.params["state"] == "managed":
            claim_plan = self._plan_claim(existing)
        wanted = desired_spec(self.params)
        patch = config_patch(config.get("spec"), wanted)

        before = {"claim": _claim_view(existing), "config": owned_view(config.get("spec"), wanted)}
        created = expanded = False
        claim = existing
        if claim_plan is not None and claim_plan.create:
            claim = self.cluster.create(claim_plan.definition) or claim_plan.definition
            created = True
        elif claim_plan is not None and claim_plan.grow:
            claim = self.cluster.patch("v1", "PersistentVolumeClaim", pvc_name, expansion_patch(self.params["pvc_size"]), REGISTRY_NAMESPACE) or existing
            expanded = True
        if patch:
            try:
                config = self.cluster.patch(IMAGE_REGISTRY_API, "Config", REGISTRY_CONFIG_NAME, patch) or config
            except ModuleFailure as failure:
                done = ["PersistentVolumeClaim {0}/{1} {2}, the registry Config not changed yet".format(
                    REGISTRY_NAMESPACE, pvc_name, "created" if created else "expanded")] if created or expanded else []
                if done:
                    self.changed()
                raise half_done(failure, done, "Run the task again to point the registry at the claim")
        if created or expanded or patch:
            self.changed()
            self.set_diff(before, {"claim": _claim_view(claim), "config": owned_view(config.get("spec"), wanted)})

        if self.wait_enabled:
            if self.params["state"] == "managed":
                claim, config = self._wait_managed(pvc_name, claim_plan)
            else:
                config = self._wait_removed()
        self._report(config, claim, created, expanded, claim_plan)

    def _plan_claim(self, existing):
        access_mode = self.params["access_mode"]
        check_replicas(self.params["replicas"], access_mode)
        classes = self.cluster.list(STORAGE_API, "StorageClass")
        profiles = {}
        if self.cluster.served(CDI_API, "StorageProfile"):
            profiles = dict((p["metadata"]["name"], p) for p in self.cluster.list(CDI_API, "StorageProfile"))
        plan = plan_claim(existing, classes, profiles, self.params)
        if access_mode == READ_WRITE_ONCE:
            self.warn("A ReadWriteOnce registry claim limits the registry to one pod with the Recreate rollout: not for production.")
        return plan

    # waits ---------------------------------------------------------------------------------
    def _wait_managed(self, pvc_name, claim_plan):
        waiter = self.waiter()
        claim = waiter.until(
            "PersistentVolumeClaim {0}/{1} to be Bound".format(REGISTRY_NAMESPACE, pvc_name),
            lambda: self._claim_bound(pvc_name),
        )
        if claim_plan.expansion is not None:
            waiter.until(
                "PersistentVolumeClaim {0}/{1} to reach {2}".format(REGISTRY_NAMESPACE, pvc_name, self.params["pvc_size"]),
                lambda: self._claim_grown(pvc_name),
            )
        waiter.until("the ClusterOperator image-registry to be Available, not Progressing, not Degraded", self._operator_settled)
        waiter.until("the image registry pods to be Ready", self._pods_ready)
        if self.params["default_route"]:
            waiter.until("the route {0}/{1} to have a host".format(REGISTRY_NAMESPACE, DEFAULT_ROUTE), self._route_admitted)
        claim = self.cluster.get("v1", "PersistentVolumeClaim", pvc_name, REGISTRY_NAMESPACE) or claim
        return claim, self.cluster.get(IMAGE_REGISTRY_API, "Config", REGISTRY_CONFIG_NAME)

    def _wait_removed(self):
        waiter = self.waiter()
        waiter.until("the image registry deployment to be removed", self._deployment_gone)
        waiter.until("the ClusterOperator image-registry to be Available, not Progressing, not Degraded", self._operator_settled)
        return self.cluster.get(IMAGE_REGISTRY_API, "Config", REGISTRY_CONFIG_NAME)

    def _claim_bound(self, pvc_name):
        return claim_bound(self.cluster.get("v1", "PersistentVolumeClaim", pvc_name, REGISTRY_NAMESPACE))

    def _claim_grown(self, pvc_name):
        claim = self.cluster.get("v1", "PersistentVolumeClaim", pvc_name, REGISTRY_NAMESPACE)
        pods = self.cluster.list("v1", "Pod", namespace=REGISTRY_NAMESPACE)
        return expansion_progress(claim, self.params["pvc_size"], claim_in_use(pods, pvc_name))

    def _operator_settled(self):
        return operator_settled(self.cluster.get(CONFIG_API, "ClusterOperator", REGISTRY_OPERATOR))

    def _pods_ready(self):
        return pods_ready(self.cluster.get(APPS_API, "Deployment", REGISTRY_DEPLOYMENT, REGISTRY_NAMESPACE), self.params["replicas"])

    def _route_admitted(self):
        return route_admitted(self.cluster.get(ROUTE_API, "Route", DEFAULT_ROUTE, REGISTRY_NAMESPACE))

    def _deployment_gone(self):
        deployment = self.cluster.get(APPS_API, "Deployment", REGISTRY_DEPLOYMENT, REGISTRY_NAMESPACE)
        return deployment is None, "the deployment still exists" if deployment else None

    # result --------------------------------------------------------------------------------
    def _report(self, config, claim, created, expanded, claim_plan):
        route = None
        if self.params["state"] == "managed" and self.params["default_route"]:
            route = self.cluster.get(ROUTE_API, "Route", DEFAULT_ROUTE, REGISTRY_NAMESPACE)
        claim_facts = _claim_view(claim)
        if claim_facts is not None:
            claim_facts.update(created=created, expanded=expanded)
        operator = self.cluster.get(CONFIG_API, "ClusterOperator", REGISTRY_OPERATOR)
        self.result.update(
            config={"spec": (config or {}).get("spec") or {}, "status": (config or {}).get("status") or {}},
            claim=claim_facts,
            route_host=route_host(route),
            storage_class=(claim_facts or {}).get("storage_class") or (claim_plan.storage_class if claim_plan else None),
            cluster_operator=conditions(operator),
        )


def _claim_view(claim):
    if claim is None:
        return None
    spec = claim.get("spec") or {}
    return {
        "name": claim["metadata"]["name"],
        "namespace": claim["metadata"].get("namespace"),
        "storage_class": spec.get("storageClassName"),
        "access_modes": spec.get("accessModes") or [],
        "request": requested_size(claim),
        "capacity": capacity(claim),
        "phase": phase(claim),
    }


def main():
    ImageRegistryModule().run()


if __name__ == "__main__":
    main()
