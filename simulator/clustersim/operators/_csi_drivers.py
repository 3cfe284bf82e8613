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
"""
from __future__ import annotations

import math
from typing import Any

from ..quantity import QuantityError, format_bytes, parse_quantity

PORTWORX_DRIVERS = ("pxd.portworx.com", "kubernetes.io/portworx-volume")
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

