"""Kubeconfig files for the simulator (token auth over plain HTTP on loopback)."""
from __future__ import annotations

import os
from typing import Any, Dict

import yaml

CONTEXT = "clustersim"


def kubeconfig_dict(url: str, token: str, namespace: str = "default") -> Dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {"server": url}}],
        "users": [{"name": "clustersim-admin", "user": {"token": token}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": "clustersim-admin",
                                                   "namespace": namespace}}],
        "current-context": CONTEXT,
        "preferences": {},
    }


def write_kubeconfig(path: str, url: str, token: str) -> str:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        yaml.safe_dump(kubeconfig_dict(url, token), handle, default_flow_style=False)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path
