"""Generic object validation the apiserver applies to every kind (names)."""
from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any, Dict, List

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


# --- labels and annotations -----------------------------------------------------------------------
# kubernetes/apimachinery release-1.33: ``pkg/util/validation/validation.go`` (IsQualifiedName,
# IsValidLabelValue and their messages), ``pkg/api/validation/objectmeta.go``
# (ValidateAnnotations: keys are qualified names once lower-cased, at most 256 KiB in all) and
# ``pkg/apis/meta/v1/validation/validation.go`` (ValidateLabels).
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
QUALIFIED_NAME_MAX = 63
LABEL_VALUE_MAX = 63
TOTAL_ANNOTATION_SIZE = 256 * 1024
_QUALIFIED_NAME_FMT = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                       "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                       "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
_LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                    "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                    "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


@functools.lru_cache(maxsize=8192)
def qualified_name_errors(value: str) -> List[str]:
    """IsQualifiedName: an optional DNS-subdomain prefix and ``/``, then a name of at most 63."""
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return ["prefix part must be non-empty"]
        if len(prefix) > 253:
            return ["prefix part must be no more than 253 characters"]
        if not DNS1123_SUBDOMAIN.match(prefix):
            return ["prefix part " + _SUBDOMAIN_MSG]
    else:
        return ["a qualified name " + _QUALIFIED_NAME_FMT + " with an optional DNS subdomain prefix and '/' "
                "(e.g. 'example.com/MyName')"]
    if not name:
        return ["name part must be non-empty"]
    found = []
    if len(name) > QUALIFIED_NAME_MAX:
        found.append(f"name part must be no more than {QUALIFIED_NAME_MAX} characters")
    if not QUALIFIED_NAME.match(name):
        found.append("name part " + _QUALIFIED_NAME_FMT)
    return found


@functools.lru_cache(maxsize=8192)
def label_value_errors(value: str) -> List[str]:
    found = []
    if len(value) > LABEL_VALUE_MAX:
        found.append(f"must be no more than {LABEL_VALUE_MAX} characters")
    if not LABEL_VALUE.match(value):
        found.append(_LABEL_VALUE_MSG)
    return found


def metadata_causes(meta: Dict[str, Any], path: str = "metadata") -> List[errors.FieldCause]:
    """What ValidateObjectMeta says about ``labels`` and ``annotations`` (empty when valid);
    ``path`` is where they sit (a pod template's are ``<template>.labels``: ValidatePodTemplateSpec)."""
    causes: List[errors.FieldCause] = []
    labels = meta.get("labels") or {}
    if isinstance(labels, dict):
        for key, value in labels.items():
            causes.extend(errors.invalid_field(f"{path}.labels", key, m) for m in qualified_name_errors(str(key)))
            text = "" if value is None else str(value)
            causes.extend(errors.invalid_field(f"{path}.labels", text, m) for m in label_value_errors(text))
    annotations = meta.get("annotations") or {}
    if isinstance(annotations, dict):
        total = 0
        for key, value in annotations.items():
            causes.extend(errors.invalid_field(f"{path}.annotations", key, m)
                          for m in qualified_name_errors(str(key).lower()))
            total += len(str(key)) + len("" if value is None else str(value))
        if total > TOTAL_ANNOTATION_SIZE:
            causes.append(errors.FieldCause(f"{path}.annotations",
                                            f"Too long: may not be more than {TOTAL_ANNOTATION_SIZE} bytes",
                                            "FieldValueTooLong"))
    return causes


def validate_object_meta(kind: "Kind", name: str, meta: Dict[str, Any]) -> None:
    causes = metadata_causes(meta)
    if causes:
        raise errors.invalid(kind.kind, name, causes, kind.group)
