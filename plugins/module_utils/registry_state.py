# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of the ``image_registry`` module, and when the registry it configured has really settled.

Each probe takes the objects read from the cluster and returns ``(done, state)`` for the waiter;
the module waits on them, the day-0 convergence judgement asks them once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.expansion import phase
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import MEBIBYTE, count, dns_subdomain, quantity
from ansible_collections.ocpvirt.portworx.plugins.module_utils.waiting import condition

ARGUMENT_SPEC = dict(
    state=dict(type="str", choices=["managed", "removed"], default="managed"),
    storage_class=dict(type="str"),
    pvc_name=dict(type="str", default="registry-storage-pvc"),
    pvc_size=dict(type="str", default="300Gi"),
    access_mode=dict(type="str", choices=["ReadWriteMany", "ReadWriteOnce"], default="ReadWriteMany"),
    replicas=dict(type="int", default=2),
    default_route=dict(type="bool", default=True),
    allow_single_replica=dict(type="bool", default=False),
)

OPTION_RULES = (
    ("storage_class", dns_subdomain("StorageClass")),
    ("pvc_name", dns_subdomain("PersistentVolumeClaim")),
    ("pvc_size", quantity(example="300Gi", at_least=MEBIBYTE)),
    ("replicas", count(minimum=1)),
)

SETTLED = (("Available", "True"), ("Progressing", "False"), ("Degraded", "False"))


def conditions(obj):
    return dict((c.get("type"), c.get("status")) for c in ((obj or {}).get("status") or {}).get("conditions") or [])


def claim_bound(claim):
    if claim is None:
        return False, "the claim does not exist"
    if phase(claim) != "Bound":
        return False, "phase {0}".format(phase(claim))
    return True, claim


def operator_settled(operator):
    """The ClusterOperator image-registry is Available, not Progressing, not Degraded."""
    current = conditions(operator)
    done = all(current.get(kind) == wanted for kind, wanted in SETTLED)
    degraded = condition(operator, "Degraded")
    state = "conditions {0}".format(current)
    if degraded.get("status") == "True":
        state = "{0}; Degraded: {1}".format(state, degraded.get("message"))
    return done, state


def pods_ready(deployment, replicas):
    """The registry Deployment runs ``replicas`` updated, ready pods."""
    if deployment is None:
        return False, "the deployment does not exist yet"
    status = deployment.get("status") or {}
    ready = status.get("readyReplicas") or 0
    spec_replicas = (deployment.get("spec") or {}).get("replicas")
    done = spec_replicas == replicas and ready == replicas and (status.get("updatedReplicas") or 0) >= replicas
    return done, "{0}/{1} ready".format(ready, replicas)


def route_host(route):
    if not route:
        return None
    for ingress in (route.get("status") or {}).get("ingress") or []:
        if ingress.get("host"):
            return ingress["host"]
    return None


def route_admitted(route):
    host = route_host(route)
    return host is not None, (host or "no route yet")
