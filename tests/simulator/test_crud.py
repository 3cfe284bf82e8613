"""Object semantics over HTTP: create/get/replace/delete, metadata bookkeeping and status."""
import json

import pytest
from kubernetes.dynamic.exceptions import ApiException

from api_helpers import resource


def status_of(error):
    return json.loads(error.body)


@pytest.fixture(scope="module")
def cms(client):
    return resource(client, "v1", "ConfigMap")


def test_create_sets_uid_resource_version_generation_and_timestamp(cms):
    created = cms.create(namespace="default", body={"metadata": {"name": "crud-a"}, "data": {"k": "v"}})
    meta = created.metadata
    # a ConfigMap has no generation (pkg/registry/core/configmap/strategy.go never sets one)
    assert meta.uid and meta.creationTimestamp and meta.generation is None
    assert int(meta.resourceVersion) > 0
    fetched = cms.get(name="crud-a", namespace="default")
    assert fetched.metadata.uid == meta.uid and fetched.data.k == "v"


def test_resource_version_is_one_global_counter(client, cms):
    first = cms.create(namespace="default", body={"metadata": {"name": "crud-rv1"}})
    sc = resource(client, "storage.k8s.io/v1", "StorageClass")
    second = sc.create(body={"metadata": {"name": "crud-rv-class"}, "provisioner": "example.com/none"})
    assert int(second.metadata.resourceVersion) > int(first.metadata.resourceVersion)
    listed = cms.get(namespace="default")
    assert int(listed.metadata.resourceVersion) >= int(second.metadata.resourceVersion)


def test_create_existing_is_409_already_exists(cms):
    cms.create(namespace="default", body={"metadata": {"name": "crud-dup"}})
    with pytest.raises(ApiException) as info:
        cms.create(namespace="default", body={"metadata": {"name": "crud-dup"}})
    assert info.value.status == 409
    body = status_of(info.value)
    assert body["reason"] == "AlreadyExists" and body["message"] == 'configmaps "crud-dup" already exists'
    assert body["details"] == {"name": "crud-dup", "kind": "configmaps"}


def test_generate_name(cms):
    created = cms.create(namespace="default", body={"metadata": {"generateName": "gen-"}})
    assert created.metadata.name.startswith("gen-") and len(created.metadata.name) == len("gen-") + 5


def test_get_missing_is_404_with_group(client):
    vms = resource(client, "kubevirt.io/v1", "VirtualMachine")
    with pytest.raises(ApiException) as info:
        vms.get(name="nope", namespace="vms")
    body = status_of(info.value)
    assert info.value.status == 404 and body["reason"] == "NotFound"
    assert body["message"] == 'virtualmachines.kubevirt.io "nope" not found'
    assert body["details"] == {"name": "nope", "group": "kubevirt.io", "kind": "virtualmachines"}


def test_create_in_missing_namespace_is_404_namespace(cms):
    with pytest.raises(ApiException) as info:
        cms.create(namespace="no-such-ns", body={"metadata": {"name": "x"}})
    assert info.value.status == 404
    assert status_of(info.value)["message"] == 'namespaces "no-such-ns" not found'


@pytest.mark.parametrize("name", ["Upper", "under_score", "-lead", "trail-", "a" * 254])
def test_invalid_names_are_422(cms, name):
    with pytest.raises(ApiException) as info:
        cms.create(namespace="default", body={"metadata": {"name": name}})
    body = status_of(info.value)
    assert info.value.status == 422 and body["reason"] == "Invalid"
    assert body["details"]["causes"][0]["field"] == "metadata.name"


def test_namespace_names_are_dns_labels(client):
    namespaces = resource(client, "v1", "Namespace")
    with pytest.raises(ApiException) as info:
        namespaces.create(body={"metadata": {"name": "has.dot"}})
    assert info.value.status == 422


