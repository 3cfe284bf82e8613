"""Structural-schema validation and defaulting of custom resources, with the apiserver's messages.

Validation follows k8s.io/kube-openapi ``pkg/validation/validate`` (type, required, enum,
format, numeric bounds, string length and pattern, item counts) as apiextensions-apiserver
``pkg/apiserver/validation/validation.go`` (release-1.33) turns its results into
``field.ErrorList`` entries (``kubeOpenAPIResultToFieldErrors``):

* a wrong type is ``field.TypeInvalid`` whose bad value is the detected JSON type:
  ``spec.runStrategy: Invalid value: "integer": spec.runStrategy in body must be of type string: "integer"``
  (reason ``FieldValueTypeInvalid``); a wrong ``format`` the same with the value itself;
* a missing required property ``field.Required``: ``spec.template: Required value``;
* a value outside ``enum`` ``field.NotSupported``: ``Unsupported value: "x": supported values: "A", "B"``;
* ``maxLength`` ``field.TooLong`` (``Too long: may not be more than 5 bytes``), ``maxItems``
  ``field.TooMany`` (``Too many: 4: must have at most 3 items``); everything else
  ``field.Invalid`` with kube-openapi's sentence (``spec.x in body should be greater than or equal to 1``).

Bad values print as ``field.Error.ErrorBody`` prints them (strings quoted, numbers and booleans
bare).  ``metadata`` is not validated here (ObjectMeta has its own validation).  Errors are
reported in the order of the object's fields (kube-openapi walks the schema's properties, a Go
map, so upstream's order between sibling errors is not fixed).

Defaulting follows ``pkg/apiserver/schema/defaulting/algorithm.go``: a property with a
``default`` that is absent (or ``null`` and not ``nullable``) gets a copy of the default,
recursively under every object, map and array item that exists.

Ratcheting (``CRDValidationRatcheting``, on by default since 1.30): on an update, a subtree
whose value did not change from the stored object is not validated (and a required property
the stored object already lacked is not demanded), so objects stored before a rule was
tightened stay writable (``pkg/apiserver/schema/ratcheting``; simplified to "same value at the
same path").  It also keeps status writes cheap: only the changed part is walked.
"""
from __future__ import annotations

import base64
import json
import re
import uuid
from typing import Any, Dict, List, Optional, Tuple

from .errors import FieldCause
from .util import clone

PRESERVE = "x-kubernetes-preserve-unknown-fields"
INT_OR_STRING = "x-kubernetes-int-or-string"
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$")
Path = Tuple[Any, ...]


# --- rendering ----------------------------------------------------------------------------------
def json_type(value: Any) -> str:
    """The JSON type name kube-openapi reports for a value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def go_value(value: Any) -> str:
    """A bad value as ``field.Error.ErrorBody`` prints it (``%q`` strings, ``%v`` scalars)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[]interface {}{" + ", ".join(go_value(v) for v in value) + "}"
    return "map[string]interface {}{" + ", ".join(f"{json.dumps(k)}:{go_value(v)}" for k, v in sorted(value.items())) + "}"


