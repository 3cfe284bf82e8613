"""The CA bundle ConfigMaps every namespace holds.

* kube-controller-manager's root CA publisher (kubernetes/kubernetes release-1.33,
  ``pkg/controller/certificates/rootcacertpublisher/publisher.go``): every namespace gets the
  ConfigMap ``kube-root-ca.crt`` with ``data.ca.crt`` (the CA bundle that verifies the
  kube-apiserver) and the annotation ``kubernetes.io/description``; a deleted one comes back, an
  edited one gets its data and that annotation back (other annotations and labels stay). A
  namespace that is gone or terminating is skipped. The bundle is the simulator's serving CA
  (``tls.py``, set by whoever starts the server through :meth:`RootCACertPublisher.set_ca_bundle`);
  a cluster without a server (in-process tests, ``--insecure-http``) publishes an empty bundle.
* OpenShift's kube-controller-manager carries a second publisher (openshift/kubernetes,
  ``openshift-kube-controller-manager/servicecacertpublisher/publisher.go``, read through the
  code index, not pinned to a 4.20 tag): every namespace gets ``openshift-service-ca.crt``,
  created with ``data.service-ca.crt: ""`` and exactly the annotation
  ``service.beta.openshift.io/inject-cabundle: "true"`` (an update resets the annotations to it);
  openshift/service-ca-operator's ConfigMap CA bundle injector then writes the service CA into
  ``service-ca.crt`` of every ConfigMap carrying that annotation (its README). The simulator's
  injector writes one self-signed CA per cluster, ``openshift-service-serving-signer@<epoch>``
  (the service CA's subject); no serving certificates are issued for Services.
"""
from __future__ import annotations

import datetime
import time
from typing import Any, Callable, Dict, Optional

from .controller import Controller, watches
from .errors import ApiError

ROOT_CA_NAME = "kube-root-ca.crt"
DESCRIPTION_ANNOTATION = "kubernetes.io/description"
DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
               "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
               "distributions of Kubernetes clusters.")
SERVICE_CA_NAME = "openshift-service-ca.crt"
INJECT_ANNOTATION = "service.beta.openshift.io/inject-cabundle"
SERVICE_CA_KEY = "service-ca.crt"
CONFIGMAPS = "configmaps"


def root_ca_repair(cm: Dict[str, Any], bundle: str) -> bool:
    """Make ``kube-root-ca.crt`` what the publisher keeps it; True if anything changed."""
    annotations = cm["metadata"].get("annotations") or {}
    if cm.get("data") == {"ca.crt": bundle} and annotations.get(DESCRIPTION_ANNOTATION):
        return False
    cm["data"] = {"ca.crt": bundle}
    cm["metadata"]["annotations"] = dict(annotations, **{DESCRIPTION_ANNOTATION: DESCRIPTION})
    return True


def service_ca_repair(cm: Dict[str, Any]) -> bool:
    """``openshift-service-ca.crt`` gets back exactly the injection annotation."""
    wanted = {INJECT_ANNOTATION: "true"}
    if cm["metadata"].get("annotations") == wanted:
        return False
    cm["metadata"]["annotations"] = wanted
    return True


class _NamespacePublisher(Controller):
    """One ConfigMap of a fixed name in every live namespace, re-made when deleted or edited."""

    configmap_name = ""

    def setup(self) -> None:
        self.cluster.after(0, self.sync_all)

    def sync_all(self) -> None:
        for namespace in self.store.list("namespaces", copy=False):
            self.sync_namespace(namespace["metadata"]["name"])

    def new_configmap(self) -> Dict[str, Any]:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def repair(self, cm: Dict[str, Any]) -> bool:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def sync_namespace(self, namespace: str) -> None:
        stored = self.store.peek("namespaces", namespace)
        if stored is None or stored["metadata"].get("deletionTimestamp"):
            return
        current = self.store.peek(CONFIGMAPS, self.configmap_name, namespace)
        try:
            if current is None:
                self.store.create(CONFIGMAPS, self.new_configmap(), namespace, internal=False)
            elif not current["metadata"].get("deletionTimestamp"):
                fix: Callable[[Dict[str, Any]], Any] = lambda cm: None if self.repair(cm) else False
                self.store.mutate(CONFIGMAPS, self.configmap_name, fix, namespace)
        except ApiError:
            pass  # namespace going or the object changed meanwhile: its next event brings us back

    @watches("namespaces")
    def on_namespace(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is not None:
            self.sync_namespace(new["metadata"]["name"])

    @watches(CONFIGMAPS)
    def on_configmap(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        obj = new or old or {}
        meta = obj.get("metadata") or {}
        if meta.get("name") == self.configmap_name and (event == "DELETED" or event == "MODIFIED"):
            self.sync_namespace(meta.get("namespace", ""))


class RootCACertPublisher(_NamespacePublisher):
    name = "root-ca-cert-publisher"
    configmap_name = ROOT_CA_NAME

    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        self.bundle = ""

    def set_ca_bundle(self, pem: str) -> None:
        """The CA that verifies the simulator's serving certificate (public: the server starter
        calls it); every namespace's ConfigMap follows, as upstream re-queues them on a CA change."""
        if pem != self.bundle:
            self.bundle = pem
            self.sync_all()

    def new_configmap(self) -> Dict[str, Any]:
        return {"metadata": {"name": ROOT_CA_NAME, "annotations": {DESCRIPTION_ANNOTATION: DESCRIPTION}},
                "data": {"ca.crt": self.bundle}}

    def repair(self, cm: Dict[str, Any]) -> bool:
        return root_ca_repair(cm, self.bundle)


class ServiceCACertPublisher(_NamespacePublisher):
    name = "service-ca-cert-publisher"
    configmap_name = SERVICE_CA_NAME

    def new_configmap(self) -> Dict[str, Any]:
        return {"metadata": {"name": SERVICE_CA_NAME, "annotations": {INJECT_ANNOTATION: "true"}},
                "data": {SERVICE_CA_KEY: ""}}

    def repair(self, cm: Dict[str, Any]) -> bool:
        return service_ca_repair(cm)


class ServiceCABundleInjector(Controller):
    """service-ca-operator's ConfigMap injector: ``service-ca.crt`` of every annotated ConfigMap."""

    name = "service-ca-bundle-injector"

    def __init__(self, cluster: Any) -> None:
        super().__init__(cluster)
        self._bundle = ""

    def bundle(self) -> str:
        if not self._bundle:
            self._bundle = service_ca_certificate(int(time.time()))
        return self._bundle

    @watches(CONFIGMAPS)
    def on_configmap(self, event: str, new: Optional[Dict[str, Any]], old: Optional[Dict[str, Any]]) -> None:
        if new is None or (new["metadata"].get("annotations") or {}).get(INJECT_ANNOTATION) != "true":
            return
        if (new.get("data") or {}).get(SERVICE_CA_KEY) == self.bundle() or new["metadata"].get("deletionTimestamp"):
            return

        def inject(cm: Dict[str, Any]) -> Any:
            data = cm.get("data") or {}
            if data.get(SERVICE_CA_KEY) == self.bundle():
                return False
            cm["data"] = dict(data, **{SERVICE_CA_KEY: self.bundle()})
            return None
        try:
            self.store.mutate(CONFIGMAPS, new["metadata"]["name"], inject, new["metadata"]["namespace"])
        except ApiError:
            pass


def service_ca_certificate(epoch: int) -> str:
    """A self-signed CA certificate (PEM) with the service CA's subject."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"openshift-service-serving-signer@{epoch}")])
    start = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(start)
                   .not_valid_after(start + datetime.timedelta(days=780))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode()
