# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep secret values out of task results and diffs (and so out of ``-v`` output and log files).

Ansible masks the values of ``no_log`` options, but not what a module returns about the cluster:
the image registry's ``configs.imageregistry.operator.openshift.io/cluster`` carries
``spec.httpSecret`` (the key that signs the registry's upload state), a Secret carries ``data``.
:func:`redact` replaces such values with :data:`MASK` wherever they appear.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
# Field names whose values are credentials in the APIs this collection reads.
SECRET_FIELDS = frozenset({"httpSecret", "token", "bearerToken", "password", "secretKey", "accessKey", "api_key", "apiKey"})
# Fields of a Secret (v1) whose values are the secret itself.
SECRET_DATA_FIELDS = ("data", "stringData")


def redact(value):
    """A copy of ``value`` with secret field values and Secret data masked; other values are kept."""
    if isinstance(value, list):
        return [redact(item) for item in value]
    if not isinstance(value, dict):
        return value
    is_secret = value.get("kind") == "Secret"
    masked = {}
    for key, item in value.items():
        if key in SECRET_FIELDS and item not in (None, ""):
            masked[key] = MASK
        elif is_secret and key in SECRET_DATA_FIELDS and isinstance(item, dict):
            masked[key] = dict((name, MASK) for name in item)
        else:
            masked[key] = redact(item)
    return masked
