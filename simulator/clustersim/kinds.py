"""The resource types the simulator serves, and the discovery documents built from them.

Resource keys
-------------
Every kind is addressed inside the simulator by a *resource key*: the plural resource name for
the core group (``"persistentvolumeclaims"``, ``"pods"``) and ``"<group>/<plural>"`` for named
groups (``"kubevirt.io/virtualmachines"``, ``"storage.k8s.io/storageclasses"``).  The version is
not part of the key: each group/resource is served at exactly one version.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

from .schema import from_shorthand, merge_schema
from .schemas import load_all, must_schema, schema_for

STANDARD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
STATUS_VERBS = ("get", "patch", "update")
BASE_FIELD_SELECTORS = frozenset({"metadata.name", "metadata.namespace"})


@dataclass
class Subresource:
    name: str
    kind: str
    verbs: Tuple[str, ...]
    group: str = ""
    version: str = ""


@dataclass
class Kind:
    group: str
    version: str
    resource: str  # plural
    kind: str
    namespaced: bool = True
    short_names: Tuple[str, ...] = ()
    categories: Tuple[str, ...] = ()
    verbs: Tuple[str, ...] = STANDARD_VERBS
    subresources: Dict[str, Subresource] = field(default_factory=dict)
    singular: str = ""
    builtin: bool = False  # built-in types accept strategic merge patch; CRDs answer 415
    field_selectors: FrozenSet[str] = BASE_FIELD_SELECTORS
    schema: Optional[Dict[str, Any]] = None  # structural schema (None keeps every field)
    list_kind: str = ""
    printer_columns: Tuple[Dict[str, Any], ...] = ()  # CRD additionalPrinterColumns (custom kinds)

    def __post_init__(self) -> None:
        self.singular = self.singular or self.kind.lower()
        self.list_kind = self.list_kind or f"{self.kind}List"

    @property
    def key(self) -> str:
        return f"{self.group}/{self.resource}" if self.group else self.resource

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    def base_path(self, namespace: Optional[str] = None) -> str:
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{prefix}/namespaces/{namespace}/{self.resource}"
        return f"{prefix}/{self.resource}"


class KindRegistry:
    """All served kinds, plus subresource-only groups such as ``subresources.kubevirt.io``."""

    def __init__(self) -> None:
        self._by_key: Dict[str, Kind] = {}
        self._by_gvr: Dict[Tuple[str, str, str], Kind] = {}
        self._by_gvk: Dict[Tuple[str, str], Kind] = {}
        # group -> version -> list of discovery entries for subresource-only API groups
        self._virtual: Dict[str, Dict[str, List[Dict[str, Any]]]] = {}
        # subresource-only group -> the group whose objects it acts on
        self.virtual_targets: Dict[str, str] = {}
        # keys of kinds the cluster does not serve (``--hide-apis``): absent from discovery and HTTP
        self._hidden: set = set()
        self.revision = 0  # bumped whenever the served kinds or their schemas change (OpenAPI caches)

    # -- registration -----------------------------------------------------------------------
    def register(self, kind: Kind) -> Kind:
        self._by_key[kind.key] = kind
        self._by_gvr[(kind.group, kind.version, kind.resource)] = kind
        self._by_gvk[(kind.api_version, kind.kind)] = kind
        self.revision += 1
        return kind

    def unregister(self, key: str) -> Optional[Kind]:
        """Stop serving ``key`` (a deleted CustomResourceDefinition); returns the kind it was."""
        kind = self._by_key.pop(key, None)
        if kind is not None:
            self._by_gvr.pop((kind.group, kind.version, kind.resource), None)
            self._by_gvk.pop((kind.api_version, kind.kind), None)
            self.revision += 1
        return kind

    def snapshot(self) -> List[Kind]:
        """The kinds served now, in order (for :meth:`restore` on a reset)."""
        return list(self._by_key.values())

    def restore(self, kinds: List[Kind]) -> None:
        """Serve exactly ``kinds`` again (kinds added at run time go, removed ones come back)."""
        self._by_key, self._by_gvr, self._by_gvk = {}, {}, {}
        for kind in kinds:
            self.register(kind)

    def add_subresource(self, key: str, name: str, kind: str = "", verbs: Tuple[str, ...] = ("create",),
                        group: str = "", version: str = "") -> None:
        owner = self.get(key)
        owner.subresources[name] = Subresource(name, kind or owner.kind, tuple(verbs), group, version)
        self.revision += 1

    def register_virtual_subresource(self, group: str, version: str, parent: str, name: str, kind: str,
                                     verbs: Tuple[str, ...] = ("update",), namespaced: bool = True) -> None:
        """A subresource served in its own API group (KubeVirt's ``subresources.kubevirt.io``)."""
        self.virtual_targets.setdefault(group, group.split(".", 1)[1] if group.startswith("subresources.") else group)
        entries = self._virtual.setdefault(group, {}).setdefault(version, [])
        entries.append({"name": f"{parent}/{name}", "singularName": "", "namespaced": namespaced,
                        "kind": kind, "verbs": list(verbs)})

    def extend_schema(self, key: str, extra: Dict[str, Any]) -> None:
        """Keep more fields of ``key`` through pruning; ``extra`` is the shorthand of ``schema.py``
        (``{"spec": {"field": None}}``).  Fields the upstream schema already declares need no
        extension."""
        kind = self.get(key)
        kind.schema = merge_schema(kind.schema, from_shorthand(extra))
        self.revision += 1

    def hide_group_versions(self, group_versions: List[str]) -> List[str]:
        """Stop serving every kind of these group/versions (``"snapshot.storage.k8s.io/v1"``), as on a
        cluster without that CRD or capability.  The kinds stay known inside the simulator, so
        controllers that look for their objects find none instead of failing.  Returns the keys."""
        wanted = set(group_versions)
        keys = [kind.key for kind in self._by_key.values() if kind.api_version in wanted]
        self._hidden.update(keys)
        return keys

    def is_served(self, key: str) -> bool:
        return key in self._by_key and key not in self._hidden

    # -- lookup ------------------------------------------------------------------------------
    def get(self, key: str) -> Kind:
        return self._by_key[key]

    def find(self, key: str) -> Optional[Kind]:
        return self._by_key.get(key)

    def by_gvr(self, group: str, version: str, resource: str) -> Optional[Kind]:
        """The served kind of an API path (hidden kinds are not served)."""
        kind = self._by_gvr.get((group, version, resource))
        return None if kind is None or kind.key in self._hidden else kind

    def by_gvk(self, api_version: str, kind: str) -> Optional[Kind]:
        return self._by_gvk.get((api_version, kind))

    def all(self) -> List[Kind]:
        return list(self._by_key.values())

    def virtual_entries(self, group: str, version: str) -> Optional[List[Dict[str, Any]]]:
        return self._virtual.get(group, {}).get(version)

    # -- discovery documents -----------------------------------------------------------------
    def group_versions(self) -> Dict[str, List[str]]:
        """group -> versions, in registration order; the first version is preferred."""
        result: Dict[str, List[str]] = {}
        for kind in self._by_key.values():
            if kind.key in self._hidden:
                continue
            versions = result.setdefault(kind.group, [])
            if kind.version not in versions:
                versions.append(kind.version)
        for group, versions in self._virtual.items():
            known = result.setdefault(group, [])
            for version in versions:
                if version not in known:
                    known.append(version)
        return result

    def preferred_version(self, group: str) -> str:
        versions = self.group_versions()[group]
        # Prefer stable over beta over alpha, like the apiserver's version priority.
        def rank(v: str) -> Tuple[int, str]:
            return (2 if "alpha" in v else 1 if "beta" in v else 0, v)
        return sorted(versions, key=rank)[0]

    def api_versions_doc(self) -> Dict[str, Any]:
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}

    def group_doc(self, group: str) -> Optional[Dict[str, Any]]:
        versions = self.group_versions().get(group)
        if not group or not versions:
            return None
        preferred = self.preferred_version(group)
        return {
            "name": group,
            "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
            "preferredVersion": {"groupVersion": f"{group}/{preferred}", "version": preferred},
        }

    def api_group_list_doc(self) -> Dict[str, Any]:
        groups = [self.group_doc(g) for g in self.group_versions() if g]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def resource_list_doc(self, group: str, version: str) -> Optional[Dict[str, Any]]:
        resources: List[Dict[str, Any]] = []
        for kind in self._by_key.values():
            if kind.group != group or kind.version != version or kind.key in self._hidden:
                continue
            entry: Dict[str, Any] = {
                "name": kind.resource, "singularName": kind.singular, "namespaced": kind.namespaced,
                "kind": kind.kind, "verbs": list(kind.verbs),
            }
            if kind.short_names:
                entry["shortNames"] = list(kind.short_names)
            if kind.categories:
                entry["categories"] = list(kind.categories)
            resources.append(entry)
            for sub in kind.subresources.values():
                sub_entry: Dict[str, Any] = {"name": f"{kind.resource}/{sub.name}", "singularName": "",
                                             "namespaced": kind.namespaced, "kind": sub.kind, "verbs": list(sub.verbs)}
                if sub.group:
                    sub_entry["group"] = sub.group
                    sub_entry["version"] = sub.version
                resources.append(sub_entry)
        resources.extend(self._virtual.get(group, {}).get(version, []))
        if not resources:
            return None
        group_version = f"{group}/{version}" if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}


