"""Generic object validation the apiserver applies to every kind (names)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import errors

if TYPE_CHECKING:  # pragma: no cover
    from .kinds import Kind

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
              "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
              "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
_SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                  "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                  "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
# Kinds whose names are DNS-1123 *labels* (63 chars, no dots) rather than subdomains.
_LABEL_NAMED = {"namespaces", "services", "kubevirt.io/virtualmachines", "kubevirt.io/virtualmachineinstances"}
# RBAC objects only need to be valid path segments ("system:node" is fine).
_PATH_SEGMENT_NAMED = {"rbac.authorization.k8s.io/roles", "rbac.authorization.k8s.io/rolebindings",
                       "rbac.authorization.k8s.io/clusterroles", "rbac.authorization.k8s.io/clusterrolebindings"}


def validate_metadata_name(kind: "Kind", name: str) -> None:
    if kind.key in _PATH_SEGMENT_NAMED:
        if name in (".", "..") or "/" in name or "%" in name:
            raise errors.invalid(kind.kind, name, [errors.invalid_field("metadata.name", name,
                                 "may not contain '/' or '%'")], kind.group)
        return
    if kind.key in _LABEL_NAMED:
        if len(name) > 63:
            raise errors.invalid(kind.kind, name, [errors.invalid_field("metadata.name", name,
                                 "must be no more than 63 characters")], kind.group)
        if not DNS1123_LABEL.match(name):
            raise errors.invalid(kind.kind, name, [errors.invalid_field("metadata.name", name, _LABEL_MSG)], kind.group)
        return
    if len(name) > 253:
        raise errors.invalid(kind.kind, name, [errors.invalid_field("metadata.name", name,
                             "must be no more than 253 characters")], kind.group)
    if not DNS1123_SUBDOMAIN.match(name):
        raise errors.invalid(kind.kind, name, [errors.invalid_field("metadata.name", name, _SUBDOMAIN_MSG)], kind.group)