def test_replace_with_stale_resource_version_is_409_conflict(cms):
    created = cms.create(namespace="default", body={"metadata": {"name": "crud-conflict"}, "data": {"a": "1"}})
    stale = created.to_dict()
    cms.patch(name="crud-conflict", namespace="default", body={"data": {"a": "2"}},
              content_type="application/merge-patch+json")
    stale["data"] = {"a": "3"}
    with pytest.raises(ApiException) as info:
        cms.replace(namespace="default", body=stale)
    body = status_of(info.value)
    assert info.value.status == 409 and body["reason"] == "Conflict"
    assert body["message"] == ('Operation cannot be fulfilled on configmaps "crud-conflict": the object has been modified; '
                               'please apply your changes to the latest version and try again')
    fresh = cms.get(name="crud-conflict", namespace="default").to_dict()
    fresh["data"] = {"a": "3"}
    assert cms.replace(namespace="default", body=fresh).data.a == "3"


def test_replace_missing_is_404(cms):
    with pytest.raises(ApiException) as info:
        cms.replace(namespace="default", body={"metadata": {"name": "never-created"}})
    assert info.value.status == 404


def test_generation_bumps_on_spec_change_only(client):
    vms = resource(client, "kubevirt.io/v1", "VirtualMachine")
    before = vms.get(name="vm-000", namespace="vms")
    labelled = vms.patch(name="vm-000", namespace="vms", body={"metadata": {"labels": {"touched": "yes"}}},
                         content_type="application/merge-patch+json")
    assert labelled.metadata.generation == before.metadata.generation
    changed = vms.patch(name="vm-000", namespace="vms", body={"spec": {"template": {"metadata": {"labels": {"x": "y"}}}}},
                        content_type="application/merge-patch+json")
    assert changed.metadata.generation == before.metadata.generation + 1


def test_noop_write_does_not_bump_resource_version(cms):
    created = cms.create(namespace="default", body={"metadata": {"name": "crud-noop"}, "data": {"a": "1"}})
    again = cms.patch(name="crud-noop", namespace="default", body={"data": {"a": "1"}},
                      content_type="application/merge-patch+json")
    assert again.metadata.resourceVersion == created.metadata.resourceVersion


def test_status_is_kept_apart_from_spec(client):
    vms = resource(client, "kubevirt.io/v1", "VirtualMachine")
    vm = vms.get(name="vm-001", namespace="vms").to_dict()
    original_status = vm["status"]
    vm["status"] = {"printableStatus": "Hacked"}
    vm["spec"]["template"]["metadata"]["labels"]["status-test"] = "1"
    replaced = vms.replace(namespace="vms", body=vm)
    assert replaced.status.printableStatus == original_status["printableStatus"]
    assert replaced.spec.template.metadata.labels["status-test"] == "1"
    # the status subresource changes status only
    current = vms.get(name="vm-001", namespace="vms").to_dict()
    current["status"]["printableStatus"] = "Stopping"
    current["spec"]["template"]["metadata"]["labels"]["status-test"] = "2"
    written = vms.status.replace(namespace="vms", body=current)
    assert written.status.printableStatus == "Stopping"
    assert written.spec.template.metadata.labels["status-test"] == "1"
    patched = vms.status.patch(name="vm-001", namespace="vms", body={"status": {"printableStatus": "Running"}},
                               content_type="application/merge-patch+json")
    assert patched.status.printableStatus == "Running"


def test_create_drops_status_for_kinds_with_status_subresource(client):
    pvcs = resource(client, "v1", "PersistentVolumeClaim")
    created = pvcs.create(namespace="default", body={
        "metadata": {"name": "crud-pvc"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                 "storageClassName": "px-csi-db"},
        "status": {"phase": "Bound"}})
    assert created.status.phase == "Pending"
    assert created.spec.volumeMode == "Filesystem"  # defaulted


