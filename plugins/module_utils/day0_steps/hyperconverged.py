# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge the HyperConverged step: no patch planned, the operator settled and CDIConfig showing the effect."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import CDI_API, HCO_API, STORAGE_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.judge import Doubt, doubt_if, wait_met
from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.options import validated
from ansible_collections.ocpvirt.portworx.plugins.module_utils.hyperconverged_options import ARGUMENT_SPEC, OPTION_RULES
from ansible_collections.ocpvirt.portworx.plugins.module_utils.hyperconverged_spec import (
    CDI_CONFIG_NAME,
    check,
    effect_missing,
    filesystem_vm_volumes,
    managed_view,
    observed_effect,
    settled,
    spec_patch,
    wanted_spec,
)


def judge_hyperconverged(cluster, options, context):
    params = validated(ARGUMENT_SPEC, OPTION_RULES, options, "HyperConverged")
    name, namespace = params["name"], params["namespace"]
    hco = cluster.get(HCO_API, "HyperConverged", name, namespace)
    if hco is None:
        raise Doubt("HyperConverged {0}/{1} does not exist".format(namespace, name))
    spec = wanted_spec(params)
    if not any(key in spec for key in ("scratchSpaceStorageClass", "filesystemOverhead")):
        raise Doubt("the module would not verify the effect on CDI; only steps it verifies are judged")
    if not (cluster.served(CDI_API, "StorageProfile") and cluster.served(CDI_API, "CDIConfig")):
        raise Doubt("CDI StorageProfile or CDIConfig not served")
    classes = dict((sc["metadata"]["name"], sc) for sc in cluster.list(STORAGE_API, "StorageClass"))
    profiles = dict((p["metadata"]["name"], p) for p in cluster.list(CDI_API, "StorageProfile"))
    volumes = filesystem_vm_volumes(cluster.list("v1", "PersistentVolumeClaim")) if "filesystemOverhead" in spec else 0
    errors, warnings = check(spec, classes, profiles, volumes, allow_unsafe_vm_state_class=params["allow_unsafe_vm_state_class"])
    if errors:
        raise Doubt("the module would refuse: " + "; ".join(errors))
    doubt_if(warnings)
    if spec_patch(hco, spec):
        raise Doubt("the module would patch the HyperConverged spec")
    wait_met(settled(hco), "HyperConverged {0}/{1} settled".format(namespace, name))
    config = cluster.get(CDI_API, "CDIConfig", CDI_CONFIG_NAME)
    missing = effect_missing(spec, config)
    if missing:
        raise Doubt("CDIConfig does not reflect the settings yet: " + "; ".join(missing))
    return {"changed": False, "patch": {}, "spec": managed_view(hco, spec), "observed": observed_effect(config),
            "conditions": ((hco.get("status") or {}).get("conditions") or [])}
