"""The object tracker: storage, resourceVersion, indexes, tallies and change fan-out.

Nothing here knows a kind: the tracker keeps JSON-shaped dicts under a resource key and a
(namespace, name), stamps one global resourceVersion on every commit and tells its listeners
(watch hub, controller dispatch, garbage collector) about each change.  Create/update/delete
*semantics* live in ``strategies.py`` and ``store.py``.

Stored dicts are never mutated: every commit stores a new dict, so readers (watch streams, list
serialisation) use stored references without copying.

Upstream: client-go ``tools/cache`` (indexers) and ``testing/fixture.go`` (``ObjectTracker``:
storage only, no admission or strategy), kubernetes/kubernetes release-1.33.
"""
from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

from .selectors import FieldRequirement, Requirement, field_value
from .watch import WatchEvent

ObjKey = Tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects
Identity = Tuple[str, str, str]  # (resource key, namespace, name)
# A tally function maps a stored object to the (group, amount) pairs it counts for (often none).
TallyFn = Callable[[Dict[str, Any]], Iterable[Tuple[str, int]]]
# A listener gets every committed change, inside the commit (lock held): keep it cheap.
Listener = Callable[[WatchEvent], None]


def _tally_add(totals: Dict[str, int], entries: Iterable[Tuple[str, int]], sign: int) -> None:
    for group, amount in entries:
        totals[group] += sign * amount
        if not totals[group]:
            del totals[group]


def owner_uids(obj: Optional[Dict[str, Any]]) -> Set[str]:
    if not obj:
        return set()
    return {ref.get("uid") for ref in obj["metadata"].get("ownerReferences") or [] if ref.get("uid")}


def _discard(index: Dict[Any, Set[Any]], key: Any, member: Any) -> None:
    bucket = index.get(key)
    if bucket is not None:
        bucket.discard(member)
        if not bucket:
            del index[key]


