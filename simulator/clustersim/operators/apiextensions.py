"""apiextensions-apiserver: CustomResourceDefinitions as objects, custom kinds served from them,
and the structural-schema defaulting and validation of custom resources.

* Every custom kind the simulator serves at start (``kinds.py``, schemas from
  ``clustersim/schemas``) is visible as its ``apiextensions.k8s.io/v1`` CustomResourceDefinition
  (``crd.crd_from_kind``), Established and NamesAccepted; seeded at start and after a reset.
  Route and Template are not CRDs on OpenShift (openshift-apiserver serves them), so they have none.
* Creating a CRD serves its kind (storage version) at once: discovery, CRUD, watch, pruning with
  its schema, printer columns, OpenAPI; the status gets NamesAccepted and Established (the naming
  and establishing controllers, ``pkg/controller/status``, ``pkg/controller/establish``).  A name
  already served in the group is a ``PluralConflict`` / ``KindConflict`` and serves nothing.
* Deleting a CRD removes its custom resources and stops serving the kind (the finalizer
  controller, ``pkg/controller/finalizer/crd_finalizer.go``, deletes the instances while the CRD is
  Terminating; here the instances go, finalizers included, right after the CRD is gone).
* Writes of custom resources (HTTP and the simulated operators', ``/status`` included) are
  defaulted (mutating) and validated (validating) against the kind's schema
  (``crvalidation.py``; ``pkg/apiserver/customresource_handler.go`` wires both into the CR
  storage).  A refused write is the apiserver's ``422 <Kind>.<group> "<name>" is invalid: ...``
  with ``details.causes``.

Reset drops CRDs created at run time and serves the boot kinds again.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Set

from .. import crd, crvalidation, errors
from ..admission import AdmissionRequest
from ..controller import Controller, admits, watches
from ..kinds import Kind
from ..util import now_rfc3339

# Served by openshift-apiserver on OpenShift 4.20, not through CRDs.
NOT_CRDS = ("route.openshift.io", "template.openshift.io")


def is_custom(kind: Kind) -> bool:
    return not kind.builtin and kind.group not in NOT_CRDS and not kind.group.startswith("subresources.")


class CustomResourceDefinitions(Controller):
    name = "apiextensions"

    def setup(self) -> None:
        self._boot: List[Kind] = self.cluster.kinds.snapshot()
        self._hooked: Set[str] = set()
        self._from_crd: Dict[str, str] = {}  # CRD name -> resource key it serves (run-time CRDs)
        self._generations: Dict[str, Any] = {}  # CRD name -> generation its kind was built from
        for kind in self._boot:
            if is_custom(kind):
                self._hook(kind.key)
        self.cluster.after(0, self.publish)

    def reset(self) -> None:
        kinds = self.cluster.kinds
        for kind in self._boot:
            if kinds.find(kind.key) is not kind:
                kinds.register(kind)
        self.cluster.after(0, self._forget_orphans)
        self.cluster.after(0, self.publish)

    # -- boot kinds as CRD objects -------------------------------------------------------------
    def publish(self) -> None:
        """Create the CRD of every boot custom kind that has none (start, reset, state load)."""
        created = now_rfc3339()
        for kind in self._boot:
            if is_custom(kind) and self.cluster.kinds.find(kind.key) is kind and self.cluster.kinds.is_served(kind.key) \
                    and self.store.peek(crd.KEY, crd.crd_name(kind)) is None:
                self.store.create(crd.KEY, crd.crd_from_kind(kind, created))

    def _forget_orphans(self) -> None:
        """Kinds added by a CRD that a reset or state load removed stop being served."""
        for name, key in list(self._from_crd.items()):
            if self.store.peek(crd.KEY, name) is None:
                self._stop_serving(name, key, delete_instances=False)

    # -- admission of CRDs ---------------------------------------------------------------------
    @admits(crd.KEY)
    def validate_definition(self, req: AdmissionRequest) -> None:
        if req.operation not in ("CREATE", "UPDATE") or req.subresource:
            return
        causes = crd.validate_crd(req.obj or {})
        if req.operation == "UPDATE" and req.old is not None:
            causes.extend(self._immutable_causes(req.obj or {}, req.old))
        if causes:
            raise errors.invalid("CustomResourceDefinition", req.name, causes, crd.GROUP)

    @staticmethod
    def _immutable_causes(new: Dict[str, Any], old: Dict[str, Any]) -> List[errors.FieldCause]:
        causes = []
        for field in ("group", "scope"):
            if (new.get("spec") or {}).get(field) != (old.get("spec") or {}).get(field):
                causes.append(errors.FieldCause(f"spec.{field}", "Invalid value: "
                                                f'"{(new.get("spec") or {}).get(field)}": field is immutable'))
        return causes

    # -- serving ---------------------------------------------------------------------------------
    @watches(crd.KEY)
    def on_definition(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if event == "DELETED":
            name = (old or {}).get("metadata", {}).get("name", "")
            key = self._served_key(old or {})
            if key is not None:
                self._stop_serving(name, key, delete_instances=True)
            return
        assert new is not None
        current = self.store.peek(crd.KEY, new["metadata"]["name"])
        if current is not None and not current["metadata"].get("deletionTimestamp"):
            self._serve(current)

    def _served_key(self, definition: Dict[str, Any]) -> Optional[str]:
        spec = definition.get("spec") or {}
        kind = self.cluster.kinds.by_gvr(spec.get("group", ""), (crd.storage_version(definition) or {}).get("name", ""),
                                         (spec.get("names") or {}).get("plural", ""))
        return kind.key if kind is not None and is_custom(kind) else None

    def _conflict(self, wanted: Kind, name: str) -> Optional[tuple]:
        for kind in self.cluster.kinds.all():
            if kind.group != wanted.group or crd.crd_name(kind) == name:
                continue
            if kind.resource == wanted.resource:
                return "PluralConflict", f'"{wanted.resource}" is already in use'
            if kind.kind == wanted.kind:
                return "KindConflict", f'"{wanted.kind}" is already in use'
        return None

    def _serve(self, definition: Dict[str, Any]) -> None:
        name, generation = definition["metadata"]["name"], definition["metadata"].get("generation")
        wanted = crd.kind_from_crd(definition)
        names = definition["spec"]["names"]
        conflict = self._conflict(wanted, name)
        if conflict is None:
            if not self._is_boot(wanted.key) and self._generations.get(name) != generation:
                self.cluster.kinds.register(wanted)
                self._from_crd[name] = wanted.key
                self._generations[name] = generation
                self._hook(wanted.key)
            status = crd.accepted_status(names, wanted.version)
        else:
            status = crd.accepted_status(names, wanted.version, conflict[1], conflict[0])
        self._write_status(definition, status)

    def _is_boot(self, key: str) -> bool:
        served = self.cluster.kinds.find(key)
        return served is not None and any(served is kind for kind in self._boot)

    def _write_status(self, definition: Dict[str, Any], status: Dict[str, Any]) -> None:
        current = definition.get("status") or {}
        previous = {c.get("type"): c for c in current.get("conditions") or []}
        for condition in status["conditions"]:
            before = previous.get(condition["type"])
            same = before is not None and before.get("status") == condition["status"]
            kept = before.get("lastTransitionTime") if same and before else None
            condition["lastTransitionTime"] = kept or now_rfc3339()
        if {k: v for k, v in current.items()} == status:
            return
        self.store.mutate(crd.KEY, definition["metadata"]["name"], lambda obj: obj.__setitem__("status", status))

    def _stop_serving(self, name: str, key: str, delete_instances: bool) -> None:
        if delete_instances and self.cluster.kinds.find(key) is not None:
            for obj in self.store.list(key, copy=False):
                meta = obj["metadata"]
                namespace = meta.get("namespace")
                if meta.get("finalizers"):
                    self.store.mutate(key, meta["name"], lambda o: o["metadata"].pop("finalizers", None), namespace)
                if self.store.peek(key, meta["name"], namespace) is not None:
                    self.store.delete(key, meta["name"], namespace)
        self.cluster.kinds.unregister(key)
        self._from_crd.pop(name, None)
        self._generations.pop(name, None)

    # -- defaulting and validation of custom resources -------------------------------------------
    def _hook(self, key: str) -> None:
        if key in self._hooked:
            return
        self._hooked.add(key)
        self.cluster.add_admission(key, self.default_resource, mutating=True)
        self.cluster.add_admission(key, self.validate_resource)

    @staticmethod
    def default_resource(req: AdmissionRequest) -> None:
        if req.operation in ("CREATE", "UPDATE") and req.obj is not None and is_custom(req.kind):
            crvalidation.default_object(req.obj, req.kind.schema)

    @staticmethod
    def validate_resource(req: AdmissionRequest) -> None:
        if req.operation not in ("CREATE", "UPDATE") or req.obj is None or not is_custom(req.kind):
            return
        causes = crvalidation.validate(req.obj, req.kind.schema, req.old if req.operation == "UPDATE" else None)
        if causes:
            raise errors.invalid(req.kind.kind, req.name, causes, req.kind.group)


CONTROLLERS = [CustomResourceDefinitions]