def _status(*extra: Subresource) -> Dict[str, Subresource]:
    subs = {"status": Subresource("status", "", STATUS_VERBS)}
    for sub in extra:
        subs[sub.name] = sub
    return subs


def _fix_status_kind(kind: Kind) -> Kind:
    for sub in kind.subresources.values():
        if not sub.kind:
            sub.kind = kind.kind
    return kind


# Pruning schemas are data: generated from upstream into ``clustersim/schemas/*.json`` (see
# ``clustersim/schemas/__init__.py`` and docs/simulator.md, "Schemas as data").
# policy/v1 Eviction is a body, not a stored kind: ``pods/eviction`` decodes it like a built-in type.
EVICTION_SCHEMA: Dict[str, Any] = must_schema("policy/eviction")


def _core_kinds() -> List[Kind]:
    """core/v1 (the kube-apiserver's legacy group)."""
    return [
        Kind("", "v1", "namespaces", "Namespace", namespaced=False, short_names=("ns",), builtin=True,
             verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
             subresources=_status(Subresource("finalize", "", ("update",))),
             field_selectors=BASE_FIELD_SELECTORS | {"status.phase"}),
        Kind("", "v1", "nodes", "Node", namespaced=False, short_names=("no",), builtin=True,
             subresources=_status(Subresource("proxy", "NodeProxyOptions", ("create", "delete", "get", "patch", "update"))),
             field_selectors=BASE_FIELD_SELECTORS | {"spec.unschedulable"}),
        Kind("", "v1", "pods", "Pod", short_names=("po",), categories=("all",), builtin=True,
             subresources=_status(Subresource("eviction", "Eviction", ("create",), "policy", "v1"),
                                  Subresource("log", "Pod", ("get",)),
                                  Subresource("binding", "Binding", ("create",))),
             field_selectors=BASE_FIELD_SELECTORS | {"spec.nodeName", "status.phase", "spec.restartPolicy",
                                                     "spec.schedulerName", "spec.serviceAccountName",
                                                     "status.podIP", "status.nominatedNodeName"}),
        Kind("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", short_names=("pvc",), builtin=True,
             subresources=_status()),
        Kind("", "v1", "persistentvolumes", "PersistentVolume", namespaced=False, short_names=("pv",), builtin=True,
             subresources=_status()),
        Kind("", "v1", "events", "Event", short_names=("ev",), builtin=True,
             field_selectors=BASE_FIELD_SELECTORS | {"involvedObject.kind", "involvedObject.namespace",
                                                     "involvedObject.name", "involvedObject.uid",
                                                     "involvedObject.apiVersion", "involvedObject.resourceVersion",
                                                     "involvedObject.fieldPath", "reason", "type", "source"}),
        Kind("", "v1", "configmaps", "ConfigMap", short_names=("cm",), builtin=True),
        Kind("", "v1", "secrets", "Secret", builtin=True, field_selectors=BASE_FIELD_SELECTORS | {"type"}),
        Kind("", "v1", "serviceaccounts", "ServiceAccount", short_names=("sa",), builtin=True),
        Kind("", "v1", "services", "Service", short_names=("svc",), categories=("all",), builtin=True,
             verbs=("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
             subresources=_status(Subresource("proxy", "ServiceProxyOptions", ("create", "delete", "get", "patch", "update")))),
        Kind("", "v1", "endpoints", "Endpoints", short_names=("ep",), builtin=True),
    ]


def _workload_kinds() -> List[Kind]:
    """apps/v1 and batch/v1."""
    scale = Subresource("scale", "Scale", STATUS_VERBS, "autoscaling", "v1")
    return [
        Kind("apps", "v1", "deployments", "Deployment", short_names=("deploy",), categories=("all",), builtin=True,
             subresources=_status(scale)),
        Kind("apps", "v1", "replicasets", "ReplicaSet", short_names=("rs",), categories=("all",), builtin=True,
             subresources=_status(Subresource("scale", "Scale", STATUS_VERBS, "autoscaling", "v1"))),
        Kind("apps", "v1", "daemonsets", "DaemonSet", short_names=("ds",), categories=("all",), builtin=True,
             subresources=_status()),
        Kind("apps", "v1", "statefulsets", "StatefulSet", short_names=("sts",), categories=("all",), builtin=True,
             subresources=_status(Subresource("scale", "Scale", STATUS_VERBS, "autoscaling", "v1"))),
        Kind("batch", "v1", "jobs", "Job", categories=("all",), builtin=True, subresources=_status(),
             field_selectors=BASE_FIELD_SELECTORS | {"status.successful"}),
        Kind("batch", "v1", "cronjobs", "CronJob", short_names=("cj",), categories=("all",), builtin=True,
             subresources=_status()),
    ]


def _storage_kinds() -> List[Kind]:
    """storage.k8s.io/v1 and the CSI snapshot CRDs."""
    return [
        Kind("storage.k8s.io", "v1", "storageclasses", "StorageClass", namespaced=False, short_names=("sc",), builtin=True),
        Kind("storage.k8s.io", "v1", "csidrivers", "CSIDriver", namespaced=False, builtin=True),
        Kind("storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", namespaced=False, builtin=True,
             subresources=_status()),
        Kind("snapshot.storage.k8s.io", "v1", "volumesnapshotclasses", "VolumeSnapshotClass", namespaced=False,
             short_names=("vsclass", "vsclasses")),
        Kind("snapshot.storage.k8s.io", "v1", "volumesnapshots", "VolumeSnapshot", short_names=("vs",),
             subresources=_status()),
        Kind("snapshot.storage.k8s.io", "v1", "volumesnapshotcontents", "VolumeSnapshotContent", namespaced=False,
             short_names=("vsc", "vscs"), subresources=_status()),
    ]


def _policy_and_rbac_kinds() -> List[Kind]:
    """policy/v1, networking.k8s.io/v1 (NetworkPolicy), rbac.authorization.k8s.io/v1 and
    authorization.k8s.io/v1."""
    return [
        Kind("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", short_names=("netpol",), builtin=True),
        Kind("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", short_names=("pdb",), builtin=True,
             subresources=_status()),
        Kind("rbac.authorization.k8s.io", "v1", "roles", "Role", builtin=True),
        Kind("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", builtin=True),
        Kind("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False, builtin=True),
        Kind("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", namespaced=False, builtin=True),
        # Reviews are created, never stored (authz_reviews.py serves them).
        Kind("authorization.k8s.io", "v1", "localsubjectaccessreviews", "LocalSubjectAccessReview", builtin=True,
             verbs=("create",)),
        Kind("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", namespaced=False,
             builtin=True, verbs=("create",)),
        Kind("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", namespaced=False,
             builtin=True, verbs=("create",)),
        Kind("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", namespaced=False,
             builtin=True, verbs=("create",)),
    ]


def _apiextensions_kinds() -> List[Kind]:
    """apiextensions.k8s.io/v1 (``staging/src/k8s.io/apiextensions-apiserver``): names from
    ``pkg/registry/customresourcedefinition/etcd.go`` (short name ``crd``/``crds``, category
    ``api-extensions``)."""
    return [Kind("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
                 namespaced=False, short_names=("crd", "crds"), categories=("api-extensions",), builtin=True,
                 subresources=_status())]


def _cluster_service_kinds() -> List[Kind]:
    """coordination.k8s.io/v1 Leases, events.k8s.io/v1 Events (the events API's view of the core
    Events, see ``operators/events_v1.py``) and metrics-server's read-only ``metrics.k8s.io/v1beta1``
    (served by ``operators/metrics.py``)."""
    read_only = ("get", "list")
    return [
        Kind("coordination.k8s.io", "v1", "leases", "Lease", builtin=True),
        Kind("events.k8s.io", "v1", "events", "Event", short_names=("ev",), builtin=True,
             field_selectors=BASE_FIELD_SELECTORS | {"regarding.kind", "regarding.name", "regarding.namespace",
                                                     "regarding.uid", "reason", "type", "reportingController"}),
        Kind("metrics.k8s.io", "v1beta1", "nodes", "NodeMetrics", namespaced=False, builtin=True, verbs=read_only),
        Kind("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", builtin=True, verbs=read_only),
    ]


def _openshift_kinds() -> List[Kind]:
    """OpenShift config, image registry, routes and OLM."""
    return [
        Kind("config.openshift.io", "v1", "clusterversions", "ClusterVersion", namespaced=False, subresources=_status()),
        Kind("config.openshift.io", "v1", "clusteroperators", "ClusterOperator", namespaced=False, short_names=("co",),
             subresources=_status()),
        Kind("imageregistry.operator.openshift.io", "v1", "configs", "Config", namespaced=False, subresources=_status()),
        Kind("route.openshift.io", "v1", "routes", "Route", subresources=_status()),
        Kind("config.openshift.io", "v1", "networks", "Network", namespaced=False),
        Kind("machineconfiguration.openshift.io", "v1", "machineconfigpools", "MachineConfigPool", namespaced=False,
             short_names=("mcp",), subresources=_status()),
        Kind("template.openshift.io", "v1", "templates", "Template"),
        Kind("operators.coreos.com", "v1alpha1", "clusterserviceversions", "ClusterServiceVersion",
             short_names=("csv", "csvs"), categories=("olm",), subresources=_status()),
        Kind("operators.coreos.com", "v1alpha1", "subscriptions", "Subscription", short_names=("sub", "subs"),
             categories=("olm",), subresources=_status()),
        Kind("operators.coreos.com", "v1alpha1", "installplans", "InstallPlan", short_names=("ip",),
             categories=("olm",), subresources=_status()),
        Kind("operators.coreos.com", "v1", "operatorgroups", "OperatorGroup", short_names=("og",),
             categories=("olm",), subresources=_status()),
    ]


def _virtualization_kinds() -> List[Kind]:
    """OpenShift Virtualization: HCO, CDI, KubeVirt, NMO."""
    return [
        Kind("hco.kubevirt.io", "v1beta1", "hyperconvergeds", "HyperConverged", short_names=("hco", "hcos"),
             categories=("all",), subresources=_status()),
        Kind("cdi.kubevirt.io", "v1beta1", "cdiconfigs", "CDIConfig", namespaced=False, subresources=_status()),
        Kind("cdi.kubevirt.io", "v1beta1", "cdis", "CDI", namespaced=False, short_names=("cdi", "cdis"),
             subresources=_status()),
        Kind("cdi.kubevirt.io", "v1beta1", "storageprofiles", "StorageProfile", namespaced=False, subresources=_status()),
        Kind("cdi.kubevirt.io", "v1beta1", "datavolumes", "DataVolume", short_names=("dv", "dvs"), categories=("all",),
             subresources=_status()),
        Kind("cdi.kubevirt.io", "v1beta1", "datasources", "DataSource", short_names=("das",), categories=("all",),
             subresources=_status()),
        Kind("cdi.kubevirt.io", "v1beta1", "dataimportcrons", "DataImportCron", short_names=("dic", "dics"),
             categories=("all",), subresources=_status()),
        Kind("kubevirt.io", "v1", "virtualmachines", "VirtualMachine", short_names=("vm", "vms"), categories=("all",),
             subresources=_status()),
        Kind("kubevirt.io", "v1", "virtualmachineinstances", "VirtualMachineInstance", short_names=("vmi", "vmis"),
             categories=("all",), subresources=_status()),
        Kind("kubevirt.io", "v1", "virtualmachineinstancemigrations", "VirtualMachineInstanceMigration",
             short_names=("vmim", "vmims"), categories=("all",), subresources=_status()),
        Kind("kubevirt.io", "v1", "kubevirts", "KubeVirt", short_names=("kv", "kvs"), categories=("all",),
             subresources=_status()),
        Kind("snapshot.kubevirt.io", "v1beta1", "virtualmachinesnapshots", "VirtualMachineSnapshot",
             short_names=("vmsnapshot", "vmsnapshots"), categories=("all",), subresources=_status()),
        Kind("snapshot.kubevirt.io", "v1beta1", "virtualmachinesnapshotcontents", "VirtualMachineSnapshotContent",
             short_names=("vmsnapshotcontent", "vmsnapshotcontents"), categories=("all",), subresources=_status()),
        Kind("snapshot.kubevirt.io", "v1beta1", "virtualmachinerestores", "VirtualMachineRestore",
             short_names=("vmrestore", "vmrestores"), categories=("all",), subresources=_status()),
        Kind("nodemaintenance.medik8s.io", "v1beta1", "nodemaintenances", "NodeMaintenance", namespaced=False,
             short_names=("nm",), subresources=_status()),
    ]


def _portworx_kinds() -> List[Kind]:
    """Portworx operator and Autopilot."""
    return [
        Kind("core.libopenstorage.org", "v1", "storageclusters", "StorageCluster", short_names=("stc",),
             subresources=_status()),
        Kind("core.libopenstorage.org", "v1", "storagenodes", "StorageNode", short_names=("sn",), subresources=_status()),
        Kind("autopilot.libopenstorage.org", "v1alpha1", "autopilotrules", "AutopilotRule", namespaced=False,
             short_names=("ar",)),  # AutopilotRuleResourceShortName (autopilot-api v1alpha1)
    ]


def _forklift_kinds() -> List[Kind]:
    """MTV (Forklift)."""
    return [
        Kind("forklift.konveyor.io", "v1beta1", "storagemaps", "StorageMap", subresources=_status()),
        Kind("forklift.konveyor.io", "v1beta1", "networkmaps", "NetworkMap", subresources=_status()),
        Kind("forklift.konveyor.io", "v1beta1", "providers", "Provider", subresources=_status()),
        Kind("forklift.konveyor.io", "v1beta1", "plans", "Plan", subresources=_status()),
        Kind("forklift.konveyor.io", "v1beta1", "migrations", "Migration", subresources=_status()),
    ]


def builtin_kinds() -> List[Kind]:
    """Every kind served by a fresh simulator.  Names follow the upstream types/CRDs; the
    schemas come from ``clustersim/schemas``."""
    kinds: List[Kind] = []
    for group in (_core_kinds, _workload_kinds, _storage_kinds, _policy_and_rbac_kinds, _apiextensions_kinds,
                  _cluster_service_kinds, _openshift_kinds,
                  _virtualization_kinds, _portworx_kinds, _forklift_kinds):
        kinds.extend(group())
    return [_with_schema(_fix_status_kind(kind)) for kind in kinds]


def _with_schema(kind: Kind) -> Kind:
    """Attach the generated upstream schema (shared, never modified in place)."""
    kind.schema = schema_for(kind.key)
    doc = load_all().get(kind.key)
    if doc is not None and not kind.builtin:
        kind.printer_columns = doc.printer_columns
    return kind


def default_registry() -> KindRegistry:
    registry = KindRegistry()
    for kind in builtin_kinds():
        registry.register(kind)
    # KubeVirt serves its imperative endpoints in a separate, subresource-only API group.
    for name in ("addvolume", "removevolume", "start", "stop", "restart", "migrate", "expand-spec"):
        registry.register_virtual_subresource("subresources.kubevirt.io", "v1", "virtualmachines", name,
                                              "VirtualMachine", ("update",) if name != "expand-spec" else ("get",))
    for name in ("addvolume", "removevolume", "pause", "unpause", "freeze", "unfreeze", "guestosinfo"):
        registry.register_virtual_subresource("subresources.kubevirt.io", "v1", "virtualmachineinstances", name,
                                              "VirtualMachineInstance", ("get",) if name == "guestosinfo" else ("update",))
    return registry
