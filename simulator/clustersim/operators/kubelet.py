"""The kubelet of every node: pods bound to a node start, run, exit, restart and stop.

kubernetes/kubernetes release-1.33, ``pkg/kubelet``:

* a Pending pod bound to an existing node starts ``pod_start`` seconds (default 0.05) after it
  is bound: init containers run to completion first (``initContainerStatuses`` terminated,
  reason Completed), then every container is running, started and ready — with a
  ``readinessProbe``, ready only after its ``initialDelaySeconds`` (``prober/worker.go``; the
  probe itself is taken to succeed: nothing executes); the status (phase, conditions, ``containerStatuses``, ``hostIP``/``hostIPs``,
  ``podIP``/``podIPs``, ``startTime``, ``qosClass``) is :mod:`._pod_status`
  (``kubelet_pods.go`` ``generateAPIPodStatus``, ``status/status_manager.go``);
* what a container does is :mod:`._container_script` (echo lines become its log, ``sleep N``
  its run time, ``exit N`` its exit code; ``clustersim.io/exit-code`` /
  ``clustersim.io/run-seconds`` pod annotations override);
* ``restartPolicy`` (``kuberuntime_manager.go`` ``computePodActions``): a container that exits
  under ``Always`` — or with a non-zero code under ``OnFailure`` — is restarted after the
  crash-loop back-off (10 s doubling to 300 s, ``kubelet.go`` ``backOffPeriod`` /
  ``MaxContainerBackOff``; scaled by ``container_backoff``, default 10), meanwhile waiting with
  reason ``CrashLoopBackOff``, ``restartCount`` + 1 and ``lastState.terminated``; under
  ``Never`` it stays terminated, and the pod becomes Succeeded (all exited 0) or Failed;
* graceful deletion (``pod_workers.go``, ``kuberuntime_container.go`` ``killContainer``,
  ``status_manager.go`` ``canBeDeleted``): a pod with ``deletionTimestamp`` on a node has its
  containers stopped — after the whole ``deletionGracePeriodSeconds`` (``grace_second`` per
  second, default 1) when a running container ignores SIGTERM (a shell or ``sleep`` as PID 1,
  see :mod:`._container_script`), else after min(grace, ``pod_stop`` — default 0.05 s) — and is
  then removed by the kubelet's final delete (:meth:`Kubelet.finish_termination`); this
  includes pods whose life another simulated operator plays (launcher, registry, importer pods).

A container whose image reference does not parse (:mod:`._image_reference`,
``images/image_manager.go``) waits with reason ``InvalidImageName`` (events ``InspectFailed``,
``Failed``) and never starts; the pod stays Pending. No registry is simulated: every valid
reference "pulls" (no ``ErrImagePull`` / ``ImagePullBackOff``).

Pods the kubelet does not start: those created already past Pending (KubeVirt's launcher and
hot-plug pods, whose status KubeVirt's simulation writes) and those annotated
``clustersim.io/managed-by``. Logs are kept per container in memory
(:meth:`Kubelet.log_lines`) for the ``pods/log`` endpoint; they go with the pod.

Durations: ``pod_start``, ``pod_stop``, ``container_run`` (a batch container without a known
command, default 0.05), ``container_second`` (one ``sleep`` second, default 1),
``container_backoff`` (default 10), ``grace_second`` (default 1).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ..controller import Controller, watches
from ..errors import ApiError
from ..util import dig, now_rfc3339
from . import _pod_status as status_of
from ._container_script import ContainerRun, container_run
from ._image_reference import invalid_image_message
from ._workloads import POD_KEY, managed_elsewhere, record_event

MAX_BACKOFF = 300.0
PodId = Tuple[str, str]


class Kubelet(Controller):
    name = "kubelet"

    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        self.logs: Dict[Tuple[str, str, str], List[str]] = {}
        self.pending: set = set()
        self._nodes_at = -1
        self._node_index: Dict[str, int] = {}

    def reset(self) -> None:
        self.logs = {}
        self.pending = set()
        self._nodes_at = -1

    # ------------------------------------------------------------------ public interface
    def log_lines(self, namespace: str, pod: str, container: Optional[str] = None) -> List[str]:
        """What ``container`` (default: the pod's first container) printed, oldest first."""
        if container is None:
            spec_pod = self.store.peek(POD_KEY, pod, namespace)
            containers = dig(spec_pod, "spec", "containers") or [{}]
            container = containers[0].get("name") or ""
        return list(self.logs.get((namespace, pod, container), []))

    def finish_termination(self, namespace: str, name: str) -> None:
        """The kubelet's last word on a pod being deleted: containers stopped, the final delete."""
        pod = self.store.peek(POD_KEY, name, namespace)
        if pod is None or not pod["metadata"].get("deletionTimestamp"):
            return
        try:
            self.store.delete(POD_KEY, name, namespace, grace_period_seconds=0,
                              preconditions={"uid": pod["metadata"].get("uid")})
        except ApiError:
            pass

    # ------------------------------------------------------------------ watch
    @watches(POD_KEY)
    def on_pod(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is None:
            meta = (old or {}).get("metadata") or {}
            for key in [k for k in self.logs if k[:2] == (meta.get("namespace"), meta.get("name"))]:
                del self.logs[key]
            return
        meta = new["metadata"]
        ident = (meta["namespace"], meta["name"])
        if meta.get("deletionTimestamp"):
            if dig(new, "spec", "nodeName") and not (old or {}).get("metadata", {}).get("deletionTimestamp"):
                self.cluster.after(self.stop_seconds(new), self.finish_termination, *ident)
            return
        if self.should_start(new) and ident not in self.pending:
            self.pending.add(ident)
            self.cluster.after(self.cluster.duration("pod_start", 0.05), self.start, meta["namespace"], meta["name"],
                               meta.get("uid"))

    def stop_seconds(self, pod: Dict[str, Any]) -> float:
        """How long stopping takes: the whole grace period (``grace_second`` per second) when a
        running container ignores SIGTERM, else ``pod_stop`` (never more than the grace period)."""
        grace = pod["metadata"].get("deletionGracePeriodSeconds")
        if grace is None:
            grace = dig(pod, "spec", "terminationGracePeriodSeconds", default=30)
        running = {s.get("name") for s in dig(pod, "status", "containerStatuses") or [] if "running" in (s.get("state") or {})}
        stubborn = any(self.run_of(pod, c).ignores_sigterm for c in dig(pod, "spec", "containers") or []
                       if c.get("name") in running)
        if stubborn:
            return float(grace) * self.cluster.duration("grace_second", 1.0)
        return min(float(grace) * self.cluster.duration("grace_second", 1.0), self.cluster.duration("pod_stop", 0.05))

    def should_start(self, pod: Optional[Dict[str, Any]]) -> bool:
        if pod is None or pod["metadata"].get("deletionTimestamp") or managed_elsewhere(pod):
            return False
        node = dig(pod, "spec", "nodeName")
        if not node or self.store.peek("nodes", node) is None:
            return False
        status = pod.get("status") or {}
        return status.get("phase", "Pending") == "Pending" and not status.get("containerStatuses")

    # ------------------------------------------------------------------ start
    def node_index(self, node: str) -> int:
        at = self.store.last_change("nodes")
        if at != self._nodes_at:
            names = sorted(n["metadata"]["name"] for n in self.store.list("nodes", copy=False))
            self._node_index = {name: index for index, name in enumerate(names)}
            self._nodes_at = at
        return self._node_index.get(node, 0)

    def run_of(self, pod: Dict[str, Any], container: Dict[str, Any]) -> ContainerRun:
        policy = dig(pod, "spec", "restartPolicy") or "Always"
        annotations = dig(pod, "metadata", "annotations") or {}
        return container_run(container, policy, annotations, self.cluster.duration("container_run", 0.05))

    def start(self, namespace: str, name: str, uid: str) -> None:
        self.pending.discard((namespace, name))
        pod = self.store.peek(POD_KEY, name, namespace)
        if pod is None or pod["metadata"].get("uid") != uid or not self.should_start(pod):
            return
        stamp = now_rfc3339()
        node_name = pod["spec"]["nodeName"]
        node = self.store.peek("nodes", node_name)
        init_statuses = []
        for container in dig(pod, "spec", "initContainers") or []:
            self.append_log(pod, container, self.run_of(pod, container).output)
            state = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": stamp, "finishedAt": stamp}}
            init_statuses.append(dict(status_of.container_status(pod, container, state), ready=True, started=False))
        statuses = []
        for container in dig(pod, "spec", "containers") or []:
            invalid = invalid_image_message(container.get("image") or "")
            if invalid is not None:
                statuses.append(self.invalid_image_status(pod, container, invalid))
                continue
            run = self.run_of(pod, container)
            self.append_log(pod, container, run.output + run.repeat)
            statuses.append(self.started_status(pod, container, stamp, 0, None))
            self.schedule_exit(pod, container, run, 0)
        ip = status_of.pod_ip(self.node_index(node_name), uid)
        host = status_of.host_ip(node)
        extra = {"hostIP": host, "hostIPs": [{"ip": host}] if host else [], "podIP": ip, "podIPs": [{"ip": ip}],
                 "startTime": stamp, "qosClass": status_of.qos_class(pod)}
        if init_statuses:
            extra["initContainerStatuses"] = init_statuses
        self.write_status(namespace, name, uid, statuses, extra)

    def invalid_image_status(self, pod: Dict[str, Any], container: Dict[str, Any], message: str) -> Dict[str, Any]:
        """``EnsureImageExists`` refused the reference: the container waits, never to start."""
        record_event(self.store, pod, "InspectFailed", message, "kubelet", event_type="Warning")
        record_event(self.store, pod, "Failed", "Error: InvalidImageName", "kubelet", event_type="Warning")
        status = status_of.container_status(pod, container, {"waiting": {"reason": "InvalidImageName", "message": message}})
        # never created: the spec's image as written, no image ID (convertToAPIContainerStatuses)
        status.update(image=container.get("image") or "", imageID="")
        return status

    def started_status(self, pod: Dict[str, Any], container: Dict[str, Any], stamp: str, restarts: int,
                       last_state: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        """A container just started; with a readiness probe it turns ready after the probe's
        ``initialDelaySeconds`` (the probe itself always succeeds: nothing runs)."""
        status = status_of.container_status(pod, container, {"running": {"startedAt": stamp}}, restarts, last_state)
        delay = float(dig(container, "readinessProbe", "initialDelaySeconds") or 0)
        if container.get("readinessProbe") is not None and delay > 0:
            status["ready"] = False
            meta = pod["metadata"]
            self.cluster.after(delay * self.cluster.duration("container_second", 1.0), self.probe_passed,
                               meta["namespace"], meta["name"], meta.get("uid"), container.get("name"), restarts)
        return status

    def probe_passed(self, namespace: str, name: str, uid: str, container_name: str, restarts: int) -> None:
        pod = self.store.peek(POD_KEY, name, namespace)
        if pod is None or pod["metadata"].get("uid") != uid or pod["metadata"].get("deletionTimestamp"):
            return
        statuses = [dict(s) for s in dig(pod, "status", "containerStatuses") or []]
        current = next((s for s in statuses if s.get("name") == container_name), None)
        if current is None or current.get("restartCount") != restarts or "running" not in (current.get("state") or {}):
            return
        current["ready"] = True
        self.write_status(namespace, name, uid, statuses, {})

    def append_log(self, pod: Dict[str, Any], container: Dict[str, Any], lines: List[str]) -> None:
        if lines:
            key = (pod["metadata"]["namespace"], pod["metadata"]["name"], container.get("name") or "")
            self.logs.setdefault(key, []).extend(lines)

    def schedule_exit(self, pod: Dict[str, Any], container: Dict[str, Any], run: ContainerRun, restarts: int) -> None:
        if run.runs_for is None:
            return
        seconds = max(run.runs_for * self.cluster.duration("container_second", 1.0),
                      self.cluster.duration("container_run", 0.05))
        meta = pod["metadata"]
        self.cluster.after(seconds, self.container_exited, meta["namespace"], meta["name"], meta.get("uid"),
                           container.get("name"), restarts, run.exit_code)

    # ------------------------------------------------------------------ exit and restart
    def container_exited(self, namespace: str, name: str, uid: str, container_name: str, restarts: int,
                         exit_code: int) -> None:
        pod = self.store.peek(POD_KEY, name, namespace)
        if pod is None or pod["metadata"].get("uid") != uid or pod["metadata"].get("deletionTimestamp"):
            return
        statuses = [dict(s) for s in dig(pod, "status", "containerStatuses") or []]
        current = next((s for s in statuses if s.get("name") == container_name), None)
        if current is None or current.get("restartCount", 0) != restarts or "running" not in (current.get("state") or {}):
            return
        stamp = now_rfc3339()
        terminated = {"exitCode": exit_code, "reason": "Completed" if exit_code == 0 else "Error",
                      "startedAt": current["state"]["running"].get("startedAt"), "finishedAt": stamp,
                      "containerID": current.get("containerID")}
        policy = dig(pod, "spec", "restartPolicy") or "Always"
        current.update(ready=False, started=False)
        if policy == "Always" or (policy == "OnFailure" and exit_code != 0):
            backoff = min(self.cluster.duration("container_backoff", 10.0) * (2 ** restarts), MAX_BACKOFF)
            current.update(lastState={"terminated": terminated}, restartCount=restarts + 1, state={"waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off {int(backoff)}s restarting failed container={container_name} "
                           f"pod={name}_{namespace}({uid})"}})
            self.cluster.after(backoff, self.restart_container, namespace, name, uid, container_name, restarts + 1)
        else:
            current["state"] = {"terminated": terminated}
        self.write_status(namespace, name, uid, statuses, {})

    def restart_container(self, namespace: str, name: str, uid: str, container_name: str, restarts: int) -> None:
        pod = self.store.peek(POD_KEY, name, namespace)
        if pod is None or pod["metadata"].get("uid") != uid or pod["metadata"].get("deletionTimestamp"):
            return
        spec = next((c for c in dig(pod, "spec", "containers") or [] if c.get("name") == container_name), None)
        statuses = [dict(s) for s in dig(pod, "status", "containerStatuses") or []]
        current = next((s for s in statuses if s.get("name") == container_name), None)
        if spec is None or current is None or current.get("restartCount") != restarts:
            return
        fresh = self.started_status(pod, spec, now_rfc3339(), restarts, current.get("lastState"))
        statuses[statuses.index(current)] = fresh
        run = self.run_of(pod, spec)
        self.append_log(pod, spec, run.output + run.repeat)
        self.schedule_exit(pod, spec, run, restarts)
        self.write_status(namespace, name, uid, statuses, {})

    # ------------------------------------------------------------------ status
    def write_status(self, namespace: str, name: str, uid: str, statuses: List[Dict[str, Any]],
                     extra: Dict[str, Any]) -> None:
        def write(pod: Dict[str, Any]) -> Any:
            if pod["metadata"].get("uid") != uid:
                return False
            status = pod.setdefault("status", {})
            status.update(extra)
            status["containerStatuses"] = statuses
            phase = status_of.phase(pod, statuses, initialized=True)
            status["phase"] = phase
            status["conditions"] = status_of.conditions(pod, phase, statuses, True, status.get("conditions") or [],
                                                        now_rfc3339())
            return None
        try:
            self.store.mutate(POD_KEY, name, write, namespace)
        except ApiError:
            pass


CONTROLLERS = [Kubelet]