def test_delete_without_finalizers_removes(cms):
    cms.create(namespace="default", body={"metadata": {"name": "crud-del"}})
    cms.delete(name="crud-del", namespace="default")
    with pytest.raises(ApiException) as info:
        cms.get(name="crud-del", namespace="default")
    assert info.value.status == 404


def test_delete_with_finalizer_sets_deletion_timestamp_until_removed(cms):
    cms.create(namespace="default", body={"metadata": {"name": "crud-fin", "finalizers": ["example.com/hold"]}})
    response = cms.delete(name="crud-fin", namespace="default")
    assert response.metadata.deletionTimestamp
    held = cms.get(name="crud-fin", namespace="default")
    assert held.metadata.deletionTimestamp and held.metadata.finalizers == ["example.com/hold"]
    with pytest.raises(ApiException) as info:  # no new finalizers while terminating
        cms.patch(name="crud-fin", namespace="default", body={"metadata": {"finalizers": ["example.com/hold", "x/y"]}},
                  content_type="application/merge-patch+json")
    assert info.value.status == 422
    cms.patch(name="crud-fin", namespace="default", body={"metadata": {"finalizers": None}},
              content_type="application/merge-patch+json")
    with pytest.raises(ApiException):
        cms.get(name="crud-fin", namespace="default")


def test_delete_preconditions(cms):
    created = cms.create(namespace="default", body={"metadata": {"name": "crud-pre"}})
    with pytest.raises(ApiException) as info:
        cms.delete(name="crud-pre", namespace="default", body={"preconditions": {"uid": "other"}})
    assert info.value.status == 409
    cms.delete(name="crud-pre", namespace="default", body={"preconditions": {"uid": created.metadata.uid}})


