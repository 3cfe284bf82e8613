"""HyperConverged Cluster Operator (OpenShift Virtualization), and CDI's config controller.

What it simulates
-----------------
* **Schema validation** of ``hco.kubevirt.io/v1beta1`` HyperConverged writes, as the apiserver does
  for the CRD's structural schema: ``spec.filesystemOverhead.global`` and every
  ``spec.filesystemOverhead.storageClass`` value must match ``^(0(?:\\.\\d{1,3})?|1)$``,
  ``spec.liveMigrationConfig.bandwidthPerMigration`` must be a quantity, the integer fields must be
  integers and ``spec.evictionStrategy`` one of the enum; anything else is 422 Invalid.
* **Reconcile of a new generation**: the CR gets ``status.observedGeneration`` and
  ``Progressing=True`` (reason ``<Operand>Progressing``, ``Upgradeable=False``) at once; after
  ``hco_progressing`` seconds (default 0.05) the settings reach the operands and the conditions
  settle to ``Available=True``, ``Progressing=False``, ``Degraded=False``, ``Upgradeable=True``,
  ``ReconcileComplete=True``, all with reason ``ReconcileCompleted``.
* **Operands**: the CDI CR (``cdi-kubevirt-hyperconverged``, when present) gets
  ``spec.config.scratchSpaceStorageClass``/``filesystemOverhead``; the KubeVirt CR
  ``kubevirt-kubevirt-hyperconverged`` in the HyperConverged's namespace (when present) gets
  ``spec.configuration.migrations`` (from ``liveMigrationConfig``), ``evictionStrategy`` and
  ``vmStateStorageClass``.
* **CDIConfig** ``config`` (CDI's config controller, created if missing): ``spec`` follows the CDI
  config; ``status.scratchSpaceStorageClass`` is the requested class when it exists, else the
  cluster default class (``storageclass.kubernetes.io/is-default-class: "true"``), else ``""``;
  ``status.filesystemOverhead.global`` is the requested value when it matches CDI's pattern (else
  CDI's default ``0.055``) and ``status.filesystemOverhead.storageClass`` has one entry per existing
  StorageClass (its own value, else the global one). Recomputed when StorageClasses change.
  Like CDI, a value of ``"1"`` is accepted (the pattern allows it).
* **Operator fault** ``hco-operand-degraded`` (target ``<namespace>/<name>``): the next reconcile
  ends with ``Degraded=True`` (reason ``CDIDegraded``) and ``Available=False`` instead of settling,
  as when an operand reports a failure.

Durations: ``hco_progressing``.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from .. import errors
from ..controller import Controller, admits, watches
from ..util import now_rfc3339

if TYPE_CHECKING:  # pragma: no cover
    from ..cluster import Cluster

HCO_KEY = "hco.kubevirt.io/hyperconvergeds"
CDI_KEY = "cdi.kubevirt.io/cdis"
CDI_CONFIG_KEY = "cdi.kubevirt.io/cdiconfigs"
KUBEVIRT_KEY = "kubevirt.io/kubevirts"
STORAGE_CLASS_KEY = "storage.k8s.io/storageclasses"
CDI_NAME = "cdi-kubevirt-hyperconverged"
KUBEVIRT_NAME = "kubevirt-kubevirt-hyperconverged"
CDI_CONFIG_NAME = "config"
CDI_DEFAULT_OVERHEAD = "0.055"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"

PERCENT_PATTERN = r"^(0(?:\.\d{1,3})?|1)$"
QUANTITY_PATTERN = (r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)"
                    r"|(\.[0-9]+))))?$")
EVICTION_STRATEGIES = ["None", "LiveMigrate", "LiveMigrateIfPossible", "External"]
MIGRATION_INTEGERS = ("completionTimeoutPerGiB", "parallelMigrationsPerCluster", "parallelOutboundMigrationsPerNode",
                      "progressTimeout")
# HyperConverged liveMigrationConfig fields and KubeVirt's spec.configuration.migrations use the same names.
MIGRATION_FIELDS = ("allowAutoConverge", "allowPostCopy", "bandwidthPerMigration", "network") + MIGRATION_INTEGERS
COMPLETED = ("ReconcileCompleted", "Reconcile completed successfully")


# --------------------------------------------------------------------------- admission (CRD schema)
def validate_hyperconverged(req: Any) -> None:
    if req.operation == "DELETE" or req.subresource or req.obj is None:
        return
    spec = req.obj.get("spec") or {}
    causes: List[Any] = []
    overhead = spec.get("filesystemOverhead") or {}
    if "global" in overhead:
        _check_pattern(causes, "spec.filesystemOverhead.global", overhead["global"], PERCENT_PATTERN)
    for name, value in sorted((overhead.get("storageClass") or {}).items()):
        _check_pattern(causes, f"spec.filesystemOverhead.storageClass.{name}", value, PERCENT_PATTERN)
    migrations = spec.get("liveMigrationConfig") or {}
    if "bandwidthPerMigration" in migrations:
        _check_pattern(causes, "spec.liveMigrationConfig.bandwidthPerMigration", migrations["bandwidthPerMigration"],
                       QUANTITY_PATTERN)
    for field in MIGRATION_INTEGERS:
        value = migrations.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            causes.append(errors.invalid_field(f"spec.liveMigrationConfig.{field}", value,
                                               f'spec.liveMigrationConfig.{field} in body must be of type integer: "{type(value).__name__}"'))
    strategy = spec.get("evictionStrategy")
    if strategy is not None and strategy not in EVICTION_STRATEGIES:
        causes.append(errors.unsupported_field("spec.evictionStrategy", strategy, EVICTION_STRATEGIES))
    if causes:
        raise errors.invalid("HyperConverged", req.name, causes, "hco.kubevirt.io")


def _check_pattern(causes: List[Any], path: str, value: Any, pattern: str) -> None:
    if not isinstance(value, str):
        causes.append(errors.invalid_field(path, value, f'{path} in body must be of type string: "{type(value).__name__}"'))
    elif not re.match(pattern, value):
        causes.append(errors.invalid_field(path, value, f"{path} in body should match '{pattern}'"))


# --------------------------------------------------------------------------- reconcile
def operands_touched(new: Dict[str, Any], old: Optional[Dict[str, Any]]) -> List[str]:
    spec, before = new.get("spec") or {}, ((old or {}).get("spec") or {})
    touched = []
    if any(spec.get(f) != before.get(f) for f in ("scratchSpaceStorageClass", "filesystemOverhead")):
        touched.append("CDI")
    if any(spec.get(f) != before.get(f) for f in ("liveMigrationConfig", "evictionStrategy", "vmStateStorageClass", "featureGates")):
        touched.append("KubeVirt")
    return touched or ["KubeVirt"]


def _condition(ctype: str, status: str, reason: str, message: str) -> Dict[str, Any]:
    return {"type": ctype, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": now_rfc3339()}


def _set_conditions(obj: Dict[str, Any], wanted: List[Dict[str, Any]]) -> None:
    """Replace conditions, keeping lastTransitionTime when the status did not change."""
    previous = dict((c.get("type"), c) for c in (obj.get("status") or {}).get("conditions") or [])
    for cond in wanted:
        before = previous.get(cond["type"])
        if before and before.get("status") == cond["status"]:
            cond["lastTransitionTime"] = before.get("lastTransitionTime", cond["lastTransitionTime"])
    obj.setdefault("status", {})["conditions"] = wanted


def cdi_config_from(spec: Dict[str, Any]) -> Dict[str, Any]:
    """The part of CDI's ``spec.config`` HCO derives from its own spec."""
    config: Dict[str, Any] = {}
    if spec.get("scratchSpaceStorageClass"):
        config["scratchSpaceStorageClass"] = spec["scratchSpaceStorageClass"]
    if spec.get("filesystemOverhead"):
        config["filesystemOverhead"] = dict(spec["filesystemOverhead"])
    return config


