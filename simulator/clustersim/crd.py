"""CustomResourceDefinition objects: from a served kind, to a served kind, and their validation.

Pure functions used by the ``apiextensions`` controller (``operators/apiextensions.py``).
Shapes and messages follow kubernetes/kubernetes release-1.33,
``staging/src/k8s.io/apiextensions-apiserver``:

* ``pkg/apis/apiextensions/v1/types.go`` — spec (group, names, scope, versions with
  ``schema.openAPIV3Schema``, ``subresources``, ``additionalPrinterColumns``), status
  (``acceptedNames``, ``conditions``, ``storedVersions``);
* ``pkg/controller/status/naming_controller.go`` — ``NamesAccepted`` True ``NoConflicts`` "no
  conflicts found", or False ``PluralConflict`` / ``KindConflict`` with ``"x" is already in use``;
* ``pkg/controller/establish/establishing_controller.go`` — ``Established`` True
  ``InitialNamesAccepted`` "the initial names have been accepted" (False ``NotAccepted`` "not all
  names are accepted" while a name conflicts);
* ``pkg/apis/apiextensions/validation/validation.go`` — the create/update checks below.

The simulator serves one version per group/resource: the CRD's storage version (a CRD with
several served versions is accepted, the others are not served).
"""
from __future__ import annotations

import re
import uuid
from typing import Any, Dict, List, Optional

from .errors import FieldCause
from .kinds import STANDARD_VERBS, STATUS_VERBS, Kind, Subresource

GROUP = "apiextensions.k8s.io"
KEY = f"{GROUP}/customresourcedefinitions"
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_NAMESPACE_UID = uuid.UUID("6f1b8e1e-6c55-4d1c-9a39-7a2f8b0f0c1d")


def crd_name(kind: Kind) -> str:
    return f"{kind.resource}.{kind.group}"


def _names(kind: Kind) -> Dict[str, Any]:
    names: Dict[str, Any] = {"kind": kind.kind, "listKind": kind.list_kind, "plural": kind.resource,
                             "singular": kind.singular}
    if kind.short_names:
        names["shortNames"] = list(kind.short_names)
    if kind.categories:
        names["categories"] = list(kind.categories)
    return names


def accepted_status(names: Dict[str, Any], version: str, conflict: str = "", reason: str = "",
                    when: Optional[str] = None) -> Dict[str, Any]:
    """``status`` after the naming and establishing controllers ran (conditions stamped ``when``)."""
    status = _accepted_status(names, version, conflict, reason)
    for condition in status["conditions"]:
        condition["lastTransitionTime"] = when
    return status


def _accepted_status(names: Dict[str, Any], version: str, conflict: str, reason: str) -> Dict[str, Any]:
    if conflict:
        conditions = [{"type": "NamesAccepted", "status": "False", "reason": reason, "message": conflict},
                      {"type": "Established", "status": "False", "reason": "NotAccepted",
                       "message": "not all names are accepted"}]
        return {"acceptedNames": {"kind": "", "plural": ""}, "conditions": conditions, "storedVersions": [version]}
    conditions = [{"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found"},
                  {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                   "message": "the initial names have been accepted"}]
    return {"acceptedNames": dict(names), "conditions": conditions, "storedVersions": [version]}


def crd_from_kind(kind: Kind, created: str) -> Dict[str, Any]:
    """The CustomResourceDefinition a served custom kind has on a real cluster."""
    subresources: Dict[str, Any] = {}
    if "status" in kind.subresources:
        subresources["status"] = {}
    if "scale" in kind.subresources:
        subresources["scale"] = {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}
    version: Dict[str, Any] = {"name": kind.version, "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": kind.schema or {"type": "object",
                                                                             "x-kubernetes-preserve-unknown-fields": True}}}
    if subresources:
        version["subresources"] = subresources
    if kind.printer_columns:
        version["additionalPrinterColumns"] = [dict(c) for c in kind.printer_columns]
    names = _names(kind)
    return {"apiVersion": f"{GROUP}/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": crd_name(kind), "uid": str(uuid.uuid5(_NAMESPACE_UID, crd_name(kind))),
                         "creationTimestamp": created, "generation": 1},
            "spec": {"group": kind.group, "names": names, "scope": "Namespaced" if kind.namespaced else "Cluster",
                     "versions": [version], "conversion": {"strategy": "None"}},
            "status": accepted_status(names, kind.version, when=created)}


