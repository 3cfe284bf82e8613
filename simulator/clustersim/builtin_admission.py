"""Admission that the kube-apiserver itself performs (not operator webhooks; defaulting is in
``strategies.py``).

* PersistentVolumeClaim update validation and the ``PersistentVolumeClaimResize`` plugin;
* StorageClass immutable fields;
* the image registry operator's Config singleton name;
* ``NamespaceLifecycle``: no new content in a missing or terminating namespace
  (kubernetes/kubernetes release-1.33, ``plugin/pkg/admission/namespace/lifecycle/admission.go``);
* ``ServiceAccount`` (``plugin/pkg/admission/serviceaccount/admission.go``): a pod created
  without ``serviceAccountName`` runs as ``default``; a pod naming an account that does not exist
  is ``403 ... error looking up service account ns/name: serviceaccount "name" not found``.  Not
  simulated: the projected ``kube-api-access-*`` token volume and its mounts, the account's
  ``imagePullSecrets``.  Controllers' own pod creates get the default name but are not refused
  (they create pods in namespaces whose account the ServiceAccount controller may not have made
  yet; upstream they would retry);
* ``DefaultTolerationSeconds`` (``plugin/pkg/admission/defaulttolerationseconds/admission.go``):
  pods tolerate ``node.kubernetes.io/not-ready`` and ``unreachable`` (NoExecute) for 300 s.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict

from . import errors
from .admission import AdmissionRequest
from .quantity import QuantityError, parse_quantity
from .util import clone, dig

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

RESIZE_FORBIDDEN = ("only dynamically provisioned pvc can be resized and the storageclass that provisions "
                    "the pvc must support resize")


def register(cluster: "Cluster") -> None:
    cluster.admission.add_plugin(namespace_lifecycle)
    cluster.add_admission("pods", admit_service_account, mutating=True)
    cluster.add_admission("pods", default_toleration_seconds, mutating=True)
    cluster.add_admission("storage.k8s.io/storageclasses", validate_storageclass_update)
    cluster.add_admission("persistentvolumeclaims", validate_pvc)
    cluster.add_admission("persistentvolumeclaims", admit_pvc_resize)
    cluster.add_admission("imageregistry.operator.openshift.io/configs", validate_registry_config_name)


def namespace_lifecycle(req: AdmissionRequest) -> None:
    """Creating in a namespace that does not exist is 404, in one being deleted 403."""
    if req.operation != "CREATE" or not req.kind.namespaced:
        return
    namespace = req.cluster.store.peek("namespaces", req.namespace)
    if namespace is None:
        raise errors.not_found("namespaces", req.namespace)
    if namespace["metadata"].get("deletionTimestamp"):
        kind = req.kind
        resource = kind.resource + ("." + kind.group if kind.group else "")
        raise errors.ApiError(403, "Forbidden",
                              f'{resource} "{req.name}" is forbidden: unable to create new content in namespace '
                              f'{req.namespace} because it is being terminated',
                              name=req.name, kind=kind.resource, group=kind.group)


def admit_service_account(req: AdmissionRequest) -> None:
    if req.operation != "CREATE" or req.subresource or req.obj is None:
        return
    spec = req.obj.setdefault("spec", {})
    if (req.obj["metadata"].get("annotations") or {}).get("kubernetes.io/config.mirror"):
        return  # mirror pods are left alone
    account = spec.get("serviceAccountName") or "default"
    spec["serviceAccountName"] = spec["serviceAccount"] = account
    if req.internal or req.cluster.store.peek("serviceaccounts", account, req.namespace) is not None:
        return
    if account == "default" and req.cluster.has_controller("serviceaccount"):
        req.cluster.controller("serviceaccount").sync_namespace(req.namespace)  # its pass may be pending
        if req.cluster.store.peek("serviceaccounts", account, req.namespace) is not None:
            return
    raise errors.ApiError(403, "Forbidden",
                          f'pods "{req.name}" is forbidden: error looking up service account '
                          f'{req.namespace}/{account}: serviceaccount "{account}" not found',
                          name=req.name, kind="pods")


NOT_READY_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
DEFAULT_TOLERATION_SECONDS = 300


def default_toleration_seconds(req: AdmissionRequest) -> None:
    """``DefaultTolerationSeconds`` (``plugin/pkg/admission/defaulttolerationseconds``): a new pod
    that does not tolerate the not-ready / unreachable NoExecute taints tolerates them for 300 s."""
    if req.operation != "CREATE" or req.subresource or req.obj is None:
        return
    spec = req.obj.setdefault("spec", {})
    tolerations = spec.get("tolerations") or []
    for key in NOT_READY_TAINTS:
        if any(isinstance(t, dict) and t.get("effect") in (None, "", "NoExecute")
               and (t.get("key") == key or (not t.get("key") and t.get("operator") == "Exists"))
               for t in tolerations):
            continue
        tolerations = tolerations + [{"key": key, "operator": "Exists", "effect": "NoExecute",
                                      "tolerationSeconds": DEFAULT_TOLERATION_SECONDS}]
    if tolerations:
        spec["tolerations"] = tolerations


def validate_storageclass_update(req: AdmissionRequest) -> None:
    if req.operation != "UPDATE" or req.obj is None or req.old is None:
        return
    causes = []
    if (req.obj.get("parameters") or {}) != (req.old.get("parameters") or {}):
        causes.append(errors.forbidden_field("parameters", "updates to parameters are forbidden."))
    if req.obj.get("provisioner") != req.old.get("provisioner"):
        causes.append(errors.forbidden_field("provisioner", "updates to provisioner are forbidden."))
    if req.obj.get("reclaimPolicy", "Delete") != req.old.get("reclaimPolicy", "Delete"):
        causes.append(errors.forbidden_field("reclaimPolicy", "updates to reclaimPolicy are forbidden."))
    if req.obj.get("volumeBindingMode", "Immediate") != req.old.get("volumeBindingMode", "Immediate"):
        causes.append(errors.invalid_field("volumeBindingMode", req.obj.get("volumeBindingMode"), "field is immutable"))
    if causes:
        raise errors.invalid("StorageClass", req.name, causes, "storage.k8s.io")


def _storage(obj: Dict[str, Any]) -> Any:
    return dig(obj, "spec", "resources", "requests", "storage")


def validate_pvc(req: AdmissionRequest) -> None:
    if req.obj is None:
        return
    if req.operation == "CREATE":
        _validate_pvc_create(req.name, req.obj)
    elif req.operation == "UPDATE" and req.subresource != "status" and req.old is not None:
        _validate_pvc_update(req.name, req.obj, req.old)


def _validate_pvc_create(name: str, obj: Dict[str, Any]) -> None:
    causes = []
    if not dig(obj, "spec", "accessModes"):
        causes.append(errors.required_field("spec.accessModes"))
    storage = _storage(obj)
    if storage is None and not dig(obj, "spec", "dataSourceRef") and not dig(obj, "spec", "dataSource"):
        causes.append(errors.required_field("spec.resources[storage]"))
    elif storage is not None:
        try:
            if parse_quantity(storage) <= 0:
                causes.append(errors.invalid_field("spec.resources[storage]", storage, "must be greater than zero"))
        except QuantityError as exc:
            causes.append(errors.invalid_field("spec.resources.requests.storage", storage, str(exc)))
    if causes:
        raise errors.invalid("PersistentVolumeClaim", name, causes)


def _validate_pvc_update(name: str, obj: Dict[str, Any], old: Dict[str, Any]) -> None:
    causes = []
    if _immutable_spec_changed(obj, old):
        causes.append(errors.forbidden_field(
            "spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
    try:
        new_size, old_size = parse_quantity(_storage(obj) or 0), parse_quantity(_storage(old) or 0)
    except QuantityError as exc:
        raise errors.invalid("PersistentVolumeClaim", name,
                             [errors.invalid_field("spec.resources.requests.storage", _storage(obj), str(exc))])
    if new_size < old_size and not _lowering_allowed(new_size, old):
        causes.append(errors.forbidden_field("spec.resources.requests.storage", "field can not be less than status.capacity"))
    if causes:
        raise errors.invalid("PersistentVolumeClaim", name, causes)


def _lowering_allowed(new_size: float, old: Dict[str, Any]) -> bool:
    """A lower storage request passes only above the old ``status.capacity``.

    ``ValidatePersistentVolumeClaimUpdate`` (kubernetes/kubernetes ``pkg/apis/core/validation/validation.go``,
    same rule in the VolumeAttributesClass-era copies read, 1.29 and later) lets a user lower the request
    to recover from a failed expansion when ``RecoverVolumeExpansionFailure`` is on (beta and on by default
    since 1.32, GA in 1.34: ``pkg/features/kube_features.go``; ``ValidationOptionsForPersistentVolumeClaim``
    also turns it on for a claim that already has ``allocatedResources`` or ``allocatedResourceStatuses``),
    but refuses a value at or below ``status.capacity`` ("field can not be less than status.capacity"):
    Kubernetes never shrinks a volume. Without that feature (not simulated) every decrease is refused
    ("field can not be less than previous value").
    """
    try:
        return new_size > parse_quantity(dig(old, "status", "capacity", "storage") or 0)
    except QuantityError:
        return False


def _immutable_spec_changed(obj: Dict[str, Any], old: Dict[str, Any]) -> bool:
    """The spec changed beyond what may change after creation (``ValidatePersistentVolumeClaimUpdate``):
    ``volumeName`` once (binding), and for a bound claim the storage request and
    ``volumeAttributesClassName``."""
    new_spec, old_spec = clone(obj.get("spec") or {}), clone(old.get("spec") or {})
    if not old_spec.get("volumeName"):
        old_spec["volumeName"] = new_spec.get("volumeName")  # binding sets volumeName once
    if dig(old, "status", "phase") == "Bound":
        new_spec.setdefault("resources", {}).setdefault("requests", {})
        old_requests = (old_spec.get("resources") or {}).get("requests") or {}
        if "storage" in old_requests:
            new_spec["resources"]["requests"]["storage"] = old_requests["storage"]
        new_spec.pop("volumeAttributesClassName", None)
        old_spec.pop("volumeAttributesClassName", None)
    return _normalise(new_spec) != _normalise(old_spec)


def _normalise(spec: Dict[str, Any]) -> Dict[str, Any]:
    """Drop empty containers so ``{}`` and a missing field compare equal, as Go's Semantic.DeepEqual."""
    if isinstance(spec, dict):
        return {k: _normalise(v) for k, v in spec.items() if v not in (None, {}, [])}
    return spec


