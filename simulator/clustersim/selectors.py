"""Label and field selectors with the apiserver's syntax and error messages."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Tuple

from .errors import bad_request

_SET_EXPR = re.compile(r"^\s*(!?)([A-Za-z0-9./_-]+)\s+(in|notin)\s*\(([^)]*)\)\s*$")
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: FrozenSet[str] = frozenset()

    def matches(self, labels: Dict[str, str]) -> bool:
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and labels[self.key] in self.values
        # "!=" and "notin" match objects that do not carry the key at all, as in Kubernetes.
        return not present or labels[self.key] not in self.values


def _split_top_level(text: str) -> List[str]:
    """Split on commas that are not inside ``in (...)`` parentheses."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def parse_label_selector(text: Optional[str]) -> Tuple[Requirement, ...]:
    if not text:
        return ()
    requirements = []
    for part in _split_top_level(text):
        set_match = _SET_EXPR.match(part)
        if set_match:
            negate, key, op, values = set_match.groups()
            if negate:
                raise bad_request(f"unable to parse requirement: invalid label selector {text!r}")
            vals = frozenset(v.strip() for v in values.split(",") if v.strip())
            requirements.append(Requirement(key, op, vals))
            continue
        for op_text, op in (("!=", "!="), ("==", "="), ("=", "=")):
            if op_text in part:
                key, _, value = part.partition(op_text)
                key, value = key.strip(), value.strip()
                _check_key(key, text)
                requirements.append(Requirement(key, op, frozenset([value])))
                break
        else:
            if part.startswith("!"):
                key = part[1:].strip()
                _check_key(key, text)
                requirements.append(Requirement(key, "!exists"))
            else:
                _check_key(part, text)
                requirements.append(Requirement(part, "exists"))
    return tuple(requirements)


def _check_key(key: str, text: str) -> None:
    if not key or not _LABEL_KEY.match(key):
        raise bad_request(f"unable to parse requirement: invalid label key {key!r} in selector {text!r}")


def labels_match(requirements: Tuple[Requirement, ...], labels: Optional[Dict[str, str]]) -> bool:
    labels = labels or {}
    return all(r.matches(labels) for r in requirements)


@dataclass(frozen=True)
class FieldRequirement:
    path: str
    op: str  # "=" or "!="
    value: str


def parse_field_selector(text: Optional[str], supported: FrozenSet[str], kind: str) -> Tuple[FieldRequirement, ...]:
    """Parse ``metadata.name=x,spec.nodeName!=y``; unknown fields answer 400 as the apiserver does."""
    if not text:
        return ()
    requirements = []
    for part in _split_top_level(text):
        for op_text, op in (("!=", "!="), ("==", "="), ("=", "=")):
            if op_text in part:
                path, _, value = part.partition(op_text)
                path = path.strip()
                if path not in supported:
                    raise bad_request(f'field label not supported: {path}')
                requirements.append(FieldRequirement(path, op, value.strip()))
                break
        else:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
    return tuple(requirements)


# Selectable fields whose value is a Go bool, printed with strconv.FormatBool: unset reads "false"
# (kubernetes/kubernetes release-1.33 ``pkg/registry/core/node/strategy.go`` NodeToSelectableFields).
BOOL_FIELDS = frozenset({"spec.unschedulable"})


def field_value(obj: Dict[str, Any], path: str) -> str:
    """The string value of a dotted field (missing → "", or "false" for a bool field), as field
    selectors compare strings."""
    if path in BOOL_FIELDS:
        return "true" if _lookup(obj, path) is True else "false"
    return _as_text(_lookup(obj, path))


def _lookup(obj: Dict[str, Any], path: str) -> Any:
    current: Any = obj
    for segment in path.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(segment)
    return current


def _as_text(current: Any) -> str:
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


def fields_match(requirements: Tuple[FieldRequirement, ...], obj: Dict[str, Any]) -> bool:
    for req in requirements:
        value = field_value(obj, req.path)
        if (value == req.value) != (req.op == "="):
            return False
    return True


def make_matcher(labels: Tuple[Requirement, ...], fields: Tuple[FieldRequirement, ...]) -> Callable[[Dict[str, Any]], bool]:
    def matcher(obj: Dict[str, Any]) -> bool:
        return labels_match(labels, obj.get("metadata", {}).get("labels")) and fields_match(fields, obj)

    return matcher


def all_paths(selector: Optional[str]) -> FrozenSet[str]:
    """The field paths a field selector names (internal callers may select on any field)."""
    if not selector:
        return frozenset()
    paths = set()
    for part in _split_top_level(selector):
        for op in ("!=", "==", "="):
            if op in part:
                paths.add(part.split(op, 1)[0].strip())
                break
    return frozenset(paths)
