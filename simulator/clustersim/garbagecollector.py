"""The garbage collector: ownerReferences cascading deletion, as kube-controller-manager runs it.

Mirrors kubernetes/kubernetes release-1.33 ``pkg/controller/garbagecollector``:

* the dependency graph (``graph_builder.go``) is the tracker's owner index
  (``Tracker.dependents`` / ``Tracker.by_uid``), kept inside every commit;
* **background** (the default): once an owner is gone, each dependent is examined
  (``garbagecollector.go`` ``attemptToDeleteItem``): owners are classified solid, dangling
  (gone) or waiting (being deleted in foreground); a dependent with a solid owner loses only its
  references to dangling/waiting owners, one without is deleted — in foreground when a waiting
  owner needs it gone and it has dependents of its own, else as its own finalizers say;
* **orphan**: an owner deleted with ``propagationPolicy: Orphan`` carries the ``orphan``
  finalizer; the collector strips the ownerReferences to it from every dependent, then removes
  the finalizer (``orphanDependents``, ``attemptToOrphanWorker``);
* **foreground**: an owner deleted with ``propagationPolicy: Foreground`` carries
  ``foregroundDeletion``; the collector deletes its dependents and removes the finalizer once no
  dependent with ``blockOwnerDeletion: true`` is left (``processDeletingDependentsItem``);
* deletes go through the API as a client's do (``operations.go`` ``deleteObject``: only the uid
  precondition and the propagation policy), so a pod dependent is deleted gracefully with its
  ``terminationGracePeriodSeconds``.

Not simulated: dependents whose owner never existed ("virtual" nodes), the cycle breaker that
unblocks ownerReferences, and owner lookup by apiVersion/kind/name (owners are found by uid).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Tuple

from .controller import Controller
from .errors import ApiError
from .strategies import FINALIZER_FOREGROUND, FINALIZER_ORPHAN
from .tracker import Identity
from .watch import WatchEvent


def _holds(obj: Optional[Dict[str, Any]], finalizer: str) -> bool:
    """The object is being deleted and ``finalizer`` is still on it."""
    if not obj:
        return False
    meta = obj["metadata"]
    return bool(meta.get("deletionTimestamp")) and finalizer in (meta.get("finalizers") or ())


def _refs(obj: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return list(obj["metadata"].get("ownerReferences") or []) if obj else []


def deletion_policy(obj: Dict[str, Any], waiting_owner: bool, has_dependents: bool) -> str:
    """How the collector deletes a dependent that has no solid owner left."""
    finalizers = obj["metadata"].get("finalizers") or ()
    if waiting_owner and has_dependents:
        return "Foreground"
    if FINALIZER_ORPHAN in finalizers:
        return "Orphan"
    if FINALIZER_FOREGROUND in finalizers:
        return "Foreground"
    return "Background"


def blocks(obj: Dict[str, Any], owner_uid: str) -> bool:
    """The dependent's reference to ``owner_uid`` sets ``blockOwnerDeletion``."""
    return any(ref.get("uid") == owner_uid and ref.get("blockOwnerDeletion") for ref in _refs(obj))


