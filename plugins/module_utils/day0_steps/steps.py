# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The day-0 steps the preflight judges, in the order the day-0 roles run them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.hyperconverged import judge_hyperconverged
from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.image_registry import judge_image_registry
from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.judge import judge_steps
from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.optional_objects import judge_optional_objects
from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.storage_classes import judge_storage_classes
from ansible_collections.ocpvirt.portworx.plugins.module_utils.day0_steps.storage_profiles import judge_storage_profiles
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import InvalidValue, each_key, each_value, one_of

# virt_default_storage_class runs between storage_profiles and optional_objects and is not judged:
# it also reads the CDI alerts from the cluster monitoring, and warns whenever it cannot. Its only
# writes are the default annotations of StorageClasses, which none of the later planners reads.
DAY0_JUDGES = (
    ("storage_classes", judge_storage_classes),
    ("storage_profiles", judge_storage_profiles),
    ("optional_objects", judge_optional_objects),
    ("hyperconverged", judge_hyperconverged),
    ("image_registry", judge_image_registry),
)
STEPS = tuple(step for step, dummy in DAY0_JUDGES)


def step_options(value):
    if not isinstance(value, dict):
        raise InvalidValue("is not a map of options", "Give each step the options its module takes, as a map.")


# The rules of readiness_info's day0_steps option, checked before any request.
DAY0_STEPS_RULES = (
    ("day0_steps", each_key(one_of(*STEPS))),
    ("day0_steps", each_value(step_options)),
)


def judge_day0(cluster, steps):
    return judge_steps(cluster, steps, DAY0_JUDGES)
