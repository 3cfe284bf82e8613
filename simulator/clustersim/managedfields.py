"""Field ownership: ``metadata.managedFields`` and server-side apply.

Modelled on kubernetes/apimachinery release-1.33 ``pkg/util/managedfields`` (``internal/
structuredmerge.go``, ``internal/conflict.go``, ``internal/stripmeta.go``, ``internal/
managedfieldsupdater.go``) and sigs.k8s.io/structured-merge-diff v4 (``fieldpath``, ``merge``):

* a field set is a set of paths; path elements are fields (``f:name``; map keys too), items of
  associative lists by their keys (``k:{"name":"c"}``, the item itself is ``.``) and members of
  set lists (``v:"x"``); an atomic list or map (``x-kubernetes-list-type: atomic``/absent,
  ``x-kubernetes-map-type: atomic``) is one leaf;  list types come from the schema's
  ``x-kubernetes-list-type``/``-list-map-keys`` (``patch.MERGE_KEYS`` for built-in lists the
  schema leaves unmarked; ``metadata.finalizers`` is a set, ``ownerReferences`` keyed by uid);
* ``apiVersion``, ``kind`` and the server-owned metadata (name, namespace, uid, ...) are never
  owned (``stripmeta.go``), nor ``status`` on the main resource of a kind with a status
  subresource (the strategies' ``GetResetFields``);
* an Update (create, PUT, non-apply PATCH) gives its manager the fields it changed and takes them
  from every other manager; an Apply merges the applied configuration, fails with ``409 Apply
  failed with N conflict(s)`` when it changes a field another manager owns (unless ``force``,
  which takes the field over), and removes the fields the manager applied before and no longer
  applies when no other manager owns them;
* entries are ``{manager, operation, apiVersion, time, fieldsType: FieldsV1, fieldsV1
  [, subresource]}``, one per manager, operation and subresource; an entry whose set becomes
  empty is dropped.

Not modelled: version conversion of field sets (one version per kind here), the
``kubectl-client-side-apply`` upgrade path (``last-applied`` annotation), the merging of Update
entries into an ``ancient-changes`` bucket beyond 10 managers.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Set, Tuple

from . import errors
from .patch import MERGE_KEYS
from .util import clone, now_rfc3339

Element = Tuple[str, str]  # ("f", name) | ("k", key json) | ("v", value json)
Path = Tuple[Element, ...]
SELF = ("", ".")  # marks an associative-list item itself
STRIPPED_META = frozenset({"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                           "selfLink", "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds",
                           "generateName"})
META_SCHEMA = {"type": "object", "properties": {
    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
    "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    "finalizers": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
    "ownerReferences": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["uid"],
                        "items": {"type": "object"}}}}


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


# --- list and map types ---------------------------------------------------------------------------
def list_type(schema: Optional[Dict[str, Any]], field_name: str, builtin: bool) -> Tuple[str, List[str]]:
    """``("map", keys)``, ``("set", [])`` or ``("atomic", [])`` for a list field."""
    schema = schema or {}
    declared = schema.get("x-kubernetes-list-type")
    if declared == "map":
        return "map", list(schema.get("x-kubernetes-list-map-keys") or [])
    if declared in ("set", "atomic"):
        return declared, []
    if builtin and schema.get("x-kubernetes-patch-merge-key"):
        return "map", [schema["x-kubernetes-patch-merge-key"]]
    if builtin and field_name in MERGE_KEYS:
        return "map", [MERGE_KEYS[field_name]]
    return "atomic", []


def _child(schema: Optional[Dict[str, Any]], key: str) -> Optional[Dict[str, Any]]:
    if not schema:
        return None
    declared = schema.get("properties") or {}
    if key in declared:
        return declared[key]
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def _atomic_map(schema: Optional[Dict[str, Any]]) -> bool:
    return bool(schema) and (schema.get("x-kubernetes-map-type") == "atomic"
                             or schema.get("x-kubernetes-preserve-unknown-fields") is True and not schema.get("properties"))


def _item_key(item: Any, keys: List[str]) -> Optional[str]:
    if not isinstance(item, dict) or not keys or any(k not in item for k in keys):
        return None
    return _json({k: item[k] for k in keys})


# --- field sets -----------------------------------------------------------------------------------
class Walker:
    """Field sets, values and edits of one kind's objects (its schema and list types)."""

    def __init__(self, schema: Optional[Dict[str, Any]], builtin: bool, has_status: bool) -> None:
        self.schema = schema or {}
        self.builtin = builtin
        self.has_status = has_status

    def root_schema(self, key: str) -> Optional[Dict[str, Any]]:
        return META_SCHEMA if key == "metadata" else _child(self.schema, key)

    def fields(self, obj: Dict[str, Any], include_status: bool = False) -> Set[Path]:
        found: Set[Path] = set()
        for key, value in obj.items():
            if key in ("apiVersion", "kind") or (key == "status" and self.has_status and not include_status):
                continue
            if key == "metadata":
                value = {k: v for k, v in (value or {}).items() if k not in STRIPPED_META}
                if not value:
                    continue
            self._collect(value, self.root_schema(key), key, (("f", key),), found)
        return found

    def _collect(self, value: Any, schema: Optional[Dict[str, Any]], name: str, path: Path, found: Set[Path]) -> None:
        if isinstance(value, dict) and value and not _atomic_map(schema):
            for key, item in value.items():
                self._collect(item, _child(schema, key), key, path + (("f", key),), found)
            return
        if isinstance(value, list) and value:
            kind, keys = list_type(schema, name, self.builtin)
            items_schema = (schema or {}).get("items")
            if kind == "set":
                found.update(path + (("v", _json(item)),) for item in value)
                return
            if kind == "map" and all(_item_key(item, keys) for item in value):
                for item in value:
                    item_path = path + (("k", _item_key(item, keys)),)
                    found.add(item_path + (SELF,))
                    for key, sub in item.items():
                        self._collect(sub, _child(items_schema, key), key, item_path + (("f", key),), found)
                return
        found.add(path)

    # --- values -------------------------------------------------------------------------------
    def value(self, obj: Any, path: Path) -> Any:
        current = obj
        for kind, name in path:
            if kind == "":
                return current
            if kind == "f":
                if not isinstance(current, dict) or name not in current:
                    return _MISSING
                current = current[name]
            elif kind == "k":
                current = next((i for i in current or [] if isinstance(i, dict) and _matches(i, name)), _MISSING) \
                    if isinstance(current, list) else _MISSING
            else:
                wanted = json.loads(name)
                current = wanted if isinstance(current, list) and wanted in current else _MISSING
            if current is _MISSING:
                return _MISSING
        return current

    def remove(self, obj: Dict[str, Any], path: Path) -> None:
        """Drop the field, item or set member at ``path`` (an item when the path ends in ``.``)."""
        if path and path[-1] == SELF:
            path = path[:-1]
        parent = self.value(obj, path[:-1]) if len(path) > 1 else obj
        kind, name = path[-1]
        if kind == "f" and isinstance(parent, dict):
            parent.pop(name, None)
        elif kind == "k" and isinstance(parent, list):
            parent[:] = [i for i in parent if not (isinstance(i, dict) and _matches(i, name))]
        elif kind == "v" and isinstance(parent, list):
            wanted = json.loads(name)
            parent[:] = [i for i in parent if i != wanted]


