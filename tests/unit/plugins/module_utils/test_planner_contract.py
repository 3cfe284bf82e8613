"""One contract across planners: a plan (possibly empty) or a Refusal; one "no patch" value; one "not found"."""

import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils import hyperconverged_spec, registry_plan, storage_class_presets
from ansible_collections.ocpvirt.portworx.plugins.module_utils import storage_profile_check
from ansible_collections.ocpvirt.portworx.plugins.module_utils.default_class import plan_default_class
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import NO_PATCH, ModuleFailure, NotFound, Refusal

REGISTRY_PARAMS = dict(state="managed", storage_class=None, pvc_name="registry-storage-pvc", pvc_size="300Gi",
                       access_mode="ReadWriteMany", replicas=2, default_route=True, allow_single_replica=False)


def _registry_no_change():
    wanted = registry_plan.desired_spec(REGISTRY_PARAMS)
    return registry_plan.config_patch(dict(wanted), wanted)


def _hco_no_change():
    spec = {"scratchSpaceStorageClass": "px-cdi-scratch"}
    return hyperconverged_spec.spec_patch({"spec": dict(spec)}, spec)


def _profile_no_change():
    wanted = storage_profile_check.desired_spec([{"access_modes": ["ReadWriteMany"], "volume_mode": "Block"}], "csi-clone", None)
    return storage_profile_check.spec_patch({"spec": dict(wanted)}, wanted)


def _storage_class_no_change():
    desired = storage_class_presets.desired_class("vm_block")
    return storage_class_presets.compare(desired, desired)[1]


@pytest.mark.parametrize("no_change", [_registry_no_change, _hco_no_change, _profile_no_change, _storage_class_no_change],
                         ids=["image_registry", "hyperconverged", "storage_profile", "portworx_storage_class"])
def test_every_patch_planner_says_no_patch_with_the_same_value(no_change):
    patch = no_change()
    assert patch == NO_PATCH and patch is not None and isinstance(patch, dict)


def test_not_found_is_its_own_failure_with_status_404():
    missing = NotFound("VirtualMachine vms/nope", "check the name and namespace")
    assert isinstance(missing, ModuleFailure) and not isinstance(missing, Refusal)
    assert missing.result() == {"msg": "VirtualMachine vms/nope not found: check the name and namespace", "status": 404, "reason": "NotFound"}


def test_planners_report_a_missing_named_object_as_not_found():
    with pytest.raises(NotFound):
        plan_default_class([], {}, "nope")
    with pytest.raises(NotFound):
        registry_plan.plan_claim(None, [], {}, dict(REGISTRY_PARAMS, storage_class="nope"))
