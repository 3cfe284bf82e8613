"""Server-side Table columns of the built-in kinds, as the kube-apiserver prints them.

Columns (names, types, priorities) and cell rules follow kubernetes/kubernetes
``pkg/printers/internalversion/printers.go`` (release-1.33, the version with LeaseCandidate
v1alpha2; the apiserver always generates the wide cells, ``pkg/printers/storage/storage.go``
passes ``GenerateOptions{Wide: true}``, and kubectl hides columns of priority 1 unless ``-o wide``).
Ages are ``duration.HumanDuration`` (k8s.io/apimachinery ``pkg/util/duration``).  Each printer is
``(columns, cells(obj, now))``; a column is ``(name, type, priority)``.  Column descriptions are
left out (upstream copies the field's API documentation there; kubectl does not show them).

Not checked against 1.33 in detail: the Job ``Duration`` cell (kept simple: completion time minus
start time, or time since start) and the Event ``Source`` cell for events without ``source``.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Callable, Dict, List, Optional, Tuple

Column = Tuple[str, str, int]
Cells = Callable[[Dict[str, Any], float], List[Any]]
NONE = "<none>"
ACCESS_MODE_ORDER = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"),
                     ("ReadWriteOncePod", "RWOP"))


# --- shared cell helpers ------------------------------------------------------------------------
def parse_time(stamp: Optional[str]) -> Optional[float]:
    if not stamp:
        return None
    text = stamp.replace("Z", "+00:00")
    try:
        return _dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery ``pkg/util/duration.HumanDuration``."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def since(stamp: Optional[str], now: float) -> str:
    """``translateTimestampSince``: ``<unknown>`` for a missing time."""
    when = parse_time(stamp)
    return "<unknown>" if when is None else human_duration(now - when)


def age(obj: Dict[str, Any], now: float) -> str:
    return since((obj.get("metadata") or {}).get("creationTimestamp"), now)


def _name(obj: Dict[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def _spec(obj: Dict[str, Any]) -> Dict[str, Any]:
    return obj.get("spec") or {}


def _status(obj: Dict[str, Any]) -> Dict[str, Any]:
    return obj.get("status") or {}


def access_modes(modes: Optional[List[str]]) -> str:
    """``helper.GetAccessModesAsString``: fixed order, no duplicates."""
    given = set(modes or ())
    return ",".join(short for mode, short in ACCESS_MODE_ORDER if mode in given)


def format_labels(labels: Optional[Dict[str, str]]) -> str:
    """``labels.FormatLabels``: sorted ``k=v`` pairs, ``<none>`` when empty."""
    if not labels:
        return NONE
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def label_selector(selector: Optional[Dict[str, Any]]) -> str:
    """``metav1.LabelSelectorAsSelector(...).String()`` (empty selector: ``<none>``)."""
    if not selector:
        return NONE
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        if operator == "Exists":
            parts.append(key)
        elif operator == "DoesNotExist":
            parts.append(f"!{key}")
        else:
            parts.append(f"{key} {operator.lower()} ({','.join(sorted(values))})")
    return ",".join(sorted(parts)) or NONE


def _template_containers(obj: Dict[str, Any]) -> List[str]:
    containers = ((_spec(obj).get("template") or {}).get("spec") or {}).get("containers") or []
    return [",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)]


def _int(value: Any) -> int:
    return int(value or 0)


# --- core/v1 --------------------------------------------------------------------------------------
def _pod_reason(pod: Dict[str, Any]) -> Tuple[str, int, int, Optional[str]]:
    """(status cell, ready containers, restarts, last restart time) as ``printPod`` computes them."""
    status = _status(pod)
    reason = status.get("reason") or status.get("phase") or ""
    ready = restarts = 0
    last_restart: Optional[str] = None
    has_running = False
    for container in reversed(status.get("containerStatuses") or []):
        restarts += _int(container.get("restartCount"))
        finished = ((container.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        if finished and (last_restart is None or finished > last_restart):
            last_restart = finished
        state = container.get("state") or {}
        waiting, terminated = state.get("waiting") or {}, state.get("terminated")
        if waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated is not None and terminated.get("reason"):
            reason = terminated["reason"]
        elif terminated is not None:
            reason = f"Signal:{terminated['signal']}" if terminated.get("signal") else \
                f"ExitCode:{_int(terminated.get('exitCode'))}"
        elif container.get("ready") and state.get("running") is not None:
            has_running = True
            ready += 1
    if reason == "Completed" and has_running:
        ready_condition = any(c.get("type") == "Ready" and c.get("status") == "True"
                              for c in status.get("conditions") or [])
        reason = "Running" if ready_condition else "NotReady"
    deleting = (pod.get("metadata") or {}).get("deletionTimestamp")
    if deleting and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif deleting and status.get("phase") not in ("Succeeded", "Failed"):
        reason = "Terminating"
    return reason, ready, restarts, last_restart


def pod_cells(pod: Dict[str, Any], now: float) -> List[Any]:
    reason, ready, restarts, last_restart = _pod_reason(pod)
    total = len(_spec(pod).get("containers") or [])
    restarts_cell = str(restarts)
    if restarts and last_restart:
        restarts_cell = f"{restarts} ({since(last_restart, now)} ago)"
    status = _status(pod)
    pod_ips = status.get("podIPs") or []
    pod_ip = (pod_ips[0].get("ip") if pod_ips else status.get("podIP")) or NONE
    gates = _spec(pod).get("readinessGates") or []
    gates_cell = NONE
    if gates:
        true = {c.get("type") for c in status.get("conditions") or [] if c.get("status") == "True"}
        gates_cell = f"{sum(1 for g in gates if g.get('conditionType') in true)}/{len(gates)}"
    return [_name(pod), f"{ready}/{total}", reason, restarts_cell, age(pod, now), pod_ip,
            _spec(pod).get("nodeName") or NONE, status.get("nominatedNodeName") or NONE, gates_cell]


def node_roles(labels: Dict[str, str]) -> List[str]:
    """``findNodeRoles``: ``node-role.kubernetes.io/<role>`` keys and ``kubernetes.io/role`` values."""
    roles = set()
    for key, value in labels.items():
        if key.startswith("node-role.kubernetes.io/"):
            roles.add(key[len("node-role.kubernetes.io/"):])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return sorted(r for r in roles if r)


def _node_address(node: Dict[str, Any], kind: str) -> str:
    for address in _status(node).get("addresses") or []:
        if address.get("type") == kind:
            return address.get("address", "")
    return NONE


def node_cells(node: Dict[str, Any], now: float) -> List[Any]:
    conditions = {c.get("type"): c.get("status") for c in _status(node).get("conditions") or []}
    status = []
    if "Ready" in conditions:
        status.append("Ready" if conditions["Ready"] == "True" else "NotReady")
    if not status:
        status.append("Unknown")
    if _spec(node).get("unschedulable"):
        status.append("SchedulingDisabled")
    info = _status(node).get("nodeInfo") or {}
    roles = ",".join(node_roles((node.get("metadata") or {}).get("labels") or {})) or NONE
    return [_name(node), ",".join(status), roles, age(node, now), info.get("kubeletVersion", ""),
            _node_address(node, "InternalIP"), _node_address(node, "ExternalIP"),
            info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
            info.get("containerRuntimeVersion") or "<unknown>"]


def _claim_class(claim: Dict[str, Any]) -> str:
    annotations = (claim.get("metadata") or {}).get("annotations") or {}
    return _spec(claim).get("storageClassName") or annotations.get("volume.beta.kubernetes.io/storage-class", "")


def pvc_cells(claim: Dict[str, Any], now: float) -> List[Any]:
    spec, status = _spec(claim), _status(claim)
    phase = "Terminating" if (claim.get("metadata") or {}).get("deletionTimestamp") else status.get("phase", "")
    capacity = modes = ""
    if spec.get("volumeName"):
        modes = access_modes(status.get("accessModes"))
        capacity = str((status.get("capacity") or {}).get("storage", ""))
    return [_name(claim), phase, spec.get("volumeName", ""), capacity, modes, _claim_class(claim),
            spec.get("volumeAttributesClassName") or "<unset>", age(claim, now), spec.get("volumeMode") or "<unset>"]


def pv_cells(volume: Dict[str, Any], now: float) -> List[Any]:
    spec, status = _spec(volume), _status(volume)
    ref = spec.get("claimRef") or {}
    claim = f"{ref.get('namespace', '')}/{ref.get('name', '')}" if ref else ""
    phase = "Terminating" if (volume.get("metadata") or {}).get("deletionTimestamp") else status.get("phase", "")
    return [_name(volume), str((spec.get("capacity") or {}).get("storage", "")), access_modes(spec.get("accessModes")),
            spec.get("persistentVolumeReclaimPolicy", ""), phase, claim, _claim_class(volume),
            spec.get("volumeAttributesClassName") or "<unset>", status.get("reason", ""), age(volume, now),
            spec.get("volumeMode") or "<unset>"]


def _event_source(event: Dict[str, Any]) -> str:
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or event.get("reportingController") or ""
    host = source.get("host") or event.get("reportingInstance") or ""
    if not component and not host:
        return NONE
    return f"{component}, {host}" if host else component


def event_cells(event: Dict[str, Any], now: float) -> List[Any]:
    first = since(event.get("firstTimestamp"), now) if event.get("firstTimestamp") else since(event.get("eventTime"), now)
    last = since(event.get("lastTimestamp"), now) if event.get("lastTimestamp") else first
    count = _int(event.get("count"))
    series = event.get("series")
    if series:
        last, count = since(series.get("lastObservedTime"), now), _int(series.get("count"))
    elif count == 0:
        count = 1
    involved = event.get("involvedObject") or {}
    target = involved.get("kind", "").lower()
    if involved.get("name"):
        target = f"{target}/{involved['name']}"
    return [last, event.get("type", ""), event.get("reason", ""), target, involved.get("fieldPath", ""),
            _event_source(event), (event.get("message") or "").strip(), first, count, _name(event)]


def events_v1_cells(event: Dict[str, Any], now: float) -> List[Any]:
    """An ``events.k8s.io/v1`` Event prints as the core Event it is stored as."""
    core = dict(event, involvedObject=event.get("regarding") or {}, message=event.get("note", ""),
                source=event.get("deprecatedSource") or {}, firstTimestamp=event.get("deprecatedFirstTimestamp"),
                lastTimestamp=event.get("deprecatedLastTimestamp"), count=event.get("deprecatedCount"),
                reportingComponent=event.get("reportingController"))
    return event_cells(core, now)


def _service_ports(service: Dict[str, Any]) -> str:
    ports = []
    for port in _spec(service).get("ports") or []:
        protocol = port.get("protocol") or "TCP"
        node_port = f":{port['nodePort']}" if port.get("nodePort") else ""
        ports.append(f"{port.get('port')}{node_port}/{protocol}")
    return ",".join(ports) or NONE


def service_cells(service: Dict[str, Any], now: float) -> List[Any]:
    spec = _spec(service)
    kind = spec.get("type") or "ClusterIP"
    external = ",".join(spec.get("externalIPs") or [])
    if kind == "LoadBalancer":
        ingress = [i.get("ip") or i.get("hostname") for i in (_status(service).get("loadBalancer") or {}).get("ingress") or []]
        external = ",".join([x for x in ingress if x] + (spec.get("externalIPs") or [])) or "<pending>"
    elif kind == "ExternalName":
        external = spec.get("externalName", "")
    return [_name(service), kind, spec.get("clusterIP") or NONE, external or NONE, _service_ports(service),
            age(service, now), format_labels(spec.get("selector"))]


def _endpoints(obj: Dict[str, Any]) -> str:
    shown = []
    for subset in obj.get("subsets") or []:
        ports = [p.get("port") for p in subset.get("ports") or []] or [None]
        for address in subset.get("addresses") or []:
            for port in ports:
                shown.append(f"{address.get('ip')}:{port}" if port is not None else address.get("ip", ""))
    if not shown:
        return NONE
    return ",".join(shown[:3]) + (f" + {len(shown) - 3} more..." if len(shown) > 3 else "")


# --- apps, batch, storage, policy, rbac, coordination ---------------------------------------------
def deployment_cells(obj: Dict[str, Any], now: float) -> List[Any]:
    status = _status(obj)
    desired = _spec(obj).get("replicas", 1)
    return [_name(obj), f"{_int(status.get('readyReplicas'))}/{_int(desired)}", _int(status.get("updatedReplicas")),
            _int(status.get("availableReplicas")), age(obj, now), *_template_containers(obj),
            label_selector(_spec(obj).get("selector"))]


def replicaset_cells(obj: Dict[str, Any], now: float) -> List[Any]:
    status = _status(obj)
    return [_name(obj), _int(_spec(obj).get("replicas", 1)), _int(status.get("replicas")),
            _int(status.get("readyReplicas")), age(obj, now), *_template_containers(obj),
            label_selector(_spec(obj).get("selector"))]


def daemonset_cells(obj: Dict[str, Any], now: float) -> List[Any]:
    status = _status(obj)
    node_selector = ((_spec(obj).get("template") or {}).get("spec") or {}).get("nodeSelector")
    return [_name(obj), _int(status.get("desiredNumberScheduled")), _int(status.get("currentNumberScheduled")),
            _int(status.get("numberReady")), _int(status.get("updatedNumberScheduled")),
            _int(status.get("numberAvailable")), format_labels(node_selector), age(obj, now),
            *_template_containers(obj), label_selector(_spec(obj).get("selector"))]


def statefulset_cells(obj: Dict[str, Any], now: float) -> List[Any]:
    return [_name(obj), f"{_int(_status(obj).get('readyReplicas'))}/{_int(_spec(obj).get('replicas', 1))}",
            age(obj, now), *_template_containers(obj)]


def _job_status(obj: Dict[str, Any]) -> str:
    conditions = {c.get("type"): c.get("status") for c in _status(obj).get("conditions") or []}
    for condition in ("Complete", "Failed", "FailureTarget", "SuccessCriteriaMet", "Suspended"):
        if conditions.get(condition) == "True":
            return condition
    return "Terminating" if (obj.get("metadata") or {}).get("deletionTimestamp") else "Running"


def job_cells(obj: Dict[str, Any], now: float) -> List[Any]:
    spec, status = _spec(obj), _status(obj)
    succeeded = _int(status.get("succeeded"))
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    else:
        parallelism = _int(spec.get("parallelism", 1))
        completions = f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"
    start, end = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
    duration = "" if start is None else human_duration((end if end is not None else now) - start)
    return [_name(obj), _job_status(obj), completions, duration, age(obj, now), *_template_containers(obj),
            label_selector(spec.get("selector"))]


def cronjob_cells(obj: Dict[str, Any], now: float) -> List[Any]:
    spec, status = _spec(obj), _status(obj)
    template = (spec.get("jobTemplate") or {}).get("spec") or {}
    last = since(status.get("lastScheduleTime"), now) if status.get("lastScheduleTime") else NONE
    return [_name(obj), spec.get("schedule", ""), spec.get("timeZone") or NONE, bool(spec.get("suspend")),
            len(status.get("active") or []), last, age(obj, now), *_template_containers({"spec": template}),
            label_selector(template.get("selector"))]


def storageclass_cells(obj: Dict[str, Any], now: float) -> List[Any]:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    default = "true" in (annotations.get("storageclass.kubernetes.io/is-default-class"),
                         annotations.get("storageclass.beta.kubernetes.io/is-default-class"))
    name = _name(obj) + (" (default)" if default else "")
    return [name, obj.get("provisioner", ""), obj.get("reclaimPolicy") or "Delete",
            obj.get("volumeBindingMode") or "Immediate", bool(obj.get("allowVolumeExpansion")), age(obj, now)]


def csidriver_cells(obj: Dict[str, Any], now: float) -> List[Any]:
    spec = _spec(obj)
    tokens = ",".join(t.get("audience", "") or '""' for t in spec.get("tokenRequests") or []) or "<unset>"
    capacity = spec.get("storageCapacity")
    return [_name(obj), spec.get("attachRequired", True), bool(spec.get("podInfoOnMount")),
            "<unset>" if capacity is None else bool(capacity), tokens, bool(spec.get("requiresRepublish")),
            ",".join(spec.get("volumeLifecycleModes") or ["Persistent"]), age(obj, now)]


def volumeattachment_cells(obj: Dict[str, Any], now: float) -> List[Any]:
    spec = _spec(obj)
    return [_name(obj), spec.get("attacher", ""), (spec.get("source") or {}).get("persistentVolumeName", ""),
            spec.get("nodeName", ""), bool(_status(obj).get("attached")), age(obj, now)]


def pdb_cells(obj: Dict[str, Any], now: float) -> List[Any]:
    spec = _spec(obj)
    shown = [str(spec[k]) if spec.get(k) is not None else "N/A" for k in ("minAvailable", "maxUnavailable")]
    return [_name(obj), *shown, _int(_status(obj).get("disruptionsAllowed")), age(obj, now)]


def _created_at(obj: Dict[str, Any], now: float) -> List[Any]:
    return [_name(obj), (obj.get("metadata") or {}).get("creationTimestamp", "")]


def binding_cells(obj: Dict[str, Any], now: float) -> List[Any]:
    ref = obj.get("roleRef") or {}
    subjects = obj.get("subjects") or []
    def of(kind: str) -> str:
        found = [s.get("name", "") if kind != "ServiceAccount" else f"{s.get('namespace', '')}/{s.get('name', '')}"
                 for s in subjects if s.get("kind") == kind]
        return ", ".join(found)
    return [_name(obj), f"{ref.get('kind', '')}/{ref.get('name', '')}", age(obj, now), of("User"), of("Group"),
            of("ServiceAccount")]


def lease_cells(obj: Dict[str, Any], now: float) -> List[Any]:
    return [_name(obj), _spec(obj).get("holderIdentity") or "", age(obj, now)]


def _simple(*extra: Callable[[Dict[str, Any]], Any]) -> Cells:
    def cells(obj: Dict[str, Any], now: float) -> List[Any]:
        return [_name(obj), *(fn(obj) for fn in extra), age(obj, now)]
    return cells


def _cols(*names: str, wide: Tuple[str, ...] = (), types: Optional[Dict[str, str]] = None) -> List[Column]:
    types = types or {}
    return [(n, types.get(n, "string"), 0) for n in names] + [(n, types.get(n, "string"), 1) for n in wide]


_TEMPLATE_WIDE = ("Containers", "Images", "Selector")
PRINTERS: Dict[str, Tuple[List[Column], Cells]] = {
    "pods": (_cols("Name", "Ready", "Status", "Restarts", "Age",
                   wide=("IP", "Node", "Nominated Node", "Readiness Gates")), pod_cells),
    "nodes": (_cols("Name", "Status", "Roles", "Age", "Version",
                    wide=("Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime")), node_cells),
    "namespaces": (_cols("Name", "Status", "Age"), _simple(lambda o: _status(o).get("phase", ""))),
    "persistentvolumeclaims": (_cols("Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass",
                                     "VolumeAttributesClass", "Age", wide=("VolumeMode",)), pvc_cells),
    "persistentvolumes": (_cols("Name", "Capacity", "Access Modes", "Reclaim Policy", "Status", "Claim", "StorageClass",
                                "VolumeAttributesClass", "Reason", "Age", wide=("VolumeMode",)), pv_cells),
    "events": (_cols("Last Seen", "Type", "Reason", "Object", wide=("Subobject", "Source"))
               + _cols("Message") + _cols(wide=("First Seen", "Count", "Name")), event_cells),
    "events.k8s.io/events": (_cols("Last Seen", "Type", "Reason", "Object", wide=("Subobject", "Source"))
                             + _cols("Message") + _cols(wide=("First Seen", "Count", "Name")), events_v1_cells),
    "configmaps": (_cols("Name", "Data", "Age"),
                   _simple(lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {}))),
    "secrets": (_cols("Name", "Type", "Data", "Age"),
                _simple(lambda o: o.get("type", ""), lambda o: len(o.get("data") or {}))),
    "serviceaccounts": (_cols("Name", "Secrets", "Age"),
                        _simple(lambda o: len(o.get("secrets") or []))),
    "services": (_cols("Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", wide=("Selector",)), service_cells),
    "endpoints": (_cols("Name", "Endpoints", "Age"), _simple(_endpoints)),
    "apps/deployments": (_cols("Name", "Ready", "Up-to-date", "Available", "Age", wide=_TEMPLATE_WIDE),
                         deployment_cells),
    "apps/replicasets": (_cols("Name", "Desired", "Current", "Ready", "Age", wide=_TEMPLATE_WIDE,
                               types={"Desired": "integer", "Current": "integer", "Ready": "integer"}), replicaset_cells),
    "apps/daemonsets": (_cols("Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age",
                              wide=_TEMPLATE_WIDE, types={k: "integer" for k in ("Desired", "Current", "Ready",
                                                                                  "Up-to-date", "Available")}),
                        daemonset_cells),
    "apps/statefulsets": (_cols("Name", "Ready", "Age", wide=("Containers", "Images")), statefulset_cells),
    "batch/jobs": (_cols("Name", "Status", "Completions", "Duration", "Age", wide=_TEMPLATE_WIDE), job_cells),
    "batch/cronjobs": (_cols("Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age",
                             wide=_TEMPLATE_WIDE, types={"Suspend": "boolean", "Active": "integer"}), cronjob_cells),
    "storage.k8s.io/storageclasses": (_cols("Name", "Provisioner", "ReclaimPolicy", "VolumeBindingMode",
                                            "AllowVolumeExpansion", "Age"), storageclass_cells),
    "storage.k8s.io/csidrivers": (_cols("Name", "AttachRequired", "PodInfoOnMount", "StorageCapacity", "TokenRequests",
                                        "RequiresRepublish", "Modes", "Age"), csidriver_cells),
    "storage.k8s.io/volumeattachments": (_cols("Name", "Attacher", "PV", "Node", "Attached", "Age",
                                               types={"Attached": "boolean"}), volumeattachment_cells),
    "policy/poddisruptionbudgets": (_cols("Name", "Min Available", "Max Unavailable", "Allowed Disruptions", "Age",
                                          types={"Allowed Disruptions": "integer"}), pdb_cells),
    "rbac.authorization.k8s.io/roles": (_cols("Name", "Created At"), _created_at),
    "rbac.authorization.k8s.io/clusterroles": (_cols("Name", "Created At"), _created_at),
    "rbac.authorization.k8s.io/rolebindings": (_cols("Name", "Role", "Age", wide=("Users", "Groups", "ServiceAccounts")),
                                               binding_cells),
    "rbac.authorization.k8s.io/clusterrolebindings": (_cols("Name", "Role", "Age",
                                                            wide=("Users", "Groups", "ServiceAccounts")), binding_cells),
    "coordination.k8s.io/leases": (_cols("Name", "Holder", "Age"), lease_cells),
}
