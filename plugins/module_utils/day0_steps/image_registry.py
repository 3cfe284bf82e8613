# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge the image registry step: claim and config as wanted, and the registry settled (claim Bound, operator, pods, route)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import APPS_API, CDI_API, CONFIG_API, IMAGE_REGISTRY_API, ROUTE_API, STORAGE_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.judge import Doubt, wait_met
from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.options import validated
from ansible_collections.ocpvirt.portworx.plugins.module_utils.expansion import claim_in_use, expansion_progress
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
    plan_claim,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.registry_state import (
    ARGUMENT_SPEC,
    OPTION_RULES,
    claim_bound,
    operator_settled,
    pods_ready,
    route_admitted,
)


def judge_image_registry(cluster, options, context):
    params = validated(ARGUMENT_SPEC, OPTION_RULES, options, "configs.imageregistry.operator.openshift.io/cluster")
    if params["state"] != "managed" or params["access_mode"] == READ_WRITE_ONCE:
        raise Doubt("only a managed registry on a ReadWriteMany claim is judged (the module warns about ReadWriteOnce)")
    config = cluster.get(IMAGE_REGISTRY_API, "Config", REGISTRY_CONFIG_NAME)
    claim = cluster.get("v1", "PersistentVolumeClaim", params["pvc_name"], REGISTRY_NAMESPACE)
    if config is None or claim is None:
        raise Doubt("the registry config or its claim does not exist")
    check_replicas(params["replicas"], params["access_mode"])
    profiles = dict((p["metadata"]["name"], p) for p in cluster.list(CDI_API, "StorageProfile")) if cluster.served(CDI_API, "StorageProfile") else {}
    plan = plan_claim(claim, cluster.list(STORAGE_API, "StorageClass"), profiles, params)
    if plan.create or plan.grow or config_patch(config.get("spec"), desired_spec(params)):
        raise Doubt("the module would write the claim or the registry config")
    wait_met(claim_bound(claim), "the registry claim Bound")
    if plan.expansion is not None:
        pods = cluster.list("v1", "Pod", namespace=REGISTRY_NAMESPACE)
        wait_met(expansion_progress(claim, params["pvc_size"], claim_in_use(pods, params["pvc_name"])), "the registry claim at its size")
    wait_met(operator_settled(cluster.get(CONFIG_API, "ClusterOperator", REGISTRY_OPERATOR)), "the ClusterOperator image-registry settled")
    wait_met(pods_ready(cluster.get(APPS_API, "Deployment", REGISTRY_DEPLOYMENT, REGISTRY_NAMESPACE), params["replicas"]), "the registry pods ready")
    host = None
    if params["default_route"]:
        host = wait_met(route_admitted(cluster.get(ROUTE_API, "Route", DEFAULT_ROUTE, REGISTRY_NAMESPACE)), "the default route admitted")
    return {"changed": False, "route_host": host, "storage_class": plan.storage_class}
