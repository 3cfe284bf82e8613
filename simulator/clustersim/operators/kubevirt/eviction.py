"""KubeVirt's answer to evicting a virt-launcher or hot-plug pod, and the evacuation that follows.

virt-api's eviction webhooks (kubevirt/kubevirt v1.6,
``pkg/virt-api/webhooks/validating-webhook/admitters/pod-eviction-admitter.go``; registered in
``pkg/virt-operator/resource/generate/components/webhooks.go`` for ``pods/eviction`` of pods
named ``virt-launcher*`` and ``hp-volume-*``):

* A launcher pod that is not completed: its VMI (by the ``kubevirt.io/domain`` annotation) must
  exist, else "kubevirt failed getting the vmi: ...".  The eviction strategy (the VMI's, else the
  cluster-wide KubeVirt CR ``spec.configuration.evictionStrategy`` or the HyperConverged
  ``spec.evictionStrategy``) decides: LiveMigrate on a non-migratable VMI is refused;
  LiveMigrate, LiveMigrateIfPossible on a migratable VMI, and External mark the VMI
  (``status.evacuationNodeName``, skipped on dry run) and refuse with "Eviction triggered
  evacuation of VMI"; otherwise the eviction goes ahead and the VMI shuts down.
* A hot-plug attachment pod whose owner launcher pod still runs and whose VMI exists is refused.

Every refusal is the webhook's ``AdmissionResponse`` with only ``code: 429`` and a message, which
the apiserver turns into a ``Status`` with that code and message, no reason and no details
(k8s.io/apiserver ``pkg/admission/plugin/webhook/errors/statuserror.go`` ``ToStatusErr``), so
no ``Retry-After`` header: a client sees the 429 at once instead of retrying silently.

virt-controller's evacuation controller (``pkg/virt-controller/watch/drain/evacuation``) then
creates a ``kubevirt-evacuation-`` migration for a marked VMI still on that node -- except for
External, where KubeVirt leaves the move to whoever set that strategy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from ...controller import Controller, eviction_hook
from ...errors import ApiError
from ...util import dig
from .model import MIGRATIONS, PODS, VMIS, is_final_pod
from .objects import live_migratability

LAUNCHER_WEBHOOK = "virt-launcher-eviction-interceptor.kubevirt.io"
HOTPLUG_WEBHOOK = "hotplug-pod-eviction-interceptor.kubevirt.io"


class WebhookDenial(ApiError):
    """A validating webhook's refusal as the apiserver answers it: the webhook's code and message
    only (no reason, no details, hence no Retry-After)."""

    def __init__(self, webhook: str, code: int, message: str) -> None:
        super().__init__(code, "", f'admission webhook "{webhook}" denied the request: {message}')

    def to_status(self) -> Dict[str, Any]:
        status = super().to_status()
        status.pop("reason", None)
        return status


@dataclass(frozen=True)
class Verdict:
    """What the webhook answers: ``allow`` the eviction, or refuse it with ``message``;
    ``mark`` says whether the VMI gets ``status.evacuationNodeName``."""

    allow: bool
    message: str = ""
    mark: bool = False


def eviction_verdict(strategy: Optional[str], migratable: bool, vmi: Dict[str, Any], pod: Dict[str, Any]) -> Verdict:
    namespace, name = vmi["metadata"]["namespace"], vmi["metadata"]["name"]
    if strategy == "LiveMigrate" and not migratable:
        return Verdict(False, f"VMI {name} is configured with an eviction strategy but is not live-migratable")
    wants_evacuation = strategy in ("LiveMigrate", "External") or (strategy == "LiveMigrateIfPossible" and migratable)
    if not wants_evacuation:
        return Verdict(True)
    evacuation = f'Eviction triggered evacuation of VMI "{namespace}/{name}"'
    if dig(vmi, "status", "evacuationNodeName"):
        return Verdict(False, f"Evacuation in progress: {evacuation}")
    if dig(vmi, "status", "nodeName") != dig(pod, "spec", "nodeName"):
        return Verdict(False, "Eviction request for target Pod")
    return Verdict(False, evacuation, mark=True)


def vmi_not_found(name: str) -> str:
    return f'kubevirt failed getting the vmi: virtualmachineinstances.kubevirt.io "{name}" not found'


def is_hotplug_pod(pod: Dict[str, Any]) -> bool:
    return ((pod["metadata"].get("labels") or {}).get("kubevirt.io") == "hotplug-disk"
            and len(pod["metadata"].get("ownerReferences") or []) == 1)


def cluster_eviction_strategy(store: Any) -> Optional[str]:
    for kv in store.list("kubevirt.io/kubevirts", copy=False):
        strategy = dig(kv, "spec", "configuration", "evictionStrategy")
        if strategy:
            return strategy
    for hco in store.list("hco.kubevirt.io/hyperconvergeds", copy=False):
        strategy = dig(hco, "spec", "evictionStrategy")
        if strategy:
            return strategy
    return None


class Evacuation(Controller):
    name = "kubevirt-eviction"

    def delay(self, name: str, default: float) -> float:
        return self.cluster.duration(name, default)

    def strategy_of(self, vmi: Dict[str, Any]) -> Optional[str]:
        return dig(vmi, "spec", "evictionStrategy") or cluster_eviction_strategy(self.store)

    @eviction_hook
    def on_eviction(self, _cluster: Any, pod: Dict[str, Any], eviction: Dict[str, Any], dry_run: bool) -> Optional[bool]:
        name = pod["metadata"]["name"]
        if name.startswith("virt-launcher") and not is_final_pod(pod):
            if (pod["metadata"].get("labels") or {}).get("kubevirt.io") == "virt-launcher":
                self.admit_launcher(pod, dry_run or "All" in (dig(eviction, "deleteOptions", "dryRun") or []))
        elif name.startswith("hp-volume-") and is_hotplug_pod(pod):
            self.admit_hotplug_pod(pod)
        return None

    def admit_launcher(self, pod: Dict[str, Any], dry_run: bool) -> None:
        namespace = pod["metadata"]["namespace"]
        vmi_name = (pod["metadata"].get("annotations") or {}).get("kubevirt.io/domain")
        if not vmi_name:
            return
        vmi = self.store.peek(VMIS, vmi_name, namespace)
        if vmi is None:
            raise WebhookDenial(LAUNCHER_WEBHOOK, 429, vmi_not_found(vmi_name))
        migratable = live_migratability(self.store, vmi)["status"] == "True"
        strategy = self.strategy_of(vmi)
        verdict = eviction_verdict(strategy, migratable, vmi, pod)
        if verdict.allow:
            return
        if verdict.mark and not dry_run:
            self.mark(vmi, dig(pod, "spec", "nodeName"), external=strategy == "External")
        raise WebhookDenial(LAUNCHER_WEBHOOK, 429, verdict.message)

    def admit_hotplug_pod(self, pod: Dict[str, Any]) -> None:
        namespace = pod["metadata"]["namespace"]
        owner = self.store.peek(PODS, pod["metadata"]["ownerReferences"][0].get("name"), namespace)
        if owner is None or (owner["metadata"].get("labels") or {}).get("kubevirt.io") != "virt-launcher" or is_final_pod(owner):
            return
        vmi_name = (owner["metadata"].get("annotations") or {}).get("kubevirt.io/domain")
        if vmi_name and self.store.peek(VMIS, vmi_name, namespace) is not None:
            raise WebhookDenial(HOTPLUG_WEBHOOK, 429, f"cannot evict hotplug pod: {pod['metadata']['name']} associated "
                                                      f"with running vmi: {vmi_name} in namespace {namespace}")

    def mark(self, vmi: Dict[str, Any], node: str, external: bool) -> None:
        """``status.evacuationNodeName``; the evacuation controller migrates unless the strategy is External."""
        namespace, name = vmi["metadata"]["namespace"], vmi["metadata"]["name"]
        self.store.mutate(VMIS, name, lambda o: o.setdefault("status", {}).__setitem__("evacuationNodeName", node), namespace)
        if not external:
            self.cluster.after(self.delay("evacuation_start", 0.02), self.evacuate, namespace, name)

    def evacuate_later(self, namespace: str, vmi_name: str) -> None:
        """Try the evacuation of a marked VMI again (its migration failed or was refused)."""
        self.cluster.after(self.delay("evacuation_retry", 0.2), self.evacuate, namespace, vmi_name)

    def evacuate(self, namespace: str, vmi_name: str) -> None:
        vmi = self.store.peek(VMIS, vmi_name, namespace)
        if vmi is None or not dig(vmi, "status", "evacuationNodeName") or self.strategy_of(vmi) == "External":
            return
        if dig(vmi, "status", "nodeName") != dig(vmi, "status", "evacuationNodeName"):
            return
        if self.cluster.controller("kubevirt-migration").in_flight(namespace, vmi_name):
            return
        try:
            self.store.create(MIGRATIONS, {"metadata": {
                "generateName": "kubevirt-evacuation-", "namespace": namespace,
                "labels": {"kubevirt.io/vmi-name": vmi_name},
                "annotations": {"kubevirt.io/evacuationMigration": dig(vmi, "status", "evacuationNodeName")}},
                "spec": {"vmiName": vmi_name}})
        except ApiError:
            self.evacuate_later(namespace, vmi_name)