def cdi_config_status(config_spec: Dict[str, Any], storage_classes: List[Dict[str, Any]],
                      current: Optional[Dict[str, Any]] = None) -> Optional[Dict[str, Any]]:
    """CDI's config controller: the status fields it derives, or None when it refuses to update
    (an invalid per-class overhead makes its reconcile fail and leaves the status as it was)."""
    names = [sc["metadata"]["name"] for sc in storage_classes]
    wanted_scratch = config_spec.get("scratchSpaceStorageClass")
    if wanted_scratch and wanted_scratch in names:
        scratch = wanted_scratch
    else:
        defaults = [sc["metadata"]["name"] for sc in storage_classes
                    if ((sc["metadata"].get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION)) == "true"]
        scratch = defaults[0] if defaults else ""
    overhead = config_spec.get("filesystemOverhead") or {}
    global_value = overhead.get("global")
    if not (isinstance(global_value, str) and re.match(PERCENT_PATTERN, global_value)):
        global_value = CDI_DEFAULT_OVERHEAD
    per_class = {}
    for name in names:
        value = (overhead.get("storageClass") or {}).get(name)
        if value is None:
            per_class[name] = global_value
        elif isinstance(value, str) and re.match(PERCENT_PATTERN, value):
            per_class[name] = value
        else:
            return None
    status = dict(current or {})
    status["scratchSpaceStorageClass"] = scratch
    status["filesystemOverhead"] = {"global": global_value, "storageClass": per_class}
    return status



