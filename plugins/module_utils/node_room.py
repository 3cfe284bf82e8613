# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether the remaining workers can take a node's VMs: memory and CPU, as the scheduler counts them.

The scheduler places a pod on a node only when the node's allocatable memory *and* CPU, minus the
requests of the pods already there, cover the pod's requests (rule R23 of the Portworx addendum:
enough spare CPU and memory to absorb a node). Pods that finished (Succeeded, Failed) hold nothing.
Pure functions over plain dicts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ocpvirt.portworx.plugins.module_utils.quantity import format_bytes, parse_quantity

RESOURCES = ("memory", "cpu")
FINISHED_PHASES = ("Succeeded", "Failed")


def container_requests(pod_spec):
    """``{"memory": bytes, "cpu": cores}`` requested by the containers of a pod spec."""
    total = dict((name, 0) for name in RESOURCES)
    for container in (pod_spec or {}).get("containers") or []:
        requests = (container.get("resources") or {}).get("requests") or {}
        for name in RESOURCES:
            if requests.get(name):
                total[name] += parse_quantity(requests[name])
    return total


def vm_needs(vmi, launcher_pod=None):
    """What a VM asks of a node: its launcher pod's requests, else the VMI's own requests."""
    needs = container_requests((launcher_pod or {}).get("spec"))
    domain = ((vmi or {}).get("spec") or {}).get("domain") or {}
    requests = (domain.get("resources") or {}).get("requests") or {}
    if not needs["memory"]:
        value = requests.get("memory") or (domain.get("memory") or {}).get("guest")
        needs["memory"] = parse_quantity(value) if value else 0
    if not needs["cpu"] and requests.get("cpu"):
        needs["cpu"] = parse_quantity(requests["cpu"])
    return needs


def requested_by_node(pods):
    """``{node: {"memory", "cpu"}}`` requested by the pods that still run or wait there."""
    used = {}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if not node or (pod.get("status") or {}).get("phase") in FINISHED_PHASES:
            continue
        requests = container_requests(pod.get("spec"))
        entry = used.setdefault(node, dict((name, 0) for name in RESOURCES))
        for name in RESOURCES:
            entry[name] += requests[name]
    return used


def free_room(nodes, pods, eligible):
    """``{node: {"memory", "cpu"}}``: allocatable minus requested on each node for which ``eligible(node)``."""
    used = requested_by_node(pods)
    free = {}
    for node in nodes:
        if not eligible(node):
            continue
        name = node["metadata"]["name"]
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        if not allocatable.get("memory"):
            continue
        taken = used.get(name) or {}
        free[name] = dict(
            (resource, parse_quantity(allocatable.get(resource) or 0) - taken.get(resource, 0)) for resource in RESOURCES
        )
    return free


def place_first_fit(needs, free):
    """First-fit decreasing by memory: which VMs (``{key: {"memory", "cpu"}}``) fit on no node of ``free``."""
    room = dict((node, dict(values)) for node, values in free.items())
    unplaced = []
    for key, need in sorted(needs.items(), key=lambda item: (-item[1]["memory"], -item[1]["cpu"], item[0])):
        target = None
        for node in sorted(room, key=lambda n: (-room[n]["memory"], n)):
            if all(room[node][name] >= need[name] for name in RESOURCES):
                target = node
                break
        if target is None:
            unplaced.append(key)
        else:
            for name in RESOURCES:
                room[target][name] -= need[name]
    return unplaced


def format_cpu(cores):
    """Cores as the API writes them: whole cores, else millicores."""
    if cores == int(cores):
        return str(int(cores))
    return "{0}m".format(int(cores * 1000))


def describe_room(free):
    return ", ".join(
        "{0}={1} memory/{2} CPU".format(node, format_bytes(max(values["memory"], 0)), format_cpu(max(values["cpu"], 0)))
        for node, values in sorted(free.items())
    ) or "no schedulable worker"
