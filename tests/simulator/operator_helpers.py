"""Helpers for the simulated-operator tests: objects as dicts, bounded polling, phase histories."""
from clustersim.testing import eventually
from kubernetes.dynamic.exceptions import NotFoundError

__all__ = ["condition", "eventually", "in_order", "items", "read", "record_until", "reseed"]


def read(client, api_version, kind, name, namespace=None):
    """The object as a dict, or None when it does not exist."""
    try:
        return client.resources.get(api_version=api_version, kind=kind).get(name=name, namespace=namespace).to_dict()
    except NotFoundError:
        return None


def items(client, api_version, kind, namespace=None):
    return client.resources.get(api_version=api_version, kind=kind).get(namespace=namespace).to_dict()["items"]


def record_until(what, observe, final, timeout=10.0):
    """Poll ``observe()`` and keep every distinct value seen, in order, until it equals ``final``."""
    seen = []

    def probe():
        value = observe()
        if value is not None and (not seen or seen[-1] != value):
            seen.append(value)
        return value == final

    eventually(what, probe, timeout)
    return seen


def in_order(seen, order):
    """Whether ``seen`` follows ``order`` (values may be skipped by polling, never reordered)."""
    positions = [order.index(value) for value in seen]
    return positions == sorted(positions)


def condition(obj, condition_type):
    for entry in ((obj or {}).get("status") or {}).get("conditions") or []:
        if entry.get("type") == condition_type:
            return entry
    return {}


def reseed(sim, client, vms=4):
    """A freshly seeded cluster whose VMs all run, so each test starts from the same placement."""
    sim.reset()
    eventually("{0} running VMIs".format(vms), lambda: len([
        v for v in items(client, "kubevirt.io/v1", "VirtualMachineInstance", "vms") if v.get("status", {}).get("nodeName")]) == vms)