class GarbageCollector(Controller):
    name = "garbage-collector"

    def setup(self) -> None:
        self._foreground: Set[str] = set()  # uids of owners waiting for their dependents
        self.tracker = self.store.tracker
        self.tracker.add_listener(self._observe)

    def reset(self) -> None:
        self._foreground.clear()

    # ------------------------------------------------------------------ the graph builder
    def _observe(self, event: WatchEvent) -> None:
        """Runs inside every commit (lock held): only decides what to queue, cheaply."""
        submit = self.cluster.runtime.submit
        uid = event.obj["metadata"].get("uid")
        if event.type == "DELETED":
            self._foreground.discard(uid)
            if self.tracker.has_dependents(uid):
                submit(self._attempt_to_delete_dependents, uid)
        else:
            if _holds(event.obj, FINALIZER_ORPHAN):
                submit(self._orphan_dependents, uid)
            if uid not in self._foreground and _holds(event.obj, FINALIZER_FOREGROUND):
                self._foreground.add(uid)
                submit(self._start_foreground, uid)
        if self._foreground:
            for ref in _refs(event.obj) + _refs(event.old):
                if ref.get("uid") in self._foreground:
                    submit(self._process_deleting_dependents, ref["uid"])

    # ------------------------------------------------------------------ background
    def _attempt_to_delete_dependents(self, owner_uid: str) -> None:
        for ident in self.tracker.dependents(owner_uid):
            self._attempt_to_delete(ident)

    def _classify(self, refs: List[Dict[str, Any]]) -> Tuple[List[str], List[str], List[str]]:
        """Owner uids split into solid, dangling (gone) and waiting (foreground deletion)."""
        solid: List[str] = []
        dangling: List[str] = []
        waiting: List[str] = []
        for ref in refs:
            owner = self.tracker.by_uid(ref.get("uid"))
            if owner is None:
                dangling.append(ref.get("uid"))
            elif _holds(owner, FINALIZER_FOREGROUND):
                waiting.append(ref["uid"])
            else:
                solid.append(ref["uid"])
        return solid, dangling, waiting

    def _attempt_to_delete(self, ident: Identity) -> None:
        key, ns, name = ident
        obj = self.tracker.peek(key, ns, name)
        if obj is None:
            return
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            return  # already going; one deleting its own dependents is driven by their events
        solid, dangling, waiting = self._classify(_refs(obj))
        if solid:
            if dangling or waiting:
                self._drop_references(ident, set(dangling) | set(waiting))
            return
        policy = deletion_policy(obj, bool(waiting), self.tracker.has_dependents(meta.get("uid")))
        try:
            # operations.go deleteObject: DeleteOptions with the uid precondition and the policy,
            # no gracePeriodSeconds, so a pod gets its own terminationGracePeriodSeconds.
            self.store.delete(key, name, ns or None, propagation=policy, preconditions={"uid": meta.get("uid")},
                              internal=False)
        except ApiError:
            pass  # gone or replaced meanwhile: the next event brings it back if needed

    def _drop_references(self, ident: Identity, owner_uids: Set[str]) -> None:
        def drop(obj: Dict[str, Any]) -> Any:
            refs = _refs(obj)
            kept = [ref for ref in refs if ref.get("uid") not in owner_uids]
            if len(kept) == len(refs):
                return False
            if kept:
                obj["metadata"]["ownerReferences"] = kept
            else:
                obj["metadata"].pop("ownerReferences", None)
            return None
        key, ns, name = ident
        self.store.mutate(key, name, drop, ns or None)

    # ------------------------------------------------------------------ orphan
    def _orphan_dependents(self, owner_uid: str) -> None:
        owner = self.tracker.by_uid(owner_uid)
        ident = self.tracker.identity_of(owner_uid)
        if owner is None or ident is None or not _holds(owner, FINALIZER_ORPHAN):
            return
        for dependent in self.tracker.dependents(owner_uid):
            self._drop_references(dependent, {owner_uid})
        key, ns, name = ident
        self.store.remove_finalizer(key, name, FINALIZER_ORPHAN, ns or None)

    # ------------------------------------------------------------------ foreground
    def _start_foreground(self, owner_uid: str) -> None:
        """The owner just started waiting: every dependent goes, blocking or not."""
        for ident in self.tracker.dependents(owner_uid):
            self._attempt_to_delete(ident)
        self._process_deleting_dependents(owner_uid)

    def _process_deleting_dependents(self, owner_uid: str) -> None:
        owner = self.tracker.by_uid(owner_uid)
        ident = self.tracker.identity_of(owner_uid)
        if owner is None or ident is None or not _holds(owner, FINALIZER_FOREGROUND):
            self._foreground.discard(owner_uid)
            return
        blocking = [dep for dep in self.tracker.dependents(owner_uid)
                    if (obj := self.tracker.peek(*dep)) is not None and blocks(obj, owner_uid)]
        if blocking:
            for dependent in blocking:
                self._attempt_to_delete(dependent)
            return
        self._foreground.discard(owner_uid)
        key, ns, name = ident
        self.store.remove_finalizer(key, name, FINALIZER_FOREGROUND, ns or None)
