"""The ServiceAccount controller and the legacy token controller of kube-controller-manager.

kubernetes/kubernetes release-1.33:

* ``pkg/controller/serviceaccount/serviceaccounts_controller.go``: every namespace that is not
  terminating gets the ServiceAccount ``default`` (and gets it back when it is deleted);
* ``pkg/controller/serviceaccount/tokens_controller.go``: a Secret of type
  ``kubernetes.io/service-account-token`` whose ``kubernetes.io/service-account.name``
  annotation names an existing ServiceAccount gets ``data.token``, ``data.namespace`` and the
  ``kubernetes.io/service-account.uid`` annotation; one naming a missing account (or another uid)
  is deleted, and an account's token secrets go when the account goes;
* OpenShift: openshift-controller-manager adds ``builder`` and ``deployer`` to every project
  (OKD/OpenShift 4 docs, "Understanding and creating service accounts" → "Default project service
  accounts and roles"; they need the Build and DeploymentConfig capabilities, which a default
  4.20 install enables).

The token is a JWT from the simulator's issuer (``authn.py``, ``serviceaccount_tokens.py``) bound
to the Secret, so it authenticates as the account until the Secret is deleted, as a legacy token
does; its claims are those of a bound token, not the legacy ``kubernetes/serviceaccount`` issuer's,
and ``data.ca.crt`` is not written (the controller has no root CA file here).  Not simulated:
the image pull (dockercfg) Secrets OpenShift makes for each account.
"""
from __future__ import annotations

import base64
from typing import Any, Dict, Optional

from .controller import Controller, watches
from .errors import ApiError

TOKEN_TYPE = "kubernetes.io/service-account-token"
NAME_ANNOTATION = "kubernetes.io/service-account.name"
UID_ANNOTATION = "kubernetes.io/service-account.uid"
DEFAULT_ACCOUNTS = ("default", "builder", "deployer")
LEGACY_TOKEN_SECONDS = 10 * 365 * 24 * 3600  # legacy tokens do not expire; bound ones must


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class ServiceAccountController(Controller):
    name = "serviceaccount"

    def setup(self) -> None:
        self.cluster.after(0, self.sync_all)

    def sync_all(self) -> None:
        for namespace in self.store.list("namespaces", copy=False):
            self.sync_namespace(namespace["metadata"]["name"])

    def sync_namespace(self, namespace: str) -> None:
        """Create the default accounts a live namespace lacks (public: ServiceAccount admission
        calls it for a namespace whose controller pass has not run yet)."""
        stored = self.store.peek("namespaces", namespace)
        if stored is None or stored["metadata"].get("deletionTimestamp"):
            return
        for account in DEFAULT_ACCOUNTS:
            if self.store.peek("serviceaccounts", account, namespace) is None:
                try:
                    self.store.create("serviceaccounts", {"metadata": {"name": account}}, namespace)
                except ApiError:
                    pass

    @watches("namespaces")
    def on_namespace(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is not None:
            self.sync_namespace(new["metadata"]["name"])

    @watches("serviceaccounts")
    def on_account(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if event == "DELETED" and old is not None:
            namespace = old["metadata"]["namespace"]
            if old["metadata"]["name"] in DEFAULT_ACCOUNTS:
                self.sync_namespace(namespace)
            self._delete_tokens_of(old)

    def _delete_tokens_of(self, account: Dict[str, Any]) -> None:
        namespace, name = account["metadata"]["namespace"], account["metadata"]["name"]
        for secret in self.store.list("secrets", namespace, field_selector="type=" + TOKEN_TYPE, copy=False):
            annotations = secret["metadata"].get("annotations") or {}
            if annotations.get(NAME_ANNOTATION) == name:
                _delete_quietly(self.store, secret)


class TokensController(Controller):
    name = "serviceaccount-tokens"

    @watches("secrets")
    def on_secret(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is None or new.get("type") != TOKEN_TYPE or new["metadata"].get("deletionTimestamp"):
            return
        meta = new["metadata"]
        annotations = meta.get("annotations") or {}
        account = self.store.peek("serviceaccounts", annotations.get(NAME_ANNOTATION, ""), meta["namespace"])
        wanted_uid = annotations.get(UID_ANNOTATION)
        if account is None or (wanted_uid and wanted_uid != account["metadata"].get("uid")):
            _delete_quietly(self.store, new)
            return
        if (new.get("data") or {}).get("token") and wanted_uid:
            return
        token = self.cluster.controller("authentication").issue_secret_token(meta["namespace"], account, new,
                                                                          LEGACY_TOKEN_SECONDS)

        def fill(secret: Dict[str, Any]) -> Any:
            secret["metadata"].setdefault("annotations", {})[UID_ANNOTATION] = account["metadata"]["uid"]
            data = secret.setdefault("data", {})
            data.setdefault("token", _b64(token))
            data["namespace"] = _b64(meta["namespace"])
            return None
        self.store.mutate("secrets", meta["name"], fill, meta["namespace"])


def _delete_quietly(store: Any, obj: Dict[str, Any]) -> None:
    try:
        store.delete("secrets", obj["metadata"]["name"], obj["metadata"]["namespace"])
    except ApiError:
        pass