def admit_pvc_resize(req: AdmissionRequest) -> None:
    """The PersistentVolumeClaimResize admission plugin (runs after validation)."""
    if req.operation != "UPDATE" or req.subresource == "status" or req.obj is None or req.old is None:
        return
    try:
        grows = parse_quantity(_storage(req.obj) or 0) > parse_quantity(_storage(req.old) or 0)
    except QuantityError:
        return
    if not grows:
        return
    if not dig(req.old, "spec", "volumeName"):
        raise errors.forbidden("persistentvolumeclaims", req.name, "Only bound persistent volume claims can be expanded")
    class_name = dig(req.old, "spec", "storageClassName") or ""
    storage_class = req.cluster.store.peek("storage.k8s.io/storageclasses", class_name) if class_name else None
    if storage_class is None or not storage_class.get("allowVolumeExpansion"):
        raise errors.forbidden("persistentvolumeclaims", req.name, RESIZE_FORBIDDEN)


def validate_registry_config_name(req: AdmissionRequest) -> None:
    if req.operation == "CREATE" and req.name != "cluster":
        raise errors.invalid("Config", req.name, [errors.invalid_field(
            "metadata.name", req.name, 'the image registry operator only supports a Config named "cluster"')],
            "imageregistry.operator.openshift.io")
