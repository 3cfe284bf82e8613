"""The decode/encode round trip of a built-in kind: what a body looks like once the apiserver has
turned it into its Go type and back.

* ``null`` becomes the Go zero value, which ``omitempty`` drops (for a struct field, the struct
  comes back, filled by defaulting);
* empty lists and empty maps are dropped, as ``omitempty`` drops a zero-length slice or map
  (kubernetes/api ``*/v1/types.go``: optional fields are ``omitempty``); a field the schema lists
  as ``required`` has no ``omitempty`` and keeps its ``[]`` / ``{}``; an empty *struct* (a node
  with ``properties``) is always encoded, as ``encoding/json`` never omits structs;
* quantities (``resources.limits``/``requests``, ``capacity``, ``allocatable``,
  ``allocatedResources``, ``overhead``, ``emptyDir.sizeLimit``, quota ``hard``/``used``) come back
  in canonical form (``quantity.canonical_quantity``), and a malformed one is refused as the
  decoder refuses it (400).

Custom resources keep what their structural schema keeps (``schema.py`` drops non-nullable
nulls; empty lists stay, as apiextensions-apiserver stores JSON as it is).
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from . import errors
from .quantity import QuantityError, canonical_quantity

QUANTITY_MAPS = frozenset({"capacity", "allocatable", "allocatedResources", "overhead", "hard", "used"})
RESOURCE_LISTS = frozenset({"limits", "requests"})  # inside a ``resources`` object
QUANTITY_SCALARS = frozenset({"sizeLimit"})
QUANTITY_REGEX = "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


def _canonical(value: Any, kind_name: str, version: str, milli: bool = False) -> Any:
    try:
        return canonical_quantity(value, milli=milli)
    except (QuantityError, TypeError):
        raise errors.bad_request(f'{kind_name} in version "{version}" cannot be handled as a {kind_name}: '
                                 f'quantities must match the regular expression {QUANTITY_REGEX}') from None


def _quantity_map(value: Any, kind_name: str, version: str) -> Any:
    if not isinstance(value, dict):
        return value
    # a ResourceList: SetDefaults_ResourceList rounds every value up to milli precision
    return {name: _canonical(item, kind_name, version, True) for name, item in value.items() if item is not None}


def _is_map_schema(schema: Optional[Dict[str, Any]]) -> bool:
    return bool(schema) and isinstance(schema.get("additionalProperties"), dict) and not schema.get("properties")


def _child_schema(schema: Optional[Dict[str, Any]], key: str) -> Optional[Dict[str, Any]]:
    if not schema:
        return None
    declared = schema.get("properties") or {}
    if key in declared:
        return declared[key]
    additional = schema.get("additionalProperties")
    return additional if isinstance(additional, dict) else None


def _normalise(value: Any, schema: Optional[Dict[str, Any]], parent_key: str, ctx: tuple) -> Any:
    if isinstance(value, list):
        items = schema.get("items") if schema else None
        return [_normalise(item, items if isinstance(items, dict) else None, "", ctx) for item in value]
    if not isinstance(value, dict):
        return value
    required = set((schema or {}).get("required") or ())
    is_map = _is_map_schema(schema)
    result: Dict[str, Any] = {}
    for key, item in value.items():
        if item is None and not is_map:
            continue
        child = _child_schema(schema, key)
        if (key in QUANTITY_MAPS and not is_map) or (parent_key == "resources" and key in RESOURCE_LISTS):
            item = _quantity_map(item, *ctx)
        elif key in QUANTITY_SCALARS and item is not None:
            item = _canonical(item, *ctx)
        else:
            item = _normalise(item, child, key, ctx)
        if key not in required and not is_map and _omitted_when_empty(item, child):
            continue
        result[key] = item
    return result


def _omitted_when_empty(item: Any, schema: Optional[Dict[str, Any]]) -> bool:
    if isinstance(item, list):
        return not item
    if isinstance(item, dict) and not item:
        return schema is None or _is_map_schema(schema)
    return False


def round_trip(obj: Dict[str, Any], schema: Optional[Dict[str, Any]], kind_name: str, version: str) -> Dict[str, Any]:
    """``obj`` as a built-in type's decode and encode leave it (a new dict; metadata included)."""
    ctx = (kind_name, version)
    result = {}
    for key, value in obj.items():
        if value is None:
            continue
        if key == "metadata":
            result[key] = normalise_metadata(value)
            continue
        child = _child_schema(schema, key) if schema else None
        normalised = _normalise(value, child, key, ctx)
        if key not in ("apiVersion", "kind", "spec", "status") and _omitted_when_empty(normalised, child):
            continue
        result[key] = normalised
    return result


def normalise_metadata(meta: Any) -> Any:
    """ObjectMeta: nulls and empty maps/lists go (every field is ``omitempty``)."""
    if not isinstance(meta, dict):
        return meta
    return {key: value for key, value in meta.items()
            if value is not None and not (isinstance(value, (list, dict)) and not value)}
