"""The request log: what clients asked the API server, for "check mode wrote nothing" tests.

Only HTTP requests are recorded (controller writes are not).  Discovery requests are counted
under the verb ``discovery`` and proxied non-resource endpoints under ``proxy`` so that
``get``/``list`` counts only reflect resource reads.
"""
from __future__ import annotations

import collections
import json
import threading
from dataclasses import asdict, dataclass
from typing import Any, Deque, Dict, List

WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
# KubeVirt's volume subresources take their dry-run flag in the body (AddVolumeOptions /
# RemoveVolumeOptions ``dryRun: ["All"]``), not in the query; virt-api honours it.
BODY_DRY_RUN_SUBRESOURCES = frozenset({"addvolume", "removevolume", "eviction"})


def body_requests_dry_run(subresource: str, body: bytes) -> bool:
    """Whether a request asks for a dry run in its body, for the subresources that take it there."""
    if subresource not in BODY_DRY_RUN_SUBRESOURCES or not body:
        return False
    try:
        options = json.loads(body.decode())
    except ValueError:
        return False
    if not isinstance(options, dict):
        return False
    if subresource == "eviction":  # an Eviction carries DeleteOptions
        options = options.get("deleteOptions") or {}
    return isinstance(options, dict) and "All" in (options.get("dryRun") or [])


@dataclass
class RequestRecord:
    verb: str
    resource: str  # resource key; "" for discovery/non-resource
    subresource: str
    namespace: str
    name: str
    dry_run: bool
    code: int
    path: str
    changed: bool = False  # the request committed at least one change (no-op writes do not)

    @property
    def is_write(self) -> bool:
        return self.verb in WRITE_VERBS


class RequestLog:
    def __init__(self, keep: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._entries: Deque[RequestRecord] = collections.deque(maxlen=keep)
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()
            self._total = 0
            self._by_verb: Dict[str, int] = collections.Counter()
            self._by_resource: Dict[str, int] = collections.Counter()
            self._by_verb_resource: Dict[str, int] = collections.Counter()
            self._by_code: Dict[str, int] = collections.Counter()
            self._writes = 0
            self._dry_run_writes = 0
            self._failed_writes = 0
            self._changing_writes = 0

    def record(self, entry: RequestRecord) -> None:
        with self._lock:
            self._entries.append(entry)
            self._total += 1
            self._by_verb[entry.verb] += 1
            resource = entry.resource + (f"/{entry.subresource}" if entry.subresource else "")
            if resource:
                self._by_resource[resource] += 1
                self._by_verb_resource[f"{entry.verb} {resource}"] += 1
            self._by_code[str(entry.code)] += 1
            if entry.is_write:
                if entry.dry_run:
                    self._dry_run_writes += 1
                else:
                    self._writes += 1
                    if entry.code >= 400:
                        self._failed_writes += 1
                    if entry.changed:
                        self._changing_writes += 1

    def summary(self, include_entries: bool = False, limit: int = 1000) -> Dict[str, Any]:
        with self._lock:
            data: Dict[str, Any] = {
                "total": self._total,
                "writes": self._writes,
                "dry_run_writes": self._dry_run_writes,
                "failed_writes": self._failed_writes,
                "changing_writes": self._changing_writes,
                "by_verb": dict(self._by_verb),
                "by_resource": dict(self._by_resource),
                "by_verb_resource": dict(self._by_verb_resource),
                "by_code": dict(self._by_code),
            }
            if include_entries:
                data["entries"] = [asdict(e) for e in list(self._entries)[-limit:]]
            return data
