import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils import registry_plan
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Refusal


def sc(name, expandable=True, **parameters):
    return {"metadata": {"name": name}, "provisioner": "pxd.portworx.com", "parameters": parameters, "allowVolumeExpansion": expandable}


def profile(*pairs):
    return {"status": {"claimPropertySets": [{"accessModes": [m], "volumeMode": v} for m, v in pairs]}}


CLASSES = [sc("px-rwx-block-kubvirt", repl="3"), sc("px-rwx-file-kubvirt", repl="3", sharedv4="true"), sc("px-repl1", repl="1", sharedv4="true")]
PROFILES = {
    "px-rwx-block-kubvirt": profile(("ReadWriteMany", "Block"), ("ReadWriteOnce", "Block"), ("ReadWriteOnce", "Filesystem")),
    "px-rwx-file-kubvirt": profile(("ReadWriteMany", "Block"), ("ReadWriteMany", "Filesystem"), ("ReadWriteOnce", "Filesystem")),
    "px-repl1": profile(("ReadWriteMany", "Filesystem")),
}


def params(**overrides):
    base = dict(state="managed", storage_class=None, pvc_name="registry-storage-pvc", pvc_size="300Gi",
                access_mode="ReadWriteMany", replicas=2, default_route=True, allow_single_replica=False)
    base.update(overrides)
    return base


def pvc(request="300Gi", storage_class="px-rwx-file-kubvirt", modes=("ReadWriteMany",)):
    return {
        "metadata": {"name": "registry-storage-pvc", "namespace": "openshift-image-registry"},
        "spec": {"accessModes": list(modes), "resources": {"requests": {"storage": request}}, "storageClassName": storage_class},
        "status": {"phase": "Bound", "capacity": {"storage": request}},
    }


def test_discovery_picks_the_rwx_filesystem_class_with_most_replicas():
    plan = registry_plan.plan_claim(None, CLASSES, PROFILES, params())
    assert plan.create and plan.storage_class == "px-rwx-file-kubvirt"
    assert plan.definition["spec"]["volumeMode"] == "Filesystem"
    assert plan.definition["spec"]["accessModes"] == ["ReadWriteMany"]


def test_the_seeds_rwx_block_class_takes_the_registry_claim_whatever_its_profile_says():
    # Seed 000 puts the registry claim (RWX, no volumeMode, 300Gi) on px-rwx-block-kubevirt. The profile narrowed
    # to RWX Block steers only DataVolumes; Portworx CSI gives the plain RWX Filesystem claim a sharedv4 volume
    # (libopenstorage/openstorage csi/controller.go, resolveSharedSpec).
    block_only = {"px-rwx-block-kubevirt": profile(("ReadWriteMany", "Block"))}
    plan = registry_plan.plan_claim(None, [sc("px-rwx-block-kubevirt", repl="3")], block_only,
                                    params(storage_class="px-rwx-block-kubevirt"))
    assert plan.create and plan.storage_class == "px-rwx-block-kubevirt"
    assert plan.definition["spec"]["accessModes"] == ["ReadWriteMany"] and plan.definition["spec"]["volumeMode"] == "Filesystem"
    assert registry_plan.plan_claim(None, CLASSES, PROFILES, params(storage_class="px-rwx-block-kubvirt")).create


def other_class(name, provisioner="example.com/nfs"):
    return {"metadata": {"name": name}, "provisioner": provisioner, "parameters": {}}


def test_other_provisioners_are_judged_by_their_profile():
    classes = CLASSES + [other_class("nfs-block")]
    profiles = dict(PROFILES, **{"nfs-block": profile(("ReadWriteMany", "Block"))})
    with pytest.raises(Refusal) as refused:
        registry_plan.plan_claim(None, classes, profiles, params(storage_class="nfs-block"))
    assert "ReadWriteMany/Block" in refused.value.msg and "px-rwx-file-kubvirt" in refused.value.msg
    profiles["nfs-block"] = profile(("ReadWriteMany", "Filesystem"))
    assert registry_plan.plan_claim(None, classes, profiles, params(storage_class="nfs-block")).storage_class == "nfs-block"


def test_no_fitting_class_lists_what_each_offers():
    in_tree = dict(other_class("px-in-tree", provisioner="kubernetes.io/portworx-volume"), parameters={"repl": "3"})
    with pytest.raises(Refusal) as refused:
        registry_plan.plan_claim(None, [in_tree], {"px-in-tree": profile(("ReadWriteMany", "Block"))}, params())
    assert "px-in-tree (repl 3): ReadWriteMany/Block" in refused.value.msg


