# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every rule the audit evaluates, with its stable id, area, severity, fix and source.

Rule ids ``R1``..``R24`` are those of the collection's reference catalogue (failure modes, section
5); the others are further checks the same documents ask for. Sources name the document and its
section: [000] Portworx on OpenShift bare metal, OpenShift Virtualization addendum (primary);
[001] Portworx: manage storage for KubeVirt VMs; [002] OpenShift Virtualization deep-dive slides;
[003] Red Hat OpenShift Virtualization Architecture Guide; (API) the upstream API behaviour.
``day0`` marks what ``playbooks/day0.yml`` itself configures, so its preflight does not refuse it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

CRITICAL = "critical"
WARNING = "warning"
INFO = "info"
SEVERITIES = (CRITICAL, WARNING, INFO)

AREAS = ("portworx", "platform", "storage", "virtualization", "vm_fleet", "capacity")


def _rule(area, severity, title, fix, source, day0=False, fixable=False):
    return dict(area=area, severity=severity, title=title, fix=fix, source=source, day0=day0, fixable=fixable)


RULES = {
    # --- Portworx -----------------------------------------------------------------------------
    "PX-INSTALLED": _rule("portworx", CRITICAL, "A Portworx StorageCluster exists",
                          "Install Portworx Enterprise with its operator and create the StorageCluster.",
                          "[000] Portworx on OpenShift bare metal: installation"),
    "PX-ENTERPRISE": _rule("portworx", CRITICAL, "Portworx Enterprise runs, not PX-CSI",
                           "OpenShift Virtualization needs Portworx Enterprise; replace the PX-CSI deployment.",
                           "[000] OpenShift Virtualization addendum: prerequisites"),
    "PX-VERSION": _rule("portworx", CRITICAL, "Portworx is 3.5.2 or later",
                        "Upgrade Portworx (one node at a time) to 3.5.2 or later.",
                        "[000] OpenShift Virtualization addendum: prerequisites (Portworx >= 3.5.2)"),
    "PX-UPDATE-STRATEGY": _rule("portworx", WARNING, "Portworx updates one node at a time",
                                "Set StorageCluster spec.updateStrategy to RollingUpdate with rollingUpdate.maxUnavailable: 1.",
                                "[000] Node maintenance: upgrade one worker at a time (replicas on at most three nodes)"),
    "PX-STORK": _rule("portworx", WARNING, "Stork is enabled and running",
                      "Set StorageCluster spec.stork.enabled: true and check the stork Deployment in the Portworx namespace.",
                      "[000] Portworx on OpenShift bare metal: Stork"),
    "PX-AUTOPILOT": _rule("portworx", WARNING, "Autopilot is enabled",
                          "Set StorageCluster spec.autopilot.enabled: true (pool rebalance and volume expansion need it).",
                          "[000] Autopilot pool rebalance; PVC expansion"),
    "PX-REBALANCE-RULE": _rule("portworx", INFO, "An AutopilotRule rebalances the storage pools",
                               "Create the pool-rebalance AutopilotRule (deviation outside -20..20 percent).",
                               "[000] Autopilot rule pool-rebalance", day0=True),
    "PX-NODES-ONLINE": _rule("portworx", WARNING, "Every Portworx storage node is Online",
                             "Find why the StorageNode is not Online (pxctl status) before any maintenance.",
                             "[000] Node maintenance"),
    # --- platform -----------------------------------------------------------------------------
    "OCP-VERSION": _rule("platform", WARNING, "OpenShift is 4.14 or later",
                         "Upgrade OpenShift; the collection and the documents' VM rules target 4.14 and later.",
                         "[000] OpenShift Virtualization addendum (OCP 4.20); steps section 3 (usePopulator from 4.14)"),
    "OCP-CSI-SNAPSHOT": _rule("platform", WARNING, "The CSISnapshot cluster capability is enabled",
                              "Enable the CSISnapshot capability (ClusterVersion spec.capabilities.additionalEnabledCapabilities).",
                              "[000] Snapshots: VolumeSnapshotClass px-csi-snapclass; (API) openshift/api ClusterVersion capabilities"),
    "HCO-INSTALLED": _rule("platform", CRITICAL, "OpenShift Virtualization (HyperConverged) is installed",
                           "Install the OpenShift Virtualization operator and create HyperConverged kubevirt-hyperconverged.",
                           "[000] OpenShift Virtualization addendum"),
    "NMO-INSTALLED": _rule("platform", WARNING, "The Node Maintenance Operator is installed",
                           "Install the Node Maintenance Operator (it is not installed by default).",
                           "[003] Node maintenance; [000] Node maintenance"),
    "NETWORK-PODS": _rule("platform", WARNING, "maxPods fits the cluster network hostPrefix",
                          "Keep the kubelet maxPods at or below 2^(32 - hostPrefix) pod addresses per node.",
                          "[003] Sizing: pods per node = 2^(32 - hostPrefix), /23 gives 512"),
    "MCP-MAX-UNAVAILABLE": _rule("platform", WARNING, "The worker MachineConfigPool updates one node at a time",
                                 "Set MachineConfigPool worker spec.maxUnavailable: 1.",
                                 "[000] Node maintenance: one worker at a time"),
    "R10": _rule("platform", CRITICAL, "At most one worker or Portworx node is in maintenance or upgrade",
                 "Finish the maintenance of one node before starting the next.",
                 "[000] Node maintenance: one worker at a time"),
    "R14": _rule("platform", WARNING, "All workers have the same CPU vendor",
                 "Live migration cannot cross CPU vendors: use one MachineSet per CPU type and keep VMs on one vendor.",
                 "[000] VM policy: mixed CPU vendors"),
    # --- storage ------------------------------------------------------------------------------
    "DEFAULT-VIRT-CLASS": _rule("storage", CRITICAL, "A default virtualization StorageClass exists",
                                "Annotate the RWX Block Portworx class storageclass.kubevirt.io/is-default-virt-class: \"true\".",
                                "[000] Default virtualization StorageClass swap; (API) CDINoDefaultStorageClass", day0=True),
    "DEFAULT-CLUSTER-CLASS": _rule("storage", WARNING, "A default cluster StorageClass exists",
                                   "Annotate the VM class storageclass.kubernetes.io/is-default-class: \"true\".",
                                   "[000] Default virtualization StorageClass swap", day0=True),
    "R1": _rule("storage", CRITICAL, "The default virtualization class offers RWX Block",
                "Make an RWX Block Portworx class the default virtualization class and give its StorageProfile ReadWriteMany/Block.",
                "[000] Default virtualization StorageClass swap (boot sources are imported only to RWX Block)", day0=True),
    "R2": _rule("storage", CRITICAL, "Exactly one class is the default (virtualization and cluster)",
                "Set the default annotation to \"false\" on every class but one, old class first.",
                "[000] Default virtualization StorageClass swap; (API) CDIMultipleDefaultVirtStorageClasses", day0=True),
    "R5": _rule("storage", WARNING, "VM disk classes bind WaitForFirstConsumer",
                "Use a VM disk class with volumeBindingMode WaitForFirstConsumer (immutable: recreate the class).",
                "[000] VM disk class px-rwx-block-kubevirt"),
    "R6": _rule("storage", WARNING, "The MTV destination class binds Immediate",
                "Point the StorageMap at an Immediate class (mtv-storage).",
                "[000] MTV StorageMap; [001]"),
    "BOOT-SOURCES": _rule("storage", WARNING, "Boot sources are imported (DataSources ready)",
                          "Fix the default virtualization class (RWX Block) so DataImportCrons can import the boot sources.",
                          "[000] Default virtualization StorageClass swap: CDIDefaultStorageClassDegraded"),
    "PROFILE-CLAIMS": _rule("storage", WARNING, "Every VM class's StorageProfile lists RWX claim property sets",
                            "Set StorageProfile spec.claimPropertySets [{accessModes: [ReadWriteMany], volumeMode: Block}].",
                            "[000] Storage profile; storage checkup", day0=True),
    "PROFILE-CLONE": _rule("storage", INFO, "Every Portworx VM class's StorageProfile clones with csi-clone",
                           "Set StorageProfile spec.cloneStrategy: csi-clone.",
                           "[000] Storage profile", day0=True),
    "R17": _rule("storage", WARNING, "The CDI scratch class gives Filesystem volumes",
                 "Set HyperConverged spec.scratchSpaceStorageClass to a Filesystem class (px-cdi-scratch).",
                 "[000] CDI scratch class px-cdi-scratch", day0=True),
    "R18": _rule("storage", WARNING, "The VM state class keeps 2 or more replicas and Retains",
                 "Set HyperConverged spec.vmStateStorageClass to a class with repl >= 2 and reclaimPolicy Retain (vmstate).",
                 "[000] VM state class vmstate", day0=True),
    "R19": _rule("storage", WARNING, "Filesystem overhead is 0.08 or more where VMs use Filesystem volumes",
                 "Set HyperConverged spec.filesystemOverhead.global: \"0.08\".",
                 "[000] Filesystem overhead; [001]", day0=True),
    "R21": _rule("storage", WARNING, "Exactly one default VolumeSnapshotClass for pxd.portworx.com",
                 "Create px-csi-snapclass (driver pxd.portworx.com) annotated snapshot.storage.kubernetes.io/is-default-class: \"true\".",
                 "[000] Snapshots", day0=True),
    "STORAGE-CHECKUP": _rule("storage", INFO, "The storage checkup ran and succeeded",
                             "Run the OpenShift Virtualization storage checkup before production.",
                             "[000] Storage checkup"),
    # --- virtualization -----------------------------------------------------------------------
    "LIVE-MIGRATION": _rule("virtualization", INFO, "Live migration limits follow the guidance",
                            "Set HyperConverged liveMigrationConfig: 5 per cluster, 2 outbound per node, no bandwidth cap.",
                            "[002] live migration limits; [003] do not cap bandwidth", day0=True),
    "R20": _rule("virtualization", WARNING, "The image registry is Managed on an RWX volume with 2 replicas",
                 "Run the image_registry role: RWX PVC, managementState Managed, replicas 2.",
                 "[000] Image registry enablement", day0=True),
    "R11": _rule("virtualization", WARNING, "No Portworx upgrade left a VM it could not evict",
                 "Migrate or stop the VM named in the FailedToEvictVM event so the Portworx upgrade can go on.",
                 "[001] Portworx upgrade: FailedToEvictVM"),
    # --- VM fleet -----------------------------------------------------------------------------
    "R3": _rule("vm_fleet", WARNING, "No bind.immediate.requested on VM volumes",
                "Remove the annotation cdi.kubevirt.io/storage.bind.immediate.requested (it overrides WaitForFirstConsumer).",
                "[000] VM policy", fixable=True),
    "R4": _rule("vm_fleet", WARNING, "DataVolume templates set usePopulator \"false\" (OCP >= 4.14)",
                "Annotate each dataVolumeTemplate cdi.kubevirt.io/storage.usePopulator: \"false\".",
                "[000] VM policy", fixable=True),
    "R7": _rule("vm_fleet", WARNING, "VMs live-migrate on eviction",
                "Set spec.template.spec.evictionStrategy: LiveMigrateIfPossible (LiveMigrate is accepted).",
                "[000] Node maintenance; [001]", fixable=True),
    "R8": _rule("vm_fleet", WARNING, "VM disks are ReadWriteMany (live migration)",
                "Move the disk to an RWX class (clone or migrate the data); RWO disks cannot live-migrate.",
                "[000] Node maintenance: live migration needs RWX volumes"),
    "R9": _rule("vm_fleet", WARNING, "No bridge binding on the pod network",
                "Use masquerade on the pod network; bridge binding blocks live migration.",
                "(API) KubeVirt LiveMigratable=False for bridge on the pod network"),
    "R12": _rule("vm_fleet", CRITICAL, "No SCSI reservation or shared disks on Portworx",
                 "Portworx RWX block has no SCSI-3 persistent reservations: do not run WSFC shared disks on it.",
                 "[000] Hot-plug disks: WSFC / SCSI reservation"),
    "R13": _rule("vm_fleet", WARNING, "No hot-plugged SATA disks",
                 "Use bus scsi (or virtio) for hot-plugged disks; SATA cannot be hot-plugged.",
                 "[000] Hot-plug disks: bus table"),
    "R15": _rule("vm_fleet", WARNING, "One replication factor per VM",
                 "Give all of a VM's Portworx volumes the same repl.",
                 "[001] Pre-created PVCs: same replication factor"),
    "R16": _rule("vm_fleet", WARNING, "Pre-created VM claims carry portworx.io/app: kubevirt",
                 "Annotate the claim portworx.io/app: kubevirt.",
                 "[000] Hot-plug disks; [001]", fixable=True),
    "R24": _rule("vm_fleet", WARNING, "No BIOS VM on a 4096-byte logical root disk",
                 "Keep the root disk at 512-byte logical blocks or switch the VM to EFI.",
                 "[000] VM policy: BIOS boots only from 512-byte logical blocks"),
    # --- capacity -----------------------------------------------------------------------------
    "R23": _rule("capacity", WARNING, "The other workers can absorb the biggest worker's VMs (N-1)",
                 "Add a worker or move VMs: the rest of the workers cannot take the biggest worker's VMs.",
                 "[003] Sizing; [000] Node maintenance"),
    "POOL-USAGE": _rule("capacity", WARNING, "Portworx pools are below 80 percent used",
                        "Add storage or expand the pools before they fill.",
                        "[000] Autopilot; Portworx pool capacity"),
    "POOL-SKEW": _rule("capacity", INFO, "Portworx pool usage is balanced (within 20 percent)",
                       "Let the pool-rebalance AutopilotRule run, or rebalance the pools.",
                       "[000] Autopilot rebalance triggers outside +-20 percent"),
}

FIXABLE_VM_RULES = tuple(sorted(rule_id for rule_id, rule in RULES.items() if rule["fixable"]))


def finding(rule_id, kind, name, detail, namespace=None, fix=None, severity=None):
    """One violation of ``rule_id`` by one object; the rule's defaults fill in the rest."""
    rule = RULES[rule_id]
    return {
        "rule": rule_id,
        "area": rule["area"],
        "severity": severity or rule["severity"],
        "title": rule["title"],
        "object": {"kind": kind, "name": name, "namespace": namespace},
        "detail": detail,
        "fix": fix or rule["fix"],
        "source": rule["source"],
        "fixable": rule["fixable"],
        "day0": rule["day0"],
    }
