"""Small helpers shared by every module."""
from __future__ import annotations

import datetime as _dt
import json
import pickle
import time as _time
import uuid
from typing import Any, Dict, Optional


def clone(value: Any) -> Any:
    """Deep copy of JSON-shaped data.

    Implemented with pickle because it runs in C: about twice as fast as a recursive Python copy
    and four times faster than copy.deepcopy, and this is the simulator's hottest path (every read
    returns a copy).  Like deepcopy it keeps aliasing inside the copied value.
    """
    if type(value) not in _CONTAINERS:
        return value
    return _pickle_loads(_pickle_dumps(value, _PROTOCOL))


_CONTAINERS = (dict, list)
_PROTOCOL = pickle.HIGHEST_PROTOCOL
_pickle_loads, _pickle_dumps = pickle.loads, pickle.dumps


_last_stamp = [0, ""]


def now_rfc3339() -> str:
    """UTC now at second precision, as Kubernetes timestamps are (cached per second)."""
    second = int(_time.time())
    if _last_stamp[0] != second:
        _last_stamp[0] = second
        _last_stamp[1] = _dt.datetime.fromtimestamp(second, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return _last_stamp[1]


def new_uid() -> str:
    return str(uuid.uuid4())


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def dig(obj: Optional[Dict[str, Any]], *path: str, default: Any = None) -> Any:
    """``dig(vm, "spec", "template", "spec")`` without a chain of ``.get(..., {})``."""
    current: Any = obj
    for key in path:
        if not isinstance(current, dict) or key not in current:
            return default
        current = current[key]
    return current


def add_finalizer(obj: Dict[str, Any], finalizer: str) -> bool:
    """Append ``finalizer`` to ``metadata.finalizers`` unless it is there; True when added (so a
    ``store.mutate`` callback can return it: False cancels a write that would change nothing)."""
    finalizers = obj["metadata"].setdefault("finalizers", [])
    if finalizer in finalizers:
        return False
    finalizers.append(finalizer)
    return True


def set_condition(conditions: list, type_: str, status: str, reason: str = "", message: str = "",
                  **extra: Any) -> bool:
    """Insert or update a condition in place; keep lastTransitionTime unless the status flips.

    Returns True when something changed, so controllers can skip no-op writes.
    """
    for condition in conditions:
        if condition.get("type") == type_:
            changed = (condition.get("status") != status or condition.get("reason", "") != reason
                       or condition.get("message", "") != message
                       or any(condition.get(k) != v for k, v in extra.items()))
            if condition.get("status") != status:
                condition["lastTransitionTime"] = now_rfc3339()
            condition.update({"status": status, "reason": reason, "message": message, **extra})
            return changed
    conditions.append({"type": type_, "status": status, "reason": reason, "message": message,
                       "lastTransitionTime": now_rfc3339(), **extra})
    return True