# --------------------------------------------------------------------------- controllers
class HyperConvergedController(Controller):
    """HCO: validates the CR, reports its conditions and pushes its settings to the operands."""

    name = "hco"

    @admits(HCO_KEY)
    def validate(self, req: Any) -> None:
        validate_hyperconverged(req)

    @watches(HCO_KEY)
    def on_hyperconverged(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if event == "DELETED" or new is None:
            return
        meta = new["metadata"]
        if (new.get("status") or {}).get("observedGeneration") == meta.get("generation"):
            return  # our own status write, or a metadata-only change
        self.start_reconcile(meta["namespace"], meta["name"], operands_touched(new, old))

    def start_reconcile(self, namespace: str, name: str, operands: List[str]) -> None:
        operand = operands[0]
        message = f"{operand} is progressing: Deploying version"

        def progressing(obj: Dict[str, Any]) -> None:
            obj.setdefault("status", {})["observedGeneration"] = obj["metadata"].get("generation")
            _set_conditions(obj, [
                _condition("ReconcileComplete", "True", *COMPLETED),
                _condition("Available", "True", *COMPLETED),
                _condition("Progressing", "True", f"{operand}Progressing", message),
                _condition("Degraded", "False", *COMPLETED),
                _condition("Upgradeable", "False", f"{operand}Progressing", message),
            ])

        self.store.mutate(HCO_KEY, name, progressing, namespace)
        self.cluster.after(self.cluster.duration("hco_progressing", 0.05), self.finish_reconcile, namespace, name)

    def finish_reconcile(self, namespace: str, name: str) -> None:
        hco = self.store.peek(HCO_KEY, name, namespace)
        if hco is None:
            return
        spec = hco.get("spec") or {}
        self.propagate_to_cdi(spec)
        self.propagate_to_kubevirt(namespace, spec)
        degraded = self.cluster.faults.take("hco-operand-degraded", f"{namespace}/{name}")
        generation = hco["metadata"].get("generation")

        def settle(obj: Dict[str, Any]) -> Any:
            if obj["metadata"].get("generation") != generation:
                return False  # a newer generation is being reconciled; its own task settles it
            _set_conditions(obj, settled_conditions(degraded))
            return None

        self.store.mutate(HCO_KEY, name, settle, namespace)

    def propagate_to_cdi(self, spec: Dict[str, Any]) -> None:
        """The CDI CR's ``spec.config`` and, through CDI, the CDIConfig's spec (CDI's config
        controller then derives its status)."""
        managed = cdi_config_from(spec)

        def apply(config: Dict[str, Any]) -> None:
            for field in ("scratchSpaceStorageClass", "filesystemOverhead"):
                if field in managed:
                    config[field] = managed[field]
                else:
                    config.pop(field, None)

        if self.store.peek(CDI_KEY, CDI_NAME) is not None:
            self.store.mutate(CDI_KEY, CDI_NAME, lambda obj: apply(obj.setdefault("spec", {}).setdefault("config", {})))
        if self.store.peek(CDI_CONFIG_KEY, CDI_CONFIG_NAME) is None:
            self.store.create(CDI_CONFIG_KEY, {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "CDIConfig",
                                               "metadata": {"name": CDI_CONFIG_NAME}, "spec": {}})
        self.store.mutate(CDI_CONFIG_KEY, CDI_CONFIG_NAME, lambda obj: apply(obj.setdefault("spec", {})))
        self.cluster.controller(CdiConfigController.name).reconcile()

    def propagate_to_kubevirt(self, namespace: str, spec: Dict[str, Any]) -> None:
        if self.store.peek(KUBEVIRT_KEY, KUBEVIRT_NAME, namespace) is None:
            return
        migrations = dict((f, v) for f, v in (spec.get("liveMigrationConfig") or {}).items() if f in MIGRATION_FIELDS)

        def apply(obj: Dict[str, Any]) -> None:
            configuration = obj.setdefault("spec", {}).setdefault("configuration", {})
            if migrations:
                configuration["migrations"] = migrations
            for field in ("evictionStrategy", "vmStateStorageClass"):
                if spec.get(field):
                    configuration[field] = spec[field]
                else:
                    configuration.pop(field, None)

        self.store.mutate(KUBEVIRT_KEY, KUBEVIRT_NAME, apply, namespace)


def settled_conditions(degraded: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The conditions a finished reconcile reports; ``degraded`` is the armed operand fault, if any."""
    if degraded is not None:
        text = "CDI is degraded: " + str(degraded.get("message") or "simulated operand failure")
        return [_condition("ReconcileComplete", "True", *COMPLETED),
                _condition("Available", "False", "CDIDegraded", text),
                _condition("Progressing", "False", *COMPLETED),
                _condition("Degraded", "True", "CDIDegraded", text),
                _condition("Upgradeable", "False", "CDIDegraded", text)]
    return [_condition(t, s, *COMPLETED) for t, s in (
        ("ReconcileComplete", "True"), ("Available", "True"), ("Progressing", "False"),
        ("Degraded", "False"), ("Upgradeable", "True"))]


class CdiConfigController(Controller):
    """CDI's config controller: the CDIConfig ``config`` status from its spec and the StorageClasses.

    Public interface: :meth:`reconcile`."""

    name = "cdi-config"

    @watches(STORAGE_CLASS_KEY)
    def on_storage_class(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        # Per-class overheads and the scratch fallback move with the StorageClasses.
        if self.store.peek(CDI_CONFIG_KEY, CDI_CONFIG_NAME) is not None:
            self.reconcile()

    def reconcile(self) -> None:
        classes = self.store.list(STORAGE_CLASS_KEY, copy=False)

        def apply(obj: Dict[str, Any]) -> Any:
            status = cdi_config_status(obj.get("spec") or {}, classes, obj.get("status"))
            if status is None:
                return False
            obj["status"] = status
            return None

        self.store.mutate(CDI_CONFIG_KEY, CDI_CONFIG_NAME, apply)


CONTROLLERS = [HyperConvergedController, CdiConfigController]
