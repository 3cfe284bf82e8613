"""Small store operations on KubeVirt objects that several KubeVirt controllers share."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from ...errors import ApiError
from ...util import set_condition
from .model import CLAIMS, PODS, VMIS, migratability


def delete_quietly(store: Any, key: str, name: str, namespace: str) -> None:
    """Delete if present: controllers race with users deleting the same object."""
    try:
        store.delete(key, name, namespace)
    except ApiError:
        pass


def launchers_of(store: Any, vmi: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Every virt-launcher pod of ``vmi`` (the label index answers; no scan of the namespace)."""
    return store.list(PODS, vmi["metadata"]["namespace"], copy=False,
                      label_selector=f"kubevirt.io/created-by={vmi['metadata']['uid']},kubevirt.io=virt-launcher")


def live_migratability(store: Any, vmi: Dict[str, Any]) -> Dict[str, str]:
    namespace = vmi["metadata"]["namespace"]
    return migratability(vmi, lambda claim: store.peek(CLAIMS, claim, namespace))


def refresh_migratable(store: Any) -> Callable[[Dict[str, Any]], None]:
    """A mutation that recomputes the VMI's LiveMigratable condition."""
    def change(vmi: Dict[str, Any]) -> None:
        state = live_migratability(store, vmi)
        set_condition(vmi.setdefault("status", {}).setdefault("conditions", []), "LiveMigratable",
                      state["status"], state["reason"], state["message"])
    return change


def vmi_named_by_launcher(store: Any, pod: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The VMI a virt-launcher pod names in its ``kubevirt.io/domain`` annotation (None for other pods)."""
    if (pod["metadata"].get("labels") or {}).get("kubevirt.io") != "virt-launcher":
        return None
    name = (pod["metadata"].get("annotations") or {}).get("kubevirt.io/domain")
    return store.peek(VMIS, name, pod["metadata"]["namespace"]) if name else None
