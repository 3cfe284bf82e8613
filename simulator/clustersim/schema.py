"""Structural-schema pruning and ``fieldValidation`` for every kind the simulator serves.

A real apiserver drops the fields a CRD's structural schema does not declare (unless the subtree
sets ``x-kubernetes-preserve-unknown-fields``), and drops the fields a built-in type's Go struct
does not have when it decodes the body.  Either way ``fieldValidation`` decides whether the
dropped fields are silent (Ignore), reported in a ``Warning`` header (Warn, the default) or
refused (Strict).

The schemas are OpenAPI v3 structural schemas, generated from upstream into
``clustersim/schemas/*.json`` (see ``clustersim/schemas/__init__.py``).  Pruning follows
k8s.io/apiextensions-apiserver ``pkg/apiserver/schema/pruning`` (v1.33):

* an object node keeps the ``properties`` it declares (pruned recursively); every key of a map
  (``additionalProperties``) is pruned by that schema; other fields are dropped unless the node
  sets ``x-kubernetes-preserve-unknown-fields``, which keeps them as they are;
* an array's items are pruned by ``items``;
* ``x-kubernetes-embedded-resource`` keeps ``apiVersion``, ``kind`` and ``metadata``;
* a ``null`` for a property that is not ``nullable`` is dropped, as
  ``pkg/apiserver/schema/defaulting/prunenulls.go`` does (a built-in type decodes it to the
  zero value, which is omitted too).  Defaults are not applied.

A value whose JSON type does not match its schema (a string where an object is declared) is
kept as it is: the simulator does not validate types.  At the root ``apiVersion``, ``kind`` and
``metadata`` are always kept.  A kind without a schema keeps everything.

Operators may declare more fields with ``cluster.kinds.extend_schema(key, extra)``; ``extra`` is
written in a small shorthand: ``ANY`` or ``None`` keeps the value as is, ``{"field": node}`` is
an object, ``{"*": node}`` a map with arbitrary keys, ``[node]`` an array.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

PRESERVE = "x-kubernetes-preserve-unknown-fields"
EMBEDDED = "x-kubernetes-embedded-resource"
ALWAYS_KEPT = ("apiVersion", "kind", "metadata")
# metav1.ObjectMeta's JSON fields (kubernetes/apimachinery release-1.33 ``pkg/apis/meta/v1/types.go``):
# every kind's root metadata, custom resources included, decodes into it and loses anything else.
OBJECT_META_FIELDS = frozenset({
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
    "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers",
    "managedFields"})


class _Any:
    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()


# --- pruning ------------------------------------------------------------------------------------
def _is_object_schema(schema: Dict[str, Any]) -> bool:
    return schema.get("type") == "object" or "properties" in schema or "additionalProperties" in schema


def _property_schema(schema: Dict[str, Any], key: str) -> Optional[Dict[str, Any]]:
    """The schema of field ``key`` of an object node, or None when the node does not declare it."""
    declared = schema.get("properties")
    if declared and key in declared:
        return declared[key]
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict):
        return additional
    if key in ALWAYS_KEPT and schema.get(EMBEDDED):
        return {PRESERVE: True}
    return None


def prune(value: Any, schema: Optional[Dict[str, Any]]) -> Any:
    """A pruned copy of ``value`` (the input is not modified)."""
    if not schema:
        return value
    if isinstance(value, list):
        items = schema.get("items")
        return [prune(item, items) for item in value] if isinstance(items, dict) else value
    if not isinstance(value, dict) or not _is_object_schema(schema):
        return value
    preserve = schema.get(PRESERVE, False) or schema.get("additionalProperties") is True
    result = {}
    for key, item in value.items():
        child = _property_schema(schema, key)
        if child is None:
            if preserve:
                result[key] = item
        elif item is not None or child.get("nullable") or child.get(PRESERVE):
            result[key] = prune(item, child)
    return result


def prune_object(obj: Dict[str, Any], schema: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """Prune a whole object; returns a new dict (input is not modified)."""
    if not schema or not isinstance(obj, dict):
        return obj
    kept = {k: obj[k] for k in ALWAYS_KEPT if k in obj}
    if isinstance(kept.get("metadata"), dict):
        kept["metadata"] = {k: v for k, v in kept["metadata"].items() if k in OBJECT_META_FIELDS}
    rest = prune({k: v for k, v in obj.items() if k not in ALWAYS_KEPT}, schema)
    return {**kept, **rest}


# --- unknown fields (fieldValidation) -----------------------------------------------------------
def unknown_fields(obj: Any, schema: Optional[Dict[str, Any]]) -> List[str]:
    """Dotted paths of the fields pruning would drop (for ``fieldValidation=Strict|Warn``)."""
    if not schema or not isinstance(obj, dict):
        return []
    found: List[str] = []
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        found.extend(f"metadata.{k}" for k in meta if k not in OBJECT_META_FIELDS)
    _walk({k: v for k, v in obj.items() if k not in ALWAYS_KEPT}, schema, "", found)
    return found


def _walk(value: Any, schema: Optional[Dict[str, Any]], path: str, found: List[str]) -> None:
    if not schema:
        return
    if isinstance(value, list):
        items = schema.get("items")
        for index, item in enumerate(value if isinstance(items, dict) else ()):
            _walk(item, items, f"{path}[{index}]", found)
        return
    if not isinstance(value, dict) or not _is_object_schema(schema):
        return
    preserve = schema.get(PRESERVE, False) or schema.get("additionalProperties") is True
    for key, item in value.items():
        if key.startswith("$"):  # strategic-merge directives are not fields
            continue
        child = _property_schema(schema, key)
        child_path = f"{path}.{key}" if path else key
        if child is not None:
            _walk(item, child, child_path, found)
        elif not preserve:
            found.append(child_path)


# --- extension shorthand ------------------------------------------------------------------------
def from_shorthand(node: Any) -> Dict[str, Any]:
    """The structural schema for an ``extend_schema`` shorthand node (see the module docstring)."""
    if node is None or node is ANY:
        return {PRESERVE: True}
    if isinstance(node, list):
        return {"type": "array", "items": from_shorthand(node[0])}
    if isinstance(node, dict):
        out: Dict[str, Any] = {"type": "object",
                               "properties": {k: from_shorthand(v) for k, v in node.items() if k != "*"}}
        if "*" in node:
            out["additionalProperties"] = from_shorthand(node["*"])
        return out
    raise TypeError(f"not a schema shorthand node: {node!r}")


def _keeps_everything(schema: Dict[str, Any]) -> bool:
    return bool(schema.get(PRESERVE)) and not schema.get("properties") and "items" not in schema


def merge_schema(base: Optional[Dict[str, Any]], extra: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """Union of two structural schema nodes: a field either declares is kept.  Returns new nodes
    along the merged paths and shares the rest (inputs are not modified)."""
    if base is None:
        return extra
    if extra is None:
        return base
    if _keeps_everything(extra) or _keeps_everything(base):
        return extra if _keeps_everything(extra) else base
    merged = dict(base)
    if "properties" in extra:
        properties = dict(base.get("properties") or {})
        for key, node in extra["properties"].items():
            properties[key] = merge_schema(properties.get(key), node)
        merged["properties"] = properties
    for key in ("items", "additionalProperties"):
        if isinstance(extra.get(key), dict):
            current = base.get(key)
            merged[key] = merge_schema(current if isinstance(current, dict) else None, extra[key])
    if extra.get(PRESERVE):
        merged[PRESERVE] = True
    if "type" not in merged and "type" in extra:
        merged["type"] = extra["type"]
    return merged


# --- fieldValidation ----------------------------------------------------------------------------
FIELD_VALIDATION_MODES = ("Ignore", "Warn", "Strict")


def check_fields(mode: Optional[str], kind_name: str, version: str, body: Any,
                 schema: Optional[Dict[str, Any]]) -> List[str]:
    """Apply ``fieldValidation`` to a request body: returns the unknown fields to report in a
    ``Warning`` header (Warn, the default), nothing for Ignore, and raises the apiserver's
    ``400 BadRequest ... strict decoding error`` for Strict."""
    from . import errors

    mode = mode or "Warn"
    if mode not in FIELD_VALIDATION_MODES:
        raise errors.bad_request(f'fieldValidation must be one of "Ignore", "Warn" or "Strict", got "{mode}"')
    if mode == "Ignore":
        return []
    unknown = unknown_fields(body, schema)
    if unknown and mode == "Strict":
        raise errors.bad_request(f'{kind_name} in version "{version}" cannot be handled as a {kind_name}: '
                                 f'strict decoding error: ' + ", ".join(f'unknown field "{u}"' for u in unknown))
    return unknown


def warning_header(unknown: List[str]) -> Dict[str, str]:
    """The ``Warning`` header the apiserver answers for fields it dropped (empty when none)."""
    if not unknown:
        return {}
    return {"Warning": ", ".join(f'299 - "unknown field \\"{u}\\""' for u in unknown)}
