# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan for one Portworx StorageClass, from its options and the objects read from the cluster.

The ``portworx_storage_class`` module and the day-0 convergence judgement both call these, so a
class judged converged is one the module would leave alone. Pure: the caller reads the objects.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Refusal
from ansible_collections.ocpvirt.portworx.plugins.module_utils.storage_class_presets import (
    PRESETS,
    REQUIRED_PROFILE_MODES,
    adopt,
    adoption_candidates,
    check,
    choose_adoption,
    compare,
    desired_class,
    in_tree_lookalikes,
    in_tree_warning,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import count, dns_subdomain, non_empty_list, string_values

ARGUMENT_SPEC = dict(
    preset=dict(type="str", choices=sorted(PRESETS)),
    name=dict(type="str"),
    discover=dict(type="bool", default=True),
    repl=dict(type="int"),
    parameters=dict(type="dict", default={}),
    volume_binding_mode=dict(type="str", choices=["Immediate", "WaitForFirstConsumer"]),
    reclaim_policy=dict(type="str", choices=["Delete", "Retain"]),
    allow_volume_expansion=dict(type="bool"),
    annotations=dict(type="dict", default={}),
    recreate=dict(type="bool", default=False),
)

# The options one class takes: each item of ``classes`` is validated against these (the single-class
# options, with ``preset`` required), so both forms share one set of rules.
CLASS_ARGUMENT_SPEC = dict(
    (key, dict(spec, required=True) if key == "preset" else copy.deepcopy(spec))
    for key, spec in ARGUMENT_SPEC.items() if key != "recreate"
)
# classes is added after CLASS_ARGUMENT_SPEC is taken from the single-class options (a new dict,
# not an item assignment: ansible-doc reads module-level assignments and cannot name a subscript).
ARGUMENT_SPEC = dict(ARGUMENT_SPEC, classes=dict(type="list", elements="dict"))
PER_CLASS_OPTIONS = ["preset", "name", "repl", "volume_binding_mode", "reclaim_policy", "allow_volume_expansion"]

OPTION_RULES = (
    ("name", dns_subdomain("StorageClass")),
    # Portworx keeps 1, 2 or 3 replicas of a volume.
    ("repl", count(minimum=1, maximum=3)),
    ("parameters", string_values("StorageClass parameter")),
    ("annotations", string_values("annotation")),
    # The same rules for every item of classes, before any request.
    ("classes", non_empty_list("classes needs at least one preset")),
    ("classes[].name", dns_subdomain("StorageClass")),
    ("classes[].repl", count(minimum=1, maximum=3)),
    ("classes[].parameters", string_values("StorageClass parameter")),
    ("classes[].annotations", string_values("annotation")),
)

NO_STORAGE_PROFILES_FOR_ADOPTION = ("The cluster does not serve CDI StorageProfiles, so no existing class can be shown to offer "
                                    "ReadWriteMany Block; not adopting one for the {0} preset.")


def needs_discovery(params):
    return params["name"] is None and params["discover"]


def wanted_class(params, storage_classes=None, profiles=None):
    """``(wanted StorageClass, report, warnings)``; with discovery, renamed to an existing class that already is the preset.

    ``storage_classes`` and ``profiles`` (by name; None when CDI does not serve StorageProfiles)
    are only used when :func:`needs_discovery`.
    """
    preset = params["preset"]
    wanted = desired_class(
        preset,
        name=params["name"],
        repl=params["repl"],
        parameters=params["parameters"],
        volume_binding_mode=params["volume_binding_mode"],
        reclaim_policy=params["reclaim_policy"],
        allow_volume_expansion=params["allow_volume_expansion"],
        annotations=params["annotations"],
    )
    report, warnings = {"preset": preset, "adopted": False}, []
    if needs_discovery(params):
        if preset in REQUIRED_PROFILE_MODES and profiles is None:
            warnings.append(NO_STORAGE_PROFILES_FOR_ADOPTION.format(preset))
        lookup_profiles = profiles if preset in REQUIRED_PROFILE_MODES else None
        candidates = adoption_candidates(preset, wanted, storage_classes, lookup_profiles)
        in_tree = in_tree_lookalikes(preset, wanted, storage_classes, lookup_profiles)
        if in_tree:
            warnings.append(in_tree_warning(preset, in_tree))
        chosen, reason = choose_adoption(preset, candidates)
        report["adoption_candidates"] = [sc["metadata"]["name"] for sc in candidates]
        report["adoption_reason"] = reason
        if chosen is not None:
            report["adopted"] = True
            wanted = adopt(wanted, chosen)
    report["name"] = wanted["metadata"]["name"]
    return wanted, report, warnings


def class_plan(params, wanted, report, existing):
    """``(plan, warnings)``: what to do to ``existing`` (None: absent) for ``wanted``; raises a Refusal."""
    preset, name = params["preset"], wanted["metadata"]["name"]
    subject = "StorageClass {0}".format(name)
    errors, warnings = check(preset, wanted)
    if errors:
        raise Refusal(subject, "; ".join(errors), "Change the options so that the {0} preset's rules hold.".format(preset))
    plan = {"report": report, "wanted": wanted, "existing": existing, "action": "create", "patch": None}
    if existing is None:
        return plan, warnings
    immutable, patch = compare(existing, wanted)
    if immutable:
        report["immutable_differences"] = immutable
        if not params["recreate"]:
            raise Refusal(
                subject,
                "it exists and differs in immutable fields ({0})".format(describe_immutable(immutable)),
                "Set recreate: true to delete and re-create it (existing PersistentVolumes keep their settings), "
                "or set the options to the existing values.",
                immutable_differences=immutable,
            )
        plan["action"] = "recreate"
    else:
        plan["action"], plan["patch"] = ("patch", patch) if patch else ("none", None)
    return plan, warnings


def profile_ready(profile, storage_class):
    """``(done, state)``: CDI reports claim property sets for the class, under its provisioner."""
    status = (profile or {}).get("status") or {}
    ready = bool(status.get("claimPropertySets")) and status.get("provisioner") == storage_class.get("provisioner")
    return ready, profile if ready else (status or "no StorageProfile yet")


def describe_immutable(immutable):
    return "; ".join("{0}: {1!r} -> {2!r}".format(field, diff["current"], diff["wanted"]) for field, diff in sorted(immutable.items()))
