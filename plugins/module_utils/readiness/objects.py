# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small readers shared by the rules: names, nested fields, conditions, versions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.versions import version_tuple as shared_version_tuple


def dig(obj, *path):
    for key in path:
        if isinstance(obj, dict):
            obj = obj.get(key)
        elif isinstance(obj, list) and isinstance(key, int) and -len(obj) <= key < len(obj):
            obj = obj[key]
        else:
            return None
    return obj


def name_of(obj):
    return dig(obj, "metadata", "name")


def namespace_of(obj):
    return dig(obj, "metadata", "namespace")


def annotations_of(obj):
    return dig(obj, "metadata", "annotations") or {}


def labels_of(obj):
    return dig(obj, "metadata", "labels") or {}


def condition_status(obj, condition_type):
    for condition in dig(obj, "status", "conditions") or []:
        if condition.get("type") == condition_type:
            return condition.get("status")
    return None


def version_tuple(text):
    """``"3.5.2"`` / ``"v4.20.3-rc.1"`` -> ``(3, 5, 2)``; None when no ``X.Y`` version is found."""
    return shared_version_tuple(text, require_minor=True)


def by_name(items):
    return dict((name_of(item), item) for item in items or [])


def by_namespaced_name(items):
    return dict(((namespace_of(item), name_of(item)), item) for item in items or [])
