"""Start-up configuration: sizes, durations, seed, faults.  CLI > JSON files > environment."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def load_json_or_path(value: Optional[str]) -> Any:
    """Accept inline JSON or a path to a JSON/YAML file."""
    if not value:
        return None
    text = value.strip()
    if text.startswith("{") or text.startswith("["):
        return json.loads(text)
    with open(value, encoding="utf-8") as handle:
        content = handle.read()
    if value.endswith((".yaml", ".yml")):
        import yaml

        return yaml.safe_load(content)
    return json.loads(content)


@dataclass
class Config:
    workers: int = 3
    vms: int = 4
    profile: str = "default"
    durations: Dict[str, float] = field(default_factory=dict)
    time_scale: float = 1.0  # multiplies every duration (0 makes every simulated delay immediate)
    seed: int = 42  # seeds every random choice (generateName, fault rates) for reproducible runs
    faults: List[Dict[str, Any]] = field(default_factory=list)
    state_file: Optional[str] = None
    token: Optional[str] = None
    operators: Optional[List[str]] = None  # None = every module in clustersim/operators
    watch_history: int = 100_000  # changes kept for watch resumption; older resourceVersions get 410
    insecure_http: bool = False  # serve plain HTTP (debugging only: client-go sends no token over it)
    # group/versions not served, as on a cluster without that CRD or capability ("snapshot.storage.k8s.io/v1")
    hidden_apis: List[str] = field(default_factory=list)

    @classmethod
    def from_env(cls, **overrides: Any) -> "Config":
        config = cls(
            workers=_env_int("SIM_WORKERS", 3),
            vms=_env_int("SIM_VMS", 4),
            profile=os.environ.get("SIM_PROFILE", "default"),
            time_scale=float(os.environ.get("SIM_TIME_SCALE", "1") or 1),
            seed=_env_int("SIM_SEED", 42),
            watch_history=_env_int("SIM_WATCH_HISTORY", 100_000),
            insecure_http=os.environ.get("SIM_INSECURE_HTTP", "") in ("1", "true", "yes"),
        )
        env_durations = load_json_or_path(os.environ.get("SIM_DURATIONS"))
        if env_durations:
            config.durations.update(env_durations)
        env_hidden = os.environ.get("SIM_HIDE_APIS")
        if env_hidden:
            config.hidden_apis = [g.strip() for g in env_hidden.split(",") if g.strip()]
        env_ops = os.environ.get("SIM_OPERATORS")
        if env_ops:
            config.operators = [o.strip() for o in env_ops.split(",") if o.strip()]
        for key, value in overrides.items():
            if value is None:
                continue
            if key == "durations":
                config.durations.update(value)
            else:
                setattr(config, key, value)
        return config

    def duration(self, name: str, default: float) -> float:
        """Seconds for a simulated delay: the configured value for ``name`` or the operator's
        default, times ``time_scale``.  Operators choose short defaults (tens of ms)."""
        return float(self.durations.get(name, default)) * self.time_scale

    def to_dict(self) -> Dict[str, Any]:
        return {"workers": self.workers, "vms": self.vms, "profile": self.profile, "durations": self.durations,
                "time_scale": self.time_scale, "seed": self.seed, "operators": self.operators,
                "insecure_http": self.insecure_http, "hidden_apis": self.hidden_apis}
