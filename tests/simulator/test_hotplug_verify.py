"""KubeVirt ``addvolume``/``removevolume`` refusals as virt-api answers them
(``pkg/virt-api/rest/subresource.go``: ``addVolumeRequestHandler`` 400s, ``verifyVolumeOption`` wrapped
in a 409 Conflict on ``virtualmachine.kubevirt.io``)."""
import pytest

from api_helpers import raw
from operator_helpers import reseed

PATH = "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/vm-000/{0}"


@pytest.fixture(scope="module", autouse=True)
def fresh(sim, client):
    reseed(sim, client)


def put(sim, action, body):
    return raw(sim, "PUT", PATH.format(action), body)


def vm_volumes(client):
    vm = client.resources.get(api_version="kubevirt.io/v1", kind="VirtualMachine").get(namespace="vms", name="vm-000")
    return vm.to_dict()["spec"]["template"]["spec"]["volumes"]


def pvc_options(name, claim, dry_run=True):
    options = {"name": name, "disk": {"disk": {"bus": "scsi"}},
               "volumeSource": {"persistentVolumeClaim": {"claimName": claim}}}
    if dry_run:
        options["dryRun"] = ["All"]
    return options


def conflict_message(text):
    return f'Operation cannot be fulfilled on virtualmachine.kubevirt.io "vm-000": {text}'


def test_missing_disk_or_volume_source_is_bad_request(sim):
    code, body = put(sim, "addvolume", {"name": "x", "volumeSource": {"persistentVolumeClaim": {"claimName": "c"}}})
    assert (code, body["reason"], body["message"]) == (400, "BadRequest", "AddVolumeOptions requires disk to not be nil")
    code, body = put(sim, "addvolume", {"name": "x", "disk": {"disk": {"bus": "scsi"}}})
    assert (code, body["message"]) == (400, "AddVolumeOptions requires VolumeSource to not be nil")


def test_volume_source_already_used_is_a_conflict(sim, client):
    volume = vm_volumes(client)[0]
    source = (volume.get("dataVolume") or {}).get("name") or volume["persistentVolumeClaim"]["claimName"]
    # the same claim under another volume name, as a PVC or as a DataVolume source
    code, body = put(sim, "addvolume", pvc_options("another-name", source))
    assert code == 409 and body["reason"] == "Conflict", body
    assert body["message"] == conflict_message(f"Unable to add volume source [{source}] because it already exists")
    assert body["details"] == {"name": "vm-000", "group": "kubevirt.io", "kind": "virtualmachine"}
    options = pvc_options("another-name", source)
    options["volumeSource"] = {"dataVolume": {"name": source}}
    code, body = put(sim, "addvolume", options)
    assert code == 409 and "Unable to add volume source" in body["message"]


def test_duplicate_name_and_bad_removals_are_conflicts(sim, client):
    name = vm_volumes(client)[0]["name"]
    code, body = put(sim, "addvolume", pvc_options(name, "some-other-claim"))
    assert (code, body["message"]) == (409, conflict_message(
        f"Unable to add volume [{name}] because volume with that name already exists"))
    code, body = put(sim, "removevolume", {"name": "no-such-volume"})
    assert (code, body["message"]) == (409, conflict_message(
        "Unable to remove volume [no-such-volume] because it does not exist"))
    code, body = put(sim, "removevolume", {"name": name})
    assert (code, body["message"]) == (409, conflict_message(
        f"Unable to remove volume [{name}] because it is not hotpluggable"))


def test_sata_bus_is_still_refused_by_the_webhook(sim):
    options = pvc_options("sata", "unused-claim")
    options["disk"] = {"disk": {"bus": "sata"}}
    code, body = put(sim, "addvolume", options)
    assert code == 422 and "[sata] is not permitted" in body["message"]
