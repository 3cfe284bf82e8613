"""API-server admission (PVC resize, StorageClass immutability, registry name) and dryRun=All."""
import json

import pytest
from kubernetes.dynamic.exceptions import ApiException

from api_helpers import raw, resource


def status_of(error):
    return json.loads(error.body)


@pytest.fixture(scope="module")
def pvcs(client):
    return resource(client, "v1", "PersistentVolumeClaim")


@pytest.fixture(scope="module")
def classes(client):
    return resource(client, "storage.k8s.io/v1", "StorageClass")


def bound_pvc(sim, pvcs, name, storage_class, size="10Gi"):
    """A Bound PVC on an Immediate class: bound by the storage operator plug-in when it runs,
    else bound by hand the way the PV controller does it (volumeName + status Bound)."""
    pvcs.create(namespace="default", body={"metadata": {"name": name}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
        "storageClassName": storage_class}})
    sim.settle()
    if pvcs.get(namespace="default", name=name).status.phase != "Bound":
        pvcs.patch(namespace="default", name=name, body={"spec": {"volumeName": f"pv-{name}"}},
                   content_type="application/merge-patch+json")
        pvcs.status.patch(namespace="default", name=name, content_type="application/merge-patch+json",
                          body={"status": {"phase": "Bound", "capacity": {"storage": size}}})


def test_pvc_shrink_is_422_field_can_not_be_less(sim, pvcs):
    # Kubernetes 1.33 has RecoverVolumeExpansionFailure on, so the message names status.capacity (a request may be
    # lowered only to a value above it; tests/simulator/test_pvc_resize_recovery.py), not "previous value".
    bound_pvc(sim, pvcs, "adm-shrink", "px-csi-db")
    with pytest.raises(ApiException) as info:
        pvcs.patch(namespace="default", name="adm-shrink", body={"spec": {"resources": {"requests": {"storage": "5Gi"}}}})
    body = status_of(info.value)
    assert info.value.status == 422 and body["reason"] == "Invalid"
    assert "field can not be less than status.capacity" in body["message"]
    assert body["details"]["causes"] == [{"reason": "FieldValueForbidden", "field": "spec.resources.requests.storage",
                                          "message": "Forbidden: field can not be less than status.capacity"}]


def test_pvc_expand_on_class_without_expansion_is_403(sim, pvcs, classes):
    classes.create(body={"metadata": {"name": "adm-noexpand"}, "provisioner": "pxd.portworx.com",
                         "parameters": {"repl": "2"}, "allowVolumeExpansion": False})
    bound_pvc(sim, pvcs, "adm-noexpand", "adm-noexpand")
    with pytest.raises(ApiException) as info:
        pvcs.patch(namespace="default", name="adm-noexpand", body={"spec": {"resources": {"requests": {"storage": "20Gi"}}}})
    body = status_of(info.value)
    assert info.value.status == 403 and body["reason"] == "Forbidden"
    assert body["message"] == ('persistentvolumeclaims "adm-noexpand" is forbidden: only dynamically provisioned pvc can '
                               'be resized and the storageclass that provisions the pvc must support resize')


def test_pvc_expand_on_expandable_class_is_accepted(sim, pvcs):
    bound_pvc(sim, pvcs, "adm-grow", "px-csi-db")
    grown = pvcs.patch(namespace="default", name="adm-grow", body={"spec": {"resources": {"requests": {"storage": "20Gi"}}}})
    assert grown.spec.resources.requests.storage == "20Gi"


def test_pvc_other_spec_fields_are_immutable(sim, pvcs):
    bound_pvc(sim, pvcs, "adm-immutable", "px-csi-db")
    with pytest.raises(ApiException) as info:
        pvcs.patch(namespace="default", name="adm-immutable", body={"spec": {"accessModes": ["ReadWriteMany"]}})
    assert info.value.status == 422
    assert "spec is immutable after creation" in status_of(info.value)["message"]


def test_pvc_resize_of_unbound_claim_is_rejected(pvcs):
    pvcs.create(namespace="default", body={"metadata": {"name": "adm-pending"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
        "storageClassName": "px-rwx-block-kubvirt"}})
    with pytest.raises(ApiException) as info:
        pvcs.patch(namespace="default", name="adm-pending", body={"spec": {"resources": {"requests": {"storage": "2Gi"}}}})
    assert info.value.status in (403, 422)


def test_pvc_without_access_modes_is_422(pvcs):
    with pytest.raises(ApiException) as info:
        pvcs.create(namespace="default", body={"metadata": {"name": "adm-bad"},
                                               "spec": {"resources": {"requests": {"storage": "1Gi"}}}})
    assert info.value.status == 422