class Bucket:
    """All objects of one resource key, with the indexes lists need."""

    def __init__(self, indexed_fields: Tuple[str, ...] = (), tallies: Optional[Dict[str, TallyFn]] = None) -> None:
        self.by_ns: Dict[str, Dict[str, Dict[str, Any]]] = defaultdict(dict)
        self.labels: Dict[Tuple[str, str], Set[ObjKey]] = defaultdict(set)
        self.indexed_fields = indexed_fields
        self.fields: Dict[Tuple[str, str], Set[ObjKey]] = defaultdict(set)
        self.count = 0
        self.changed_at = 0  # resourceVersion of the last commit to this bucket
        self.tallies: Dict[str, Tuple[TallyFn, Dict[str, int]]] = {}  # name -> (fn, {group: total})
        for name, fn in (tallies or {}).items():
            self.add_tally(name, fn)

    def objects(self) -> Iterable[Dict[str, Any]]:
        return (obj for names in self.by_ns.values() for obj in names.values())

    def add_tally(self, name: str, fn: TallyFn) -> None:
        totals: Dict[str, int] = defaultdict(int)
        for obj in self.objects():
            _tally_add(totals, fn(obj), 1)
        self.tallies[name] = (fn, totals)

    def get(self, ns: str, name: str) -> Optional[Dict[str, Any]]:
        names = self.by_ns.get(ns)
        return names.get(name) if names else None

    def put(self, ns: str, name: str, obj: Dict[str, Any], old: Optional[Dict[str, Any]]) -> None:
        if old is not None:
            self._unindex(ns, name, old)
        else:
            self.count += 1
        self.by_ns[ns][name] = obj
        ident = (ns, name)
        for item in (obj.get("metadata", {}).get("labels") or {}).items():
            self.labels[item].add(ident)
        for path in self.indexed_fields:
            self.fields[(path, field_value(obj, path))].add(ident)
        for fn, totals in self.tallies.values():
            _tally_add(totals, fn(obj), 1)

    def remove(self, ns: str, name: str) -> Dict[str, Any]:
        old = self.by_ns[ns].pop(name)
        if not self.by_ns[ns]:
            del self.by_ns[ns]
        self.count -= 1
        self._unindex(ns, name, old)
        return old

    def _unindex(self, ns: str, name: str, old: Dict[str, Any]) -> None:
        ident = (ns, name)
        for fn, totals in self.tallies.values():
            _tally_add(totals, fn(old), -1)
        for item in (old.get("metadata", {}).get("labels") or {}).items():
            _discard(self.labels, item, ident)
        for path in self.indexed_fields:
            _discard(self.fields, (path, field_value(old, path)), ident)

    def _narrow(self, labels: Tuple[Requirement, ...], fields: Tuple[FieldRequirement, ...]) -> Optional[Set[ObjKey]]:
        """The identities the usable indexes allow (None: no index applies)."""
        narrowed: Optional[Set[ObjKey]] = None
        for req in labels:
            if req.op in ("=", "in"):
                ids: Set[ObjKey] = set()
                for value in req.values:
                    ids |= set(self.labels.get((req.key, value), ()))
                narrowed = ids if narrowed is None else narrowed & ids
        for req in fields:
            if req.op == "=" and req.path in self.indexed_fields:
                ids = set(self.fields.get((req.path, req.value), ()))
                narrowed = ids if narrowed is None else narrowed & ids
        return narrowed

    def candidates(self, namespace: Optional[str], labels: Tuple[Requirement, ...],
                   fields: Tuple[FieldRequirement, ...]) -> List[Dict[str, Any]]:
        """Objects that may match, narrowed with the smallest usable index.

        Takes no lock: it snapshots the containers it walks (C-level copies, atomic under the
        GIL) and stored objects are immutable, so a list sees committed objects even while a
        controller holds the lock for a long reconcile.
        """
        narrowed = self._narrow(labels, fields)
        if narrowed is not None:
            found = (self.get(ns, name) for ns, name in narrowed if not namespace or ns == namespace)
            return [obj for obj in found if obj is not None]
        if namespace:
            return list(self.by_ns.get(namespace, {}).values())
        return [obj for names in list(self.by_ns.values()) for obj in list(names.values())]


