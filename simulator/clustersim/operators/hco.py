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


def setup(cluster: "Cluster") -> None:
    cluster.add_admission(HCO_KEY, validate_hyperconverged)

    def on_hyperconverged(event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if event == "DELETED" or new is None:
            return
        meta = new["metadata"]
        if (new.get("status") or {}).get("observedGeneration") == meta.get("generation"):
            return  # our own status write, or a metadata-only change
        start_reconcile(cluster, meta["namespace"], meta["name"], operands_touched(new, old))

    def on_storage_class(event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        # CDI's config controller watches StorageClasses: per-class overheads and the scratch fallback move with them.
        if cluster.store.peek(CDI_CONFIG_KEY, CDI_CONFIG_NAME) is not None:
            reconcile_cdi_config(cluster)

    cluster.on_change(HCO_KEY, on_hyperconverged)
    cluster.on_change(STORAGE_CLASS_KEY, on_storage_class)


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
            "lastTransitionTime": now_rfc3339(), "lastHeartbeatTime": now_rfc3339()}


def _set_conditions(obj: Dict[str, Any], wanted: List[Dict[str, Any]]) -> None:
    """Replace conditions, keeping lastTransitionTime when the status did not change."""
    previous = dict((c.get("type"), c) for c in (obj.get("status") or {}).get("conditions") or [])
    for cond in wanted:
        before = previous.get(cond["type"])
        if before and before.get("status") == cond["status"]:
            cond["lastTransitionTime"] = before.get("lastTransitionTime", cond["lastTransitionTime"])
    obj.setdefault("status", {})["conditions"] = wanted


def start_reconcile(cluster: "Cluster", namespace: str, name: str, operands: List[str]) -> None:
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

    cluster.store.mutate(HCO_KEY, name, progressing, namespace)
    cluster.after(cluster.duration("hco_progressing", 0.05), finish_reconcile, cluster, namespace, name)


def finish_reconcile(cluster: "Cluster", namespace: str, name: str) -> None:
    hco = cluster.store.peek(HCO_KEY, name, namespace)
    if hco is None:
        return
    spec = hco.get("spec") or {}
    propagate_to_cdi(cluster, spec)
    propagate_to_kubevirt(cluster, namespace, spec)
    degraded = cluster.faults.take("hco-operand-degraded", f"{namespace}/{name}")

    def settle(obj: Dict[str, Any]) -> Any:
        if obj["metadata"].get("generation") != hco["metadata"].get("generation"):
            return False  # a newer generation is being reconciled; its own task settles it
        if degraded is not None:
            text = "CDI is degraded: " + str(degraded.get("message") or "simulated operand failure")
            _set_conditions(obj, [
                _condition("ReconcileComplete", "True", *COMPLETED),
                _condition("Available", "False", "CDIDegraded", text),
                _condition("Progressing", "False", *COMPLETED),
                _condition("Degraded", "True", "CDIDegraded", text),
                _condition("Upgradeable", "False", "CDIDegraded", text),
            ])
            return None
        _set_conditions(obj, [_condition(t, s, *COMPLETED) for t, s in (
            ("ReconcileComplete", "True"), ("Available", "True"), ("Progressing", "False"),
            ("Degraded", "False"), ("Upgradeable", "True"))])
        return None

    cluster.store.mutate(HCO_KEY, name, settle, namespace)


def cdi_config_from(spec: Dict[str, Any]) -> Dict[str, Any]:
    """The part of CDI's ``spec.config`` HCO derives from its own spec."""
    config: Dict[str, Any] = {}
    if spec.get("scratchSpaceStorageClass"):
        config["scratchSpaceStorageClass"] = spec["scratchSpaceStorageClass"]
    if spec.get("filesystemOverhead"):
        config["filesystemOverhead"] = dict(spec["filesystemOverhead"])
    return config


def propagate_to_cdi(cluster: "Cluster", spec: Dict[str, Any]) -> None:
    managed = cdi_config_from(spec)

    def apply(obj: Dict[str, Any]) -> None:
        config = obj.setdefault("spec", {}).setdefault("config", {})
        for field in ("scratchSpaceStorageClass", "filesystemOverhead"):
            if field in managed:
                config[field] = managed[field]
            else:
                config.pop(field, None)

    if cluster.store.peek(CDI_KEY, CDI_NAME) is not None:
        cluster.store.mutate(CDI_KEY, CDI_NAME, apply)
    if cluster.store.peek(CDI_CONFIG_KEY, CDI_CONFIG_NAME) is None:
        cluster.store.create(CDI_CONFIG_KEY, {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "CDIConfig",
                                              "metadata": {"name": CDI_CONFIG_NAME}, "spec": {}})

    def apply_config(obj: Dict[str, Any]) -> None:
        config_spec = obj.setdefault("spec", {})
        for field in ("scratchSpaceStorageClass", "filesystemOverhead"):
            if field in managed:
                config_spec[field] = managed[field]
            else:
                config_spec.pop(field, None)

    cluster.store.mutate(CDI_CONFIG_KEY, CDI_CONFIG_NAME, apply_config)
    reconcile_cdi_config(cluster)


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


def reconcile_cdi_config(cluster: "Cluster") -> None:
    classes = cluster.store.list(STORAGE_CLASS_KEY, copy=False)

    def apply(obj: Dict[str, Any]) -> Any:
        status = cdi_config_status(obj.get("spec") or {}, classes, obj.get("status"))
        if status is None:
            return False
        obj["status"] = status
        return None

    cluster.store.mutate(CDI_CONFIG_KEY, CDI_CONFIG_NAME, apply)


def propagate_to_kubevirt(cluster: "Cluster", namespace: str, spec: Dict[str, Any]) -> None:
    if cluster.store.peek(KUBEVIRT_KEY, KUBEVIRT_NAME, namespace) is None:
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

    cluster.store.mutate(KUBEVIRT_KEY, KUBEVIRT_NAME, apply, namespace)
