"""KubeVirt's answer to evicting a virt-launcher pod, and the evacuation that follows.

virt-api's ``virt-launcher-eviction-interceptor`` webhook (kubevirt/kubevirt v1.6,
``pkg/virt-api/webhooks/validating-webhook/admitters/pod-eviction-admitter.go``) decides by the
VMI's eviction strategy (its own, else the cluster-wide one of the KubeVirt CR
``spec.configuration.evictionStrategy`` or the HyperConverged ``spec.evictionStrategy``):
LiveMigrate on a non-migratable VMI is refused; LiveMigrate, LiveMigrateIfPossible on a
migratable VMI and External mark the VMI (``status.evacuationNodeName``) and refuse the eviction
with "Eviction triggered evacuation of VMI"; otherwise the eviction goes ahead and the VMI shuts
down.  virt-controller's evacuation controller then creates a ``kubevirt-evacuation-`` migration
for a marked VMI still on that node.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from ... import errors
from ...controller import Controller, eviction_hook
from ...errors import ApiError
from ...util import dig
from .model import MIGRATIONS, VMIS, is_final_pod
from .objects import live_migratability, vmi_named_by_launcher

EVICTION_WEBHOOK = 'admission webhook "virt-launcher-eviction-interceptor.kubevirt.io" denied the request: '


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
        if is_final_pod(pod):
            return None  # a completed launcher (a migration source) is evicted like any finished pod
        vmi = vmi_named_by_launcher(self.store, pod)
        if vmi is None:
            return None
        dry_run = dry_run or "All" in (dig(eviction, "deleteOptions", "dryRun") or [])
        migratable = live_migratability(self.store, vmi)["status"] == "True"
        verdict = eviction_verdict(self.strategy_of(vmi), migratable, vmi, pod)
        if verdict.allow:
            return None
        if verdict.mark and not dry_run:
            node = dig(pod, "spec", "nodeName")
            self.store.mutate(VMIS, vmi["metadata"]["name"],
                              lambda o: o.setdefault("status", {}).__setitem__("evacuationNodeName", node),
                              vmi["metadata"]["namespace"])
            self.cluster.after(self.delay("evacuation_start", 0.02), self.evacuate, vmi["metadata"]["namespace"],
                               vmi["metadata"]["name"])
        raise errors.too_many_requests(EVICTION_WEBHOOK + verdict.message)

    def evacuate_later(self, namespace: str, vmi_name: str) -> None:
        """Try the evacuation of a marked VMI again (its migration failed or was refused)."""
        self.cluster.after(self.delay("evacuation_retry", 0.2), self.evacuate, namespace, vmi_name)

    def evacuate(self, namespace: str, vmi_name: str) -> None:
        vmi = self.store.peek(VMIS, vmi_name, namespace)
        if vmi is None or not dig(vmi, "status", "evacuationNodeName"):
            return
        if dig(vmi, "status", "nodeName") != dig(vmi, "status", "evacuationNodeName"):
            return
        if self.cluster.controller("kubevirt-migration").in_flight(namespace, vmi_name):
            return
        try:
            self.store.create(MIGRATIONS, {"metadata": {"generateName": "kubevirt-evacuation-", "namespace": namespace,
                                                        "labels": {"kubevirt.io/vmi-name": vmi_name}},
                                           "spec": {"vmiName": vmi_name}})
        except ApiError:
            self.evacuate_later(namespace, vmi_name)
