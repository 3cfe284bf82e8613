"""Per-kind registry strategies: what create, update, status update and delete mean for a kind.

The apiserver's generic registry (``staging/src/k8s.io/apiserver/pkg/registry/generic/registry/
store.go``) calls a strategy at each step: ``PrepareForCreate`` / ``PrepareForUpdate`` (reset
status, bump ``generation``), ``AllowUnconditionalUpdate``, the delete strategy (graceful
deletion, the finalizers that hold an object) and the garbage-collection policy.  This module is
that table for the simulator; ``store.py`` runs the steps, ``tracker.py`` stores the result.

Sources (kubernetes/kubernetes release-1.33 unless noted):

* generic: ``pkg/registry/*/strategy.go`` keep ``uid``/``creationTimestamp``/``generation`` on
  update (``rest.FillObjectMetaSystemFields`` on create), drop ``status`` from main-resource
  writes of kinds with a status subresource, bump ``generation`` when anything outside
  ``metadata``/``status`` changes (e.g. ``pkg/registry/apps/deployment/strategy.go``; custom
  resources: apiextensions-apiserver ``pkg/registry/customresource/strategy.go``);
* ``AllowUnconditionalUpdate``: true for built-in kinds, false for custom resources
  (``customresource/strategy.go``) — a PUT without ``metadata.resourceVersion`` is 422;
* nodes keep the status a kubelet registers with (``pkg/registry/core/node/strategy.go``);
* pods are indexed by ``spec.nodeName`` (the pod ``nodeName`` field index,
  ``pkg/registry/core/pod/strategy.go`` ``NodeNameTriggerFunc``) and, being gracefully
  deleted, answer a DELETE with the pod (``pkg/registry/core/pod/storage/storage.go``);
* namespaces are held by ``spec.finalizers`` too and turn ``Terminating`` on delete
  (``pkg/registry/core/namespace/storage/storage.go`` ``Delete``);
* defaulting of the kinds the collection writes: Pod and PVC ``status.phase: Pending``, PVC
  ``volumeMode: Filesystem``, StorageClass ``reclaimPolicy``/``volumeBindingMode``, Namespace
  ``Active`` + ``kubernetes`` finalizer + ``kubernetes.io/metadata.name`` label (the strategies'
  ``PrepareForCreate`` and ``pkg/apis/*/v1/defaults.go``);
* batch/v1 Jobs default to orphaning their pods (``pkg/registry/batch/job/strategy.go``);
* a DELETE of other built-in kinds that removes the object at once answers a ``Success``
  Status; custom resources answer the object (``store.go`` ``Delete`` / ``ReturnDeletedObject``,
  set by ``customresource/etcd.go``).

Every simulated kind carries ``generation`` (the simulator has always set it; the apiserver sets
it only where a strategy does, e.g. not for ConfigMaps).
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple, Type

from . import errors
from .kinds import Kind
from .util import clone

# Metadata the server owns: a client cannot set it on create.
SYSTEM_METADATA = ("uid", "creationTimestamp", "resourceVersion", "generation", "deletionTimestamp",
                   "deletionGracePeriodSeconds", "managedFields", "selfLink")
# Metadata an update keeps from the stored object whatever the client sends.
PRESERVED_ON_UPDATE = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation")
FINALIZER_ORPHAN = "orphan"  # metav1.FinalizerOrphanDependents
FINALIZER_FOREGROUND = "foregroundDeletion"  # metav1.FinalizerDeleteDependents
FINALIZER_KUBERNETES = "kubernetes"  # v1.FinalizerKubernetes: the namespace controller's token
PROPAGATION_POLICIES = ("Orphan", "Background", "Foreground")


def spec_changed(old: Dict[str, Any], new: Dict[str, Any]) -> bool:
    """Anything besides metadata and status differs (what bumps ``generation``)."""
    keys = (set(old) | set(new)) - {"metadata", "status", "apiVersion", "kind"}
    return any(old.get(k) != new.get(k) for k in keys)


class Strategy:
    """The default strategy: the behaviour every kind shares."""

    keeps_status_on_create = False
    indexed_fields: Tuple[str, ...] = ()
    default_propagation = "Background"  # rest.GarbageCollectionDeleteStrategy default: DeleteDependents

    def __init__(self, kind: Kind) -> None:
        self.kind = kind

    @property
    def allow_unconditional_update(self) -> bool:
        return self.kind.builtin

    @property
    def delete_answers_status(self) -> bool:
        """A DELETE that removed the object answers a Status, not the object."""
        return self.kind.builtin

    # ------------------------------------------------------------------ create
    def prepare_for_create(self, obj: Dict[str, Any], internal: bool) -> None:
        """Drop client-set system metadata and (over HTTP) status; start at generation 1."""
        meta = obj["metadata"]
        for field_name in SYSTEM_METADATA:
            meta.pop(field_name, None)
        meta["generation"] = 1
        if self.kind.has_status and not internal and not self.keeps_status_on_create:
            obj.pop("status", None)

    # ------------------------------------------------------------------ update
    def prepare_for_update(self, new: Dict[str, Any], old: Dict[str, Any], write_status: bool) -> None:
        """A main-resource write: server-owned metadata and (for a status subresource) status
        come from the stored object; ``generation`` goes up when the spec changed."""
        meta, old_meta = new["metadata"], old["metadata"]
        for field_name in PRESERVED_ON_UPDATE:
            if field_name in old_meta:
                meta[field_name] = old_meta[field_name]
            else:
                meta.pop(field_name, None)
        if self.kind.has_status and not write_status:
            if "status" in old:
                new["status"] = clone(old["status"])
            else:
                new.pop("status", None)
        if spec_changed(old, new):
            meta["generation"] = int(old_meta.get("generation", 1)) + 1

    def prepare_for_subresource_update(self, subresource: str, new: Dict[str, Any], old: Dict[str, Any]
                                       ) -> Dict[str, Any]:
        """A write to ``/status`` (or another stored subresource): only its part changes."""
        if subresource != "status":
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        return self.prepare_for_status_update(new, old)

    def prepare_for_status_update(self, new: Dict[str, Any], old: Dict[str, Any]) -> Dict[str, Any]:
        """A ``/status`` write: only ``status`` changes, everything else is the stored object."""
        updated = clone(old)
        if "status" in new:
            updated["status"] = new["status"]
        else:
            updated.pop("status", None)
        return updated

    def validate_update(self, new: Dict[str, Any], old: Dict[str, Any], name: str) -> None:
        """No new finalizers on an object being deleted (``ValidateObjectMetaUpdate``)."""
        if not old["metadata"].get("deletionTimestamp"):
            return
        added = set(new["metadata"].get("finalizers") or []) - set(old["metadata"].get("finalizers") or [])
        if added:
            raise errors.invalid(self.kind.kind, name, [errors.forbidden_field(
                "metadata.finalizers", "no new finalizers can be added if the object is being deleted, "
                "found new finalizers " + str(sorted(added)))], self.kind.group)

    # ------------------------------------------------------------------ delete
    def pending_finalizers(self, obj: Dict[str, Any]) -> List[str]:
        """What still holds the object once it has a ``deletionTimestamp``."""
        return list(obj["metadata"].get("finalizers") or [])

    def prepare_for_graceful_delete(self, obj: Dict[str, Any], now: str) -> None:
        """The object stays, terminating: stamp the deletion."""
        obj["metadata"]["deletionTimestamp"] = now
        obj["metadata"]["deletionGracePeriodSeconds"] = 0


class NodeStrategy(Strategy):
    keeps_status_on_create = True


class PodStrategy(Strategy):
    indexed_fields = ("spec.nodeName",)
    delete_answers_status = False

    def prepare_for_create(self, obj: Dict[str, Any], internal: bool) -> None:
        super().prepare_for_create(obj, internal)
        obj.setdefault("status", {"phase": "Pending"})  # pod/strategy.go PrepareForCreate


class PersistentVolumeClaimStrategy(Strategy):
    def prepare_for_create(self, obj: Dict[str, Any], internal: bool) -> None:
        super().prepare_for_create(obj, internal)
        # SetDefaults_PersistentVolumeClaimSpec (pkg/apis/core/v1/defaults.go) and the claim's
        # initial phase; controllers seeding a claim may bring their own status.
        obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
        if not internal or "status" not in obj:
            obj["status"] = {"phase": "Pending"}


class StorageClassStrategy(Strategy):
    def prepare_for_create(self, obj: Dict[str, Any], internal: bool) -> None:
        super().prepare_for_create(obj, internal)
        obj.setdefault("reclaimPolicy", "Delete")  # SetDefaults_StorageClass (pkg/apis/storage/v1/defaults.go)
        obj.setdefault("volumeBindingMode", "Immediate")


class JobStrategy(Strategy):
    # batch/v1 Jobs orphan their pods unless told otherwise, for backwards compatibility
    # (``pkg/registry/batch/job/strategy.go`` ``DefaultGarbageCollectionPolicy``).
    default_propagation = "Orphan"


class NamespaceStrategy(Strategy):
    """``pkg/registry/core/namespace/strategy.go``: created ``Active`` with the ``kubernetes``
    finalizer; ``spec.finalizers`` change only through ``/finalize`` (controllers' internal
    writes stand in for it), ``status`` only through ``/status``."""

    def prepare_for_create(self, obj: Dict[str, Any], internal: bool) -> None:
        super().prepare_for_create(obj, internal)
        finalizers = obj.setdefault("spec", {}).setdefault("finalizers", [])
        if FINALIZER_KUBERNETES not in finalizers:
            finalizers.append(FINALIZER_KUBERNETES)
        obj.setdefault("status", {}).setdefault("phase", "Active")
        # the kubernetes.io/metadata.name label (NamespaceDefaultLabelName, GA in 1.22)
        obj["metadata"].setdefault("labels", {}).setdefault("kubernetes.io/metadata.name", obj["metadata"]["name"])

    def prepare_for_update(self, new: Dict[str, Any], old: Dict[str, Any], write_status: bool) -> None:
        if not write_status:
            old_finalizers = (old.get("spec") or {}).get("finalizers")
            spec = new.setdefault("spec", {})
            if old_finalizers is None:
                spec.pop("finalizers", None)
            else:
                spec["finalizers"] = clone(old_finalizers)
            if not spec and "spec" not in old:
                new.pop("spec")
        super().prepare_for_update(new, old, write_status)

    def prepare_for_subresource_update(self, subresource: str, new: Dict[str, Any], old: Dict[str, Any]
                                       ) -> Dict[str, Any]:
        if subresource != "finalize":
            return super().prepare_for_subresource_update(subresource, new, old)
        updated = clone(old)
        updated.setdefault("spec", {})["finalizers"] = clone((new.get("spec") or {}).get("finalizers") or [])
        return updated

    def pending_finalizers(self, obj: Dict[str, Any]) -> List[str]:
        return super().pending_finalizers(obj) + list((obj.get("spec") or {}).get("finalizers") or [])

    def prepare_for_graceful_delete(self, obj: Dict[str, Any], now: str) -> None:
        super().prepare_for_graceful_delete(obj, now)
        obj.setdefault("status", {})["phase"] = "Terminating"


STRATEGIES: Dict[str, Type[Strategy]] = {
    "nodes": NodeStrategy,
    "pods": PodStrategy,
    "persistentvolumeclaims": PersistentVolumeClaimStrategy,
    "storage.k8s.io/storageclasses": StorageClassStrategy,
    "namespaces": NamespaceStrategy,
    "batch/jobs": JobStrategy,
}


def strategy_class(key: str) -> Type[Strategy]:
    return STRATEGIES.get(key, Strategy)


def gc_finalizers(finalizers: List[str], propagation: Any, default: str) -> List[str]:
    """The finalizers after a DELETE with ``propagation``, as the generic registry computes them
    (``store.go`` ``deletionFinalizersForGarbageCollection``): Orphan adds ``orphan``, Foreground
    adds ``foregroundDeletion``, Background removes both; without a policy a finalizer already
    present decides, else the kind's default (Background adds nothing)."""
    if propagation not in PROPAGATION_POLICIES:
        if FINALIZER_FOREGROUND in finalizers or FINALIZER_ORPHAN in finalizers:
            return list(finalizers)
        propagation = default
    kept = [f for f in finalizers if f not in (FINALIZER_ORPHAN, FINALIZER_FOREGROUND)]
    if propagation == "Orphan":
        kept.append(FINALIZER_ORPHAN)
    elif propagation == "Foreground":
        kept.append(FINALIZER_FOREGROUND)
    return kept