class _Missing:
    pass


_MISSING = _Missing()


def _matches(item: Dict[str, Any], key_json: str) -> bool:
    return all(item.get(k) == v for k, v in json.loads(key_json).items())


# --- merge (apply) --------------------------------------------------------------------------------
def merge(live: Any, applied: Any, schema: Optional[Dict[str, Any]], name: str, builtin: bool) -> Any:
    """``applied`` merged into ``live`` as structured merge does: maps field by field, associative
    lists item by item (new items appended), sets as unions, everything else replaced."""
    if isinstance(live, dict) and isinstance(applied, dict) and not _atomic_map(schema):
        result = dict(live)
        for key, value in applied.items():
            child = META_SCHEMA if name == "" and key == "metadata" else _child(schema, key)
            result[key] = merge(live.get(key), value, child, key, builtin) if key in live else clone(value)
        return result
    if isinstance(live, list) and isinstance(applied, list):
        kind, keys = list_type(schema, name, builtin)
        if kind == "set":
            return list(live) + [clone(v) for v in applied if v not in live]
        if kind == "map" and all(_item_key(i, keys) for i in live + applied):
            result = list(live)
            items_schema = (schema or {}).get("items")
            for item in applied:
                key = _item_key(item, keys)
                index = next((n for n, old in enumerate(result) if _item_key(old, keys) == key), None)
                if index is None:
                    result.append(clone(item))
                else:
                    result[index] = merge(result[index], item, items_schema, "", builtin)
            return result
    return clone(applied)