def path_text(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _cause(path: Path, kind: str, value: Any, detail: str) -> FieldCause:
    field = path_text(path)
    if kind == "required":
        return FieldCause(field, "Required value", "FieldValueRequired")
    if kind == "type":
        return FieldCause(field, f"Invalid value: {go_value(value)}: {detail}", "FieldValueTypeInvalid")
    if kind == "enum":
        return FieldCause(field, f"Unsupported value: {go_value(value)}: supported values: {detail}",
                          "FieldValueNotSupported")
    if kind == "toolong":
        return FieldCause(field, f"Too long: {detail}", "FieldValueTooLong")
    if kind == "toomany":
        return FieldCause(field, f"Too many: {go_value(value)}: {detail}", "FieldValueTooMany")
    return FieldCause(field, f"Invalid value: {go_value(value)}: {detail}", "FieldValueInvalid")


# --- validation ---------------------------------------------------------------------------------
_MISSING = object()


def _type_ok(value: Any, schema: Dict[str, Any]) -> bool:
    if schema.get(INT_OR_STRING):
        return json_type(value) in ("integer", "string")
    wanted = schema.get("type")
    if not wanted:
        return True
    if wanted == "object":
        return type(value) is dict
    if wanted == "string":
        return type(value) is str
    if wanted == "array":
        return type(value) is list
    got = json_type(value)
    return got == wanted or (wanted == "number" and got == "integer")


def _format_ok(value: str, fmt: str) -> bool:
    if fmt == "date-time":
        return bool(_DATE_TIME.match(value))
    if fmt == "uuid":
        try:
            uuid.UUID(value)
            return True
        except ValueError:
            return False
    if fmt == "byte":
        try:
            base64.b64decode(value, validate=True)
            return True
        except ValueError:
            return False
    return True  # other formats are not checked by the simulator


def _string_checks(value: str, schema: Dict[str, Any], path: Path, out: List[FieldCause]) -> None:
    fmt = schema.get("format")
    if fmt and not _format_ok(value, fmt):
        out.append(_cause(path, "type", value, f"{path_text(path)} in body must be of type {fmt}: {json.dumps(value)}"))
    if "maxLength" in schema and len(value.encode()) > schema["maxLength"]:
        limit = schema["maxLength"]
        out.append(_cause(path, "toolong", value, f"may not be more than {limit} byte{'s' if limit != 1 else ''}"))
    if "minLength" in schema and len(value) < schema["minLength"]:
        out.append(_cause(path, "invalid", value,
                          f"{path_text(path)} in body should be at least {schema['minLength']} chars long"))
    if "pattern" in schema and not re.search(schema["pattern"], value):
        out.append(_cause(path, "invalid", value, f"{path_text(path)} in body should match '{schema['pattern']}'"))


def _scalar_checks(value: Any, schema: Dict[str, Any], path: Path, out: List[FieldCause]) -> None:
    if "enum" in schema and value not in schema["enum"]:
        out.append(_cause(path, "enum", value, ", ".join(json.dumps(v) for v in schema["enum"])))
    if type(value) is str:
        _string_checks(value, schema, path, out)
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and not schema.get(INT_OR_STRING):
        _bounds(value, schema, path, out)


def _bounds(value: Any, schema: Dict[str, Any], path: Path, out: List[FieldCause]) -> None:
    if "maximum" in schema:
        exclusive = schema.get("exclusiveMaximum")
        if value > schema["maximum"] or (exclusive and value == schema["maximum"]):
            relation = "less than" if exclusive else "less than or equal to"
            out.append(_cause(path, "invalid", value,
                              f"{path_text(path)} in body should be {relation} {go_value(schema['maximum'])}"))
    if "minimum" in schema:
        exclusive = schema.get("exclusiveMinimum")
        if value < schema["minimum"] or (exclusive and value == schema["minimum"]):
            relation = "greater than" if exclusive else "greater than or equal to"
            out.append(_cause(path, "invalid", value,
                              f"{path_text(path)} in body should be {relation} {go_value(schema['minimum'])}"))


def _object_checks(value: Dict[str, Any], schema: Dict[str, Any], path: Path, out: List[FieldCause],
                   old: Any) -> None:
    old_map = old if type(old) is dict else {}
    for required in schema.get("required") or ():
        missing_before = type(old) is dict and required not in old
        if required not in value and not missing_before:
            out.append(_cause(path + (required,), "required", None, ""))
    properties = schema.get("properties") or {}
    additional = schema.get("additionalProperties")
    extra = additional if type(additional) is dict else None
    for key, item in value.items():
        child = properties.get(key) or extra
        if child is not None:
            validate_node(item, child, path + (key,), out, old_map.get(key, _MISSING) if old is not _MISSING else _MISSING)


def _array_checks(value: List[Any], schema: Dict[str, Any], path: Path, out: List[FieldCause], old: Any) -> None:
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        out.append(_cause(path, "toomany", len(value), f"must have at most {schema['maxItems']} items"))
    if "minItems" in schema and len(value) < schema["minItems"]:
        out.append(_cause(path, "invalid", value,
                          f"{path_text(path)} in body should have at least {schema['minItems']} items"))
    items = schema.get("items")
    if type(items) is dict:
        old_items = old if type(old) is list else ()
        for index, item in enumerate(value):
            previous = old_items[index] if old is not _MISSING and index < len(old_items) else _MISSING
            validate_node(item, items, path + (index,), out, previous)


_SCALAR_KEYS = frozenset(("enum", "format", "maxLength", "minLength", "pattern", "maximum", "minimum"))
_SCALAR_MEMO: Dict[int, Tuple[Dict[str, Any], bool]] = {}  # id(schema node) -> (node, has scalar rules)


def _has_scalar_rules(schema: Dict[str, Any]) -> bool:
    cached = _SCALAR_MEMO.get(id(schema))
    if cached is None or cached[0] is not schema:
        cached = _SCALAR_MEMO[id(schema)] = (schema, not _SCALAR_KEYS.isdisjoint(schema))
    return cached[1]


def validate_node(value: Any, schema: Optional[Dict[str, Any]], path: Path, out: List[FieldCause],
                  old: Any = _MISSING) -> None:
    """Append the causes for ``value`` under ``schema`` at ``path`` to ``out``.

    ``old`` is the stored value at the same path on an update: an unchanged subtree is not
    looked at (ratcheting; see the module docstring), a value new at a path is validated fully."""
    if not schema or value is None:
        return  # a null is kept only where nullable; elsewhere pruning drops it before validation
    if old is not _MISSING and value == old:
        return
    kind = type(value)
    wanted = schema.get("type")
    if kind is dict:
        if (wanted not in (None, "object") or INT_OR_STRING in schema) and not _type_ok(value, schema):
            return _type_error(value, schema, path, out)
        _object_checks(value, schema, path, out, old)
    elif kind is list:
        if (wanted not in (None, "array") or INT_OR_STRING in schema) and not _type_ok(value, schema):
            return _type_error(value, schema, path, out)
        _array_checks(value, schema, path, out, old)
    else:
        if not (kind is str and wanted == "string") and not _type_ok(value, schema):
            return _type_error(value, schema, path, out)
        if _has_scalar_rules(schema):
            _scalar_checks(value, schema, path, out)
    return None


def _type_error(value: Any, schema: Dict[str, Any], path: Path, out: List[FieldCause]) -> None:
    found = json_type(value)
    out.append(_cause(path, "type", found,
                      f"{path_text(path)} in body must be of type {schema.get('type')}: {json.dumps(found)}"))


def validate(obj: Dict[str, Any], schema: Optional[Dict[str, Any]],
             old: Optional[Dict[str, Any]] = None) -> List[FieldCause]:
    """The causes for a whole custom resource (``metadata``, ``apiVersion`` and ``kind`` excluded);
    with ``old`` (an update) only what changed is validated (ratcheting)."""
    if not schema or not isinstance(obj, dict):
        return []
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    trimmed = dict(schema)
    trimmed["required"] = [r for r in schema.get("required") or [] if r not in ("apiVersion", "kind", "metadata")]
    out: List[FieldCause] = []
    before: Any = _MISSING
    if old is not None:
        before = {k: v for k, v in old.items() if k not in ("apiVersion", "kind", "metadata")}
    validate_node(body, trimmed, (), out, before)
    return out


# --- defaulting ---------------------------------------------------------------------------------
_DEFAULTS_BELOW: Dict[int, Tuple[Dict[str, Any], bool]] = {}  # id(schema node) -> (node, has defaults below)


def _has_defaults(schema: Any) -> bool:
    """Whether any node under ``schema`` declares a default (memoised per schema node; schemas
    are shared and never modified, the memo keeps each node alive so its id stays unique)."""
    if not isinstance(schema, dict):
        return False
    cached = _DEFAULTS_BELOW.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    children = list((schema.get("properties") or {}).values())
    children += [schema[k] for k in ("items", "additionalProperties") if isinstance(schema.get(k), dict)]
    found = any("default" in child or _has_defaults(child) for child in children if isinstance(child, dict))
    _DEFAULTS_BELOW[id(schema)] = (schema, found)
    return found


def apply_defaults(value: Any, schema: Optional[Dict[str, Any]]) -> None:
    """Set the schema's defaults into ``value`` in place (objects, maps and array items)."""
    if not schema or not _has_defaults(schema):
        return
    if isinstance(value, list):
        items = schema.get("items")
        for item in value if isinstance(items, dict) else ():
            apply_defaults(item, items)
        return
    if not isinstance(value, dict):
        return
    properties = schema.get("properties") or {}
    for key, child in properties.items():
        if "default" in child and (key not in value or (value[key] is None and not child.get("nullable"))):
            value[key] = clone(child["default"])
    additional = schema.get("additionalProperties")
    for key, item in value.items():
        child = properties.get(key) or (additional if isinstance(additional, dict) else None)
        if child is not None:
            apply_defaults(item, child)


def default_object(obj: Dict[str, Any], schema: Optional[Dict[str, Any]]) -> None:
    """Default a whole custom resource in place (``metadata`` untouched)."""
    if not schema or not isinstance(obj, dict) or not _has_defaults(schema):
        return
    properties = schema.get("properties") or {}
    for key, item in obj.items():
        child = properties.get(key)
        if key != "metadata" and child is not None:
            if "default" in child and item is None and not child.get("nullable"):
                obj[key] = clone(child["default"])
            else:
                apply_defaults(item, child)
    for key, child in properties.items():
        if key not in obj and key not in ("metadata", "apiVersion", "kind") and "default" in child:
            obj[key] = clone(child["default"])
