# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The API group versions the collection reads and writes, in one place.

Each is the version every supported release serves (OpenShift 4.14 onwards, HCO v1beta1 included:
its ``v1`` API only exists from HCO 1.18), so the modules do not need to negotiate versions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

APPS_API = "apps/v1"
STORAGE_API = "storage.k8s.io/v1"
CDI_API = "cdi.kubevirt.io/v1beta1"
KUBEVIRT_API = "kubevirt.io/v1"
HCO_API = "hco.kubevirt.io/v1beta1"
NMO_API = "nodemaintenance.medik8s.io/v1beta1"
OLM_API = "operators.coreos.com/v1alpha1"
PORTWORX_API = "core.libopenstorage.org/v1"
IMAGE_REGISTRY_API = "imageregistry.operator.openshift.io/v1"
CONFIG_API = "config.openshift.io/v1"
ROUTE_API = "route.openshift.io/v1"
SNAPSHOT_API = "snapshot.storage.k8s.io/v1"