class Tracker:
    """Storage of every object, by resource key; see the module docstring."""

    def __init__(self, lock: "threading.RLock") -> None:
        self.lock = lock
        self._buckets: Dict[str, Bucket] = {}
        self._tallies: Dict[str, Dict[str, TallyFn]] = defaultdict(dict)
        self._indexed_fields: Dict[str, Tuple[str, ...]] = {}
        self._rv = 0
        self._dependents: Dict[str, Set[Identity]] = defaultdict(set)  # owner uid -> dependents
        self._by_uid: Dict[str, Identity] = {}
        self._listeners: List[Listener] = []
        # Per-thread count of commits: lets the server tell a write request that changed state
        # from a no-op one (the request log's ``changing_writes``).
        self._local = threading.local()

    # ------------------------------------------------------------------ configuration
    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def add_field_index(self, key: str, path: str) -> None:
        """Index ``path`` of the objects of ``key`` for field-selector lists (before any object)."""
        self._indexed_fields[key] = self._indexed_fields.get(key, ()) + (path,)
        if key in self._buckets:
            raise RuntimeError(f"field index for {key} added after objects were stored")

    def add_tally(self, key: str, name: str, fn: TallyFn) -> None:
        with self.lock:
            self._tallies[key][name] = fn
            bucket = self._buckets.get(key)
            if bucket is not None:
                bucket.add_tally(name, fn)

    # ------------------------------------------------------------------ reads (no lock)
    @property
    def resource_version(self) -> int:
        return self._rv

    def commits_in_this_thread(self) -> int:
        return getattr(self._local, "commits", 0)

    def bucket(self, key: str) -> Optional[Bucket]:
        return self._buckets.get(key)

    def _bucket(self, key: str) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(self._indexed_fields.get(key, ()), self._tallies.get(key))
        return bucket

    def peek(self, key: str, ns: str, name: str) -> Optional[Dict[str, Any]]:
        bucket = self._buckets.get(key)
        return bucket.get(ns, name) if bucket else None

    def by_uid(self, uid: Optional[str]) -> Optional[Dict[str, Any]]:
        """The stored object with ``uid``, or None."""
        ident = self._by_uid.get(uid or "")
        if ident is None:
            return None
        obj = self.peek(*ident)
        return obj if obj is not None and obj["metadata"].get("uid") == uid else None

    def identity_of(self, uid: str) -> Optional[Identity]:
        return self._by_uid.get(uid)

    def dependents(self, uid: str) -> List[Identity]:
        with self.lock:
            return sorted(self._dependents.get(uid, ()))

    def has_dependents(self, uid: Optional[str]) -> bool:
        return bool(uid) and bool(self._dependents.get(uid or ""))

    def last_change(self, key: str) -> int:
        bucket = self._buckets.get(key)
        return bucket.changed_at if bucket is not None else 0

    def tally(self, key: str, name: str) -> Dict[str, int]:
        bucket = self._buckets.get(key)
        entry = bucket.tallies.get(name) if bucket is not None else None
        return entry[1] if entry is not None else {}

    def count(self, key: str) -> int:
        bucket = self._buckets.get(key)
        return bucket.count if bucket else 0

    def keys(self) -> List[str]:
        with self.lock:
            return [k for k, b in self._buckets.items() if b.count]

    def all_objects(self) -> List[Dict[str, Any]]:
        with self.lock:
            result = []
            for key in sorted(self._buckets):
                by_ns = self._buckets[key].by_ns
                for ns in sorted(by_ns):
                    result.extend(by_ns[ns][name] for name in sorted(by_ns[ns]))
            return result

    # ------------------------------------------------------------------ writes (lock held)
    def _next_rv(self) -> int:
        self._local.commits = getattr(self._local, "commits", 0) + 1
        self._rv += 1
        return self._rv

    def commit(self, key: str, ns: str, name: str, new: Dict[str, Any], event_type: str) -> Dict[str, Any]:
        """Store ``new`` (taking ownership of it) with the next resourceVersion; tell listeners."""
        rv = self._next_rv()
        new["metadata"]["resourceVersion"] = str(rv)
        bucket = self._bucket(key)
        old = bucket.get(ns, name)
        bucket.put(ns, name, new, old)
        bucket.changed_at = rv
        self._index_identity((key, ns, name), new, old)
        self._publish(WatchEvent(rv, event_type, key, ns, new, old))
        return new

    def remove(self, key: str, ns: str, name: str, last: Dict[str, Any]) -> Dict[str, Any]:
        """Drop the object; ``last`` (copied) is its final state, published as DELETED."""
        rv = self._next_rv()
        final = dict(last, metadata=dict(last["metadata"], resourceVersion=str(rv)))
        bucket = self._bucket(key)
        stored = bucket.remove(ns, name)
        bucket.changed_at = rv
        self._index_identity((key, ns, name), None, stored)
        self._publish(WatchEvent(rv, "DELETED", key, ns, final, stored))
        return final

    def _index_identity(self, ident: Identity, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        old_uid = old["metadata"].get("uid") if old else None
        new_uid = new["metadata"].get("uid") if new else None
        if old_uid and old_uid != new_uid and self._by_uid.get(old_uid) == ident:
            del self._by_uid[old_uid]
        if new_uid:
            self._by_uid[new_uid] = ident
        before, after = owner_uids(old), owner_uids(new)
        if before == after:
            return
        for uid in before - after:
            _discard(self._dependents, uid, ident)
        for uid in after - before:
            self._dependents[uid].add(ident)

    def _publish(self, event: WatchEvent) -> None:
        for listener in self._listeners:
            listener(event)

    def clear(self) -> None:
        with self.lock:
            self._buckets.clear()
            self._dependents.clear()
            self._by_uid.clear()
