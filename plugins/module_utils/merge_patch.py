# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The smallest JSON merge patch (RFC 7386) that brings an object to the fields a definition names."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import NO_PATCH


def merge_patch(existing, wanted):
    """The fields of ``wanted`` whose value differs in ``existing``, nested as a merge patch.

    Maps are compared key by key (fields ``wanted`` does not name are left alone, as a merge patch
    leaves them); lists and scalars are compared whole, because a merge patch replaces a list whole.
    ``NO_PATCH`` when ``existing`` already has every wanted value, so an unchanged object gets no write.
    """
    patch = {}
    for key, value in wanted.items():
        current = existing.get(key) if isinstance(existing, dict) else None
        if isinstance(value, dict) and isinstance(current, dict):
            nested = merge_patch(current, value)
            if nested:
                patch[key] = nested
        elif current != value or key not in (existing or {}):
            patch[key] = value
    return patch or NO_PATCH