@pytest.mark.parametrize("change,field,message", [
    ({"parameters": {"repl": "2"}}, "parameters", "Forbidden: updates to parameters are forbidden."),
    ({"provisioner": "other.example.com"}, "provisioner", "Forbidden: updates to provisioner are forbidden."),
    ({"reclaimPolicy": "Retain"}, "reclaimPolicy", "Forbidden: updates to reclaimPolicy are forbidden."),
    ({"volumeBindingMode": "Immediate"}, "volumeBindingMode", 'Invalid value: "Immediate": field is immutable'),
])
def test_storageclass_immutable_fields_are_422(classes, change, field, message):
    with pytest.raises(ApiException) as info:
        classes.patch(name="px-rwx-block-kubvirt", body=change, content_type="application/merge-patch+json")
    body = status_of(info.value)
    assert info.value.status == 422
    assert body["details"]["causes"][0]["field"] == field
    assert body["details"]["causes"][0]["message"] == message
    assert body["message"].startswith('StorageClass.storage.k8s.io "px-rwx-block-kubvirt" is invalid')


def test_storageclass_annotations_and_expansion_are_mutable(classes):
    patched = classes.patch(name="px-csi-replicated", content_type="application/merge-patch+json",
                            body={"metadata": {"annotations": {"example.com/x": "1"}}, "allowVolumeExpansion": True})
    assert patched.metadata.annotations["example.com/x"] == "1"


def test_storageclass_defaults(classes):
    created = classes.create(body={"metadata": {"name": "adm-defaults"}, "provisioner": "pxd.portworx.com"})
    assert created.reclaimPolicy == "Delete" and created.volumeBindingMode == "Immediate"


def test_image_registry_config_must_be_named_cluster(client):
    configs = resource(client, "imageregistry.operator.openshift.io/v1", "Config")
    with pytest.raises(ApiException) as info:
        configs.create(body={"metadata": {"name": "other"}, "spec": {"managementState": "Managed"}})
    assert info.value.status == 422


# --- dryRun=All -------------------------------------------------------------------------------

def test_dry_run_writes_persist_nothing(sim, client, pvcs, classes):
    cms = resource(client, "v1", "ConfigMap")
    cms.create(namespace="default", body={"metadata": {"name": "dry-existing"}, "data": {"a": "1"}})
    sim.reset_requests()
    before = cms.get(namespace="default", name="dry-existing").metadata.resource_version

    created = cms.create(namespace="default", body={"metadata": {"name": "dry-new"}}, dry_run="All")
    assert created.metadata.name == "dry-new" and created.metadata.uid
    patched = cms.patch(namespace="default", name="dry-existing", body={"data": {"a": "2"}}, dry_run="All",
                        content_type="application/merge-patch+json")
    assert patched.data.a == "2"
    replaced = cms.get(namespace="default", name="dry-existing").to_dict()
    replaced["data"] = {"a": "3"}
    assert cms.replace(namespace="default", body=replaced, dry_run="All").data.a == "3"
    cms.delete(namespace="default", name="dry-existing", dry_run="All")
    cms.delete(namespace="default", label_selector="nothing=matches", dry_run="All")

    assert cms.get(namespace="default", name="dry-existing").data.a == "1"
    with pytest.raises(ApiException):
        cms.get(namespace="default", name="dry-new")
    # The object is untouched (the cluster-wide resourceVersion moves anyway: node Lease renewals).
    assert cms.get(namespace="default", name="dry-existing").metadata.resource_version == before
    counts = sim.requests()
    assert counts["writes"] == 0 and counts["dry_run_writes"] == 5 and counts["changing_writes"] == 0


def test_dry_run_still_runs_admission(sim, pvcs, classes):
    bound_pvc(sim, pvcs, "dry-shrink", "px-csi-db")
    with pytest.raises(ApiException) as info:
        pvcs.patch(namespace="default", name="dry-shrink", dry_run="All",
                   body={"spec": {"resources": {"requests": {"storage": "1Gi"}}}})
    assert info.value.status == 422
    with pytest.raises(ApiException) as info:
        classes.patch(name="px-csi-db", body={"parameters": {"repl": "1"}}, dry_run="All",
                      content_type="application/merge-patch+json")
    assert info.value.status == 422
    with pytest.raises(ApiException) as info:
        resource(pvcs.client, "v1", "ConfigMap").create(namespace="default", dry_run="All",
                                                        body={"metadata": {"name": "dry-existing-x", "namespace": "nope"}})
    assert info.value.status == 400


def test_dry_run_emits_no_watch_events(sim, client):
    from kubernetes import client as kube_client, watch

    core = kube_client.CoreV1Api(sim.api_client())
    start = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "dry-watch"}}, dry_run="All")
    events = list(watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version=start,
                                       timeout_seconds=1))
    assert events == []


def test_invalid_dry_run_value_is_400(sim):
    code, body = raw(sim, "POST", "/api/v1/namespaces/default/configmaps?dryRun=Some", {"metadata": {"name": "x"}})
    assert code == 400
