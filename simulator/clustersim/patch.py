"""The three patch formats the apiserver accepts (server-side apply is in ``registry.py``).

* JSON merge patch (RFC 7386): maps merge, ``null`` deletes, lists replace.
* JSON patch (RFC 6902): add/remove/replace/move/copy/test on JSON pointers.
* Strategic merge patch: like merge patch, but lists whose Go struct field carries a
  ``patchMergeKey`` merge item by item on that key, ``$patch: delete|replace`` directives work,
  and ``finalizers`` (``patchStrategy: merge`` on a list of strings) is a set union.  The real
  apiserver only allows strategic merge for built-in kinds; custom resources answer 415.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from . import errors
from .errors import ApiError
from .util import clone

# Field name -> merge key, from the Kubernetes Go types' ``patchMergeKey`` tags for the fields
# our resources use.  Field names are unique enough across the built-in types we serve; the one
# ambiguity (container ports vs. service ports) is resolved by looking at the items.
MERGE_KEYS: Dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "env": "name",
    "ports": "containerPort",
    "conditions": "type",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "ownerReferences": "uid",
    "addresses": "type",
    "resourceClaims": "name",
    "topologySpreadConstraints": "topologyKey",
}
# Lists of scalars with ``patchStrategy: merge`` (union instead of replace).
MERGE_SCALAR_LISTS = {"finalizers"}


class PatchError(ApiError):
    def __init__(self, message: str, code: int = 422) -> None:
        super().__init__(code, "Invalid" if code == 422 else "BadRequest", message)


def json_merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return clone(patch)
    result = clone(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


# --- RFC 6902 ------------------------------------------------------------------------------------

def _pointer(path: str) -> List[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _resolve(doc: Any, parts: List[str], path: str) -> Any:
    current = doc
    for part in parts:
        if isinstance(current, dict):
            if part not in current:
                raise PatchError(f"doc is missing path: \"{path}\": missing value")
            current = current[part]
        elif isinstance(current, list):
            index = _index(part, len(current) - 1, path)
            current = current[index]
        else:
            raise PatchError(f"doc is missing path: \"{path}\": missing value")
    return current


def _index(part: str, max_index: int, path: str) -> int:
    try:
        index = int(part)
    except ValueError:
        raise PatchError(f"invalid array index {part!r} in {path!r}") from None
    if index < 0 or index > max_index:
        raise PatchError(f"unable to access invalid index: {index} in {path!r}")
    return index


def _add(doc: Any, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return clone(value)
    parent = _resolve(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = clone(value)
    elif isinstance(parent, list):
        if last == "-":
            parent.append(clone(value))
        else:
            parent.insert(_index(last, len(parent), path), clone(value))
    else:
        raise PatchError(f"doc is missing path: \"{path}\": missing value")
    return doc


def _remove(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        raise PatchError("cannot remove the whole document")
    parent = _resolve(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"Unable to remove nonexistent key: {last}: missing value")
        del parent[last]
    elif isinstance(parent, list):
        del parent[_index(last, len(parent) - 1, path)]
    else:
        raise PatchError(f"doc is missing path: \"{path}\": missing value")
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise PatchError("json patch must be a list of operations", code=400)
    doc = clone(target)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid json patch operation {op!r}", code=400)
        kind, path = op["op"], op["path"]
        if kind == "add":
            doc = _add(doc, path, op.get("value"))
        elif kind == "remove":
            doc = _remove(doc, path)
        elif kind == "replace":
            _resolve(doc, _pointer(path), path)  # must exist
            doc = _remove(doc, path) if _pointer(path) else doc
            doc = _add(doc, path, op.get("value"))
        elif kind in ("move", "copy"):
            source = op.get("from", "")
            value = clone(_resolve(doc, _pointer(source), source))
            if kind == "move":
                doc = _remove(doc, source)
            doc = _add(doc, path, value)
        elif kind == "test":
            if _resolve(doc, _pointer(path), path) != op.get("value"):
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {kind}", code=400)
    return doc


# --- strategic merge -----------------------------------------------------------------------------

def strategic_merge_patch(target: Any, patch: Any) -> Any:
    return _smp(target, patch, None)


def _smp(target: Any, patch: Any, field_name: Optional[str]) -> Any:
    if isinstance(patch, dict):
        directive = patch.get("$patch")
        if directive == "replace":
            return {k: clone(v) for k, v in patch.items() if k != "$patch"}
        if directive == "delete":
            return None
        result = clone(target) if isinstance(target, dict) else {}
        for key, value in patch.items():
            if key.startswith("$setElementOrder/") or key.startswith("$deleteFromPrimitiveList/") or key in ("$retainKeys", "$patch"):
                if key.startswith("$deleteFromPrimitiveList/"):
                    name = key.split("/", 1)[1]
                    if isinstance(result.get(name), list):
                        result[name] = [v for v in result[name] if v not in value]
                continue
            if value is None:
                result.pop(key, None)
                continue
            merged = _smp(result.get(key), value, key)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        return result
    if isinstance(patch, list):
        return _smp_list(target if isinstance(target, list) else [], patch, field_name)
    return clone(patch)


def _merge_key_for(field_name: Optional[str], items: List[Any]) -> Optional[str]:
    key = MERGE_KEYS.get(field_name or "")
    if key == "containerPort" and any(isinstance(i, dict) and "port" in i and "containerPort" not in i for i in items):
        return "port"  # service ports
    return key


def _smp_list(target: List[Any], patch: List[Any], field_name: Optional[str]) -> List[Any]:
    if field_name in MERGE_SCALAR_LISTS:
        result = list(target)
        for item in patch:
            if item not in result:
                result.append(clone(item))
        return result
    key = _merge_key_for(field_name, target + patch)
    if key is None or not all(isinstance(i, dict) for i in patch):
        if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
            return [clone({k: v for k, v in i.items() if k != "$patch"}) for i in patch if i.get("$patch") != "replace"]
        return clone(patch)
    if any(i.get("$patch") == "replace" for i in patch):
        return [clone(i) for i in patch if i.get("$patch") != "replace"]
    result = [clone(i) for i in target]
    for item in patch:
        identity = item.get(key)
        position = next((n for n, existing in enumerate(result)
                         if isinstance(existing, dict) and existing.get(key) == identity), None)
        if item.get("$patch") == "delete":
            if position is not None:
                del result[position]
            continue
        if position is None:
            result.append(_smp({}, item, None))
        else:
            result[position] = _smp(result[position], item, None)
    return result


def apply_patch(target: Dict[str, Any], patch: Any, patch_type: str, strategic_allowed: bool) -> Dict[str, Any]:
    """``target`` with ``patch`` applied (``target`` is not changed).

    ``patch_type`` is "merge", "json" or "strategic"; ``strategic_allowed`` is False for custom
    resources, which answer 415 to a strategic merge patch.  The result must be an object.
    """
    if patch_type == "merge":
        if not isinstance(patch, dict):
            raise errors.bad_request("json: cannot unmarshal into Go value of type map[string]interface {}")
        result = json_merge_patch(target, patch)
    elif patch_type == "json":
        result = json_patch(target, patch)
    elif patch_type == "strategic":
        if not strategic_allowed:
            raise errors.unsupported_media_type(
                "application/strategic-merge-patch+json",
                ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"])
        result = strategic_merge_patch(target, patch)
    else:
        raise ValueError(f"unknown patch type {patch_type}")
    if not isinstance(result, dict):
        raise errors.bad_request("the patch produced a value that is not an object")
    return result
