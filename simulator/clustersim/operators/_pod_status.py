"""The pod status a kubelet reports: pure functions over the pod and its container states.

kubernetes/kubernetes release-1.33:

* ``pkg/kubelet/kubelet_pods.go`` ``generateAPIPodStatus`` / ``getPhase``: the phase follows the
  containers — Pending while an init container has not finished or a container waits without
  having run, Running while one runs or will be restarted, Succeeded when all exited 0 and none
  will restart, Failed when all exited and one failed under ``restartPolicy: Never``;
* ``pkg/kubelet/status/generate.go``: conditions PodReadyToStartContainers (the sandbox is up;
  False once the pod is terminal), Initialized, Ready and ContainersReady (False with reason
  ``ContainersNotReady`` and ``containers with unready status: [a b]``, or reason
  ``PodCompleted`` on a terminal pod), PodScheduled kept as the scheduler wrote it; that order;
* ``pkg/kubelet/kuberuntime``: ``containerID`` ``cri-o://<64 hex>`` (OpenShift runs CRI-O),
  ``image`` the fully qualified reference the runtime reports (``busybox`` →
  ``docker.io/library/busybox:latest``), ``imageID`` ``<repository>@sha256:<digest>``;
* ``pkg/apis/core/helper/qos`` ``ComputePodQOS``: Guaranteed when every container has cpu and
  memory limits equal to its requests, BestEffort when none has any, Burstable otherwise.

Digests, IDs and pod IPs are stable hashes (not checked against a running CRI-O).
"""
from __future__ import annotations

import hashlib
from typing import Any, Dict, List, Optional

from ..util import dig

TERMINAL = ("Succeeded", "Failed")


def _hex(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def qualified_image(image: str) -> str:
    """The reference as the runtime reports it: registry and tag made explicit."""
    name = image or ""
    if "@" not in name and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        return f"docker.io/library/{name}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{name}"
    return name


def image_id(image: str) -> str:
    repository = qualified_image(image).split("@", 1)[0].rsplit(":", 1)[0]
    return f"{repository}@sha256:{_hex('image', qualified_image(image))}"


def container_id(pod_uid: str, name: str, restart_count: int) -> str:
    return "cri-o://" + _hex(pod_uid, name, str(restart_count))


def qos_class(pod: Dict[str, Any]) -> str:
    containers = (dig(pod, "spec", "containers") or []) + (dig(pod, "spec", "initContainers") or [])
    any_set = False
    guaranteed = True
    for container in containers:
        requests = dig(container, "resources", "requests") or {}
        limits = dig(container, "resources", "limits") or {}
        if requests or limits:
            any_set = True
        for resource in ("cpu", "memory"):
            limit = limits.get(resource)
            if limit is None or str(requests.get(resource, limit)) != str(limit):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def container_status(pod: Dict[str, Any], container: Dict[str, Any], state: Dict[str, Any], restart_count: int = 0,
                     last_state: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """One ``containerStatuses`` entry; ``state`` is ``{"running": ...}``, ``{"terminated": ...}``
    or ``{"waiting": ...}``. Without probes a running container is ready at once."""
    running = "running" in state
    status = {"name": container.get("name"), "state": state, "lastState": last_state or {},
              "ready": running, "restartCount": restart_count,
              "image": qualified_image(container.get("image") or ""),
              "imageID": image_id(container.get("image") or ""), "started": running}
    if "waiting" not in state or restart_count:
        status["containerID"] = container_id(pod["metadata"].get("uid") or "", container.get("name") or "", restart_count)
    return status


def phase(pod: Dict[str, Any], statuses: List[Dict[str, Any]], initialized: bool) -> str:
    """``getPhase``: statuses are this pod's ``containerStatuses``."""
    if not initialized:
        return "Pending"
    policy = dig(pod, "spec", "restartPolicy") or "Always"
    waiting = running = succeeded = failed = 0
    for status in statuses:
        state = status.get("state") or {}
        if "running" in state:
            running += 1
        elif "terminated" in state:
            if state["terminated"].get("exitCode", 0) == 0:
                succeeded += 1
            else:
                failed += 1
        elif status.get("lastState", {}).get("terminated"):
            running += 1  # waiting to restart counts as running
        else:
            waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if policy == "Always" or (policy == "OnFailure" and failed):
        return "Running"
    return "Failed" if failed else "Succeeded"


def conditions(pod: Dict[str, Any], pod_phase: str, statuses: List[Dict[str, Any]], initialized: bool,
               previous: List[Dict[str, Any]], stamp: str) -> List[Dict[str, Any]]:
    """The kubelet's pod conditions in its order, keeping transition times that did not flip."""
    terminal = pod_phase in TERMINAL
    unready = [s["name"] for s in statuses if not s.get("ready")]
    if terminal:
        ready = ("False", "PodCompleted", "")
    elif unready:
        ready = ("False", "ContainersNotReady", f"containers with unready status: [{' '.join(unready)}]")
    else:
        ready = ("True", "", "")
    wanted = [("PodReadyToStartContainers", ("False", "", "") if terminal else ("True", "", "")),
              ("Initialized", ("True", "PodCompleted" if terminal and pod_phase == "Succeeded" else "", "")
               if initialized else ("False", "ContainersNotInitialized", "containers with incomplete status: []")),
              ("Ready", ready), ("ContainersReady", ready)]
    before = {c.get("type"): c for c in previous}
    result = []
    for type_, (status, reason, message) in wanted:
        old = before.get(type_)
        entry = {"type": type_, "status": status, "lastProbeTime": None,
                 "lastTransitionTime": old.get("lastTransitionTime") if old and old.get("status") == status else stamp}
        if reason:
            entry["reason"] = reason
        if message:
            entry["message"] = message
        result.append(entry)
    scheduled = before.get("PodScheduled") or {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                                               "lastTransitionTime": stamp}
    result.append(scheduled)
    return result


def pod_ip(node_index: int, pod_uid: str) -> str:
    """An address in the node's /23 of the OVN-Kubernetes cluster network 10.128.0.0/14."""
    offset = int(_hex("ip", pod_uid)[:6], 16) % 509 + 2
    base = (128 << 16) + node_index * 512 + offset
    return f"10.{base >> 16}.{(base >> 8) & 255}.{base & 255}"


def host_ip(node: Optional[Dict[str, Any]]) -> str:
    for address in dig(node, "status", "addresses") or []:
        if address.get("type") == "InternalIP":
            return address.get("address") or ""
    return ""
