"""The OpenShift image registry operator (``configs.imageregistry.operator.openshift.io/cluster``).

What it simulates
-----------------
* ``spec.managementState: Removed``: the Deployment ``image-registry``, its pods and the route
  ``default-route`` in ``openshift-image-registry`` are deleted; the ClusterOperator
  ``image-registry`` reports Available=True (reason ``Removed``), Progressing=False, Degraded=False.
* ``Managed`` (or ``Force``): the storage must name exactly one backend. ``storage.pvc.claim``
  (``image-registry-storage`` when empty; the operator then creates that claim, 100Gi
  ReadWriteMany on the default class) must exist; a missing claim or no storage at all leaves the
  operator Progressing and Degraded with the operator's messages. With storage in place the
  Deployment (``spec.replicas``, strategy from ``spec.rolloutStrategy``, default RollingUpdate)
  and one pod per replica are created; the pods mount the claim (so a WaitForFirstConsumer claim
  binds) and become Running and Ready ``registry_rollout`` seconds (default 0.05) after the claim is
  Bound. On a ReadWriteOnce claim only one pod can attach (the others stay Pending with a
  Multi-Attach event), so ``replicas > 1`` never completes: Progressing=True and Degraded=True with
  "The deployment has not completed".
* ``spec.defaultRoute: true``: route ``default-route`` with host
  ``default-route-openshift-image-registry.apps.<cluster domain>`` (domain ``clustersim.example.com``),
  admitted by the default router; removed again when false.
* ``status`` of the Config (``readyReplicas``, ``storage``, ``observedGeneration``, conditions) and
  the ClusterOperator conditions follow the rollout.

The Deployment and its pods carry ``clustersim.io/managed-by: image_registry``: this operator
plays their rollout itself, so the scheduler, kubelet and Deployment controller leave them alone.

``spec.rolloutStrategy`` is validated by the CRD pattern ``^(RollingUpdate|Recreate)$`` (422).

Durations: ``registry_rollout``.
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from .. import errors
from ..admission import AdmissionRequest
from ..controller import Controller, admits, watches
from ..util import dig, now_rfc3339, set_condition
from ._workloads import MANAGED_BY

if TYPE_CHECKING:  # pragma: no cover
    from ..cluster import Cluster

CONFIG_KEY = "imageregistry.operator.openshift.io/configs"
OPERATOR_KEY = "config.openshift.io/clusteroperators"
DEPLOYMENT_KEY = "apps/deployments"
POD_KEY = "pods"
PVC_KEY = "persistentvolumeclaims"
ROUTE_KEY = "route.openshift.io/routes"
EVENT_KEY = "events"
NAMESPACE = "openshift-image-registry"
DEPLOYMENT = "image-registry"
ROUTE = "default-route"
DEFAULT_CLAIM = "image-registry-storage"
CLUSTER_DOMAIN = "clustersim.example.com"
BACKENDS = ("azure", "emptyDir", "gcs", "ibmcos", "oss", "pvc", "s3", "swift")
ROLLOUT_STRATEGIES = ("RollingUpdate", "Recreate")
POD_LABELS = {"docker-registry": "default"}


def validate_config(req: AdmissionRequest) -> None:
    if req.obj is None or req.subresource == "status":
        return
    strategy = dig(req.obj, "spec", "rolloutStrategy")
    if strategy is not None and strategy not in ROLLOUT_STRATEGIES:
        raise errors.invalid("Config", req.name, [errors.invalid_field(
            "spec.rolloutStrategy", strategy, 'spec.rolloutStrategy in body should match \'^(RollingUpdate|Recreate)$\'')],
            "imageregistry.operator.openshift.io")
    replicas = dig(req.obj, "spec", "replicas")
    if replicas is not None and (not isinstance(replicas, int) or isinstance(replicas, bool)):
        raise errors.invalid("Config", req.name, [errors.invalid_field(
            "spec.replicas", replicas, "spec.replicas in body must be of type integer")], "imageregistry.operator.openshift.io")


class RegistryOperator(Controller):
    name = "image_registry"

    def __init__(self, cluster: "Cluster") -> None:
        super().__init__(cluster)
        self.scheduled = False

    def reset(self) -> None:
        self.scheduled = False  # the reset cancelled the queued reconcile

    @admits(CONFIG_KEY)
    def validate(self, req: AdmissionRequest) -> None:
        validate_config(req)

    @watches(CONFIG_KEY)
    def poke(self, *_: Any) -> None:
        if not self.scheduled:
            self.scheduled = True
            self.cluster.after(0, self.reconcile)

    @watches(PVC_KEY, POD_KEY, DEPLOYMENT_KEY, ROUTE_KEY)
    def on_namespaced(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        obj = new or old or {}
        if obj.get("metadata", {}).get("namespace") == NAMESPACE:
            self.poke()

    # ------------------------------------------------------------------ reconcile
    def reconcile(self) -> None:
        self.scheduled = False
        config = self.store.peek(CONFIG_KEY, "cluster")
        if config is None:
            return
        spec = config.get("spec") or {}
        state = spec.get("managementState") or "Managed"
        if state == "Removed":
            self._remove()
            self._report(config, "Removed", ready=0, progressing=None, degraded=None)
            return
        if state == "Unmanaged":
            return
        storage = spec.get("storage") or {}
        backends = [b for b in BACKENDS if storage.get(b) is not None]
        if not backends:
            self._report(config, "Managed", ready=0, progressing="Unable to apply resources: storage backend not configured",
                         degraded="StorageNotConfigured: storage backend not configured")
            return
        if len(backends) > 1:
            message = f"Unable to apply resources: exactly one storage type should be configured at the same time, got {len(backends)}: {backends}"
            self._report(config, "Managed", ready=0, progressing=message, degraded=f"InvalidStorageConfiguration: {message}")
            return
        claim_name = None
        claim = None
        if backends[0] == "pvc":
            claim_name = dig(storage, "pvc", "claim") or DEFAULT_CLAIM
            claim = self.store.peek(PVC_KEY, claim_name, NAMESPACE)
            if claim is None and not dig(storage, "pvc", "claim"):
                claim = self._create_default_claim()
            if claim is None:
                message = f'Unable to apply resources: unable to sync storage configuration: persistentvolumeclaims "{claim_name}" not found'
                self._report(config, "Managed", ready=0, progressing=message, degraded=f"Error: {message}")
                return
        replicas = int(spec.get("replicas") or 1)
        strategy = spec.get("rolloutStrategy") or "RollingUpdate"
        self._ensure_deployment(replicas, strategy, claim_name)
        pods = self._ensure_pods(replicas, claim_name)
        ready = self._progress_pods(pods, claim)
        self._deployment_status(replicas, ready)
        self._ensure_route(bool(spec.get("defaultRoute")))
        if ready >= replicas:
            self._report(config, "Managed", ready=ready, progressing=None, degraded=None, storage=storage)
        else:
            stuck = claim is not None and "ReadWriteOnce" in (dig(claim, "spec", "accessModes", default=[]) or []) and replicas > 1
            self._report(config, "Managed", ready=ready, progressing="The deployment has not completed",
                         degraded="The deployment has not completed" if stuck else None, storage=storage)

    def _create_default_claim(self) -> Optional[Dict[str, Any]]:
        return self.store.create(PVC_KEY, {
            "metadata": {"name": DEFAULT_CLAIM, "namespace": NAMESPACE,
                         "annotations": {"imageregistry.openshift.io": "true"}},
            "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "100Gi"}}},
        }, internal=False)

    def _remove(self) -> None:
        store = self.store
        for pod in store.list(POD_KEY, NAMESPACE, label_selector="docker-registry=default", copy=False):
            store.delete(POD_KEY, pod["metadata"]["name"], NAMESPACE)
        if store.peek(DEPLOYMENT_KEY, DEPLOYMENT, NAMESPACE) is not None:
            store.delete(DEPLOYMENT_KEY, DEPLOYMENT, NAMESPACE)
        if store.peek(ROUTE_KEY, ROUTE, NAMESPACE) is not None:
            store.delete(ROUTE_KEY, ROUTE, NAMESPACE)

    def _template(self, claim_name: Optional[str]) -> Dict[str, Any]:
        volume = ({"name": "registry-storage", "persistentVolumeClaim": {"claimName": claim_name}} if claim_name
                  else {"name": "registry-storage", "emptyDir": {}})
        return {"metadata": {"labels": dict(POD_LABELS)},
                "spec": {"serviceAccountName": "registry", "volumes": [volume],
                         "containers": [{"name": "registry", "image": "quay.io/openshift-release-dev/ocp-v4.0-art-dev:registry",
                                         "ports": [{"containerPort": 5000, "protocol": "TCP"}],
                                         "volumeMounts": [{"name": "registry-storage", "mountPath": "/registry"}]}]}}

    def _ensure_deployment(self, replicas: int, strategy: str, claim_name: Optional[str]) -> None:
        spec = {"replicas": replicas, "selector": {"matchLabels": dict(POD_LABELS)},
                "strategy": {"type": strategy}, "template": self._template(claim_name)}
        store = self.store
        current = store.peek(DEPLOYMENT_KEY, DEPLOYMENT, NAMESPACE)
        if current is None:
            store.create(DEPLOYMENT_KEY, {"metadata": {"name": DEPLOYMENT, "namespace": NAMESPACE, "labels": dict(POD_LABELS),
                                                       "annotations": {MANAGED_BY: self.name}},
                                          "spec": spec, "status": {"replicas": 0}})
        elif current.get("spec") != spec:
            def write(obj: Dict[str, Any]) -> None:
                obj["spec"] = spec
            store.mutate(DEPLOYMENT_KEY, DEPLOYMENT, write, NAMESPACE)

    def _ensure_pods(self, replicas: int, claim_name: Optional[str]) -> List[Dict[str, Any]]:
        store = self.store
        template = self._template(claim_name)
        revision = hashlib.md5(repr(template).encode()).hexdigest()[:10]
        pods = store.list(POD_KEY, NAMESPACE, label_selector="docker-registry=default", copy=False)
        keep = []
        for pod in pods:
            if dig(pod, "metadata", "labels", "pod-template-hash") != revision or len(keep) >= replicas:
                store.delete(POD_KEY, pod["metadata"]["name"], NAMESPACE)
            else:
                keep.append(pod["metadata"]["name"])
        workers = [n["metadata"]["name"] for n in store.list("nodes", copy=False)
                   if "node-role.kubernetes.io/worker" in (n["metadata"].get("labels") or {})] or [""]
        index = 0
        while len(keep) < replicas:
            name = f"image-registry-{revision[:8]}-{index}"
            index += 1
            if store.peek(POD_KEY, name, NAMESPACE) is not None:
                continue
            pod = {"metadata": {"name": name, "namespace": NAMESPACE, "annotations": {MANAGED_BY: self.name},
                                "labels": {**POD_LABELS, "pod-template-hash": revision}},
                   "spec": {**template["spec"], "nodeName": workers[len(keep) % len(workers)]},
                   "status": {"phase": "Pending"}}
            store.create(POD_KEY, pod)
            keep.append(name)
        return [store.peek(POD_KEY, name, NAMESPACE) for name in keep]

    def _progress_pods(self, pods: List[Dict[str, Any]], claim: Optional[Dict[str, Any]]) -> int:
        """Start pods whose storage is attachable; returns how many are Ready."""
        bound = claim is None or dig(claim, "status", "phase") == "Bound"
        rwo = claim is not None and "ReadWriteOnce" in (dig(claim, "spec", "accessModes", default=[]) or [])
        ready = 0
        for position, pod in enumerate(pods):
            attachable = bound and not (rwo and position > 0)
            if dig(pod, "status", "phase") == "Running":
                ready += 1
                continue
            if attachable and not dig(pod, "metadata", "annotations", "clustersim.io/starting"):
                self.store.mutate(POD_KEY, pod["metadata"]["name"],
                                          lambda p: p["metadata"].setdefault("annotations", {}).update({"clustersim.io/starting": "true"}),
                                          NAMESPACE)
                self.cluster.after(self.cluster.duration("registry_rollout", 0.05), self._start_pod, pod["metadata"]["name"])
        return ready

    def _start_pod(self, name: str) -> None:
        def run(pod: Dict[str, Any]) -> None:
            pod["metadata"].get("annotations", {}).pop("clustersim.io/starting", None)
            pod["status"] = {"phase": "Running", "startTime": now_rfc3339(), "podIP": "10.128.2.10",
                             "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now_rfc3339()},
                                            {"type": "ContainersReady", "status": "True", "lastTransitionTime": now_rfc3339()}],
                             "containerStatuses": [{"name": "registry", "ready": True, "started": True, "restartCount": 0,
                                                    "state": {"running": {"startedAt": now_rfc3339()}}}]}
        self.store.mutate(POD_KEY, name, run, NAMESPACE)

    def _deployment_status(self, replicas: int, ready: int) -> None:
        status = {"observedGeneration": None, "replicas": replicas, "updatedReplicas": replicas,
                  "readyReplicas": ready, "availableReplicas": ready, "unavailableReplicas": max(replicas - ready, 0)}

        def write(obj: Dict[str, Any]) -> Any:
            status["observedGeneration"] = obj["metadata"].get("generation")
            conditions = list(dig(obj, "status", "conditions", default=[]) or [])
            set_condition(conditions, "Available", "True" if ready > 0 else "False",
                          "MinimumReplicasAvailable" if ready > 0 else "MinimumReplicasUnavailable")
            set_condition(conditions, "Progressing", "True", "NewReplicaSetAvailable" if ready >= replicas else "ReplicaSetUpdated")
            new = dict(status, conditions=conditions)
            if obj.get("status") == new:
                return False
            obj["status"] = new
            return None
        self.store.mutate(DEPLOYMENT_KEY, DEPLOYMENT, write, NAMESPACE)

    def _ensure_route(self, wanted: bool) -> None:
        store = self.store
        current = store.peek(ROUTE_KEY, ROUTE, NAMESPACE)
        if not wanted:
            if current is not None:
                store.delete(ROUTE_KEY, ROUTE, NAMESPACE)
            return
        if current is not None:
            return
        host = f"{ROUTE}-{NAMESPACE}.apps.{CLUSTER_DOMAIN}"
        store.create(ROUTE_KEY, {
            "metadata": {"name": ROUTE, "namespace": NAMESPACE,
                         "annotations": {"imageregistry.openshift.io": "true"}},
            "spec": {"host": host, "to": {"kind": "Service", "name": "image-registry", "weight": 100},
                     "port": {"targetPort": "5000-tcp"}, "tls": {"termination": "reencrypt"},
                     "wildcardPolicy": "None"},
            "status": {"ingress": [{"host": host, "routerName": "default", "wildcardPolicy": "None",
                                    "routerCanonicalHostname": f"router-default.apps.{CLUSTER_DOMAIN}",
                                    "conditions": [{"type": "Admitted", "status": "True",
                                                    "lastTransitionTime": now_rfc3339()}]}]},
        })

    # ------------------------------------------------------------------ status
    def _report(self, config: Dict[str, Any], state: str, ready: int, progressing: Optional[str],
                degraded: Optional[str], storage: Optional[Dict[str, Any]] = None) -> None:
        removed = state == "Removed"
        if removed:
            available = ("True", "Removed", "The registry is removed")
        elif ready > 0:
            available = ("True", "Ready", "The registry is ready")
        else:
            available = ("False", "DeploymentNotFound" if progressing else "NoReplicasAvailable",
                         "The deployment does not exist" if progressing else "The deployment does not have available replicas")
        progress = ("True", "DeploymentNotCompleted" if ready else "Error", progressing) if progressing else (
            "False", "Removed" if removed else "Ready", "All registry resources are removed" if removed else "The registry is ready")
        if degraded:
            reason, _, message = degraded.partition(": ") if ": " in degraded else ("Unavailable", "", degraded)
            degrade = ("True", reason, message)
        else:
            degrade = ("False", "Removed" if removed else "AsExpected", "")

        def write_config(obj: Dict[str, Any]) -> Any:
            status = obj.setdefault("status", {})
            before = dict(status)
            conditions = list(status.get("conditions") or [])
            set_condition(conditions, "Available", *available)
            set_condition(conditions, "Progressing", *progress)
            set_condition(conditions, "Degraded", *degrade)
            set_condition(conditions, "Removed", "True" if removed else "False", "Removed" if removed else "",
                          "The image registry is removed" if removed else "")
            status["conditions"] = conditions
            status["readyReplicas"] = ready
            status["observedGeneration"] = obj["metadata"].get("generation")
            if storage is not None:
                status["storage"] = storage
                status["storageManaged"] = False
            return False if status == before else None
        self.store.mutate(CONFIG_KEY, "cluster", write_config)

        def write_operator(obj: Dict[str, Any]) -> Any:
            status = obj.setdefault("status", {})
            conditions = list(status.get("conditions") or [])
            changed = set_condition(conditions, "Available", available[0], available[1], f"Available: {available[2]}")
            changed |= set_condition(conditions, "Progressing", progress[0], progress[1], f"Progressing: {progress[2]}")
            changed |= set_condition(conditions, "Degraded", degrade[0], degrade[1],
                                     f"Degraded: {degrade[2]}" if degrade[0] == "True" else "")
            if not changed:
                return False
            status["conditions"] = conditions
            status["relatedObjects"] = [{"group": "imageregistry.operator.openshift.io", "resource": "configs", "name": "cluster"},
                                        {"group": "", "resource": "namespaces", "name": NAMESPACE}]
            return None
        if self.store.peek(OPERATOR_KEY, "image-registry") is not None:
            self.store.mutate(OPERATOR_KEY, "image-registry", write_operator)


CONTROLLERS = [RegistryOperator]
