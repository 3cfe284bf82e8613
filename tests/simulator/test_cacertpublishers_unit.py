"""The CA bundle ConfigMaps of every namespace, on an in-process cluster (no server).

kubernetes/kubernetes release-1.33 ``pkg/controller/certificates/rootcacertpublisher``;
openshift/kubernetes ``openshift-kube-controller-manager/servicecacertpublisher``;
openshift/service-ca-operator's ConfigMap CA bundle injector.
"""
import pytest
from cryptography import x509

from clustersim.cacertpublishers import DESCRIPTION, root_ca_repair, service_ca_repair


@pytest.fixture()
def cluster(core_cluster):
    return core_cluster


def configmap(cluster, name, namespace="default"):
    return cluster.store.get("configmaps", name, namespace)


def test_every_namespace_gets_both_bundles_and_the_service_ca_is_injected(cluster):
    cluster.store.create("namespaces", {"metadata": {"name": "fresh"}})
    assert cluster.settle()
    root = configmap(cluster, "kube-root-ca.crt", "fresh")
    assert root["metadata"]["annotations"] == {"kubernetes.io/description": DESCRIPTION}
    assert root["data"] == {"ca.crt": ""}  # no server started: no serving CA to publish
    service = configmap(cluster, "openshift-service-ca.crt", "fresh")
    assert service["metadata"]["annotations"] == {"service.beta.openshift.io/inject-cabundle": "true"}
    certificate = x509.load_pem_x509_certificate(service["data"]["service-ca.crt"].encode())
    assert certificate.subject.rfc4514_string().startswith("CN=openshift-service-serving-signer@")


def test_a_deleted_or_edited_bundle_comes_back(cluster):
    assert cluster.settle()
    cluster.store.delete("configmaps", "kube-root-ca.crt", "default")
    cluster.store.mutate("configmaps", "openshift-service-ca.crt",
                         lambda cm: cm["metadata"].update(annotations={"mine": "x"}), "default")
    assert cluster.settle()
    assert configmap(cluster, "kube-root-ca.crt", "default")["data"] == {"ca.crt": ""}
    assert configmap(cluster, "openshift-service-ca.crt", "default")["metadata"]["annotations"] == {
        "service.beta.openshift.io/inject-cabundle": "true"}


def test_a_new_serving_ca_reaches_every_namespace(cluster):
    assert cluster.settle()
    cluster.controller("root-ca-cert-publisher").set_ca_bundle("PEM")
    assert cluster.settle()
    assert configmap(cluster, "kube-root-ca.crt", "default")["data"] == {"ca.crt": "PEM"}


def test_any_configmap_asking_for_the_service_ca_gets_it(cluster):
    cluster.store.create("configmaps", {"metadata": {"name": "mine", "annotations": {
        "service.beta.openshift.io/inject-cabundle": "true"}}, "data": {"other": "kept"}}, "default")
    assert cluster.settle()
    data = configmap(cluster, "mine", "default")["data"]
    assert data["other"] == "kept" and data["service-ca.crt"].startswith("-----BEGIN CERTIFICATE-----")


def test_repairs_keep_foreign_annotations_on_the_root_bundle_only():
    root = {"metadata": {"annotations": {"team": "a"}}, "data": {"ca.crt": "old", "extra": "x"}}
    assert root_ca_repair(root, "new")
    assert root["data"] == {"ca.crt": "new"}
    assert root["metadata"]["annotations"] == {"team": "a", "kubernetes.io/description": DESCRIPTION}
    assert not root_ca_repair(root, "new")
    service = {"metadata": {"annotations": {"team": "a", "service.beta.openshift.io/inject-cabundle": "true"}}}
    assert service_ca_repair(service)
    assert service["metadata"]["annotations"] == {"service.beta.openshift.io/inject-cabundle": "true"}
