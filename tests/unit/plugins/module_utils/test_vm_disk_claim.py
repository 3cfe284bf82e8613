import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Refusal
from ansible_collections.ocpvirt.portworx.plugins.module_utils.vm_disk_claim import resolve_disk_claim


def vm(volumes, disks=None):
    disks = disks if disks is not None else [{"name": v["name"]} for v in volumes]
    return {
        "metadata": {"name": "web", "namespace": "vms"},
        "spec": {"template": {"spec": {"domain": {"devices": {"disks": disks}}, "volumes": volumes}}},
    }


def test_data_volume_disk_resolves_to_the_claim_of_the_same_name():
    claim = resolve_disk_claim(vm([{"name": "rootdisk", "dataVolume": {"name": "web-root"}}]), "rootdisk")
    assert claim.claim == "web-root" and claim.data_volume == "web-root"


def test_pvc_disk_resolves_to_its_claim():
    claim = resolve_disk_claim(vm([{"name": "data", "persistentVolumeClaim": {"claimName": "web-data"}}]), "data")
    assert claim.claim == "web-data" and claim.data_volume is None


def test_unknown_disk_is_refused_listing_the_disks():
    with pytest.raises(Refusal) as refused:
        resolve_disk_claim(vm([{"name": "rootdisk", "dataVolume": {"name": "r"}}]), "nope")
    assert "rootdisk" in refused.value.msg


def test_container_disk_is_refused():
    with pytest.raises(Refusal) as refused:
        resolve_disk_claim(vm([{"name": "boot", "containerDisk": {"image": "x"}}]), "boot")
    assert "containerDisk" in refused.value.msg
