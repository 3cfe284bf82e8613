"""The ClusterRoles OpenShift Virtualization's operators install, which aggregate into
``admin``/``edit``/``view``.

* virt-operator (kubevirt/kubevirt v1.6.6 ``pkg/virt-operator/resource/generate/rbac/cluster.go``):
  ``kubevirt.io:admin|edit|view`` (labels ``kubevirt.io: ""`` and
  ``rbac.authorization.k8s.io/aggregate-to-admin|edit|view``), ``kubevirt.io:migrate`` (not
  aggregated), ``kubevirt.io:default`` and ``instancetype.kubevirt.io:view``, both bound to
  ``system:authenticated`` — so every authenticated identity may read the KubeVirt CR and the
  cluster instance types and preferences;
* cdi-operator (kubevirt/containerized-data-importer v1.62.0 ``pkg/operator/resources/cluster/rbac.go``):
  ``cdi.kubevirt.io:admin|edit|view`` and ``cdi.kubevirt.io:config-reader`` (CDIConfigs and
  StorageProfiles), bound to ``system:authenticated`` (and to a group ``system:serviceaccount``, as
  upstream spells it).

Installed when the operator's CR exists (``KubeVirt`` / ``CDI``), as the operators do when they
deploy; the other labels the operators add (managed-by, component, version) are left out.
"""
from __future__ import annotations

from typing import Any, Dict, List

from .seed_rbac import AGGREGATE_TO, READ, _binding, _cluster_role, rule

SUBRESOURCES = "subresources.kubevirt.io"
ALL_VERBS = ["get", "delete", "create", "update", "patch", "list", "watch", "deletecollection"]
EDIT_VERBS = ALL_VERBS[:-1]  # kubevirt.io:edit writes everything but deletecollection
INSTANCETYPES = ["virtualmachineinstancetypes", "virtualmachineclusterinstancetypes", "virtualmachinepreferences",
                 "virtualmachineclusterpreferences"]
VMI_GET = ["virtualmachineinstances/console", "virtualmachineinstances/vnc", "virtualmachineinstances/vnc/screenshot",
           "virtualmachineinstances/portforward", "virtualmachineinstances/guestosinfo",
           "virtualmachineinstances/filesystemlist", "virtualmachineinstances/userlist",
           "virtualmachineinstances/sev/fetchcertchain", "virtualmachineinstances/sev/querylaunchmeasurement",
           "virtualmachineinstances/usbredir", "virtualmachines/objectgraph", "virtualmachineinstances/objectgraph"]
VMI_UPDATE = ["virtualmachineinstances/pause", "virtualmachineinstances/unpause", "virtualmachineinstances/addvolume",
              "virtualmachineinstances/removevolume", "virtualmachineinstances/freeze",
              "virtualmachineinstances/unfreeze", "virtualmachineinstances/softreboot", "virtualmachineinstances/reset",
              "virtualmachineinstances/sev/setupsession", "virtualmachineinstances/sev/injectlaunchsecret"]
VM_UPDATE = ["virtualmachines/start", "virtualmachines/stop", "virtualmachines/restart", "virtualmachines/addvolume",
             "virtualmachines/removevolume", "virtualmachines/memorydump"]
WORKLOADS = ["virtualmachines", "virtualmachineinstances", "virtualmachineinstancepresets",
             "virtualmachineinstancereplicasets"]
SNAPSHOTS = ["virtualmachinesnapshots", "virtualmachinesnapshotcontents", "virtualmachinerestores"]


def _kubevirt_writer_rules(verbs: List[str]) -> List[Dict[str, Any]]:
    """The rules ``kubevirt.io:admin`` and ``kubevirt.io:edit`` share (they differ in ``verbs``)."""
    return [
        rule(["get"], [SUBRESOURCES], VMI_GET),
        rule(["update"], [SUBRESOURCES], VMI_UPDATE),
        rule(["get"], [SUBRESOURCES], ["virtualmachines/expand-spec", "virtualmachines/portforward"]),
        rule(["update"], [SUBRESOURCES], VM_UPDATE),
        rule(["update"], [SUBRESOURCES], ["expand-vm-spec"]),
        rule(verbs, ["kubevirt.io"], WORKLOADS),
        rule(READ, ["kubevirt.io"], ["virtualmachineinstancemigrations"]),
        rule(verbs, ["snapshot.kubevirt.io"], SNAPSHOTS),
        rule(verbs, ["export.kubevirt.io"], ["virtualmachineexports"]),
        rule(verbs, ["clone.kubevirt.io"], ["virtualmachineclones"]),
        rule(verbs, ["instancetype.kubevirt.io"], INSTANCETYPES),
        rule(verbs, ["pool.kubevirt.io"], ["virtualmachinepools"]),
    ]


