"""``cluster.store``: the generic registry every write goes through, over the object tracker.

Layers, as in the apiserver (kubernetes/kubernetes release-1.33,
``staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go``):

1. the per-kind strategy prepares the object (``strategies.py``: system metadata, status kept
   apart, ``generation``, what holds a deleted object);
2. admission runs, mutating then validating (``admission.py``; built-in plugins in
   ``builtin_admission.py``, controllers' webhooks via ``@admits``), dry runs included;
3. the object is pruned to its schema (``schema.py``) and committed to the tracker
   (``tracker.py``: storage, resourceVersion, indexes, watch fan-out).

A write that changes nothing is not committed (no resourceVersion bump, no event).  A DELETE of
an object with finalizers (or of a namespace with ``spec.finalizers``) only stamps
``deletionTimestamp``; the last finalizer removed removes the object.  ``propagationPolicy``
becomes the ``orphan`` / ``foregroundDeletion`` finalizers the garbage collector
(``garbagecollector.py``) acts on.

Public read methods return copies; ``peek`` returns the stored reference (read-only!).  Every
write takes the cluster lock (re-entrant), so controllers can combine calls atomically by holding
``cluster.lock`` (controller callbacks already run with it held).
"""
from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from . import errors
from .admission import AdmissionRequest
from .kinds import Kind
from .patch import apply_patch
from .schema import prune_object
from .selectors import all_paths, labels_match, fields_match, parse_field_selector, parse_label_selector
from .strategies import Strategy, gc_finalizers, strategy_class
from .tracker import Identity, TallyFn, Tracker
from .util import clone, new_uid, now_rfc3339
from .defaults import apply_defaults
from .managedfields import Walker, created_by_apply, record_update, server_side_apply
from .roundtrip import normalise_metadata, round_trip
from .validation import validate_metadata_name, validate_object_meta

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

Ownership = Callable[[Optional[Dict[str, Any]], Dict[str, Any]], None]
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the apiserver's generateName alphabet


