"""The object store: Kubernetes object semantics over plain dicts.

Objects are JSON-shaped dicts.  Stored dicts are *never mutated*: every write builds a new dict,
so readers (watch streams, list serialisation) can use a stored reference without copying.
Public read methods return copies; ``peek`` returns the stored reference (read-only!).

Semantics shared by HTTP requests and controller writes:

* ``metadata.uid`` and ``creationTimestamp`` on create, one global ``resourceVersion`` counter,
  ``generation`` bumped when anything outside ``metadata``/``status`` changes;
* kinds with a status subresource keep status apart: writes to the main resource ignore
  ``status``, ``update_status`` writes only ``status``;
* ``metadata.finalizers`` turn a delete into ``deletionTimestamp``; the object disappears when
  the last finalizer is removed;  dependents (``ownerReferences``) are garbage-collected;
* a write that changes nothing is not committed (no resourceVersion bump, no event);
* every committed change is published to watchers and to ``cluster.on_change`` handlers.

All methods take the cluster lock (re-entrant), so controllers can combine calls atomically by
holding ``cluster.lock`` (controller callbacks already run with it held).
"""
from __future__ import annotations

import random
import string
import threading
from collections import defaultdict
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

from . import errors
from .admission import AdmissionRequest
from .errors import ApiError, FieldCause
from .kinds import Kind
from .schema import prune_object
from .selectors import FieldRequirement, Requirement, fields_match, labels_match
from .util import clone, new_uid, now_rfc3339
from .validation import validate_metadata_name
from .watch import WatchEvent

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

ObjKey = Tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the apiserver's generateName alphabet
_SYSTEM_META = ("uid", "creationTimestamp", "resourceVersion", "generation", "deletionTimestamp",
                "deletionGracePeriodSeconds", "managedFields", "selfLink")
# Kinds whose create strategy keeps a client-supplied status (the node strategy allows it:
# kubelets register nodes with their status); every other kind with a status subresource drops it.
_CREATE_KEEPS_STATUS = frozenset({"nodes"})
# Fields indexed per kind for fast field-selector lists (pods by node is the hot path of drains).
_INDEXED_FIELDS = {"pods": ("spec.nodeName",), "kubevirt.io/virtualmachineinstances": ()}


# A tally function maps a stored object to the (group, amount) pairs it counts for (often none).
TallyFn = Callable[[Dict[str, Any]], Iterable[Tuple[str, int]]]


def _tally_add(totals: Dict[str, int], entries: Iterable[Tuple[str, int]], sign: int) -> None:
    for group, amount in entries:
        totals[group] += sign * amount
        if not totals[group]:
            del totals[group]


def _field(obj: Dict[str, Any], path: str) -> str:
    current: Any = obj
    for part in path.split("."):
        if not isinstance(current, dict):
            return ""
        current = current.get(part)
    return "" if current is None else str(current)


