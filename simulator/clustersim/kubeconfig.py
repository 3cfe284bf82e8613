"""Kubeconfig files for the simulator: the server URL, the CA that signed its certificate, two users.

Two contexts on one cluster entry (``certificate-authority-data``: base64 of the PEM CA bundle):

* ``clustersim`` (the default current context): user ``kube:admin/clustersim`` with a bearer
  token, what ``oc login -u kubeadmin`` writes (``kube:admin``, see ``authn.py``);
* ``admin``: user ``admin`` with ``client-certificate-data`` / ``client-key-data`` for
  ``CN=system:admin, O=system:masters``, the context, user and current context of the installer's
  ``auth/kubeconfig`` (openshift/installer ``pkg/asset/kubeconfig/kubeconfig.go``, ``admin.go``).

``clustersim start --current-context admin`` makes the second one current.  Without a CA
(``--insecure-http``) there is no TLS, so no client certificate: the cluster entry has just the
``http://`` server and the token user, which client-go will not send the token to.
"""
from __future__ import annotations

import base64
import os
from typing import Any, Dict, Optional, Tuple

import yaml

CONTEXT = "clustersim"
USER = "kube:admin/clustersim"  # oc login names users <user>/<cluster>
ADMIN_CONTEXT = ADMIN_USER = "admin"  # the installer's names
CONTEXTS = (CONTEXT, ADMIN_CONTEXT)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kubeconfig_dict(url: str, token: str, namespace: str = "default", ca_pem: Optional[bytes] = None,
                    admin_certificate: Optional[Tuple[bytes, bytes]] = None,
                    current_context: str = CONTEXT) -> Dict[str, Any]:
    """``admin_certificate``: (certificate PEM, key PEM) of ``system:admin``, for the ``admin`` context."""
    cluster: Dict[str, Any] = {"server": url}
    if ca_pem:
        cluster["certificate-authority-data"] = _b64(ca_pem)
    users = [{"name": USER, "user": {"token": token}}]
    contexts = [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": USER, "namespace": namespace}}]
    if admin_certificate:
        users.append({"name": ADMIN_USER, "user": {"client-certificate-data": _b64(admin_certificate[0]),
                                                   "client-key-data": _b64(admin_certificate[1])}})
        contexts.append({"name": ADMIN_CONTEXT, "context": {"cluster": CONTEXT, "user": ADMIN_USER}})
    if current_context not in (c["name"] for c in contexts):
        raise ValueError(f"no context {current_context!r} in this kubeconfig (contexts: "
                         f"{', '.join(c['name'] for c in contexts)})")
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": cluster}],
        "users": users,
        "contexts": contexts,
        "current-context": current_context,
        "preferences": {},
    }


def write_kubeconfig(path: str, url: str, token: str, ca_pem: Optional[bytes] = None,
                     admin_certificate: Optional[Tuple[bytes, bytes]] = None, current_context: str = CONTEXT) -> str:
    config = kubeconfig_dict(url, token, ca_pem=ca_pem, admin_certificate=admin_certificate,
                             current_context=current_context)
    write_private(path, yaml.safe_dump(config, default_flow_style=False).encode())
    return path


def write_private(path: str, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` atomically, readable only by the owner from the first byte on."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
