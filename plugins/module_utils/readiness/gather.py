# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read everything the audit rules need, once, in pages, and never write.

Lists are read ``limit`` objects at a time with the API's ``continue`` token, and decoded straight
from JSON (``serialize=False``) instead of through the dynamic client's object wrappers: at 5,000
VMs that is the difference between seconds and minutes. An API the cluster does not serve (no
operator installed) yields ``None``, which the rules report as such.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ModuleFailure, api_failure
from ansible_collections.ocpvirt.portworx.plugins.module_utils.retry import call_with_retry

PAGE_SIZE = 500
PORTWORX_API = "core.libopenstorage.org/v1"
CONFIG_API = "config.openshift.io/v1"

# (facts key, apiVersion, kind, list options): what the audit reads as whole lists.
LISTS = (
    ("nodes", "v1", "Node", {}),
    ("machine_config_pools", "machineconfiguration.openshift.io/v1", "MachineConfigPool", {}),
    ("storage_clusters", PORTWORX_API, "StorageCluster", {}),
    ("storage_nodes", PORTWORX_API, "StorageNode", {}),
    ("autopilot_rules", "autopilot.libopenstorage.org/v1alpha1", "AutopilotRule", {}),
    ("csvs", "operators.coreos.com/v1alpha1", "ClusterServiceVersion", {}),
    ("storage_classes", "storage.k8s.io/v1", "StorageClass", {}),
    ("storage_profiles", "cdi.kubevirt.io/v1beta1", "StorageProfile", {}),
    ("snapshot_classes", "snapshot.storage.k8s.io/v1", "VolumeSnapshotClass", {}),
    ("hyperconvergeds", "hco.kubevirt.io/v1beta1", "HyperConverged", {}),
    ("data_import_crons", "cdi.kubevirt.io/v1beta1", "DataImportCron", {}),
    ("data_sources", "cdi.kubevirt.io/v1beta1", "DataSource", {}),
    ("node_maintenances", "nodemaintenance.medik8s.io/v1beta1", "NodeMaintenance", {}),
    ("storage_maps", "forklift.konveyor.io/v1beta1", "StorageMap", {}),
    ("templates", "template.openshift.io/v1", "Template", {}),
    ("evict_failures", "v1", "Event", {"field_selector": "reason=FailedToEvictVM"}),
    ("checkup_configmaps", "v1", "ConfigMap", {"field_selector": "metadata.name=storage-checkup-config"}),
    ("stork_deployments", "apps/v1", "Deployment", {"field_selector": "metadata.name=stork"}),
    ("vms", "kubevirt.io/v1", "VirtualMachine", {}),
    ("vmis", "kubevirt.io/v1", "VirtualMachineInstance", {}),
    ("pvcs", "v1", "PersistentVolumeClaim", {}),
)

# (facts key, apiVersion, kind, name): single cluster-wide objects.
SINGLES = (
    ("cluster_version", CONFIG_API, "ClusterVersion", "version"),
    ("network", CONFIG_API, "Network", "cluster"),
    ("cdi_config", "cdi.kubevirt.io/v1beta1", "CDIConfig", "config"),
    ("registry_config", "imageregistry.operator.openshift.io/v1", "Config", "cluster"),
)


def paged_list(cluster, api_version, kind, namespace=None, label_selector=None, field_selector=None, page_size=PAGE_SIZE):
    """Every object of ``kind`` as dicts, read ``page_size`` at a time."""
    resource = cluster.resource(api_version, kind)
    options = dict(namespace=namespace, limit=page_size, serialize=False)
    if label_selector:
        options["label_selector"] = label_selector
    if field_selector:
        options["field_selector"] = field_selector
    items, token = [], None
    while True:
        page = _read_page(cluster, resource, kind, dict(options, _continue=token) if token else options)
        items.extend(page.get("items") or [])
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return items


def _read_page(cluster, resource, kind, options):
    def read():
        response = resource.get(**options)
        data = getattr(response, "data", response)
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        return json.loads(data) if isinstance(data, str) else data

    try:
        return call_with_retry(read, cluster.policy, on_retry=cluster.on_retry)
    except ModuleFailure:
        raise
    except Exception as exc:  # noqa: B902 - every API/transport error becomes a one-line failure
        raise api_failure(exc, "list", kind + " objects")


FLEET_KEYS = ("vms", "vmis", "pvcs", "storage_classes", "templates", "hyperconvergeds", "cluster_version")


def gather(cluster, vm_namespaces=None, label_selector=None, keys=None):
    """The facts of the whole cluster: ``{key: list or dict or None}`` plus ``unserved`` kinds.

    ``vm_namespaces`` / ``label_selector`` narrow the VM reads (VMs, their VMIs and claims);
    ``keys`` reads only those facts (the fleet modules need a few). A list the caller may not
    read (403) counts as unserved, so its rules are skipped instead of failing the whole audit.
    """
    facts = {"unserved": []}
    for key, api_version, kind, options in LISTS:
        if keys is not None and key not in keys:
            continue
        facts[key] = None
        if not cluster.served(api_version, kind):
            facts["unserved"].append("{0} {1}".format(api_version, kind))
            continue
        try:
            facts[key] = _list_scoped(cluster, key, api_version, kind, options, vm_namespaces, label_selector)
        except ModuleFailure as failure:
            if failure.status != 403:
                raise
            facts["unserved"].append("{0} {1} (forbidden)".format(api_version, kind))
    for key, api_version, kind, name in SINGLES:
        if keys is None or key in keys:
            facts[key] = cluster.get(api_version, kind, name) if cluster.served(api_version, kind) else None
    facts["registry_claim"] = _registry_claim(cluster, facts.get("registry_config"))
    return facts


def _list_scoped(cluster, key, api_version, kind, options, vm_namespaces, label_selector):
    selector = label_selector if key == "vms" else None
    if key not in ("vms", "vmis", "pvcs") or not vm_namespaces:
        return paged_list(cluster, api_version, kind, label_selector=selector, **options)
    items = []
    for namespace in vm_namespaces:
        items.extend(paged_list(cluster, api_version, kind, namespace=namespace, label_selector=selector, **options))
    return items


def _registry_claim(cluster, config):
    claim = ((((config or {}).get("spec") or {}).get("storage") or {}).get("pvc") or {}).get("claim")
    if not claim:
        return None
    return cluster.get("v1", "PersistentVolumeClaim", claim, "openshift-image-registry")