def test_owner_references_are_garbage_collected(sim, cms):
    owner = cms.create(namespace="default", body={"metadata": {"name": "crud-owner"}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "crud-owner", "uid": owner.metadata.uid}
    cms.create(namespace="default", body={"metadata": {"name": "crud-child", "ownerReferences": [ref]}})
    cms.create(namespace="default", body={"metadata": {"name": "crud-orphan", "ownerReferences": [ref]}})
    cms.delete(name="crud-owner", namespace="default")
    assert sim.settle()
    names = {i.metadata.name for i in cms.get(namespace="default").items}
    assert "crud-child" not in names and "crud-orphan" not in names


def test_orphan_propagation_keeps_dependents(sim, cms):
    owner = cms.create(namespace="default", body={"metadata": {"name": "crud-owner2"}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "crud-owner2", "uid": owner.metadata.uid}
    cms.create(namespace="default", body={"metadata": {"name": "crud-child2", "ownerReferences": [ref]}})
    cms.delete(name="crud-owner2", namespace="default", body={"propagationPolicy": "Orphan"})
    assert sim.settle()
    assert cms.get(name="crud-child2", namespace="default")


def test_orphan_propagation_keeps_dependents_of_an_owner_held_by_finalizers(sim, cms):
    owner = cms.create(namespace="default", body={"metadata": {"name": "crud-owner3",
                                                               "finalizers": ["example.com/hold"]}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "crud-owner3", "uid": owner.metadata.uid}
    cms.create(namespace="default", body={"metadata": {"name": "crud-child3", "ownerReferences": [ref]}})
    answer = cms.delete(name="crud-owner3", namespace="default", body={"propagationPolicy": "Orphan"})
    assert answer.metadata.finalizers == ["example.com/hold", "orphan"]
    assert sim.settle()
    cms.patch(name="crud-owner3", namespace="default", body={"metadata": {"finalizers": None}},
              content_type="application/merge-patch+json")
    assert sim.settle()
    child = cms.get(name="crud-child3", namespace="default")
    assert not child.metadata.ownerReferences


def test_foreground_propagation_removes_dependents_before_the_owner(sim, cms):
    owner = cms.create(namespace="default", body={"metadata": {"name": "crud-owner4"}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "crud-owner4", "uid": owner.metadata.uid,
           "blockOwnerDeletion": True}
    cms.create(namespace="default", body={"metadata": {"name": "crud-child4", "ownerReferences": [ref]}})
    answer = cms.delete(name="crud-owner4", namespace="default", body={"propagationPolicy": "Foreground"})
    assert answer.metadata.deletionTimestamp and answer.metadata.finalizers == ["foregroundDeletion"]
    assert sim.settle()
    names = {i.metadata.name for i in cms.get(namespace="default").items}
    assert "crud-owner4" not in names and "crud-child4" not in names


def test_deletecollection_with_label_selector(cms):
    for i in range(3):
        cms.create(namespace="default", body={"metadata": {"name": f"crud-coll-{i}", "labels": {"batch": "coll"}}})
    cms.delete(namespace="default", label_selector="batch=coll")
    assert cms.get(namespace="default", label_selector="batch=coll").items == []


def test_namespace_deletion_terminates_then_removes_content(sim, client, cms):
    namespaces = resource(client, "v1", "Namespace")
    namespaces.create(body={"metadata": {"name": "crud-doomed"}})
    cms.create(namespace="crud-doomed", body={"metadata": {"name": "inside"}})
    result = namespaces.delete(name="crud-doomed")
    assert result.status.phase == "Terminating"
    assert sim.settle()
    with pytest.raises(ApiException):
        namespaces.get(name="crud-doomed")


def test_creating_in_terminating_namespace_is_403(sim, client, cms):
    namespaces = resource(client, "v1", "Namespace")
    namespaces.create(body={"metadata": {"name": "crud-stuck"}})
    cms.create(namespace="crud-stuck", body={"metadata": {"name": "holder", "finalizers": ["example.com/hold"]}})
    namespaces.delete(name="crud-stuck")
    with pytest.raises(ApiException) as info:
        cms.create(namespace="crud-stuck", body={"metadata": {"name": "late"}})
    assert info.value.status == 403
    assert "because it is being terminated" in status_of(info.value)["message"]
    cms.patch(name="holder", namespace="crud-stuck", body={"metadata": {"finalizers": None}},
              content_type="application/merge-patch+json")
    assert sim.settle()
    with pytest.raises(ApiException):
        namespaces.get(name="crud-stuck")


def test_body_namespace_mismatch_is_400(cms):
    with pytest.raises(ApiException) as info:
        cms.create(namespace="default", body={"metadata": {"name": "x", "namespace": "vms"}})
    assert info.value.status == 400


def test_scale_subresource(client):
    deployments = resource(client, "apps/v1", "Deployment")
    deployments.create(namespace="default", body={
        "metadata": {"name": "crud-deploy"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "d"}},
                 "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}})
    scale = deployments.scale.get(name="crud-deploy", namespace="default")
    assert scale.kind == "Scale" and scale.spec.replicas == 1
    deployments.scale.patch(name="crud-deploy", namespace="default", body={"spec": {"replicas": 3}},
                            content_type="application/merge-patch+json")
    assert deployments.get(name="crud-deploy", namespace="default").spec.replicas == 3


def test_custom_resource_replace_needs_resource_version(client):
    vms = resource(client, "kubevirt.io/v1", "VirtualMachine")
    vm = vms.get(name="vm-002", namespace="vms").to_dict()
    del vm["metadata"]["resourceVersion"]
    with pytest.raises(ApiException) as info:
        vms.replace(namespace="vms", body=vm)
    assert info.value.status == 422
    assert status_of(info.value)["details"]["causes"][0]["field"] == "metadata.resourceVersion"


def test_builtin_replace_without_resource_version_is_unconditional(cms):
    cms.create(namespace="default", body={"metadata": {"name": "crud-uncond"}, "data": {"a": "1"}})
    assert cms.replace(namespace="default", body={"metadata": {"name": "crud-uncond"}, "data": {"a": "2"}}).data.a == "2"
