"""Kubeconfig files for the simulator: the server URL, the CA that signed its certificate, a token.

The shape is what ``oc login`` writes for an OpenShift cluster: a cluster entry with
``certificate-authority-data`` (base64 of the PEM CA bundle), a user entry with a bearer token,
and a context tying them together with a default namespace.  Without a CA (``--insecure-http``)
the cluster entry has just the ``http://`` server, which client-go will not send a token to.
"""
from __future__ import annotations

import base64
import os
from typing import Any, Dict, Optional

import yaml

CONTEXT = "clustersim"
USER = "kube:admin/clustersim"  # oc login names users <user>/<cluster>


def kubeconfig_dict(url: str, token: str, namespace: str = "default",
                    ca_pem: Optional[bytes] = None) -> Dict[str, Any]:
    cluster: Dict[str, Any] = {"server": url}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": cluster}],
        "users": [{"name": USER, "user": {"token": token}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": USER, "namespace": namespace}}],
        "current-context": CONTEXT,
        "preferences": {},
    }


def write_kubeconfig(path: str, url: str, token: str, ca_pem: Optional[bytes] = None) -> str:
    write_private(path, yaml.safe_dump(kubeconfig_dict(url, token, ca_pem=ca_pem), default_flow_style=False).encode())
    return path


def write_private(path: str, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` atomically, readable only by the owner from the first byte on."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
