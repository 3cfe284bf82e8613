"""Fault injection.

Two kinds of faults:

* **HTTP fault rules** (``FaultRule``) applied to API requests before they are served: match on
  verb / resource / namespace / name / subresource, then answer an error code (429 gets a
  ``Retry-After``), add latency, or drop the connection without an answer.  A rule fires
  ``count`` times (None = unlimited) and/or with probability ``rate`` drawn from an RNG seeded
  per rule, so runs are reproducible.
* **Operator faults**: named one-shot switches that simulated operators consult, e.g.
  ``cluster.faults.take("migration-fail", "vms/vm-1")`` — tests arm them with
  ``POST /_sim/faults {"operator": "migration-fail", "target": "vms/vm-1"}``.
"""
from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

_RULE_FIELDS = ("verb", "resource", "namespace", "name", "subresource", "code", "message", "retry_after",
                "count", "rate", "latency_ms", "drop", "seed")


@dataclass
class FaultRule:
    verb: Union[str, List[str]] = "*"  # get, list, watch, create, update, patch, delete, deletecollection
    resource: str = "*"  # resource key ("kubevirt.io/virtualmachines") or plural ("virtualmachines")
    namespace: str = "*"
    name: str = "*"
    subresource: str = "*"
    code: Optional[int] = None  # HTTP status to answer; None = only latency/drop
    message: Optional[str] = None
    retry_after: int = 1
    count: Optional[int] = None  # fire this many times, then retire; None = unlimited
    rate: Optional[float] = None  # probability per matching request (seeded); None = always
    latency_ms: float = 0.0
    drop: bool = False  # close the connection without answering
    seed: int = 0
    id: int = 0
    fired: int = 0
    _rng: random.Random = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed or self.id)

    def matches(self, verb: str, resource_key: str, namespace: str, name: str, subresource: str) -> bool:
        verbs = [self.verb] if isinstance(self.verb, str) else list(self.verb)
        if "*" not in verbs and verb not in verbs:
            return False
        if self.resource != "*" and self.resource not in (resource_key, resource_key.rsplit("/", 1)[-1]):
            return False
        if self.namespace != "*" and self.namespace != (namespace or ""):
            return False
        if self.name != "*" and self.name != (name or ""):
            return False
        if self.subresource != "*" and self.subresource != (subresource or ""):
            return False
        return True

    def to_dict(self) -> Dict[str, Any]:
        data = {k: getattr(self, k) for k in _RULE_FIELDS}
        data.update(id=self.id, fired=self.fired)
        return data


@dataclass
class FaultDecision:
    latency: float = 0.0
    code: Optional[int] = None
    message: Optional[str] = None
    retry_after: Optional[int] = None
    drop: bool = False
    rule_ids: List[int] = field(default_factory=list)


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: List[FaultRule] = []
        self._next_id = 1
        self._operator: Dict[Tuple[str, str], Dict[str, Any]] = {}

    # -- HTTP rules -------------------------------------------------------------------------
    def add_rule(self, spec: Dict[str, Any]) -> FaultRule:
        unknown = set(spec) - set(_RULE_FIELDS)
        if unknown:
            raise ValueError(f"unknown fault rule fields: {sorted(unknown)}")
        with self._lock:
            rule = FaultRule(**spec, id=self._next_id)
            self._next_id += 1
            self._rules.append(rule)
            return rule

    def add(self, spec: Dict[str, Any]) -> Dict[str, Any]:
        """Add an HTTP rule, or arm an operator fault when ``spec`` has an ``operator`` key."""
        if "operator" in spec:
            spec = dict(spec)
            name = spec.pop("operator")
            target = spec.pop("target", "*")
            count = spec.pop("count", 1)
            self.arm(name, target, count, **spec)
            return {"operator": name, "target": target, "count": count, **spec}
        return self.add_rule(spec).to_dict()

    def check(self, verb: str, resource_key: str, namespace: str, name: str, subresource: str) -> Optional[FaultDecision]:
        with self._lock:
            decision: Optional[FaultDecision] = None
            for rule in list(self._rules):
                if not rule.matches(verb, resource_key, namespace, name, subresource):
                    continue
                if rule.rate is not None and rule._rng.random() >= rule.rate:
                    continue
                rule.fired += 1
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
                decision = decision or FaultDecision()
                decision.rule_ids.append(rule.id)
                decision.latency += rule.latency_ms / 1000.0
                if rule.drop:
                    decision.drop = True
                if rule.code is not None and decision.code is None:
                    decision.code = rule.code
                    decision.message = rule.message
                    decision.retry_after = rule.retry_after if rule.code in (429, 503) else None
            return decision

    # -- operator faults --------------------------------------------------------------------
    def arm(self, name: str, target: str = "*", count: int = 1, **info: Any) -> None:
        """Make the next ``count`` ``take(name, target)`` calls return ``info`` (a dict)."""
        with self._lock:
            self._operator[(name, target)] = {"count": count, "info": info}

    def take(self, name: str, target: str = "*") -> Optional[Dict[str, Any]]:
        """Consume one armed operator fault for ``target`` (or the wildcard ``"*"``).

        Returns the fault's extra info (``{}`` when none was given) or None when nothing is armed.
        """
        with self._lock:
            for key in ((name, target), (name, "*")):
                entry = self._operator.get(key)
                if entry is None:
                    continue
                entry["count"] -= 1
                if entry["count"] <= 0:
                    del self._operator[key]
                return dict(entry["info"])
            return None

    def peek(self, name: str, target: str = "*") -> bool:
        with self._lock:
            return (name, target) in self._operator or (name, "*") in self._operator

    # -- admin ------------------------------------------------------------------------------
    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._operator.clear()

    def describe(self) -> Dict[str, Any]:
        with self._lock:
            return {
                "rules": [r.to_dict() for r in self._rules],
                "operator": [{"operator": n, "target": t, "count": e["count"], **e["info"]}
                             for (n, t), e in sorted(self._operator.items())],
            }
