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
* a strategy's ``Validate`` / ``ValidateUpdate`` (after ``PrepareForCreate`` / ``PrepareForUpdate``):
  the kind's own spec validation, so far CronJobs (``pkg/registry/batch/cronjob/strategy.go``,
  ``batch_validation.py``) and pod updates (``pod_validation.py``);
* a DELETE of other built-in kinds that removes the object at once answers a ``Success``
  Status; custom resources answer the object (``store.go`` ``Delete`` / ``ReturnDeletedObject``,
  set by ``customresource/etcd.go``).

``generation`` only where the apiserver keeps one: custom resources
(``customresource/strategy.go``), Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs,
CronJobs, PodDisruptionBudgets, NetworkPolicies (``pkg/registry/networking/networkpolicy/strategy.go``),
CustomResourceDefinitions (apiextensions-apiserver
``pkg/registry/customresourcedefinition/strategy.go``) (their ``strategy.go`` ``PrepareForCreate`` sets 1 and
``PrepareForUpdate`` bumps it on a spec change) and, since 1.33, Pods (``pod/strategy.go``
``PrepareForCreate``/``updatePodGeneration``, KEP-5067).  ConfigMaps, Secrets, Namespaces, Nodes,
Services, PVCs, StorageClasses, RBAC objects and the other built-in kinds have none.  A deletion
that leaves the object terminating bumps a kept generation (``rest.BeforeDelete``, ``store.go``
``updateForGracefulDeletionAndFinalizers``).
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Dict, List, Optional, Tuple, Type

from . import errors
from .batch_validation import cronjob_create_causes, cronjob_spec_causes
from .kinds import Kind
from .pod_validation import validate_pod_update
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
# Built-in kinds whose strategy keeps metadata.generation (see the module docstring).
GENERATION_KINDS = frozenset({
    "apps/deployments", "apps/replicasets", "apps/statefulsets", "apps/daemonsets", "batch/jobs",
    "batch/cronjobs", "policy/poddisruptionbudgets", "networking.k8s.io/networkpolicies", "pods",
    "apiextensions.k8s.io/customresourcedefinitions"})


def rfc3339_after(seconds: int) -> str:
    moment = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


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
        self.tracks_generation = not kind.builtin or kind.key in GENERATION_KINDS

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
        if self.tracks_generation:
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
        if self.tracks_generation and spec_changed(old, new):
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

    def prepare_identity(self, obj: Dict[str, Any]) -> None:
        """After ``uid`` is assigned on create: what depends on it (Jobs' generated selector)."""

    def validate_create(self, new: Dict[str, Any], name: str) -> None:
        """The kind's ``Validate`` beyond ObjectMeta (which the store checks for every kind)."""

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

    def graceful_period(self, obj: Dict[str, Any], requested: Optional[int], internal: bool) -> int:
        """``CheckGracefulDelete``: seconds the object stays terminating before it goes (0 = no
        graceful deletion; only pods have one)."""
        return 0

    def shorten_graceful_delete(self, obj: Dict[str, Any], period: int) -> None:
        """A second DELETE with a shorter grace period moves the end of the deletion closer."""
        meta = obj["metadata"]
        meta["deletionTimestamp"] = rfc3339_after(period)
        meta["deletionGracePeriodSeconds"] = period

    def prepare_for_graceful_delete(self, obj: Dict[str, Any], now: str, period: int = 0) -> None:
        """The object stays, terminating: stamp the deletion (``deletionTimestamp`` is when the
        grace period ends) and bump a kept generation."""
        meta = obj["metadata"]
        meta["deletionTimestamp"] = now if not period else rfc3339_after(period)
        meta["deletionGracePeriodSeconds"] = period
        if self.tracks_generation and meta.get("generation"):
            meta["generation"] = int(meta["generation"]) + 1


class NodeStrategy(Strategy):
    keeps_status_on_create = True


