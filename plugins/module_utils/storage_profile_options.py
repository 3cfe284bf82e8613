# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the ``storage_profile`` module and their rules, shared with the day-0 convergence judgement."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage_profile_check import CLONE_STRATEGIES, SOURCE_FORMATS
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import dns_subdomain, non_empty_list

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    claim_property_sets=dict(
        type="list",
        elements="dict",
        default=[{"access_modes": ["ReadWriteMany"], "volume_mode": "Block"}],
        options=dict(
            access_modes=dict(type="list", elements="str", required=True, choices=["ReadWriteMany", "ReadWriteOnce", "ReadOnlyMany"]),
            volume_mode=dict(type="str", default="Filesystem", choices=["Block", "Filesystem"]),
        ),
    ),
    clone_strategy=dict(type="str", choices=list(CLONE_STRATEGIES)),
    data_import_cron_source_format=dict(type="str", choices=list(SOURCE_FORMATS)),
)

OPTION_RULES = (
    ("name", dns_subdomain("StorageProfile")),
    ("claim_property_sets", non_empty_list("an empty list would clear spec.claimPropertySets and leave CDI guessing")),
    ("claim_property_sets[].access_modes", non_empty_list("a claim property set without access modes gives CDI nothing to use")),
)