# --- managedFields entries ------------------------------------------------------------------------
def to_fields_v1(paths: Set[Path]) -> Dict[str, Any]:
    tree: Dict[str, Any] = {}
    for path in sorted(paths):
        node = tree
        for kind, name in path:
            node = node.setdefault("." if kind == "" else f"{kind}:{name}", {})
    return tree


def from_fields_v1(tree: Any, prefix: Path = ()) -> Set[Path]:
    paths: Set[Path] = set()
    if not isinstance(tree, dict):
        return paths
    for key, sub in tree.items():
        if key == ".":
            paths.add(prefix + (SELF,))
            continue
        kind, _, name = key.partition(":")
        path = prefix + ((kind, name),)
        if sub:
            paths |= from_fields_v1(sub, path)
        else:
            paths.add(path)
    return paths


def path_string(path: Path) -> str:
    """A path as structured-merge-diff prints it: ``.spec.containers[name="c"].image``."""
    out = ""
    for kind, name in path:
        if kind == "f":
            out += "." + name
        elif kind == "k":
            out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in json.loads(name).items()) + "]"
        elif kind == "v":
            out += f"[={name}]"
    return out


def _entry_id(entry: Dict[str, Any]) -> Tuple[str, str, str]:
    return entry.get("manager", ""), entry.get("operation", ""), entry.get("subresource", "")


def entries_as_sets(managed: Any) -> Dict[Tuple[str, str, str], Tuple[Dict[str, Any], Set[Path]]]:
    found = {}
    for entry in managed or []:
        if isinstance(entry, dict):
            found[_entry_id(entry)] = (entry, from_fields_v1(entry.get("fieldsV1")))
    return found


def render(entries: Dict[Tuple[str, str, str], Tuple[Dict[str, Any], Set[Path]]]) -> List[Dict[str, Any]]:
    out = []
    for (manager, operation, subresource), (entry, paths) in entries.items():
        if not paths:
            continue
        rendered = {"manager": manager, "operation": operation, "apiVersion": entry.get("apiVersion", ""),
                    "time": entry.get("time") or now_rfc3339(), "fieldsType": "FieldsV1",
                    "fieldsV1": to_fields_v1(paths)}
        if subresource:
            rendered["subresource"] = subresource
        out.append(rendered)
    return out


def _covers(paths: Set[Path], path: Path) -> bool:
    """``paths`` owns ``path`` or something below it."""
    size = len(path[:-1]) if path and path[-1] == SELF else len(path)
    stem = path[:size]
    return any(p[:size] == stem for p in paths)


def conflict_error(conflicts: List[Tuple[str, Path]]) -> errors.ApiError:
    """``internal/conflict.go`` ``NewConflictError``: 409 Conflict, one cause per field."""
    if len(conflicts) == 1:
        manager, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {manager}: {path_string(path)}"
    else:
        by_manager: Dict[str, List[Path]] = {}
        for manager, path in conflicts:
            by_manager.setdefault(manager, []).append(path)
        lines = []
        for manager in sorted(by_manager):
            lines.append(f"conflicts with {manager}:")
            lines.extend(f"- {path_string(p)}" for p in by_manager[manager])
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    causes = [errors.FieldCause(path_string(p), f"conflict with {m}", "FieldManagerConflict") for m, p in conflicts]
    return errors.ApiError(409, "Conflict", message, causes=causes)


def printed_manager(entry: Dict[str, Any]) -> str:
    """How ``conflict.go`` ``printManager`` names an owner."""
    text = json.dumps(entry.get("manager", ""))
    if entry.get("subresource"):
        text += f' with subresource {json.dumps(entry["subresource"])}'
    if entry.get("operation") == "Update":  # the manager identifier has no time (BuildManagerIdentifier)
        text += f' using {entry.get("apiVersion", "")}'
    return text


