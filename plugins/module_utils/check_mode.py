# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check mode over a whole playbook: objects an earlier task would have created.

``ansible-playbook --check`` runs every task as a dry run, so a StorageClass that an earlier task
of the same run would create does not exist when a later task looks for it. Refusing there would
stop the preview of a fresh cluster at its first dependent task. So in check mode a module that
needs such an object plans as if it existed, skips the checks and writes that need the object
itself, and says so in a warning; a real run still refuses when the object is missing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def would_exist_warning(subject, deferred=None):
    """The warning a module gives when it plans against ``subject`` that does not exist yet."""
    text = ("{0} does not exist; check mode plans as if it would exist (created earlier in this run in check mode?). "
            "A real run refuses if it is still missing".format(subject))
    if deferred:
        text = "{0}; not checked until then: {1}".format(text, deferred)
    return text + "."


def planned_storage_class(name):
    """A stand-in for a StorageClass that does not exist yet, with nothing known about it."""
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name, "annotations": {}}}
