"""API defaulting of built-in kinds: the values a real apiserver fills in when it decodes a write.

The apiserver runs the generated defaulters of the versioned types on every decoded body
(create, update, patch), so a default also comes back after an update that dropped the field.
Sources, kubernetes/kubernetes release-1.33:

* ``pkg/apis/core/v1/defaults.go``: ``SetDefaults_PodSpec`` (``dnsPolicy: ClusterFirst``,
  ``restartPolicy: Always``, ``terminationGracePeriodSeconds: 30``, ``schedulerName:
  default-scheduler``, ``securityContext: {}``),
  ``SetDefaults_Container`` (``terminationMessagePath``/``Policy``, ``imagePullPolicy`` from the
  image tag: ``Always`` for ``:latest`` or no tag, else ``IfNotPresent``), ``SetDefaults_Pod``
  (pods only, not templates: requests copied from limits where missing, ``enableServiceLinks``),
  ``SetDefaults_Volume`` (no source: ``emptyDir``), ``SetDefaults_NodeStatus`` (``allocatable``
  from ``capacity``), probes (``timeoutSeconds 1``, ``periodSeconds
  10``, ``successThreshold 1``, ``failureThreshold 3``, ``httpGet.scheme HTTP``), ports
  (``protocol: TCP``), volume sources (``defaultMode: 420`` for secret/configMap/downwardAPI/
  projected), env ``fieldRef.apiVersion: v1``, ``SetDefaults_Secret`` (``type: Opaque``; and
  ``conversion.go`` ``Convert_v1_Secret_To_core_Secret``: ``stringData`` is written into ``data``
  base64-encoded, overwriting, and dropped),
  ``SetDefaults_PersistentVolumeClaimSpec`` (``volumeMode: Filesystem``), ``SetDefaults_
  PersistentVolume`` (``persistentVolumeReclaimPolicy: Retain``, ``volumeMode: Filesystem``),
  ``SetDefaults_Service`` (``type: ClusterIP``, ``sessionAffinity: None``, port ``protocol`` and
  ``targetPort``, ``internalTrafficPolicy: Cluster``, ``externalTrafficPolicy: Cluster`` and
  ``allocateLoadBalancerNodePorts`` for externally reachable services);
  ``pkg/apis/core/v1/conversion.go``: the deprecated ``serviceAccount`` and ``serviceAccountName``
  are one field (either fills the other);
* ``pkg/apis/apps/v1/defaults.go``: Deployment (``replicas 1``, ``RollingUpdate`` 25%/25%,
  ``revisionHistoryLimit 10``, ``progressDeadlineSeconds 600``), ReplicaSet (``replicas 1``),
  StatefulSet (``replicas 1``, ``podManagementPolicy: OrderedReady``, ``updateStrategy
  RollingUpdate`` with ``partition 0``, ``revisionHistoryLimit 10``,
  ``persistentVolumeClaimRetentionPolicy`` Retain/Retain), DaemonSet (``RollingUpdate`` with
  ``maxUnavailable 1``/``maxSurge 0``, ``revisionHistoryLimit 10``);
* ``pkg/apis/batch/v1/defaults.go``: Job (``completions``/``parallelism`` 1 when both unset,
  ``backoffLimit 6`` (MaxInt32 with ``backoffLimitPerIndex``), ``completionMode: NonIndexed``,
  ``suspend: false``, ``podReplacementPolicy`` ``TerminatingOrFailed`` (``Failed`` with a pod
  failure policy), the template's labels when the Job has none), CronJob (``concurrencyPolicy: Allow``, ``suspend: false``, history limits 3/1);
* ``pkg/apis/storage/v1/defaults.go``: StorageClass (``reclaimPolicy: Delete``,
  ``volumeBindingMode: Immediate``), CSIDriver (``attachRequired``/``podInfoOnMount``/
  ``storageCapacity``/``requiresRepublish``/``seLinuxMount``, ``fsGroupPolicy:
  ReadWriteOnceWithFSType``, ``volumeLifecycleModes: [Persistent]``);
* ``pkg/apis/rbac/v1/defaults.go``: a ``User``/``Group`` subject's ``apiGroup``.

Every function is idempotent and edits the object in place.
"""
from __future__ import annotations

import base64
from typing import Any, Callable, Dict, List

Obj = Dict[str, Any]
SECRET_VOLUME_MODE = 420  # 0644
RBAC_GROUP = "rbac.authorization.k8s.io"
MAX_INT32 = 2**31 - 1


def _dict(parent: Obj, key: str) -> Obj:
    value = parent.get(key)
    if not isinstance(value, dict):
        value = parent[key] = {}
    return value


def _items(value: Any) -> List[Obj]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