def test_single_replica_portworx_class_is_refused_unless_allowed():
    with pytest.raises(Refusal) as refused:
        registry_plan.plan_claim(None, CLASSES, PROFILES, params(storage_class="px-repl1"))
    assert "repl" in refused.value.msg
    assert registry_plan.plan_claim(None, CLASSES, PROFILES, params(storage_class="px-repl1", allow_single_replica=True)).create


def test_several_replicas_on_rwo_are_refused():
    with pytest.raises(Refusal):
        registry_plan.check_replicas(2, "ReadWriteOnce")
    registry_plan.check_replicas(1, "ReadWriteOnce")


def test_existing_bigger_claim_is_kept_and_smaller_one_grown():
    bigger = registry_plan.plan_claim(pvc(request="500Gi"), CLASSES, PROFILES, params())
    assert not bigger.create and not bigger.grow and bigger.expansion is None
    smaller = registry_plan.plan_claim(pvc(request="100Gi"), CLASSES, PROFILES, params())
    assert smaller.grow and smaller.expansion.old_request == "100Gi"
    equal = registry_plan.plan_claim(pvc(), CLASSES, PROFILES, params())
    assert not equal.grow and equal.expansion is not None


def test_existing_claim_on_other_class_or_mode_is_refused():
    with pytest.raises(Refusal):
        registry_plan.plan_claim(pvc(), CLASSES, PROFILES, params(storage_class="px-repl1"))
    with pytest.raises(Refusal):
        registry_plan.plan_claim(pvc(modes=("ReadWriteOnce",)), CLASSES, PROFILES, params())


def test_bad_size_is_refused():
    with pytest.raises(Refusal):
        registry_plan.plan_claim(None, CLASSES, PROFILES, params(pvc_size="big"))


def test_config_patch_sets_owned_fields_and_drops_other_backends():
    wanted = registry_plan.desired_spec(params())
    patch = registry_plan.config_patch({"managementState": "Removed", "replicas": 1, "storage": {"emptyDir": {}}}, wanted)
    assert patch == {"spec": {"managementState": "Managed", "replicas": 2, "defaultRoute": True, "rolloutStrategy": "RollingUpdate",
                              "storage": {"emptyDir": None, "pvc": {"claim": "registry-storage-pvc"}}}}
    applied = {"managementState": "Managed", "replicas": 2, "defaultRoute": True, "rolloutStrategy": "RollingUpdate",
               "storage": {"pvc": {"claim": "registry-storage-pvc"}}}
    assert registry_plan.config_patch(applied, wanted) == {}


def test_rwo_asks_for_recreate_rwx_for_rolling_update_and_removed_only_sets_the_state():
    assert registry_plan.desired_spec(params(access_mode="ReadWriteOnce", replicas=1))["rolloutStrategy"] == "Recreate"
    # A Recreate left from an earlier RWO setup is undone when the registry moves to RWX.
    wanted = registry_plan.desired_spec(params())
    assert registry_plan.config_patch({"rolloutStrategy": "Recreate"}, wanted)["spec"]["rolloutStrategy"] == "RollingUpdate"
    assert registry_plan.desired_spec(params(state="removed")) == {"managementState": "Removed"}


def test_discovery_prefers_sharedv4_when_several_classes_offer_rwx_filesystem():
    profiles = dict(PROFILES)
    profiles["px-rwx-block-kubvirt"] = profile(("ReadWriteMany", "Block"), ("ReadWriteMany", "Filesystem"))
    assert registry_plan.plan_claim(None, CLASSES, profiles, params()).storage_class == "px-rwx-file-kubvirt"


def test_discovery_skips_classes_with_one_replica_even_when_sharedv4():
    classes = [sc("px-cdi-scratch", repl="1", sharedv4="true"), sc("px-csi-db", repl="3")]
    profiles = {"px-cdi-scratch": profile(("ReadWriteMany", "Filesystem")), "px-csi-db": profile(("ReadWriteMany", "Filesystem"))}
    assert registry_plan.plan_claim(None, classes, profiles, params()).storage_class == "px-csi-db"
    allowed = registry_plan.plan_claim(None, classes, profiles, params(allow_single_replica=True))
    assert allowed.storage_class == "px-cdi-scratch"


def test_discovery_refuses_when_only_single_replica_classes_fit():
    classes = [sc("px-cdi-scratch", repl="1", sharedv4="true")]
    with pytest.raises(Refusal) as refused:
        registry_plan.plan_claim(None, classes, {"px-cdi-scratch": profile(("ReadWriteMany", "Filesystem"))}, params())
    assert "at least 2 replicas" in refused.value.msg and "allow_single_replica" in refused.value.msg