class _Bucket:
    """All objects of one resource key, with the indexes lists need."""

    def __init__(self, key: str, tallies: Optional[Dict[str, TallyFn]] = None) -> None:
        self.by_ns: Dict[str, Dict[str, Dict[str, Any]]] = defaultdict(dict)
        self.labels: Dict[Tuple[str, str], Set[ObjKey]] = defaultdict(set)
        self.indexed_fields = _INDEXED_FIELDS.get(key, ())
        self.fields: Dict[Tuple[str, str], Set[ObjKey]] = defaultdict(set)
        self.count = 0
        self.changed_at = 0  # resourceVersion of the last commit to this bucket (Store.last_change)
        # Running sums registered with Store.add_tally: name -> (fn, {group: total}).
        self.tallies: Dict[str, Tuple[TallyFn, Dict[str, int]]] = {}
        for name, fn in (tallies or {}).items():
            self.add_tally(name, fn)

    def add_tally(self, name: str, fn: TallyFn) -> None:
        totals: Dict[str, int] = defaultdict(int)
        for names in self.by_ns.values():
            for obj in names.values():
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
            self.fields[(path, _field(obj, path))].add(ident)
        for fn, totals in self.tallies.values():
            _tally_add(totals, fn(obj), 1)

    def remove(self, ns: str, name: str) -> None:
        old = self.by_ns[ns].pop(name)
        if not self.by_ns[ns]:
            del self.by_ns[ns]
        self.count -= 1
        self._unindex(ns, name, old)

    def _unindex(self, ns: str, name: str, old: Dict[str, Any]) -> None:
        ident = (ns, name)
        for fn, totals in self.tallies.values():
            _tally_add(totals, fn(old), -1)
        for item in (old.get("metadata", {}).get("labels") or {}).items():
            bucket = self.labels.get(item)
            if bucket is not None:
                bucket.discard(ident)
                if not bucket:
                    del self.labels[item]
        for path in self.indexed_fields:
            index_key = (path, _field(old, path))
            bucket = self.fields.get(index_key)
            if bucket is not None:
                bucket.discard(ident)
                if not bucket:
                    del self.fields[index_key]

    def candidates(self, namespace: Optional[str], labels: Tuple[Requirement, ...],
                   fields: Tuple[FieldRequirement, ...]) -> Iterable[Dict[str, Any]]:
        """Objects that may match, narrowed with the smallest usable index."""
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
        if narrowed is not None:
            result = []
            narrowed = set(narrowed)
            for ns, name in narrowed:
                if namespace and ns != namespace:
                    continue
                obj = self.get(ns, name)
                if obj is not None:
                    result.append(obj)
            return result
        if namespace:
            return list(self.by_ns.get(namespace, {}).values())
        return [obj for names in list(self.by_ns.values()) for obj in list(names.values())]