class Store:
    def __init__(self, cluster: "Cluster") -> None:
        self.cluster = cluster
        self.kinds = cluster.kinds
        self.lock = cluster.lock
        self.tracker = Tracker(cluster.lock)
        self._strategies: Dict[str, Strategy] = {}
        self._rng = random.Random(cluster.config.seed)
        for kind in self.kinds.all():
            for path in strategy_class(kind.key).indexed_fields:
                self.tracker.add_field_index(kind.key, path)

    # ------------------------------------------------------------------ helpers
    @property
    def resource_version(self) -> int:
        return self.tracker.resource_version

    def commits_in_this_thread(self) -> int:
        return self.tracker.commits_in_this_thread()

    def strategy(self, kind: Kind) -> Strategy:
        strategy = self._strategies.get(kind.key)
        if strategy is None or strategy.kind is not kind:
            strategy = self._strategies[kind.key] = strategy_class(kind.key)(kind)
        return strategy

    def add_tally(self, key: str, name: str, fn: TallyFn) -> None:
        """Keep a running sum over the objects of ``key``, grouped: ``fn(stored_obj)`` returns the
        ``(group, amount)`` pairs the object counts for, added / subtracted inside every commit.

        For aggregates a controller would otherwise recompute by scanning every object on each
        event (e.g. memory requested per node by pods).  ``fn`` runs inside every commit of ``key``
        (HTTP requests included), so it must be cheap, pure and never raise.
        """
        self.kinds.get(key)
        self.tracker.add_tally(key, name, fn)

    def last_change(self, key: str) -> int:
        """The resourceVersion of the last committed change to any object of ``key`` (0: none
        since the last reset) — a cheap validity check for data a controller derives from a kind."""
        return self.tracker.last_change(key)

    def tally(self, key: str, name: str) -> Dict[str, int]:
        """The current totals of ``add_tally(key, name, ...)`` by group (read-only; absent = 0)."""
        return self.tracker.tally(key, name)

    def _ns(self, kind: Kind, namespace: Optional[str], obj: Optional[Dict[str, Any]] = None) -> str:
        if not kind.namespaced:
            return ""
        ns = namespace or (obj or {}).get("metadata", {}).get("namespace") or ""
        if not ns:
            raise errors.bad_request("the server could not find the requested resource: namespace is required")
        return ns

    def _stored(self, kind: Kind, ns: str, name: str) -> Dict[str, Any]:
        old = self.tracker.peek(kind.key, ns, name)
        if old is None:
            raise errors.not_found(kind.resource, name, kind.group)
        return old

    # ------------------------------------------------------------------ reads
    def get(self, key: str, name: str, namespace: Optional[str] = None) -> Optional[Dict[str, Any]]:
        """A copy of the object, or None when it does not exist."""
        obj = self.peek(key, name, namespace)
        return clone(obj) if obj is not None else None

    def must_get(self, key: str, name: str, namespace: Optional[str] = None) -> Dict[str, Any]:
        """Like get, but raises the apiserver's 404 ApiError."""
        obj = self.get(key, name, namespace)
        if obj is None:
            kind = self.kinds.get(key)
            raise errors.not_found(kind.resource, name, kind.group)
        return obj

    def peek(self, key: str, name: str, namespace: Optional[str] = None) -> Optional[Dict[str, Any]]:
        """The stored object itself (do not modify it), or None."""
        kind = self.kinds.get(key)  # reads take no lock: stored dicts are immutable snapshots
        return self.tracker.peek(key, (namespace or "") if kind.namespaced else "", name)

    def list(self, key: str, namespace: Optional[str] = None, label_selector: Any = None,
             field_selector: Any = None, copy: bool = True) -> List[Dict[str, Any]]:
        """Objects sorted by (namespace, name).

        Selectors may be strings (``"app=x,tier!=db"``) or parsed requirement tuples.  With
        ``copy=False`` the stored dicts are returned (read-only, but no copying cost).
        """
        kind = self.kinds.get(key)
        labels = parse_label_selector(label_selector) if isinstance(label_selector, str) or label_selector is None else label_selector
        if isinstance(field_selector, str) or field_selector is None:
            # Internal callers may select on any field; HTTP requests are held to the kind's list.
            fields = parse_field_selector(field_selector, kind.field_selectors | all_paths(field_selector), kind.kind)
        else:
            fields = field_selector
        bucket = self.tracker.bucket(key)
        if bucket is None:
            return []
        candidates = bucket.candidates(namespace if kind.namespaced else None, labels, fields)
        if labels or fields:
            matched = [o for o in candidates
                       if labels_match(labels, o.get("metadata", {}).get("labels")) and fields_match(fields, o)]
        else:
            matched = candidates
        matched.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return [clone(o) for o in matched] if copy else matched

    def count(self, key: str) -> int:
        return self.tracker.count(key)

    def keys(self) -> List[str]:
        return self.tracker.keys()

    def dependents(self, uid: str) -> List[Identity]:
        return self.tracker.dependents(uid)

    # ------------------------------------------------------------------ create
    def create(self, key: str, obj: Dict[str, Any], namespace: Optional[str] = None, *, dry_run: bool = False,
               internal: bool = True, field_manager: Optional[str] = None) -> Dict[str, Any]:
        """Create an object.  Internal (controller/seed) creates keep ``status``; HTTP creates
        drop it for kinds with a status subresource, as the apiserver does.  ``field_manager``
        (HTTP writes) becomes the owner of every field in ``metadata.managedFields``."""
        ownership = self._update_ownership(key, field_manager, "")
        return self._create(key, obj, namespace, dry_run, internal, owned=False, ownership=ownership)

    def create_owned(self, key: str, obj: Dict[str, Any], namespace: Optional[str] = None) -> Dict[str, Any]:
        """Internal create that takes ownership of ``obj`` and returns the stored dict (read-only).

        Skips two deep copies; meant for bulk seeding, where the caller built ``obj`` just for this.
        """
        return self._create(key, obj, namespace, False, True, owned=True)

    def _create(self, key: str, obj: Dict[str, Any], namespace: Optional[str], dry_run: bool, internal: bool,
                owned: bool, ownership: Optional[Ownership] = None) -> Dict[str, Any]:
        kind = self.kinds.get(key)
        with self.lock:
            new = obj if owned else clone(obj)
            ns, name = self._name_new_object(kind, new, namespace)
            meta = new["metadata"]
            given_uid = meta.get("uid") if internal else None  # seeds pre-compute uids for ownerReferences
            new = self._decode(kind, new)
            validate_object_meta(kind, name, new["metadata"])
            self.strategy(kind).prepare_for_create(new, internal)
            if ownership is not None:
                ownership(None, new)
            meta = new["metadata"]
            meta["uid"] = given_uid or new_uid()
            self.strategy(kind).prepare_identity(new)
            meta["creationTimestamp"] = now_rfc3339()
            self.strategy(kind).validate_create(new, name)
            self._admit("CREATE", kind, ns, name, new, None, "", dry_run, internal)
            if self.tracker.peek(key, ns, name) is not None:
                raise errors.already_exists(kind.resource, name, kind.group)
            new = prune_object(new, kind.schema)
            if dry_run:
                return new
            committed = self.tracker.commit(key, ns, name, new, "ADDED")
            return committed if owned else clone(committed)

    @staticmethod
    def _decode(kind: Kind, obj: Dict[str, Any]) -> Dict[str, Any]:
        """What the apiserver's decoder makes of a body: a built-in kind goes through its Go type
        (``roundtrip.py``: nulls and empty lists/maps dropped, canonical quantities) and its
        defaulters (``defaults.py``); every kind's metadata is ObjectMeta."""
        if kind.builtin:
            obj = round_trip(obj, kind.schema, kind.kind, kind.version)
            apply_defaults(kind.key, obj)
        else:
            obj["metadata"] = normalise_metadata(obj["metadata"])
        return obj

    def _name_new_object(self, kind: Kind, new: Dict[str, Any], namespace: Optional[str]) -> Tuple[str, str]:
        """Type, namespace and name of an object about to be created (generateName resolved)."""
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
            meta["name"] = self._generate_name(kind.key, ns, meta["generateName"])
        name = meta.get("name") or ""
        if not name:
            raise errors.invalid(kind.kind, "", [errors.required_field("metadata.name", "name or generateName is required")], kind.group)
        validate_metadata_name(kind, name)
        return ns, name

    def _generate_name(self, key: str, ns: str, prefix: str) -> str:
        for _ in range(100):
            candidate = prefix[:58] + "".join(self._rng.choice(_GENERATE_ALPHABET) for _ in range(5))
            if self.tracker.peek(key, ns, candidate) is None:
                return candidate
        raise errors.ApiError(500, "InternalError", "could not generate a unique name")

    # ------------------------------------------------------------------ update
    def update(self, key: str, obj: Dict[str, Any], namespace: Optional[str] = None, *, dry_run: bool = False,
               internal: bool = True, subresource: str = "", field_manager: Optional[str] = None) -> Dict[str, Any]:
        """Replace an object (PUT).  A set, stale ``metadata.resourceVersion`` raises 409 Conflict.

        For kinds with a status subresource the main resource ignores ``status`` and
        ``subresource="status"`` writes only ``status`` — use ``update_status`` for that.
        """
        kind = self.kinds.get(key)
        with self.lock:
            ns = self._ns(kind, namespace, obj)
            name = (obj.get("metadata") or {}).get("name") or ""
            old = self._stored(kind, ns, name)
            return self._replace(kind, ns, name, old, obj, dry_run=dry_run, internal=internal,
                                 subresource=subresource,
                                 ownership=self._update_ownership(key, field_manager, subresource))

    def update_status(self, key: str, obj: Dict[str, Any], namespace: Optional[str] = None, *,
                      dry_run: bool = False, internal: bool = True) -> Dict[str, Any]:
        """Write only ``status`` (the ``/status`` subresource)."""
        return self.update(key, obj, namespace, dry_run=dry_run, internal=internal, subresource="status")

    def patch(self, key: str, name: str, patch: Any, namespace: Optional[str] = None, *,
              patch_type: str = "merge", dry_run: bool = False, internal: bool = True,
              subresource: str = "", field_manager: Optional[str] = None) -> Dict[str, Any]:
        """Patch with ``patch_type`` "merge" (RFC 7386), "json" (RFC 6902) or "strategic"."""
        kind = self.kinds.get(key)
        with self.lock:
            ns = self._ns(kind, namespace)
            old = self._stored(kind, ns, name)
            target = apply_patch(old, patch, patch_type, strategic_allowed=kind.builtin)
            target_name = target.setdefault("metadata", {}).get("name")
            if target_name != name:
                raise errors.bad_request(f"the name of the object ({target_name}) does not match the name on the URL ({name})")
            return self._replace(kind, ns, name, old, target, dry_run=dry_run, internal=internal,
                                 subresource=subresource,
                                 ownership=self._update_ownership(key, field_manager, subresource))

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
            old = self.tracker.peek(key, ns, name)
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
            old = self.tracker.peek(key, ns, name)
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

    def _replace(self, kind: Kind, ns: str, name: str, old: Dict[str, Any], obj: Dict[str, Any], *,
                 dry_run: bool, internal: bool, subresource: str, write_status: bool = False,
                 ownership: Optional[Ownership] = None) -> Dict[str, Any]:
        new = self._prepare_update(kind, ns, name, old, obj, subresource, write_status)
        if "managedFields" not in new["metadata"] and "managedFields" in old["metadata"]:
            new["metadata"]["managedFields"] = clone(old["metadata"]["managedFields"])  # kept unless sent
        if ownership is not None:
            ownership(old, new)
        self._admit("UPDATE", kind, ns, name, new, old, subresource, dry_run, internal)
        new = prune_object(new, kind.schema)
        if new == old:
            return clone(old)  # a no-op write: nothing committed, like the apiserver
        if dry_run:
            return new
        if (new["metadata"].get("deletionTimestamp") and not new["metadata"].get("deletionGracePeriodSeconds")
                and not self.strategy(kind).pending_finalizers(new)):
            return clone(self.tracker.remove(kind.key, ns, name, new))
        return clone(self.tracker.commit(kind.key, ns, name, new, "MODIFIED"))

    def _prepare_update(self, kind: Kind, ns: str, name: str, old: Dict[str, Any], obj: Dict[str, Any],
                        subresource: str, write_status: bool) -> Dict[str, Any]:
        """The object an update would store: identity checked, the strategy applied."""
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
        strategy = self.strategy(kind)
        new = self._decode(kind, new)
        if subresource:
            new = strategy.prepare_for_subresource_update(subresource, new, old)
        else:
            validate_object_meta(kind, name, new["metadata"])
            meta["name"] = name
            if kind.namespaced:
                meta["namespace"] = ns
            strategy.prepare_for_update(new, old, write_status)
            strategy.validate_update(new, old, name)
        new["metadata"]["resourceVersion"] = old_meta.get("resourceVersion")
        return new

    # ------------------------------------------------------------------ field ownership
    def walker(self, kind: Kind) -> Walker:
        return Walker(kind.schema, kind.builtin, kind.has_status)

    def _update_ownership(self, key: str, field_manager: Optional[str], subresource: str) -> Optional[Ownership]:
        """The managedFields bookkeeping of an Update by ``field_manager`` (None: not tracked)."""
        if not field_manager:
            return None
        kind = self.kinds.get(key)
        walker = self.walker(kind)

        def own(old: Optional[Dict[str, Any]], new: Dict[str, Any]) -> None:
            record_update(walker, old, new, field_manager, kind.api_version, subresource)
        return own

    def server_side_apply(self, key: str, name: str, applied: Dict[str, Any], namespace: Optional[str] = None, *,
                          field_manager: str, force: bool = False, dry_run: bool = False,
                          internal: bool = False) -> Tuple[int, Dict[str, Any]]:
        """``application/apply-patch+yaml``: create the object when missing, else merge the
        applied configuration with field ownership (``managedfields.py``).  Returns (HTTP code, object)."""
        kind = self.kinds.get(key)
        walker = self.walker(kind)
        with self.lock:
            ns = self._ns(kind, namespace, applied)
            live = self.tracker.peek(key, ns, name)
            body = round_trip(clone(applied), kind.schema, kind.kind, kind.version) if kind.builtin else clone(applied)
            if live is None:
                def own_created(_old: Optional[Dict[str, Any]], new: Dict[str, Any]) -> None:
                    created_by_apply(walker, body, field_manager, kind.api_version)
                    new["metadata"]["managedFields"] = body["metadata"].get("managedFields", [])
                return 201, self._create(key, applied, namespace, dry_run, internal, owned=False,
                                         ownership=own_created)
            merged = server_side_apply(walker, live, body, field_manager, force, kind.api_version)
            return 200, self._replace(kind, ns, name, live, merged, dry_run=dry_run, internal=internal,
                                      subresource="")

    # ------------------------------------------------------------------ delete
    def delete(self, key: str, name: str, namespace: Optional[str] = None, *, dry_run: bool = False,
               internal: bool = True, propagation: Optional[str] = None,
               preconditions: Optional[Dict[str, str]] = None,
               grace_period_seconds: Optional[int] = None) -> Dict[str, Any]:
        """Delete; with finalizers (or a grace period) the object only gets ``deletionTimestamp``.

        Returns the object as it was left (deleted state or the terminating object).
        ``propagation``: "Background" (the default) deletes dependents after the owner is gone,
        "Foreground" keeps the owner (``foregroundDeletion`` finalizer) until its blocking
        dependents are gone, "Orphan" (``orphan`` finalizer) strips the ownerReferences to it.
        ``grace_period_seconds`` (DeleteOptions): pods are deleted gracefully
        (``PodStrategy.graceful_period``); a shorter period shortens a running one, 0 ends it.
        """
        kind = self.kinds.get(key)
        with self.lock:
            ns = self._ns(kind, namespace)
            old = self._stored(kind, ns, name)
            _check_preconditions(kind, name, old["metadata"], preconditions or {})
            self._admit("DELETE", kind, ns, name, None, old, "", dry_run, internal)
            strategy = self.strategy(kind)
            current = list(old["metadata"].get("finalizers") or [])
            finalizers = gc_finalizers(current, propagation, strategy.default_propagation)
            terminating = clone(old)
            if finalizers != current:
                terminating["metadata"]["finalizers"] = finalizers
            period = self._grace_period(strategy, old, grace_period_seconds, internal)
            if period == 0 and not strategy.pending_finalizers(terminating):
                return clone(old) if dry_run else clone(self.tracker.remove(key, ns, name, old))
            if period is not None:
                if old["metadata"].get("deletionTimestamp"):
                    strategy.shorten_graceful_delete(terminating, period)
                else:
                    strategy.prepare_for_graceful_delete(terminating, now_rfc3339(), period)
            if terminating == old or dry_run:
                return terminating
            return clone(self.tracker.commit(key, ns, name, terminating, "MODIFIED"))

    @staticmethod
    def _grace_period(strategy: Strategy, old: Dict[str, Any], requested: Optional[int], internal: bool
                      ) -> Optional[int]:
        """The grace period this DELETE starts (0: none), or None when it leaves a running
        deletion as it is: only a shorter period changes it (``rest.BeforeDelete``)."""
        meta = old["metadata"]
        if not meta.get("deletionTimestamp"):
            return strategy.graceful_period(old, requested, internal)
        running = int(meta.get("deletionGracePeriodSeconds") or 0)
        if requested is None or not running or int(requested) >= running:
            return None
        return max(int(requested), 0)

    def remove_finalizer(self, key: str, name: str, finalizer: str, namespace: Optional[str] = None) -> None:
        """Controller helper: drop one finalizer (removing the object if it was the last)."""
        def drop(obj: Dict[str, Any]) -> Any:
            current = obj["metadata"].get("finalizers") or []
            if finalizer not in current:
                return False
            obj["metadata"]["finalizers"] = [f for f in current if f != finalizer]
            return None
        self.mutate(key, name, drop, namespace)

    # ------------------------------------------------------------------ admission
    def _admit(self, operation: str, kind: Kind, ns: str, name: str, obj: Optional[Dict[str, Any]],
               old: Optional[Dict[str, Any]], subresource: str, dry_run: bool, internal: bool) -> None:
        self.cluster.admission.run(AdmissionRequest(operation, kind.key, kind, ns, name, obj, old, subresource,
                                                    dry_run, internal, self.cluster))

    # ------------------------------------------------------------------ bulk state
    def all_objects(self) -> List[Dict[str, Any]]:
        return self.tracker.all_objects()

    def clear(self) -> None:
        self.tracker.clear()

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
            old = self.tracker.peek(key, ns, meta["name"])
            return self.tracker.commit(key, ns, meta["name"], new, "MODIFIED" if old else "ADDED")


def _check_preconditions(kind: Kind, name: str, meta: Dict[str, Any], preconditions: Dict[str, str]) -> None:
    """DeleteOptions.preconditions: uid and resourceVersion must match the stored object."""
    for field_name, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
        wanted = preconditions.get(field_name)
        if wanted and wanted != meta.get(field_name):
            raise errors.conflict(kind.resource, name, kind.group,
                                  f"Precondition failed: {label} in precondition: {wanted}, "
                                  f"{label} in object meta: {meta.get(field_name)}")