# --- core/v1 pods ---------------------------------------------------------------------------------
def image_pull_policy(image: str) -> str:
    """``Always`` for an untagged or ``:latest`` image, else ``IfNotPresent`` (digests count as tags)."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _default_probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    if isinstance(probe.get("httpGet"), dict):
        probe["httpGet"].setdefault("path", "/")
        probe["httpGet"].setdefault("scheme", "HTTP")


def _default_container(container: Obj) -> None:
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    if isinstance(container.get("image"), str) and container["image"]:
        container.setdefault("imagePullPolicy", image_pull_policy(container["image"]))
    for port in _items(container.get("ports")):
        port.setdefault("protocol", "TCP")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(container.get(probe))
    for env in _items(container.get("env")):
        field_ref = (env.get("valueFrom") or {}).get("fieldRef") if isinstance(env.get("valueFrom"), dict) else None
        if isinstance(field_ref, dict):
            field_ref.setdefault("apiVersion", "v1")


def _requests_from_limits(container: Obj) -> None:
    """SetDefaults_Pod (pods only, not templates): requests default to limits."""
    resources = container.get("resources")
    if isinstance(resources, dict) and isinstance(resources.get("limits"), dict) and resources["limits"]:
        requests = _dict(resources, "requests")
        for name, value in resources["limits"].items():
            requests.setdefault(name, value)


def _default_volume(volume: Obj) -> None:
    if set(volume) <= {"name"}:
        volume["emptyDir"] = {}  # SetDefaults_Volume: a volume without a source is an emptyDir
    for source in ("secret", "configMap", "downwardAPI", "projected"):
        if isinstance(volume.get(source), dict):
            volume[source].setdefault("defaultMode", SECRET_VOLUME_MODE)
    for item in _items((volume.get("downwardAPI") or {}).get("items") if isinstance(volume.get("downwardAPI"), dict) else None):
        if isinstance(item.get("fieldRef"), dict):
            item["fieldRef"].setdefault("apiVersion", "v1")
    if isinstance(volume.get("hostPath"), dict):
        volume["hostPath"].setdefault("type", "")
    if isinstance(volume.get("iscsi"), dict):
        volume["iscsi"].setdefault("iscsiInterface", "default")


def default_pod_spec(spec: Any) -> None:
    """``SetDefaults_PodSpec`` and the defaults of what it contains (pods and pod templates)."""
    if not isinstance(spec, dict):
        return
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("schedulerName", "default-scheduler")
    if not isinstance(spec.get("securityContext"), dict):
        spec["securityContext"] = {}
    # One field with two names (conversion.go): the deprecated alias follows serviceAccountName.
    if spec.get("serviceAccountName"):
        spec["serviceAccount"] = spec["serviceAccountName"]
    elif spec.get("serviceAccount"):
        spec["serviceAccountName"] = spec["serviceAccount"]
    for field_name in ("containers", "initContainers", "ephemeralContainers"):
        for container in _items(spec.get(field_name)):
            _default_container(container)
    for volume in _items(spec.get("volumes")):
        _default_volume(volume)


def _default_pod_template(obj: Obj) -> None:
    template = (obj.get("spec") or {}).get("template") if isinstance(obj.get("spec"), dict) else None
    if isinstance(template, dict):
        default_pod_spec(template.get("spec"))


def default_pod(obj: Obj) -> None:
    """SetDefaults_Pod on top of the pod spec's defaults (not applied to pod templates)."""
    spec = obj.get("spec")
    default_pod_spec(spec)
    if isinstance(spec, dict):
        spec.setdefault("enableServiceLinks", True)
        for field_name in ("containers", "initContainers"):
            for container in _items(spec.get(field_name)):
                _requests_from_limits(container)


# --- core/v1 other kinds --------------------------------------------------------------------------
def default_pvc_spec(spec: Any) -> None:
    if isinstance(spec, dict):
        spec.setdefault("volumeMode", "Filesystem")


def default_pvc(obj: Obj) -> None:
    default_pvc_spec(_dict(obj, "spec"))


