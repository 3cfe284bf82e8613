# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the ``hyperconverged`` module and their rules, shared with the day-0 convergence judgement."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.hyperconverged_spec import DEPRECATED_BOOT_IMAGE_GATE, valid_overhead
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import (
    boolean_values,
    check_text,
    count,
    dns_label,
    dns_subdomain,
    each_key,
    each_value,
    quantity,
)

ARGUMENT_SPEC = dict(
    name=dict(type="str", default="kubevirt-hyperconverged"),
    namespace=dict(type="str", default="openshift-cnv"),
    scratch_space_storage_class=dict(type="str"),
    vm_state_storage_class=dict(type="str"),
    filesystem_overhead=dict(
        type="dict",
        options={"global": dict(type="str"), "storage_class": dict(type="dict")},
    ),
    live_migration=dict(
        type="dict",
        options=dict(
            parallel_migrations_per_cluster=dict(type="int"),
            parallel_outbound_migrations_per_node=dict(type="int"),
            bandwidth_per_migration=dict(type="str"),
            completion_timeout_per_gib=dict(type="int"),
            progress_timeout=dict(type="int"),
            network=dict(type="str"),
        ),
    ),
    eviction_strategy=dict(type="str", choices=["None", "LiveMigrate", "LiveMigrateIfPossible", "External"]),
    feature_gates=dict(type="dict"),
    enable_common_boot_image_import=dict(type="bool"),
    allow_unsafe_vm_state_class=dict(type="bool", default=False),
)


check_overhead = check_text(valid_overhead, "is not a decimal string in [0, 1) with at most 3 decimals", "Give a value such as \"0.08\".")


def check_overhead_value(value):
    """A per-class overhead; YAML gives an unquoted 0.08 as a number, which is taken as its text."""
    check_overhead(value if isinstance(value, bool) else str(value))


OPTION_RULES = (
    ("name", dns_subdomain("HyperConverged")),
    ("namespace", dns_label("Namespace")),
    ("scratch_space_storage_class", dns_subdomain("StorageClass")),
    ("vm_state_storage_class", dns_subdomain("StorageClass")),
    ("filesystem_overhead.global", check_overhead),
    ("filesystem_overhead.storage_class", each_key(dns_subdomain("StorageClass"))),
    ("filesystem_overhead.storage_class", each_value(check_overhead_value)),
    ("live_migration.parallel_migrations_per_cluster", count(minimum=1)),
    ("live_migration.parallel_outbound_migrations_per_node", count(minimum=1)),
    ("live_migration.bandwidth_per_migration", quantity(example="64Mi")),
    ("live_migration.completion_timeout_per_gib", count(minimum=1)),
    ("live_migration.progress_timeout", count(minimum=1)),
    ("live_migration.network", dns_subdomain("NetworkAttachmentDefinition")),
    ("feature_gates", each_key(check_text(bool, "is empty", "Name the feature gate."))),
    ("feature_gates", boolean_values("feature gate")),
    ("feature_gates", each_key(check_text(
        lambda gate: gate != DEPRECATED_BOOT_IMAGE_GATE,
        "is deprecated and ignored since HCO 1.16",
        "Set enable_common_boot_image_import (spec.enableCommonBootImageImport) instead.",
    ))),
)
