# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge the StorageProfile step: each profile's spec already wanted, and CDI's status reflecting it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.apis import CDI_API, STORAGE_API
from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.judge import Doubt
from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.options import validated
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage_profile_check import desired_spec, spec_patch, status_reflects, unsupported_pairs
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage_profile_options import ARGUMENT_SPEC, OPTION_RULES


def judge_storage_profiles(cluster, options, context):
    """``options``: ``profiles`` (the role's items; one without ``name`` is the VM disk class) and ``wait_timeout``."""
    results = []
    for item in options.get("profiles") or []:
        # The role passes each key of the item as it is (a null too: default(omit) replaces only
        # what is undefined) and the VM disk class as the name of an item without one.
        module_options = dict(item or {})
        module_options.setdefault("name", context.get("vm_class") or "")
        module_options["wait_timeout"] = options.get("wait_timeout")
        results.append(_judge_profile(cluster, validated(ARGUMENT_SPEC, OPTION_RULES, module_options, "StorageProfile")))
    return {"changed": False, "results": results}


def _judge_profile(cluster, params):
    name = params["name"]
    wanted = desired_spec(params["claim_property_sets"], params["clone_strategy"], params["data_import_cron_source_format"])
    storage_class = cluster.get(STORAGE_API, "StorageClass", name)
    if storage_class is None:
        raise Doubt("StorageClass {0} does not exist".format(name))
    if unsupported_pairs(storage_class, wanted["claimPropertySets"]):
        raise Doubt("StorageProfile {0}: the module would refuse the modes".format(name))
    profile = cluster.get(CDI_API, "StorageProfile", name)
    if profile is None or spec_patch(profile, wanted):
        raise Doubt("StorageProfile {0}: the module would write its spec".format(name))
    if not status_reflects(profile, wanted):
        raise Doubt("StorageProfile {0}: CDI does not reflect the spec in its status yet".format(name))
    return {"changed": False, "spec": profile.get("spec") or {}, "status": profile.get("status") or {}}