def kubevirt_cluster_roles() -> List[Dict[str, Any]]:
    label = {"kubevirt.io": ""}
    policies = rule(READ, ["migrations.kubevirt.io"], ["migrationpolicies"])
    read_cr = rule(["get", "list"], ["kubevirt.io"], ["kubevirts"])
    view = [
        read_cr,
        rule(["get"], [SUBRESOURCES], ["virtualmachines/expand-spec", "virtualmachineinstances/guestosinfo",
                                      "virtualmachineinstances/filesystemlist", "virtualmachineinstances/userlist",
                                      "virtualmachineinstances/sev/fetchcertchain",
                                      "virtualmachineinstances/sev/querylaunchmeasurement",
                                      "virtualmachines/objectgraph", "virtualmachineinstances/objectgraph"]),
        rule(["update"], [SUBRESOURCES], ["expand-vm-spec"]),
        rule(READ, ["kubevirt.io"], WORKLOADS + ["virtualmachineinstancemigrations"]),
        rule(READ, ["snapshot.kubevirt.io"], SNAPSHOTS),
        rule(READ, ["export.kubevirt.io"], ["virtualmachineexports"]),
        rule(READ, ["clone.kubevirt.io"], ["virtualmachineclones"]),
        rule(READ, ["instancetype.kubevirt.io"], INSTANCETYPES),
        rule(READ, ["pool.kubevirt.io"], ["virtualmachinepools"]),
        policies,
    ]
    return [
        _cluster_role("kubevirt.io:default", [read_cr, rule(["get", "list"], [SUBRESOURCES], ["version", "guestfs"])],
                      label),
        _cluster_role("kubevirt.io:admin", _kubevirt_writer_rules(ALL_VERBS) + [policies],
                      dict(label, **{AGGREGATE_TO + "admin": "true"})),
        _cluster_role("kubevirt.io:edit", _kubevirt_writer_rules(EDIT_VERBS) + [read_cr, policies],
                      dict(label, **{AGGREGATE_TO + "edit": "true"})),
        _cluster_role("kubevirt.io:view", view, dict(label, **{AGGREGATE_TO + "view": "true"})),
        _cluster_role("instancetype.kubevirt.io:view", [
            rule(READ, ["instancetype.kubevirt.io"], ["virtualmachineclusterinstancetypes",
                                                      "virtualmachineclusterpreferences"])], label),
        _cluster_role("kubevirt.io:migrate", [
            rule(["update"], [SUBRESOURCES], ["virtualmachines/migrate"]),
            rule(ALL_VERBS, ["kubevirt.io"], ["virtualmachineinstancemigrations"])], label),
    ]


def cdi_cluster_roles() -> List[Dict[str, Any]]:
    label = {"cdi.kubevirt.io": ""}
    writer = [
        rule(["*"], ["cdi.kubevirt.io"], ["datavolumes", "dataimportcrons", "datasources", "volumeimportsources",
                                          "volumeuploadsources", "volumeclonesources"]),
        rule(["create"], ["cdi.kubevirt.io"], ["datavolumes/source"]),
        rule(["*"], ["upload.cdi.kubevirt.io"], ["uploadtokenrequests"]),
    ]
    view = [
        rule(READ, ["cdi.kubevirt.io"], ["cdiconfigs", "dataimportcrons", "datasources", "datavolumes",
                                         "objecttransfers", "storageprofiles", "volumeimportsources",
                                         "volumeuploadsources", "volumeclonesources"]),
        rule(["create"], ["cdi.kubevirt.io"], ["datavolumes/source"]),
    ]
    return [
        _cluster_role("cdi.kubevirt.io:admin", writer, dict(label, **{AGGREGATE_TO + "admin": "true"})),
        _cluster_role("cdi.kubevirt.io:edit", [dict(r) for r in writer], dict(label, **{AGGREGATE_TO + "edit": "true"})),
        _cluster_role("cdi.kubevirt.io:view", view, dict(label, **{AGGREGATE_TO + "view": "true"})),
        _cluster_role("cdi.kubevirt.io:config-reader", [
            rule(READ, ["cdi.kubevirt.io"], ["cdiconfigs", "storageprofiles"])], label),
    ]


def _operator_metadata(obj: Dict[str, Any], labels: Dict[str, str], autoupdate: bool = False,
                       bootstrapping: bool = False) -> Dict[str, Any]:
    """Operator-installed objects: the operator's ``labels`` (plus the bootstrapping label and the
    autoupdate annotation only where the operator sets them)."""
    meta = obj["metadata"]
    aggregation = {k: v for k, v in meta["labels"].items() if k.startswith(AGGREGATE_TO)}
    meta["labels"] = dict(labels, **aggregation)
    if bootstrapping:
        meta["labels"]["kubernetes.io/bootstrapping"] = "rbac-defaults"
    if not autoupdate:
        meta.pop("annotations", None)
    return obj


def operator_policy(store: Any) -> List[Dict[str, Any]]:
    """The roles and bindings of the operators whose CR is in the store."""
    objects: List[Dict[str, Any]] = []
    if store.count("kubevirt.io/kubevirts"):
        for role in kubevirt_cluster_roles():
            default = role["metadata"]["name"] == "kubevirt.io:default"
            objects.append(_operator_metadata(role, {"kubevirt.io": ""}, default, default))
        for name in ("kubevirt.io:default", "instancetype.kubevirt.io:view"):
            objects.append(_operator_metadata(_binding(name, name, groups=["system:authenticated"]),
                                              {"kubevirt.io": ""}, autoupdate=True))
    if store.count("cdi.kubevirt.io/cdis"):
        objects += [_operator_metadata(role, {"cdi.kubevirt.io": ""}) for role in cdi_cluster_roles()]
        objects.append(_operator_metadata(_binding("cdi.kubevirt.io:config-reader", "cdi.kubevirt.io:config-reader",
                                                   groups=["system:authenticated", "system:serviceaccount"]),
                                          {"cdi.kubevirt.io": ""}))
    return objects
