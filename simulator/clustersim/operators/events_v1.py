"""``events.k8s.io/v1`` Events: the events API's view of the core ``v1`` Events.

On a real cluster both APIs read and write the same stored objects, converted field by field
(kubernetes/kubernetes release-1.33 ``pkg/apis/events/v1/conversion.go``): ``regarding`` ↔
``involvedObject``, ``note`` ↔ ``message``, ``reportingController`` ↔ ``reportingComponent``,
``deprecatedSource`` / ``deprecatedFirstTimestamp`` / ``deprecatedLastTimestamp`` /
``deprecatedCount`` ↔ ``source`` / ``firstTimestamp`` / ``lastTimestamp`` / ``count``; ``reason``,
``type``, ``action``, ``related``, ``eventTime``, ``series``, ``reportingInstance`` are the same.

The simulator keeps the two as separate objects with the same name, namespace and uid and
mirrors every create, change and deletion from one to the other on the controller thread (so
the other view follows a moment later and has its own resourceVersion).
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from ..controller import Controller, watches

CORE = "events"
V1 = "events.k8s.io/events"
SAME = ("reason", "type", "action", "related", "eventTime", "series", "reportingInstance")
# events.k8s.io/v1 field -> core/v1 field
RENAMED = (("regarding", "involvedObject"), ("note", "message"), ("reportingController", "reportingComponent"),
           ("deprecatedSource", "source"), ("deprecatedFirstTimestamp", "firstTimestamp"),
           ("deprecatedLastTimestamp", "lastTimestamp"), ("deprecatedCount", "count"))
KEPT_METADATA = ("name", "namespace", "uid", "labels", "annotations")


def _metadata(meta: Dict[str, Any]) -> Dict[str, Any]:
    return {k: meta[k] for k in KEPT_METADATA if k in meta}


def _convert(obj: Dict[str, Any], api_version: str, renames: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {"apiVersion": api_version, "kind": "Event", "metadata": _metadata(obj["metadata"])}
    for field in SAME:
        if obj.get(field) not in (None, ""):
            out[field] = obj[field]
    for source, target in renames:
        if obj.get(source) not in (None, ""):
            out[target] = obj[source]
    return out


def to_core(event: Dict[str, Any]) -> Dict[str, Any]:
    return _convert(event, "v1", RENAMED)


def to_v1(event: Dict[str, Any]) -> Dict[str, Any]:
    return _convert(event, "events.k8s.io/v1", [(core, v1) for v1, core in RENAMED])


def _content(obj: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    if obj is None:
        return None
    return {**{k: v for k, v in obj.items() if k != "metadata"}, "metadata": _metadata(obj["metadata"])}


class EventsV1(Controller):
    name = "events-v1"

    @watches(CORE)
    def on_core(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        self._mirror(event, new, old, V1, to_v1)

    @watches(V1)
    def on_v1(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        self._mirror(event, new, old, CORE, to_core)

    def _mirror(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]], target: str,
                convert: Any) -> None:
        source = new if new is not None else old
        assert source is not None
        meta = source["metadata"]
        current = self.store.peek(target, meta["name"], meta.get("namespace"))
        if event == "DELETED":
            if current is not None and current["metadata"].get("uid") == meta.get("uid"):
                self.store.delete(target, meta["name"], meta.get("namespace"))
            return
        assert new is not None
        live = self.store.peek(CORE if target == V1 else V1, meta["name"], meta.get("namespace"))
        if live is None or live["metadata"].get("uid") != meta.get("uid"):
            return  # changed again or gone since: a later event carries the current state
        wanted = convert(live)
        if _content(current) == _content(wanted):
            return
        if current is None:
            self.store.create(target, wanted, meta.get("namespace"))
        else:
            wanted["metadata"]["resourceVersion"] = current["metadata"].get("resourceVersion")
            self.store.update(target, wanted, meta.get("namespace"))


CONTROLLERS = [EventsV1]