class Store:
    def __init__(self, cluster: "Cluster") -> None:
        self.cluster = cluster
        self.kinds = cluster.kinds
        self.lock = cluster.lock
        self._buckets: Dict[str, _Bucket] = {}
        self._tallies: Dict[str, Dict[str, TallyFn]] = defaultdict(dict)  # key -> name -> fn (add_tally)
        self._rv = 0
        # owner uid -> dependents, for garbage collection of ownerReferences
        self._dependents: Dict[str, Set[Tuple[str, str, str]]] = defaultdict(set)
        self._rng = random.Random(cluster.config.seed)
        # Per-thread count of committed changes: lets the server tell a write request that
        # changed state from a no-op one (the request log's ``changing_writes``).
        self._local = threading.local()

    def commits_in_this_thread(self) -> int:
        return getattr(self._local, "commits", 0)

    # ------------------------------------------------------------------ helpers
    @property
    def resource_version(self) -> int:
        return self._rv

    def _bucket(self, key: str) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            self.kinds.get(key)  # KeyError for unknown kinds
            bucket = self._buckets[key] = _Bucket(key, self._tallies.get(key))
        return bucket

    def add_tally(self, key: str, name: str, fn: TallyFn) -> None:
        """Keep a running sum over the objects of ``key``, grouped: ``fn(stored_obj)`` returns the
        ``(group, amount)`` pairs the object counts for, added / subtracted inside every commit.

        For aggregates a controller would otherwise recompute by scanning every object on each
        event (e.g. memory requested per node by pods).  ``fn`` runs inside every commit of ``key``
        (HTTP requests included), so it must be cheap, pure and never raise.
        """
        with self.lock:
            self._tallies[key][name] = fn
            bucket = self._buckets.get(key)
            if bucket is not None:
                bucket.add_tally(name, fn)

    def last_change(self, key: str) -> int:
        """The resourceVersion of the last committed change to any object of ``key`` (0: none
        since the last reset) — a cheap validity check for data a controller derives from a kind."""
        bucket = self._buckets.get(key)
        return bucket.changed_at if bucket is not None else 0

    def tally(self, key: str, name: str) -> Dict[str, int]:
        """The current totals of ``add_tally(key, name, ...)`` by group (read-only; absent = 0)."""
        bucket = self._buckets.get(key)
        entry = bucket.tallies.get(name) if bucket is not None else None
        return entry[1] if entry is not None else {}

    def _ns(self, kind: Kind, namespace: Optional[str], obj: Optional[Dict[str, Any]] = None) -> str:
        if not kind.namespaced:
            return ""
        ns = namespace or (obj or {}).get("metadata", {}).get("namespace") or ""
        if not ns:
            raise errors.bad_request("the server could not find the requested resource: namespace is required")
        return ns

    def _not_found(self, kind: Kind, name: str) -> ApiError:
        return errors.not_found(kind.resource, name, kind.group)

    # ------------------------------------------------------------------ reads
    def get(self, key: str, name: str, namespace: Optional[str] = None) -> Optional[Dict[str, Any]]:
        """A copy of the object, or None when it does not exist."""
        obj = self.peek(key, name, namespace)
        return clone(obj) if obj is not None else None

    def must_get(self, key: str, name: str, namespace: Optional[str] = None) -> Dict[str, Any]:
        """Like get, but raises the apiserver's 404 ApiError."""
        obj = self.get(key, name, namespace)
        if obj is None:
            raise self._not_found(self.kinds.get(key), name)
        return obj

    def peek(self, key: str, name: str, namespace: Optional[str] = None) -> Optional[Dict[str, Any]]:
        """The stored object itself (do not modify it), or None."""
        kind = self.kinds.get(key)
        bucket = self._buckets.get(key)  # reads take no lock: stored dicts are immutable snapshots
        return bucket.get((namespace or "") if kind.namespaced else "", name) if bucket else None

    def list(self, key: str, namespace: Optional[str] = None, label_selector: Any = None,
             field_selector: Any = None, copy: bool = True) -> List[Dict[str, Any]]:
        """Objects sorted by (namespace, name).

        Selectors may be strings (``"app=x,tier!=db"``) or parsed requirement tuples.  With
        ``copy=False`` the stored dicts are returned (read-only, but no copying cost).
        """
        from .selectors import parse_field_selector, parse_label_selector

        kind = self.kinds.get(key)
        labels = parse_label_selector(label_selector) if isinstance(label_selector, str) or label_selector is None else label_selector
        if isinstance(field_selector, str) or field_selector is None:
            fields = parse_field_selector(field_selector, kind.field_selectors | _all_paths(field_selector), kind.kind)
        else:
            fields = field_selector
        # No lock: candidates() snapshots the index containers it walks (C-level copies that are
        # atomic under the GIL) and stored objects are never mutated, so a list sees committed
        # objects even while a controller holds the lock for a long reconcile.
        bucket = self._buckets.get(key)
        if bucket is None:
            return []
        candidates = bucket.candidates(namespace if kind.namespaced else None, labels, fields)
        if labels or fields:
            matched = [o for o in candidates
                       if labels_match(labels, o.get("metadata", {}).get("labels")) and fields_match(fields, o)]
        else:
            matched = list(candidates)
        matched.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return [clone(o) for o in matched] if copy else matched

    def count(self, key: str) -> int:
        bucket = self._buckets.get(key)
        return bucket.count if bucket else 0

    def keys(self) -> List[str]:
        with self.lock:
            return [k for k, b in self._buckets.items() if b.count]

    def dependents(self, uid: str) -> List[Tuple[str, str, str]]:
        with self.lock:
            return sorted(self._dependents.get(uid, ()))

    # ------------------------------------------------------------------ writes
    def create(self, key: str, obj: Dict[str, Any], namespace: Optional[str] = None, *, dry_run: bool = False,
               internal: bool = True) -> Dict[str, Any]:
        """Create an object.  Internal (controller/seed) creates keep ``status``; HTTP creates
        drop it for kinds with a status subresource, as the apiserver does."""
        return self._create(key, obj, namespace, dry_run, internal, owned=False)

    def create_owned(self, key: str, obj: Dict[str, Any], namespace: Optional[str] = None) -> Dict[str, Any]:
        """Internal create that takes ownership of ``obj`` and returns the stored dict (read-only).

        Skips two deep copies; meant for bulk seeding, where the caller built ``obj`` just for this.
        """
        return self._create(key, obj, namespace, False, True, owned=True)

    def _create(self, key: str, obj: Dict[str, Any], namespace: Optional[str], dry_run: bool, internal: bool,
                owned: bool) -> Dict[str, Any]:
        kind = self.kinds.get(key)
        with self.lock:
            new = obj if owned else clone(obj)
            new["apiVersion"] = new.get("apiVersion") or kind.api_version
            new["kind"] = new.get("kind") or kind.kind
            meta = new.setdefault("metadata", {})
            if not isinstance(meta, dict):
                raise errors.bad_request("metadata must be an object")
            ns = self._ns(kind, namespace, new)
            if kind.namespaced:
                meta["namespace"] = ns
            else:
                meta.pop("namespace", None)
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = self._generate_name(key, ns, meta["generateName"])
            name = meta.get("name") or ""
            if not name:
                raise errors.invalid(kind.kind, "", [errors.required_field("metadata.name", "name or generateName is required")], kind.group)
            validate_metadata_name(kind, name)
            if kind.namespaced:
                self._check_namespace_usable(kind, ns, name)
            if self._bucket(key).get(ns, name) is not None:
                raise errors.already_exists(kind.resource, name, kind.group)
            given_uid = meta.get("uid") if internal else None  # seeds pre-compute uids for ownerReferences
            for field_name in _SYSTEM_META:
                meta.pop(field_name, None)
            meta["uid"] = given_uid or new_uid()
            meta["creationTimestamp"] = now_rfc3339()
            meta["generation"] = 1
            if kind.has_status and not internal and kind.key not in _CREATE_KEEPS_STATUS:
                new.pop("status", None)
            self._admit("CREATE", kind, ns, name, new, None, "", dry_run, internal)
            new = prune_object(new, kind.schema)
            if dry_run:
                return new
            committed = self._commit(kind, "ADDED", ns, name, new, None)
            return committed if owned else clone(committed)

    def update(self, key: str, obj: Dict[str, Any], namespace: Optional[str] = None, *, dry_run: bool = False,
               internal: bool = True, subresource: str = "") -> Dict[str, Any]:
        """Replace an object (PUT).  A set, stale ``metadata.resourceVersion`` raises 409 Conflict.

        For kinds with a status subresource the main resource ignores ``status`` and
        ``subresource="status"`` writes only ``status`` — use ``update_status`` for that.
        """
        kind = self.kinds.get(key)
        with self.lock:
            meta = obj.get("metadata") or {}
            ns = self._ns(kind, namespace, obj)
            name = meta.get("name") or ""
            old = self._bucket(key).get(ns, name)
            if old is None:
                raise self._not_found(kind, name)
            return self._replace(kind, ns, name, old, obj, dry_run=dry_run, internal=internal,
                                 subresource=subresource)

    def update_status(self, key: str, obj: Dict[str, Any], namespace: Optional[str] = None, *,
                      dry_run: bool = False, internal: bool = True) -> Dict[str, Any]:
        """Write only ``status`` (the ``/status`` subresource)."""
        return self.update(key, obj, namespace, dry_run=dry_run, internal=internal, subresource="status")

    def patch(self, key: str, name: str, patch: Any, namespace: Optional[str] = None, *,
              patch_type: str = "merge", dry_run: bool = False, internal: bool = True,
              subresource: str = "") -> Dict[str, Any]:
        """Patch with ``patch_type`` "merge" (RFC 7386), "json" (RFC 6902) or "strategic"."""
        from .patch import json_merge_patch, json_patch, strategic_merge_patch

        kind = self.kinds.get(key)
        with self.lock:
            ns = self._ns(kind, namespace)
            old = self._bucket(key).get(ns, name)
            if old is None:
                raise self._not_found(kind, name)
            if patch_type == "merge":
                if not isinstance(patch, dict):
                    raise errors.bad_request("json: cannot unmarshal into Go value of type map[string]interface {}")
                target = json_merge_patch(old, patch)
            elif patch_type == "json":
                target = json_patch(old, patch)
            elif patch_type == "strategic":
                if not kind.builtin:
                    raise errors.unsupported_media_type(
                        "application/strategic-merge-patch+json",
                        ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"])
                target = strategic_merge_patch(old, patch)
            else:
                raise ValueError(f"unknown patch type {patch_type}")
            if not isinstance(target, dict):
                raise errors.bad_request("the patch produced a value that is not an object")
            target_meta = target.setdefault("metadata", {})
            if target_meta.get("name") != name:
                raise errors.bad_request(f"the name of the object ({target_meta.get('name')}) does not match the name on the URL ({name})")
            return self._replace(kind, ns, name, old, target, dry_run=dry_run, internal=internal,
                                 subresource=subresource)

    def patch_status(self, key: str, name: str, status_patch: Dict[str, Any], namespace: Optional[str] = None,
                     **kwargs: Any) -> Dict[str, Any]:
        """Merge-patch ``status`` (controller convenience)."""
        return self.patch(key, name, {"status": status_patch}, namespace, subresource="status", **kwargs)

    def mutate(self, key: str, name: str, fn: Callable[[Dict[str, Any]], Any], namespace: Optional[str] = None
               ) -> Optional[Dict[str, Any]]:
        """Controller read-modify-write of spec, metadata *and* status in one commit.

        ``fn`` gets a copy of the object and changes it in place (or returns a replacement);
        returning ``False`` cancels the write.  Returns the stored result, or None when the
        object does not exist.  No-op changes are not committed.
        """
        kind = self.kinds.get(key)
        with self.lock:
            ns = (namespace or "") if kind.namespaced else ""
            old = self._bucket(key).get(ns, name)
            if old is None:
                return None
            draft = clone(old)
            result = fn(draft)
            if result is False:
                return clone(old)
            if isinstance(result, dict):
                draft = result
            return self._replace(kind, ns, name, old, draft, dry_run=False, internal=True,
                                 subresource="", write_status=True)

    def apply(self, key: str, obj: Dict[str, Any], namespace: Optional[str] = None) -> Dict[str, Any]:
        """Controller create-or-replace (spec and status); keeps metadata the caller omits."""
        kind = self.kinds.get(key)
        with self.lock:
            ns = self._ns(kind, namespace, obj)
            name = obj["metadata"]["name"]
            old = self._bucket(key).get(ns, name)
            if old is None:
                return self.create(key, obj, namespace)
            desired = clone(obj)
            meta = desired.setdefault("metadata", {})
            for field_name, value in old["metadata"].items():
                meta.setdefault(field_name, clone(value))
            meta["resourceVersion"] = old["metadata"].get("resourceVersion")
            if "status" not in desired and "status" in old:
                desired["status"] = clone(old["status"])
            return self._replace(kind, ns, name, old, desired, dry_run=False, internal=True, subresource="",
                                 write_status=True)

    def delete(self, key: str, name: str, namespace: Optional[str] = None, *, dry_run: bool = False,
               internal: bool = True, propagation: Optional[str] = None,
               preconditions: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
        """Delete; with finalizers the object only gets ``deletionTimestamp``.

        Returns the object as it was left (deleted state or the terminating object).
        ``propagation="Orphan"`` keeps dependents; any other value garbage-collects them.
        """
        kind = self.kinds.get(key)
        with self.lock:
            ns = self._ns(kind, namespace)
            old = self._bucket(key).get(ns, name)
            if old is None:
                raise self._not_found(kind, name)
            meta = old["metadata"]
            if preconditions:
                if preconditions.get("uid") and preconditions["uid"] != meta.get("uid"):
                    raise errors.conflict(kind.resource, name, kind.group,
                                          f"Precondition failed: UID in precondition: {preconditions['uid']}, UID in object meta: {meta.get('uid')}")
                if preconditions.get("resourceVersion") and preconditions["resourceVersion"] != meta.get("resourceVersion"):
                    raise errors.conflict(kind.resource, name, kind.group,
                                          f"Precondition failed: ResourceVersion in precondition: {preconditions['resourceVersion']}, ResourceVersion in object meta: {meta.get('resourceVersion')}")
            self._admit("DELETE", kind, ns, name, None, old, "", dry_run, internal)
            finalizers = list(meta.get("finalizers") or [])
            if key == "namespaces":
                finalizers += list((old.get("spec") or {}).get("finalizers") or [])
            if finalizers:
                if meta.get("deletionTimestamp"):
                    return clone(old)
                new = clone(old)
                new["metadata"]["deletionTimestamp"] = now_rfc3339()
                new["metadata"]["deletionGracePeriodSeconds"] = 0
                if key == "namespaces":
                    new.setdefault("status", {})["phase"] = "Terminating"
                if dry_run:
                    return new
                return clone(self._commit(kind, "MODIFIED", ns, name, new, old, orphan=propagation == "Orphan"))
            if dry_run:
                return clone(old)
            return clone(self._remove(kind, ns, name, old, orphan=propagation == "Orphan"))

    def remove_finalizer(self, key: str, name: str, finalizer: str, namespace: Optional[str] = None) -> None:
        """Controller helper: drop one finalizer (removing the object if it was the last)."""
        def drop(obj: Dict[str, Any]) -> Any:
            current = obj["metadata"].get("finalizers") or []
            if finalizer not in current:
                return False
            obj["metadata"]["finalizers"] = [f for f in current if f != finalizer]
            return None
        self.mutate(key, name, drop, namespace)

    # ------------------------------------------------------------------ internals
    def _generate_name(self, key: str, ns: str, prefix: str) -> str:
        bucket = self._bucket(key)
        for _ in range(100):
            candidate = prefix[:58] + "".join(self._rng.choice(_GENERATE_ALPHABET) for _ in range(5))
            if bucket.get(ns, candidate) is None:
                return candidate
        raise errors.ApiError(500, "InternalError", "could not generate a unique name")

    def _check_namespace_usable(self, kind: Kind, ns: str, name: str) -> None:
        namespace = self._bucket("namespaces").get("", ns)
        if namespace is None:
            raise errors.not_found("namespaces", ns)
        if namespace["metadata"].get("deletionTimestamp"):
            raise errors.ApiError(403, "Forbidden",
                                  f'{kind.resource}{"." + kind.group if kind.group else ""} "{name}" is forbidden: unable to create new content in namespace {ns} because it is being terminated',
                                  name=name, kind=kind.resource, group=kind.group)

    def _admit(self, operation: str, kind: Kind, ns: str, name: str, obj: Optional[Dict[str, Any]],
               old: Optional[Dict[str, Any]], subresource: str, dry_run: bool, internal: bool) -> None:
        self.cluster.admission.run(AdmissionRequest(operation, kind.key, kind, ns, name, obj, old, subresource,
                                                    dry_run, internal, self.cluster))

    def _replace(self, kind: Kind, ns: str, name: str, old: Dict[str, Any], obj: Dict[str, Any], *,
                 dry_run: bool, internal: bool, subresource: str, write_status: bool = False) -> Dict[str, Any]:
        new = clone(obj)
        meta = new.setdefault("metadata", {})
        old_meta = old["metadata"]
        if meta.get("name", name) != name:
            raise errors.bad_request(f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})")
        if kind.namespaced and meta.get("namespace", ns) != ns:
            raise errors.bad_request("the namespace of the provided object does not match the namespace sent on the request")
        given_rv = meta.get("resourceVersion")
        if given_rv and given_rv != old_meta.get("resourceVersion"):
            raise errors.conflict(kind.resource, name, kind.group)
        new["apiVersion"] = new.get("apiVersion") or kind.api_version
        new["kind"] = new.get("kind") or kind.kind

        if subresource == "status":
            # Only status changes through /status; everything else comes from the stored object.
            updated = clone(old)
            if "status" in new:
                updated["status"] = new["status"]
            else:
                updated.pop("status", None)
            new = updated
        else:
            meta["name"] = name
            if kind.namespaced:
                meta["namespace"] = ns
            for field_name in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                               "generation"):
                if field_name in old_meta:
                    meta[field_name] = old_meta[field_name]
                else:
                    meta.pop(field_name, None)
            if kind.has_status and not write_status:
                if "status" in old:
                    new["status"] = clone(old["status"])
                else:
                    new.pop("status", None)
            if old_meta.get("deletionTimestamp"):
                added = set(meta.get("finalizers") or []) - set(old_meta.get("finalizers") or [])
                if added:
                    raise errors.invalid(kind.kind, name, [errors.forbidden_field(
                        "metadata.finalizers", "no new finalizers can be added if the object is being deleted, found new finalizers " + str(sorted(added)))], kind.group)
            if _spec_changed(old, new):
                meta["generation"] = int(old_meta.get("generation", 1)) + 1
        new["metadata"]["resourceVersion"] = old_meta.get("resourceVersion")

        self._admit("UPDATE", kind, ns, name, new, old, subresource, dry_run, internal)
        new = prune_object(new, kind.schema)
        if new == old:
            return clone(old)  # a no-op write: nothing committed, like the apiserver
        if dry_run:
            return new
        if new["metadata"].get("deletionTimestamp") and not _pending_finalizers(kind, new):
            return clone(self._remove(kind, ns, name, new))
        return clone(self._commit(kind, "MODIFIED", ns, name, new, old))

    def _commit(self, kind: Kind, event_type: str, ns: str, name: str, new: Dict[str, Any],
                old: Optional[Dict[str, Any]], orphan: bool = False) -> Dict[str, Any]:
        self._local.commits = getattr(self._local, "commits", 0) + 1
        self._rv += 1
        new["metadata"]["resourceVersion"] = str(self._rv)
        bucket = self._bucket(kind.key)
        bucket.put(ns, name, new, old)
        bucket.changed_at = self._rv
        self._track_owners(kind.key, ns, name, new, old)
        self._publish(kind, event_type, ns, new, old)
        return new

    def _remove(self, kind: Kind, ns: str, name: str, last: Dict[str, Any], orphan: bool = False) -> Dict[str, Any]:
        self._local.commits = getattr(self._local, "commits", 0) + 1
        self._rv += 1
        final = clone(last)
        final["metadata"]["resourceVersion"] = str(self._rv)
        bucket = self._bucket(kind.key)
        stored = bucket.get(ns, name)
        bucket.remove(ns, name)
        bucket.changed_at = self._rv
        self._track_owners(kind.key, ns, name, None, stored)
        self._publish(kind, "DELETED", ns, final, stored)
        uid = final["metadata"].get("uid")
        if uid and self._dependents.get(uid):
            if orphan:
                self._dependents.pop(uid, None)
            else:
                self.cluster.runtime.submit(self._collect_garbage, uid)
        return final

    def _publish(self, kind: Kind, event_type: str, ns: str, obj: Dict[str, Any], old: Optional[Dict[str, Any]]) -> None:
        self.cluster.watch.publish(WatchEvent(self._rv, event_type, kind.key, ns, obj, old))
        self.cluster.dispatch_change(kind.key, event_type, obj, old)

    def _track_owners(self, key: str, ns: str, name: str, new: Optional[Dict[str, Any]],
                      old: Optional[Dict[str, Any]]) -> None:
        def owners(o: Optional[Dict[str, Any]]) -> Set[str]:
            if not o:
                return set()
            return {ref.get("uid") for ref in o["metadata"].get("ownerReferences") or [] if ref.get("uid")}
        before, after = owners(old), owners(new)
        ident = (key, ns, name)
        for uid in before - after:
            self._dependents[uid].discard(ident)
            if not self._dependents[uid]:
                del self._dependents[uid]
        for uid in after - before:
            self._dependents[uid].add(ident)

    def _collect_garbage(self, owner_uid: str) -> None:
        """Background cascading deletion, as the garbage collector does after an owner is gone."""
        for key, ns, name in sorted(self._dependents.pop(owner_uid, ())):
            obj = self._bucket(key).get(ns, name)
            if obj is None:
                continue
            refs = obj["metadata"].get("ownerReferences") or []
            if not any(ref.get("uid") == owner_uid for ref in refs):
                continue
            remaining_owner = any(self._uid_exists(ref.get("uid")) for ref in refs if ref.get("uid") != owner_uid)
            if remaining_owner:
                continue
            try:
                self.delete(key, name, ns or None)
            except ApiError:
                pass

    def _uid_exists(self, uid: Optional[str]) -> bool:
        # Owners are found through the dependents index only; an owner that still has other
        # dependents indexed is alive if any bucket still has its uid.  Cheap enough: rare path.
        if not uid:
            return False
        for bucket in self._buckets.values():
            for names in bucket.by_ns.values():
                for obj in names.values():
                    if obj["metadata"].get("uid") == uid:
                        return True
        return False

    # ------------------------------------------------------------------ bulk state
    def all_objects(self) -> List[Dict[str, Any]]:
        with self.lock:
            result = []
            for key in sorted(self._buckets):
                bucket = self._buckets[key]
                for ns in sorted(bucket.by_ns):
                    for name in sorted(bucket.by_ns[ns]):
                        result.append(bucket.by_ns[ns][name])
            return result

    def clear(self) -> None:
        with self.lock:
            self._buckets.clear()
            self._dependents.clear()

    def restore(self, key: str, obj: Dict[str, Any]) -> Dict[str, Any]:
        """Load a dumped object as is (uid, timestamps, status, finalizers), with a fresh resourceVersion."""
        kind = self.kinds.get(key)
        with self.lock:
            new = clone(obj)
            meta = new.setdefault("metadata", {})
            ns = meta.get("namespace", "") if kind.namespaced else ""
            meta.setdefault("uid", new_uid())
            meta.setdefault("creationTimestamp", now_rfc3339())
            meta.setdefault("generation", 1)
            old = self._bucket(key).get(ns, meta["name"])
            return self._commit(kind, "MODIFIED" if old else "ADDED", ns, meta["name"], new, old)


def _spec_changed(old: Dict[str, Any], new: Dict[str, Any]) -> bool:
    keys = (set(old) | set(new)) - {"metadata", "status", "apiVersion", "kind"}
    return any(old.get(k) != new.get(k) for k in keys)


def _pending_finalizers(kind: Kind, obj: Dict[str, Any]) -> bool:
    if obj["metadata"].get("finalizers"):
        return True
    return kind.key == "namespaces" and bool((obj.get("spec") or {}).get("finalizers"))


def _all_paths(selector: Optional[str]) -> frozenset:
    """Internal callers may select on any field; only HTTP requests are held to the kind's list."""
    if not selector:
        return frozenset()
    from .selectors import _split_top_level

    paths = set()
    for part in _split_top_level(selector):
        for op in ("!=", "==", "="):
            if op in part:
                paths.add(part.split(op, 1)[0].strip())
                break
    return frozenset(paths)
