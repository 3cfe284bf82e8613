# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge the optional objects step: every object served, present and already holding its definition's fields."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.judge import Doubt
from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.options import validated
from ansible_collections.ocpvirt.portworx.plugins.module_utils.optional_object_plan import ARGUMENT_SPEC, OPTION_RULES, identify, object_write


def judge_optional_objects(cluster, options, context):
    if options.get("objects") == []:
        # Both objects turned off: the role runs no module for this step, so it changes nothing.
        return {"changed": False, "objects": [], "not_served": []}
    params = validated(ARGUMENT_SPEC, OPTION_RULES, options, "optional objects", wait=False)
    reports = []
    for index, definition in enumerate(params["objects"]):
        identify(index, definition)
        api_version, kind, metadata = definition["apiVersion"], definition["kind"], definition["metadata"]
        if not cluster.served(api_version, kind):
            raise Doubt("{0} {1} is not served (the module reports it)".format(api_version, kind))
        action, dummy = object_write(cluster.get(api_version, kind, metadata["name"], metadata.get("namespace")), definition)
        if action != "none":
            raise Doubt("{0} {1}: the module would {2} it".format(kind, metadata["name"], action))
        reports.append({"api_version": api_version, "kind": kind, "name": metadata["name"], "served": True, "outcome": "unchanged"})
    return {"changed": False, "objects": reports, "not_served": []}
