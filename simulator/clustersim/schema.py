"""Structural-schema pruning for CRD-backed kinds and the built-in kinds we write.

A real apiserver drops fields that a CRD's structural schema does not declare (unless the
subtree sets ``x-kubernetes-preserve-unknown-fields``), and drops fields a built-in type's Go
struct does not have when it decodes the body.  Either way ``fieldValidation`` decides whether
the dropped fields are silent (Ignore), reported in a ``Warning`` header (Warn, the default) or
refused (Strict).  We keep a small schema per kind for the fields our collection reads and
writes, written in a tiny DSL:

* ``ANY`` — keep the value as is (scalars, or an object whose content we do not model);
* ``{"field": node, ...}`` — an object: declared fields are kept (and pruned recursively),
  undeclared fields are dropped;  ``{"*": node}`` declares a map with arbitrary keys;
* ``[node]`` — an array whose items follow ``node``.

``apiVersion``, ``kind`` and ``metadata`` are always kept.  A kind without a schema keeps
everything (like a CRD with ``x-kubernetes-preserve-unknown-fields: true`` at the root).
Operators extend a kind's schema with ``cluster.kinds.extend_schema(key, {...})``.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional


class _Any:
    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()
ALWAYS_KEPT = ("apiVersion", "kind", "metadata")


def prune(value: Any, schema: Any) -> Any:
    if schema is ANY or schema is None:
        return value
    if isinstance(schema, list):
        if not isinstance(value, list):
            return value
        return [prune(item, schema[0]) for item in value]
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            return value
        wildcard = schema.get("*")
        result = {}
        for key, item in value.items():
            if key in schema:
                result[key] = prune(item, schema[key])
            elif wildcard is not None:
                result[key] = prune(item, wildcard)
        return result
    return value


def prune_object(obj: Dict[str, Any], schema: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """Prune a whole object; returns a new dict (input is not modified)."""
    if schema is None:
        return obj
    result = {k: obj[k] for k in ALWAYS_KEPT if k in obj}
    for key, value in obj.items():
        if key in ALWAYS_KEPT:
            continue
        if key in schema:
            result[key] = prune(value, schema[key])
    return result


def merge_schema(base: Any, extra: Any) -> Any:
    """Union of two schema nodes (used by ``extend_schema``)."""
    if base is None:
        return extra
    if base is ANY or extra is ANY:
        return ANY
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = dict(base)
        for key, node in extra.items():
            merged[key] = merge_schema(base.get(key), node)
        return merged
    if isinstance(base, list) and isinstance(extra, list):
        return [merge_schema(base[0], extra[0])]
    return extra


def fields(*names: str) -> Dict[str, Any]:
    """``fields("a", "b")`` == ``{"a": ANY, "b": ANY}``."""
    return {name: ANY for name in names}


def conditions(*extra: str) -> List[Any]:
    """A condition list with ``type``, ``status``, ``reason``, ``message``, ``lastTransitionTime``
    and the ``extra`` fields the kind's CRD declares (they differ per kind)."""
    return [fields("type", "status", "reason", "message", "lastTransitionTime", *extra)]


# metav1.Condition (OpenShift config/imageregistry types, HyperConverged).
CONDITIONS: List[Any] = conditions("observedGeneration")


def unknown_fields(obj: Any, schema: Optional[Dict[str, Any]]) -> List[str]:
    """Dotted paths of the fields pruning would drop (for ``fieldValidation=Strict|Warn``)."""
    if schema is None or not isinstance(obj, dict):
        return []
    found: List[str] = []
    for key, value in obj.items():
        if key in ALWAYS_KEPT or key.startswith("$"):  # strategic-merge directives are not fields
            continue
        if key not in schema:
            found.append(key)
        else:
            _walk(value, schema[key], key, found)
    return found


def _walk(value: Any, schema: Any, path: str, found: List[str]) -> None:
    if schema is ANY or schema is None:
        return
    if isinstance(schema, list) and isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, schema[0], f"{path}[{index}]", found)
    elif isinstance(schema, dict) and isinstance(value, dict):
        wildcard = schema.get("*")
        for key, item in value.items():
            if key.startswith("$"):
                continue
            if key in schema:
                _walk(item, schema[key], f"{path}.{key}", found)
            elif wildcard is not None:
                _walk(item, wildcard, f"{path}.{key}", found)
            else:
                found.append(f"{path}.{key}")


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
