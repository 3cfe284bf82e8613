# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge the StorageClass step (``portworx_storage_class`` with ``classes``): every class unchanged, every profile reported."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import CDI_API, STORAGE_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.judge import Doubt, doubt_if, wait_met
from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.options import validated
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage_class_plan import (
    ARGUMENT_SPEC,
    CLASS_ARGUMENT_SPEC,
    OPTION_RULES,
    PER_CLASS_OPTIONS,
    REQUIRED_PROFILE_MODES,
    class_plan,
    needs_discovery,
    profile_ready,
    wanted_class,
)


def judge_storage_classes(cluster, options, context):
    params = validated(ARGUMENT_SPEC, OPTION_RULES, options, "classes")
    if not params["classes"] or params["parameters"] or params["annotations"] or not params["discover"] \
            or any(params[option] is not None for option in PER_CLASS_OPTIONS):
        raise Doubt("only the classes form of the module is judged")
    if not cluster.served(CDI_API, "StorageProfile"):
        raise Doubt("CDI StorageProfiles are not served (the module would warn)")
    storage_classes = cluster.list(STORAGE_API, "StorageClass")
    by_name = dict((sc["metadata"]["name"], sc) for sc in storage_classes)
    profiles = dict((p["metadata"]["name"], p) for p in cluster.list(CDI_API, "StorageProfile"))
    results = [_judge_class(_class_params(item, params["recreate"]), storage_classes, by_name, profiles) for item in params["classes"]]
    vm_class = [r for r in results if r["preset"] == "vm_block"]
    context["vm_class"] = vm_class[0]["name"] if vm_class else ""
    return {"changed": False, "classes": results}


def _class_params(item, recreate):
    result = ArgumentSpecValidator(CLASS_ARGUMENT_SPEC).validate(item)
    if result.error_messages:
        raise Doubt("an item of classes does not validate: " + "; ".join(result.error_messages))
    return dict(result.validated_parameters, recreate=recreate)


def _judge_class(params, storage_classes, by_name, profiles):
    discovering = needs_discovery(params)
    lookup = profiles if discovering and params["preset"] in REQUIRED_PROFILE_MODES else None
    wanted, report, warnings = wanted_class(params, storage_classes if discovering else None, lookup)
    name = wanted["metadata"]["name"]
    plan, more_warnings = class_plan(params, wanted, report, by_name.get(name))
    doubt_if(warnings + more_warnings)
    if plan["action"] != "none":
        raise Doubt("StorageClass {0}: the module would {1} it".format(name, plan["action"]))
    profile = wait_met(profile_ready(profiles.get(name), plan["existing"]), "CDI's claim property sets of StorageProfile " + name)
    report.update(outcome="unchanged", storage_class=plan["existing"], storage_profile=profile,
                  claim_property_sets=profile["status"]["claimPropertySets"])
    return report
