"""What the kube-controller-manager's workload controllers share (kubernetes/kubernetes release-1.33).

* ``MANAGED_BY``: the simulator's convention for objects whose life another simulated operator
  (or the seed) plays out itself — the image registry's Deployment and pods, CDI importer pods,
  the seeded ``stork`` Deployment. The scheduler, the kubelet and the workload controllers leave
  such objects alone (the kubelet still finishes their graceful deletion). Pods created already
  ``Running`` (KubeVirt's launcher and hot-plug pods) need no annotation: the kubelet only starts
  Pending pods.
* controller references (``pkg/controller/controller_ref_manager.go``): ``controller: true``,
  ``blockOwnerDeletion: true``; a controller owns the pods whose controller reference has its uid.
* ``ComputeHash`` (``pkg/controller/controller_utils.go``): FNV-32a over the pod template (and
  the collision count), written with ``rand.SafeEncodeString`` (apimachinery
  ``pkg/util/rand``). Upstream hashes the Go struct dump; the simulator hashes canonical JSON,
  so the values differ from a real cluster's but are stable and change exactly when the
  template does.
* Events (``Normal`` ``SuccessfulCreate`` / ``SuccessfulDelete`` / ``ScalingReplicaSet`` ...) as
  ``record.EventRecorder`` writes them into the object's namespace.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from ..errors import ApiError
from ..util import clone, dig, now_rfc3339

MANAGED_BY = "clustersim.io/managed-by"
POD_KEY = "pods"
EVENT_KEY = "events"
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def managed_elsewhere(obj: Optional[Dict[str, Any]]) -> bool:
    return bool(dig(obj, "metadata", "annotations", MANAGED_BY))


def fnv32a(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    return "".join(_SAFE_ALPHABET[ord(ch) % len(_SAFE_ALPHABET)] for ch in text)


def compute_hash(template: Dict[str, Any], collision_count: Optional[int] = None) -> str:
    data = json.dumps(template or {}, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    return safe_encode(str(fnv32a(data)))


def controller_ref(owner: Dict[str, Any]) -> Dict[str, Any]:
    return {"apiVersion": owner.get("apiVersion"), "kind": owner.get("kind"), "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def controller_uid(obj: Dict[str, Any]) -> Optional[str]:
    for ref in dig(obj, "metadata", "ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid")
    return None


def match_labels_selector(owner: Dict[str, Any]) -> Optional[str]:
    """The ``spec.selector.matchLabels`` part as an equality selector (an index lookup)."""
    labels = dig(owner, "spec", "selector", "matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or None


def owned(store: Any, key: str, owner: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Objects of ``key`` in the owner's namespace whose controller reference is ``owner``."""
    uid = owner["metadata"]["uid"]
    candidates = store.list(key, owner["metadata"]["namespace"], label_selector=match_labels_selector(owner), copy=False)
    return [obj for obj in candidates if controller_uid(obj) == uid]


def is_active(pod: Dict[str, Any]) -> bool:
    """``controller.IsPodActive``: not terminal and not being deleted."""
    return dig(pod, "status", "phase") not in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp")


def is_ready(pod: Dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in dig(pod, "status", "conditions") or [])


def pod_from_template(owner: Dict[str, Any], template: Dict[str, Any], labels: Dict[str, str],
                      name: str = "", generate_name: str = "") -> Dict[str, Any]:
    """``controller.GetPodFromTemplate``: the template's metadata and spec, the owner reference."""
    meta = clone(template.get("metadata") or {})
    meta.pop("name", None)
    meta["labels"] = dict(meta.get("labels") or {}, **labels)
    meta["ownerReferences"] = [controller_ref(owner)]
    if name:
        meta["name"] = name
    else:
        meta["generateName"] = generate_name or owner["metadata"]["name"] + "-"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": clone(template.get("spec") or {})}


def create_quietly(store: Any, key: str, obj: Dict[str, Any], namespace: str) -> Optional[Dict[str, Any]]:
    """Create as a controller does over the API (admission and defaulting apply); a refusal
    (quota, namespace terminating, name taken) is what the controller would log and retry."""
    try:
        return store.create(key, obj, namespace, internal=False)
    except ApiError:
        return None


def delete_quietly(store: Any, key: str, name: str, namespace: str) -> None:
    try:
        store.delete(key, name, namespace, internal=False)
    except ApiError:
        pass


def record_event(store: Any, obj: Dict[str, Any], reason: str, message: str, component: str,
                 event_type: str = "Normal") -> None:
    meta = obj["metadata"]
    stamp = now_rfc3339()
    event = {"metadata": {"generateName": f"{meta['name']}.", "namespace": meta.get("namespace") or "default"},
             "involvedObject": {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "name": meta["name"],
                                "namespace": meta.get("namespace"), "uid": meta.get("uid"),
                                "resourceVersion": meta.get("resourceVersion")},
             "reason": reason, "message": message, "type": event_type, "count": 1,
             "source": {"component": component}, "firstTimestamp": stamp, "lastTimestamp": stamp,
             "reportingComponent": component, "reportingInstance": ""}
    try:
        store.create(EVENT_KEY, event, event["metadata"]["namespace"])
    except ApiError:
        pass


def set_conditions(status: Dict[str, Any], type_: str, condition_status: str, reason: str, message: str,
                   with_update_time: bool = False) -> None:
    """Set a workload condition (``lastUpdateTime`` for Deployments), transition time kept unless
    the status flips."""
    stamp = now_rfc3339()
    conditions = status.setdefault("conditions", [])
    for condition in conditions:
        if condition.get("type") == type_:
            if condition.get("status") != condition_status:
                condition["lastTransitionTime"] = stamp
            if with_update_time and (condition.get("reason") != reason or condition.get("message") != message
                                     or condition.get("status") != condition_status):
                condition["lastUpdateTime"] = stamp
            condition.update(status=condition_status, reason=reason, message=message)
            return
    entry = {"type": type_, "status": condition_status, "lastTransitionTime": stamp, "reason": reason, "message": message}
    if with_update_time:
        entry["lastUpdateTime"] = stamp
    conditions.append(entry)
