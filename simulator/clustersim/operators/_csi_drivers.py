"""What a simulated CSI driver answers the external provisioner and resizer (pure decisions).

The storage controller asks here instead of treating every driver alike:

* **Node expansion.** Portworx's ``ControllerExpandVolume`` answers ``NodeExpansionRequired: false``
  (libopenstorage/openstorage ``csi/controller.go``, master 0332551, March 2025), so the
  external-resizer finishes the expansion itself (kubernetes-csi/external-resizer v2.x,
  ``pkg/controller/expand_and_recover.go`` ``callResizeOnPlugin`` → ``markOverallExpansionAsFinished``)
  and no pod has to mount the claim. The in-tree ``kubernetes.io/portworx-volume`` is migrated to
  that driver (CSIMigrationPortworx, on by default since Kubernetes 1.31). Every other driver is
  taken to need the kubelet's ``NodeExpandVolume`` (``FileSystemResizePending`` until a pod runs).
* **Capacity.** Portworx rounds a created and an expanded volume up to whole GiB
  (``roundUpToNearestGiB`` in the same file) and reports that size, which becomes the PV's and the
  claim's capacity (external-provisioner ``pkg/controller/controller.go``: capacity from
  ``CapacityBytes``). Other drivers report the requested size.
* **Volume context** (the PV's ``spec.csi.volumeAttributes``): the external-provisioner writes
  ``storage.kubernetes.io/csiProvisionerIdentity`` plus the driver's ``VolumeContext``
  (kubernetes-csi/external-provisioner ``pkg/controller/controller.go``, v6.3). Portworx's is
  ``osdVolumeContext``: ``parent``, ``secure``, ``shared``, ``sharedv4``, ``readonly``,
  ``attached``, ``state``, ``error``. ``resolveSharedSpec`` makes a claim with a multi-node access
  mode a ``sharedv4`` volume (legacy ``shared: "true"`` classes stay ``shared``) and a single-node
  claim not shared, unless the class names a ``backend`` or ``proxy_endpoint`` (a proxy/Pure volume,
  left as the class says). A fresh, unattached volume reports ``state: VOLUME_STATE_DETACHED`` and
  ``attached: ATTACH_STATE_INTERNAL_SWITCH`` (as ``pxctl --json volume inspect`` shows a detached
  CSI volume in Portworx's docs, "Filtering pxctl output with jq"; not checked against 3.6).
  Raw block claims: openstorage master refuses shared raw block volumes, while Portworx Enterprise
  3.x provisions RWX Block for KubeVirt in code that is not public, so for Block claims the
  simulator keeps the class's ``sharedv4``/``shared`` values instead of guessing. Drivers the
  simulator does not know get the class parameters as their context (a stand-in).
"""
from __future__ import annotations

import math
from typing import Any, Dict, List

from ..quantity import QuantityError, format_bytes, parse_quantity

PORTWORX_DRIVERS = ("pxd.portworx.com", "kubernetes.io/portworx-volume")
PROVISIONER_IDENTITY = "storage.kubernetes.io/csiProvisionerIdentity"
MULTI_NODE_MODES = ("ReadWriteMany", "ReadOnlyMany")  # CSI MULTI_NODE_MULTI_WRITER / MULTI_NODE_READER_ONLY
GIB = 2 ** 30


def is_portworx(driver: str) -> bool:
    return driver in PORTWORX_DRIVERS


def node_expansion_required(driver: str) -> bool:
    """Whether the driver's ControllerExpandVolume leaves a node step (NodeExpansionRequired)."""
    return not is_portworx(driver)


def reported_capacity(driver: str, size: Any) -> Any:
    """The capacity the driver reports for a volume of the requested ``size``."""
    if not is_portworx(driver):
        return size
    try:
        wanted = parse_quantity(size)
    except QuantityError:
        return size
    return format_bytes(max(1, math.ceil(wanted / GIB)) * GIB)


def _flag(parameters: Dict[str, Any], name: str) -> bool:
    return str(parameters.get(name, "")).strip().lower() == "true"


def portworx_shared_flags(parameters: Dict[str, Any], access_modes: List[str], volume_mode: str) -> Dict[str, bool]:
    """``shared`` and ``sharedv4`` of the created volume (openstorage ``resolveSharedSpec``)."""
    shared, sharedv4 = _flag(parameters, "shared"), _flag(parameters, "sharedv4")
    if volume_mode == "Block" or "backend" in parameters or "proxy_endpoint" in parameters:
        return {"shared": shared, "sharedv4": sharedv4}
    multi_node = any(mode in MULTI_NODE_MODES for mode in access_modes)
    if shared and not sharedv4:
        return {"shared": multi_node, "sharedv4": False}
    return {"shared": shared, "sharedv4": multi_node}


def provisioner_identity(seed: int, driver: str) -> str:
    """The external-provisioner's identity, ``<start ms>-<random 0..9999>-<driver>``
    (cmd/csi-provisioner/csi-provisioner.go); fixed per seed so dumps of two runs compare equal."""
    return f"{1_700_000_000_000 + seed}-{seed % 10000}-{driver}"


def volume_attributes(driver: str, identity: str, parameters: Dict[str, Any], access_modes: List[str],
                      volume_mode: str) -> Dict[str, str]:
    """The PV's ``spec.csi.volumeAttributes`` for a freshly provisioned volume."""
    attributes = {PROVISIONER_IDENTITY: identity}
    if not is_portworx(driver):
        attributes.update({str(k): str(v) for k, v in parameters.items()})
        return attributes
    flags = portworx_shared_flags(parameters, access_modes, volume_mode)
    attributes.update({"parent": "", "secure": str(_flag(parameters, "secure")).lower(),
                       "shared": str(flags["shared"]).lower(), "sharedv4": str(flags["sharedv4"]).lower(),
                       "readonly": "false", "attached": "ATTACH_STATE_INTERNAL_SWITCH",
                       "state": "VOLUME_STATE_DETACHED", "error": ""})
    return attributes