# --- operations -----------------------------------------------------------------------------------
def _changed_paths(walker: Walker, old: Optional[Dict[str, Any]], new: Dict[str, Any], include_status: bool
                   ) -> Tuple[Set[Path], Set[Path]]:
    """(paths set or changed by the write, paths that no longer exist)."""
    new_paths = walker.fields(new, include_status)
    if old is None:
        return new_paths, set()
    old_paths = walker.fields(old, include_status)
    changed = {p for p in new_paths if p not in old_paths or walker.value(old, p) != walker.value(new, p)}
    return changed, old_paths - new_paths


def record_update(walker: Walker, old: Optional[Dict[str, Any]], new: Dict[str, Any], manager: str,
                  api_version: str, subresource: str = "") -> None:
    """An Update by ``manager``: it owns what it changed, others lose that and what is gone.
    Writes ``new["metadata"]["managedFields"]``."""
    meta = new["metadata"]
    current = meta.get("managedFields")
    if current is None and old is not None:
        current = (old.get("metadata") or {}).get("managedFields")
    entries = entries_as_sets(current)
    changed, gone = _changed_paths(walker, old, new, include_status=bool(subresource))
    if subresource:
        changed = {p for p in changed if p[0] == ("f", subresource)}
    if not changed and not gone:
        if current:
            meta["managedFields"] = clone(current)
        return
    for entry_id, (entry, paths) in entries.items():
        paths -= changed | gone
    key = (manager, "Update", subresource)
    entry, paths = entries.get(key, ({"apiVersion": api_version}, set()))
    entries[key] = (dict(entry, apiVersion=api_version, time=now_rfc3339()), paths | changed)
    _store(meta, entries)


def _store(meta: Dict[str, Any], entries: Dict[Tuple[str, str, str], Tuple[Dict[str, Any], Set[Path]]]) -> None:
    rendered = render(entries)
    if rendered:
        meta["managedFields"] = rendered
    else:
        meta.pop("managedFields", None)


def server_side_apply(walker: Walker, live: Dict[str, Any], applied: Dict[str, Any], manager: str, force: bool,
                      api_version: str) -> Dict[str, Any]:
    """The object after ``manager`` applies ``applied`` to ``live`` (a new dict with its
    managedFields); raises the 409 of conflicting fields unless ``force``."""
    entries = entries_as_sets((live.get("metadata") or {}).get("managedFields"))
    key = (manager, "Apply", "")
    previous = entries.get(key, ({}, set()))[1]
    applied_paths = walker.fields(applied)
    merged = merge(live, applied, walker.schema, "", walker.builtin)
    conflicts = []
    for entry_id, (entry, paths) in entries.items():
        if entry_id == key:
            continue
        for path in sorted(applied_paths & paths):
            if path[-1] != SELF and walker.value(live, path) != walker.value(merged, path):
                conflicts.append((entry, path))
    if conflicts and not force:
        raise conflict_error([(printed_manager(entry), path) for entry, path in conflicts])
    for entry, path in conflicts:
        entries[_entry_id(entry)][1].discard(path)
    others = set().union(*(paths for entry_id, (_, paths) in entries.items() if entry_id != key)) if entries else set()
    for path in sorted(previous - applied_paths, key=len, reverse=True):
        if not _covers(others, path):
            walker.remove(merged, path)
    merged["metadata"] = dict(merged.get("metadata") or {})
    unchanged = applied_paths == previous and not conflicts and _without_managed(merged) == _without_managed(live)
    if unchanged:  # a re-apply that changes nothing keeps the entries and their times (no write)
        merged["metadata"]["managedFields"] = clone(live["metadata"].get("managedFields"))
        return merged
    entries[key] = ({"apiVersion": api_version, "time": now_rfc3339()}, applied_paths)
    _store(merged["metadata"], entries)
    return merged


def _without_managed(obj: Dict[str, Any]) -> Dict[str, Any]:
    return dict(obj, metadata={k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"})


def created_by_apply(walker: Walker, applied: Dict[str, Any], manager: str, api_version: str) -> None:
    """An apply that creates the object: the manager owns what it applied."""
    entries = {(manager, "Apply", ""): ({"apiVersion": api_version, "time": now_rfc3339()}, walker.fields(applied))}
    _store(applied.setdefault("metadata", {}), entries)