def default_pv(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
    spec.setdefault("volumeMode", "Filesystem")


def default_secret(obj: Obj) -> None:
    obj.setdefault("type", "Opaque")
    # Convert_v1_Secret_To_core_Secret: stringData overwrites data and, having no internal
    # field, never comes back.
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = obj["data"] if isinstance(obj.get("data"), dict) else {}
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        obj["data"] = data


def default_service(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["type"] in ("ClusterIP", "NodePort", "LoadBalancer"):
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if spec["type"] in ("NodePort", "LoadBalancer") or spec.get("externalIPs"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec["type"] == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    for port in _items(spec.get("ports")):
        port.setdefault("protocol", "TCP")
        if "port" in port:
            port.setdefault("targetPort", port["port"])


def default_endpoints(obj: Obj) -> None:
    for subset in _items(obj.get("subsets")):
        for port in _items(subset.get("ports")):
            port.setdefault("protocol", "TCP")


def default_node(obj: Obj) -> None:
    status = obj.get("status")
    if isinstance(status, dict) and "allocatable" not in status and isinstance(status.get("capacity"), dict):
        status["allocatable"] = dict(status["capacity"])  # SetDefaults_NodeStatus


# --- apps/v1 --------------------------------------------------------------------------------------
def default_deployment(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    spec.setdefault("replicas", 1)
    strategy = _dict(spec, "strategy")
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _dict(strategy, "rollingUpdate")
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _default_pod_template(obj)


def default_replicaset(obj: Obj) -> None:
    _dict(obj, "spec").setdefault("replicas", 1)
    _default_pod_template(obj)


def default_statefulset(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = _dict(spec, "updateStrategy")
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        _dict(strategy, "rollingUpdate").setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    retention = _dict(spec, "persistentVolumeClaimRetentionPolicy")
    retention.setdefault("whenDeleted", "Retain")
    retention.setdefault("whenScaled", "Retain")
    for claim in _items(spec.get("volumeClaimTemplates")):
        claim.setdefault("apiVersion", "v1")
        claim.setdefault("kind", "PersistentVolumeClaim")
        default_pvc_spec(_dict(claim, "spec"))
        claim.setdefault("status", {"phase": "Pending"})
    _default_pod_template(obj)


def default_daemonset(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    strategy = _dict(spec, "updateStrategy")
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _dict(strategy, "rollingUpdate")
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    _default_pod_template(obj)


# --- batch/v1 -------------------------------------------------------------------------------------
def default_job_spec(spec: Obj) -> None:
    if "completions" not in spec and "parallelism" not in spec:
        spec["completions"] = 1
        spec["parallelism"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", MAX_INT32 if "backoffLimitPerIndex" in spec else 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "Failed" if "podFailurePolicy" in spec else "TerminatingOrFailed")
    template = spec.get("template")
    if isinstance(template, dict):
        default_pod_spec(template.get("spec"))


def default_job(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") \
        if isinstance(spec.get("template"), dict) else None
    if template_labels and not (obj.get("metadata") or {}).get("labels"):
        _dict(obj, "metadata")["labels"] = dict(template_labels)  # a Job without labels takes its pods'
    default_job_spec(spec)


def default_cronjob(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    if not spec.get("concurrencyPolicy"):  # an empty policy is defaulted too (SetDefaults_CronJob)
        spec["concurrencyPolicy"] = "Allow"
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    job_template = spec.get("jobTemplate")
    if isinstance(job_template, dict) and isinstance(job_template.get("spec"), dict):
        default_job_spec(job_template["spec"])


# --- storage.k8s.io/v1, rbac ----------------------------------------------------------------------
def default_storageclass(obj: Obj) -> None:
    obj.setdefault("reclaimPolicy", "Delete")
    obj.setdefault("volumeBindingMode", "Immediate")


def default_csidriver(obj: Obj) -> None:
    spec = _dict(obj, "spec")
    for field_name in ("attachRequired",):
        spec.setdefault(field_name, True)
    for field_name in ("podInfoOnMount", "storageCapacity", "requiresRepublish", "seLinuxMount"):
        spec.setdefault(field_name, False)
    spec.setdefault("fsGroupPolicy", "ReadWriteOnceWithFSType")
    spec.setdefault("volumeLifecycleModes", ["Persistent"])


def default_binding_subjects(obj: Obj) -> None:
    for subject in _items(obj.get("subjects")):
        if subject.get("kind") in ("User", "Group"):
            subject.setdefault("apiGroup", RBAC_GROUP)


DEFAULTERS: Dict[str, Callable[[Obj], None]] = {
    "pods": default_pod,
    "nodes": default_node,
    "persistentvolumeclaims": default_pvc,
    "persistentvolumes": default_pv,
    "secrets": default_secret,
    "services": default_service,
    "endpoints": default_endpoints,
    "apps/deployments": default_deployment,
    "apps/replicasets": default_replicaset,
    "apps/statefulsets": default_statefulset,
    "apps/daemonsets": default_daemonset,
    "batch/jobs": default_job,
    "batch/cronjobs": default_cronjob,
    "storage.k8s.io/storageclasses": default_storageclass,
    "storage.k8s.io/csidrivers": default_csidriver,
    "rbac.authorization.k8s.io/rolebindings": default_binding_subjects,
    "rbac.authorization.k8s.io/clusterrolebindings": default_binding_subjects,
}


def apply_defaults(key: str, obj: Obj) -> None:
    """Default ``obj`` (of resource ``key``) in place; kinds without defaulters are left alone."""
    defaulter = DEFAULTERS.get(key)
    if defaulter is not None:
        defaulter(obj)
