# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the ``optional_objects`` module, and what one definition needs written.

Shared by the module and the day-0 convergence judgement, so an object judged converged is one the
module would not write.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Refusal
from ansible_collections.ocpvirt.portworx.plugins.module_utils.merge_patch import merge_patch
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import dns_subdomain, non_empty_list

ARGUMENT_SPEC = dict(objects=dict(type="list", elements="dict", required=True))
OPTION_RULES = (
    ("objects", non_empty_list("objects needs at least one definition")),
    ("objects[].metadata.name", dns_subdomain("object")),
)


def identify(index, definition):
    """The definition, refused before any write when it cannot name its object."""
    metadata = definition.get("metadata") or {}
    if not (definition.get("apiVersion") and definition.get("kind") and metadata.get("name")):
        raise Refusal("objects[{0}]".format(index), "a definition needs apiVersion, kind and metadata.name",
                      "Give the definition all three.")
    return definition


def object_write(existing, definition):
    """``("create", definition)``, ``("patch", merge patch)`` or ``("none", None)`` for one object."""
    if existing is None:
        return "create", definition
    patch = merge_patch(existing, definition)
    return ("patch", patch) if patch else ("none", None)