def storage_version(crd: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    versions = (crd.get("spec") or {}).get("versions") or []
    return next((v for v in versions if v.get("storage")), versions[0] if versions else None)


def kind_from_crd(crd: Dict[str, Any]) -> Kind:
    """The kind a (valid) CRD serves, at its storage version."""
    spec = crd["spec"]
    names = spec["names"]
    version = storage_version(crd) or {}
    subresources: Dict[str, Subresource] = {}
    declared = version.get("subresources") or spec.get("subresources") or {}
    if "status" in declared:
        subresources["status"] = Subresource("status", names["kind"], STATUS_VERBS)
    if "scale" in declared:
        subresources["scale"] = Subresource("scale", "Scale", STATUS_VERBS, "autoscaling", "v1")
    schema = ((version.get("schema") or spec.get("validation") or {}).get("openAPIV3Schema"))
    columns = version.get("additionalPrinterColumns") or spec.get("additionalPrinterColumns") or ()
    return Kind(spec["group"], version["name"], names["plural"], names["kind"],
                namespaced=spec.get("scope") == "Namespaced", short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()), verbs=STANDARD_VERBS, subresources=subresources,
                singular=names.get("singular") or names["kind"].lower(), schema=schema,
                list_kind=names.get("listKind") or f"{names['kind']}List", printer_columns=tuple(columns))


def _name_causes(names: Dict[str, Any]) -> List[FieldCause]:
    causes = []
    for field in ("plural", "kind"):
        if not names.get(field):
            causes.append(FieldCause(f"spec.names.{field}", "Required value", "FieldValueRequired"))
    for field in ("plural", "singular"):
        value = names.get(field)
        if value and not _DNS1035.match(value):
            causes.append(FieldCause(f"spec.names.{field}", f'Invalid value: "{value}": a DNS-1035 label must '
                                     "consist of lower case alphanumeric characters or '-', start with an alphabetic "
                                     "character, and end with an alphanumeric character (e.g. 'my-name',  or "
                                     "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
                                     "FieldValueInvalid"))
    return causes


def _version_causes(versions: List[Dict[str, Any]]) -> List[FieldCause]:
    if not versions:
        return [FieldCause("spec.versions", "Invalid value: null: must have exactly one version marked as storage "
                           "version", "FieldValueInvalid")]
    causes = []
    if sum(1 for v in versions if v.get("storage")) != 1:
        causes.append(FieldCause("spec.versions", f"Invalid value: []apiextensions.CustomResourceDefinitionVersion"
                                 f"{{...}}: must have exactly one version marked as storage version",
                                 "FieldValueInvalid"))
    for index, version in enumerate(versions):
        if not ((version.get("schema") or {}).get("openAPIV3Schema")):
            causes.append(FieldCause(f"spec.versions[{index}].schema.openAPIV3Schema",
                                     "Required value: schemas are required", "FieldValueRequired"))
    return causes


def validate_crd(crd: Dict[str, Any]) -> List[FieldCause]:
    """The field errors of a CRD create or update (empty when it is acceptable)."""
    spec = crd.get("spec") or {}
    group, names = spec.get("group") or "", spec.get("names") or {}
    causes: List[FieldCause] = []
    name = (crd.get("metadata") or {}).get("name", "")
    if names.get("plural") and group and name != f"{names['plural']}.{group}":
        causes.append(FieldCause("metadata.name", f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group',
                                 "FieldValueInvalid"))
    if not group:
        causes.append(FieldCause("spec.group", "Required value", "FieldValueRequired"))
    elif "." not in group or not _DNS1123_SUBDOMAIN.match(group):
        causes.append(FieldCause("spec.group", f'Invalid value: "{group}": should be a domain with at least one dot',
                                 "FieldValueInvalid"))
    scope = spec.get("scope")
    if scope not in ("Cluster", "Namespaced"):
        shown = f'"{scope}"' if scope else '""'
        causes.append(FieldCause("spec.scope", f'Unsupported value: {shown}: supported values: "Cluster", "Namespaced"',
                                 "FieldValueNotSupported"))
    causes.extend(_name_causes(names))
    causes.extend(_version_causes(spec.get("versions") or []))
    return causes