class PodStrategy(Strategy):
    indexed_fields = ("spec.nodeName",)
    delete_answers_status = False

    def prepare_for_create(self, obj: Dict[str, Any], internal: bool) -> None:
        super().prepare_for_create(obj, internal)
        status = obj.setdefault("status", {"phase": "Pending"})  # pod/strategy.go PrepareForCreate
        status.setdefault("qosClass", qos_class(obj.get("spec") or {}))

    def validate_update(self, new: Dict[str, Any], old: Dict[str, Any], name: str) -> None:
        super().validate_update(new, old, name)
        validate_pod_update(new, old, name)

    def graceful_period(self, obj: Dict[str, Any], requested: Optional[int], internal: bool) -> int:
        """``pod/strategy.go`` ``CheckGracefulDelete``: the requested period, else the pod's
        ``terminationGracePeriodSeconds``; 0 for an unscheduled or finished pod; a negative one
        is 1.  Controllers' own deletes (``internal``) default to 0 (see docs/simulator.md)."""
        if requested is not None:
            period = int(requested)
        elif internal:
            period = 0
        else:
            period = int((obj.get("spec") or {}).get("terminationGracePeriodSeconds") or 0)
        if not (obj.get("spec") or {}).get("nodeName"):
            period = 0
        if (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            period = 0
        return 1 if period < 0 else period


def qos_class(spec: Dict[str, Any]) -> str:
    """``pkg/apis/core/helper/qos`` ``GetPodQOS``: BestEffort without any request or limit,
    Guaranteed when every container limits cpu and memory to what it requests, else Burstable."""
    containers = [c for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])
                  if isinstance(c, dict)]
    resources = [c.get("resources") or {} for c in containers]
    if not any((r.get("requests") or {}) or (r.get("limits") or {}) for r in resources):
        return "BestEffort"
    for r in resources:
        limits, requests = r.get("limits") or {}, r.get("requests") or {}
        for name in ("cpu", "memory"):
            if name not in limits or requests.get(name, limits[name]) != limits[name]:
                return "Burstable"
    return "Guaranteed"


class PersistentVolumeClaimStrategy(Strategy):
    def prepare_for_create(self, obj: Dict[str, Any], internal: bool) -> None:
        super().prepare_for_create(obj, internal)
        # the claim's initial phase (defaults: defaults.py); controllers seeding a claim may bring
        # their own status.
        if not internal or "status" not in obj:
            obj["status"] = {"phase": "Pending"}


class JobStrategy(Strategy):
    # batch/v1 Jobs orphan their pods unless told otherwise, for backwards compatibility
    # (``pkg/registry/batch/job/strategy.go`` ``DefaultGarbageCollectionPolicy``).
    default_propagation = "Orphan"

    def prepare_identity(self, obj: Dict[str, Any]) -> None:
        """``generateSelector`` (``pkg/registry/batch/job/strategy.go``): unless
        ``spec.manualSelector``, the pods of a Job are selected by its uid and labelled with it and
        its name (both the ``batch.kubernetes.io/`` labels and the legacy ones)."""
        spec = obj.get("spec")
        if not isinstance(spec, dict) or spec.get("manualSelector") is True:
            return
        uid, name = obj["metadata"]["uid"], obj["metadata"]["name"]
        template_meta = spec.setdefault("template", {}).setdefault("metadata", {})
        labels = template_meta.setdefault("labels", {})
        for label, value in (("batch.kubernetes.io/controller-uid", uid), ("batch.kubernetes.io/job-name", name),
                             ("controller-uid", uid), ("job-name", name)):
            labels.setdefault(label, value)
        selector = spec.setdefault("selector", {})
        selector.setdefault("matchLabels", {}).setdefault("batch.kubernetes.io/controller-uid", uid)


class CronJobStrategy(Strategy):
    """``pkg/registry/batch/cronjob/strategy.go``: ``Validate`` is ``ValidateCronJobCreate``,
    ``ValidateUpdate`` is ``ValidateCronJobUpdate`` (``batch_validation.py``)."""

    def validate_create(self, new: Dict[str, Any], name: str) -> None:
        causes = cronjob_create_causes(new)
        if causes:
            raise errors.invalid(self.kind.kind, name, causes, self.kind.group)

    def validate_update(self, new: Dict[str, Any], old: Dict[str, Any], name: str) -> None:
        """Upstream validates the whole spec on every update; the simulator only when the spec
        changed, so that the controller's status writes (``store.mutate``) to a CronJob loaded
        from a state that never passed validation still go through."""
        super().validate_update(new, old, name)
        if new.get("spec") == old.get("spec"):
            return
        causes = cronjob_spec_causes(new.get("spec") or {}, old.get("spec") or {})
        if causes:
            raise errors.invalid(self.kind.kind, name, causes, self.kind.group)


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

    def prepare_for_graceful_delete(self, obj: Dict[str, Any], now: str, period: int = 0) -> None:
        super().prepare_for_graceful_delete(obj, now, period)
        obj.setdefault("status", {})["phase"] = "Terminating"


STRATEGIES: Dict[str, Type[Strategy]] = {
    "nodes": NodeStrategy,
    "pods": PodStrategy,
    "persistentvolumeclaims": PersistentVolumeClaimStrategy,
    "namespaces": NamespaceStrategy,
    "batch/jobs": JobStrategy,
    "batch/cronjobs": CronJobStrategy,
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

