"""``pods/log``: the containers' log lines, as plain text.

What the apiserver checks before it proxies to the kubelet (kubernetes/kubernetes release-1.33,
``pkg/registry/core/pod/strategy.go`` ``LogLocation``, ``pkg/registry/core/pod/rest/log.go``):
a pod with several containers and no ``container`` parameter is
``400 a container name must be specified for pod <pod>, choose one of: [<names>]``; a container
the pod does not have is ``400 container <c> is not valid for pod <pod>``; a pod without a node
is ``400 pod <pod> does not have a host assigned``; ``previous=true`` for a container that never
restarted is the kubelet's ``400 previous terminated container "<c>" in pod "<pod>" not found``.
Options honoured: ``container``, ``tailLines``, ``timestamps`` (RFC 3339 with nanoseconds before
each line), ``limitBytes``; ``follow`` answers what is there and ends.

Every running container starts with a few stable lines (its start, the image); other
controllers add lines with ``cluster.controller("pod-logs").append(namespace, pod, container,
line)``.  Lines are kept per pod uid, so a recreated pod starts with an empty log.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from .. import errors
from ..cluster import HttpResponse, SubresourceRequest
from ..controller import Controller, serves_subresource, watches
from ..util import now_rfc3339

Line = Tuple[str, str]  # (RFC 3339 timestamp with nanoseconds, text)


def _nano(stamp: str) -> str:
    """``2025-01-02T03:04:05Z`` → ``2025-01-02T03:04:05.000000000Z`` (the kubelet's timestamps)."""
    return stamp[:-1] + ".000000000Z" if stamp.endswith("Z") and "." not in stamp else stamp


def start_lines(pod: Dict[str, Any], container: Dict[str, Any]) -> List[Line]:
    """The stable first lines of a container's log."""
    status = pod.get("status") or {}
    when = _nano(status.get("startTime") or pod["metadata"].get("creationTimestamp") or now_rfc3339())
    name, image = container.get("name", ""), container.get("image", "")
    return [(when, f"clustersim: container {name} started"), (when, f"clustersim: image {image}"),
            (when, f"clustersim: pod {pod['metadata'].get('namespace', '')}/{pod['metadata']['name']} "
                   f"on node {(pod.get('spec') or {}).get('nodeName', '')}")]


def select_lines(lines: List[Line], tail: Optional[int], timestamps: bool, limit: Optional[int]) -> str:
    """The log text for the request options (pure)."""
    chosen = lines[-tail:] if tail is not None and tail >= 0 else lines
    if tail == 0:
        chosen = []
    text = "".join(f"{stamp} {line}\n" if timestamps else f"{line}\n" for stamp, line in chosen)
    if limit is not None and limit >= 0:
        text = text.encode()[:limit].decode(errors="ignore")
    return text


def _int_param(value: Optional[str], name: str) -> Optional[int]:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.bad_request(f'{name}: Invalid value: "{value}": must be an integer') from None


class PodLogs(Controller):
    name = "pod-logs"

    def setup(self) -> None:
        self._lines: Dict[Tuple[str, str], List[Line]] = {}  # (pod uid, container) -> lines

    def reset(self) -> None:
        self._lines.clear()

    def append(self, namespace: str, pod: str, container: str, line: str) -> None:
        """Add a line to a container's log (no-op when the pod does not exist)."""
        stored = self.store.peek("pods", pod, namespace)
        if stored is None:
            return
        self._log(stored, container).append((_nano(now_rfc3339()), line))

    def _log(self, pod: Dict[str, Any], container: str) -> List[Line]:
        key = (pod["metadata"].get("uid", ""), container)
        if key not in self._lines:
            spec = next((c for c in (pod.get("spec") or {}).get("containers") or [] if c.get("name") == container), {})
            self._lines[key] = start_lines(pod, spec or {"name": container})
        return self._lines[key]

    @watches("pods")
    def on_pod(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if event == "DELETED" and old is not None:
            uid = old["metadata"].get("uid", "")
            for key in [k for k in self._lines if k[0] == uid]:
                del self._lines[key]

    @serves_subresource("pods", "log", kind="Pod", verbs=("get",))
    def serve(self, req: SubresourceRequest) -> HttpResponse:
        if req.method != "GET":
            raise errors.method_not_allowed()
        pod = self.store.must_get("pods", req.name, req.namespace)
        container = self._container(pod, req.http.param("container"))
        if req.http.param("previous") in ("true", "1"):
            restarted = any(s.get("name") == container and s.get("restartCount")
                            for s in (pod.get("status") or {}).get("containerStatuses") or [])
            if not restarted:
                raise errors.bad_request(f'previous terminated container "{container}" in pod "{req.name}" not found')
        text = select_lines(self._log(pod, container), _int_param(req.http.param("tailLines"), "tailLines"),
                            req.http.param("timestamps") in ("true", "1"),
                            _int_param(req.http.param("limitBytes"), "limitBytes"))
        return HttpResponse(200, text.encode(), content_type="text/plain")

    @staticmethod
    def _container(pod: Dict[str, Any], wanted: Optional[str]) -> str:
        spec = pod.get("spec") or {}
        name = pod["metadata"]["name"]
        names = [c.get("name", "") for c in spec.get("containers") or []]
        every = names + [c.get("name", "") for c in spec.get("initContainers") or []] + \
            [c.get("name", "") for c in spec.get("ephemeralContainers") or []]
        if not wanted:
            if len(names) != 1:
                raise errors.bad_request(f"a container name must be specified for pod {name}, "
                                         f"choose one of: [{' '.join(names)}]")
            wanted = names[0]
        if wanted not in every:
            raise errors.bad_request(f"container {wanted} is not valid for pod {name}")
        if not spec.get("nodeName"):
            raise errors.bad_request(f"pod {name} does not have a host assigned")
        return wanted


CONTROLLERS = [PodLogs]
