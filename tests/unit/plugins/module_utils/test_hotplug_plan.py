import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils import hotplug_plan as hp
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Refusal


def sc(name, repl="3", provisioner="pxd.portworx.com", annotations=None):
    return {"metadata": {"name": name, "annotations": annotations or {}}, "provisioner": provisioner, "parameters": {"repl": repl}}


def pvc(name, sc_name="px-rwx", modes=("ReadWriteMany",), annotations=None):
    return {"metadata": {"name": name, "namespace": "vms", "annotations": annotations or {}},
            "spec": {"accessModes": list(modes), "storageClassName": sc_name}}


def vm(volumes=(), disks=(), running=True):
    return {"metadata": {"name": "db", "namespace": "vms"},
            "spec": {"running": running, "template": {"spec": {"domain": {"devices": {"disks": list(disks)}}, "volumes": list(volumes)}}}}


ROOT_VM = vm(volumes=[{"name": "root", "dataVolume": {"name": "db-root"}}], disks=[{"name": "root", "disk": {"bus": "virtio"}}])
CLASSES = [sc("px-rwx", annotations={hp.VIRT_DEFAULT_ANNOTATION: "true"}), sc("px-repl2", repl="2"), sc("other", provisioner="csi.example")]


def facts(claim=None, data_volume=None, the_vm=None):
    return hp.HotplugFacts(the_vm or ROOT_VM, claim, data_volume, CLASSES).with_vm_claims([pvc("db-root")])


def request(**kwargs):
    kwargs.setdefault("vm", "db")
    kwargs.setdefault("namespace", "vms")
    kwargs.setdefault("name", "data")
    return hp.HotplugRequest(**kwargs)


def test_new_blank_disk_uses_default_virt_class_and_annotations():
    plan = hp.plan_hotplug(request(size="10Gi"), facts())
    assert plan.action == "add" and plan.is_data_volume
    dv = plan.create_data_volume
    assert dv["metadata"]["name"] == "db-data"
    assert dv["metadata"]["annotations"] == {"portworx.io/app": "kubevirt", "cdi.kubevirt.io/storage.usePopulator": "false",
                                             hp.CREATED_FOR_ANNOTATION: "db/data"}
    assert plan.previous_run is None
    assert hp.BIND_IMMEDIATE_ANNOTATION not in dv["metadata"]["annotations"]
    assert dv["spec"]["storage"]["storageClassName"] == "px-rwx"
    assert dv["spec"]["storage"]["accessModes"] == ["ReadWriteMany"] and dv["spec"]["storage"]["volumeMode"] == "Block"
    options = hp.add_volume_options("data", plan.claim_name, plan.is_data_volume, plan.disk)
    assert options["volumeSource"] == {"dataVolume": {"name": "db-data", "hotpluggable": True}}
    assert options["disk"] == {"name": "data", "disk": {"bus": "scsi"}}


def test_sata_is_refused():
    with pytest.raises(Refusal, match="sata"):
        hp.plan_hotplug(request(size="1Gi", bus="sata"), facts())


def test_rwo_claim_refused_unless_allowed():
    claim = pvc("rwo", modes=("ReadWriteOnce",), annotations={"portworx.io/app": "kubevirt"})
    with pytest.raises(Refusal, match="live-migrate"):
        hp.plan_hotplug(request(claim_name="rwo"), facts(claim=claim))
    plan = hp.plan_hotplug(request(claim_name="rwo", allow_rwo=True), facts(claim=claim))
    assert plan.action == "add" and not plan.is_data_volume and plan.create_data_volume is None


def test_replication_mismatch_refused_unless_allowed():
    claim = pvc("r2", sc_name="px-repl2", annotations={"portworx.io/app": "kubevirt"})
    with pytest.raises(Refusal, match="replication factor 2"):
        hp.plan_hotplug(request(claim_name="r2"), facts(claim=claim))
    assert hp.plan_hotplug(request(claim_name="r2", allow_replication_mismatch=True), facts(claim=claim)).action == "add"


def test_scsi_reservation_refused_on_portworx_only():
    with pytest.raises(Refusal, match="SCSI-3"):
        hp.plan_hotplug(request(size="1Gi", scsi_reservation=True), facts())
    claim = pvc("lun", sc_name="other")
    plan = hp.plan_hotplug(request(claim_name="lun", scsi_reservation=True), facts(claim=claim))
    assert plan.disk["lun"] == {"bus": "scsi", "reservation": True}


def test_missing_claim_and_missing_default_class_are_refused():
    with pytest.raises(Refusal, match="neither a PVC nor a DataVolume"):
        hp.plan_hotplug(request(claim_name="nope"), facts())
    no_default = hp.HotplugFacts(ROOT_VM, None, None, [sc("x")])
    with pytest.raises(Refusal, match="no default"):
        hp.plan_hotplug(request(size="1Gi"), no_default)


def test_unannotated_portworx_claim_is_a_warning():
    plan = hp.plan_hotplug(request(claim_name="plain"), facts(claim=pvc("plain")))
    assert plan.action == "add" and "portworx.io/app" in plan.warnings[0]


def test_already_attached_is_no_change_and_conflicts_refused():
    attached = vm(volumes=[{"name": "data", "dataVolume": {"name": "db-data", "hotpluggable": True}}],
                  disks=[{"name": "data", "disk": {"bus": "scsi"}}])
    assert hp.plan_hotplug(request(size="1Gi"), facts(the_vm=attached)).action == "none"
    with pytest.raises(Refusal, match="already exists and uses claim"):
        hp.plan_hotplug(request(claim_name="other"), facts(the_vm=attached, claim=pvc("other")))
    with pytest.raises(Refusal, match="cannot change bus"):
        hp.plan_hotplug(request(size="1Gi", bus="virtio"), facts(the_vm=attached))


def test_removal_plans():
    attached = vm(volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "c", "hotpluggable": True}}])
    assert hp.plan_hotplug(request(state="absent"), facts(the_vm=attached)).action == "remove"
    assert hp.plan_hotplug(request(state="absent"), facts()).action == "none"
    with pytest.raises(Refusal, match="not a hot-plugged volume"):
        hp.plan_hotplug(request(state="absent", name="root"), facts())


def test_progress_of_running_and_stopped_vms():
    attached = vm(volumes=[{"name": "data", "dataVolume": {"name": "db-data", "hotpluggable": True}}])
    vmi = {"status": {"volumeStatus": [{"name": "data", "phase": "AttachedToNode"}]}}
    assert hp.hotplug_progress(attached, vmi, "data", True) == (False, "volume phase AttachedToNode")
    vmi["status"]["volumeStatus"][0]["phase"] = "Ready"
    assert hp.hotplug_progress(attached, vmi, "data", True)[0]
    assert hp.hotplug_progress(attached, None, "data", False)[0]
    assert not hp.hotplug_progress(ROOT_VM, None, "data", False)[0]
    assert not hp.hotplug_progress(attached, vmi, "data", True, present=False)[0]
    assert hp.hotplug_progress(ROOT_VM, {"status": {}}, "data", True, present=False)[0]


def test_describe_disks_and_running():
    described = hp.describe_disks(ROOT_VM)
    assert described == [{"name": "root", "bus": "virtio", "claim": "db-root", "hotpluggable": False}]
    # Running means a live VMI, whatever the run strategy (Manual VMs have no spec.running).
    assert hp.is_running({"status": {"phase": "Running"}})
    assert hp.is_running({"status": {"phase": "Scheduling"}})
    assert not hp.is_running(None)
    assert not hp.is_running({"status": {"phase": "Succeeded"}})
    assert not hp.is_running({"metadata": {"deletionTimestamp": "2026-11-21T10:00:00Z"}, "status": {"phase": "Running"}})


def test_volume_attached_and_detached_read_the_vm_spec():
    vm = ROOT_VM
    assert hp.volume_attached(vm, "root", "db-root")
    assert not hp.volume_attached(vm, "root", "other-claim")
    assert not hp.volume_attached(vm, "data", "db-root")
    assert hp.volume_detached(vm, "data") and not hp.volume_detached(vm, "root")


def test_a_data_volume_created_but_not_attached_by_an_earlier_run_is_reported_and_attached():
    left = hp.blank_data_volume("db-data", "vms", "10Gi", "px-rwx", "ReadWriteMany", "Block", owner="db/data")
    left["metadata"]["creationTimestamp"] = "2026-12-02T09:00:00Z"
    plan = hp.plan_hotplug(request(size="10Gi"), facts(data_volume=left))
    assert plan.action == "add" and plan.create_data_volume is None and plan.claim_name == "db-data" and plan.is_data_volume
    assert plan.previous_run["data_volume"] == "vms/db-data" and plan.previous_run["created"] == "2026-12-02T09:00:00Z"
    assert "DataVolume vms/db-data created at 2026-12-02T09:00:00Z but not attached to VM db" in plan.previous_run["summary"]


def test_a_data_volume_without_the_mark_or_for_another_disk_is_no_leftover():
    foreign = hp.blank_data_volume("db-data", "vms", "10Gi", "px-rwx", "ReadWriteMany", "Block")
    assert hp.plan_hotplug(request(size="10Gi"), facts(data_volume=foreign)).previous_run is None
    other = hp.blank_data_volume("db-data", "vms", "10Gi", "px-rwx", "ReadWriteMany", "Block", owner="db/logs")
    with pytest.raises(Refusal) as refused:  # created for another disk: never attached as this one
        hp.plan_hotplug(request(size="10Gi"), facts(data_volume=other))
    assert "DataVolume vms/db-data was created by this collection for db/logs, not for disk 'data' of VM db" in refused.value.msg
    # Attached: the volume is in the VM, nothing was left behind.
    ours = hp.blank_data_volume("db-data", "vms", "10Gi", "px-rwx", "ReadWriteMany", "Block", owner="db/data")
    vm_with_disk = vm(volumes=[{"name": "data", "dataVolume": {"name": "db-data", "hotpluggable": True}}],
                      disks=[{"name": "data", "disk": {"bus": "scsi"}}])
    plan = hp.plan_hotplug(request(size="10Gi"), facts(data_volume=ours, the_vm=vm_with_disk))
    assert plan.action == "none" and plan.previous_run is None


def test_a_leftover_data_volume_of_another_size_is_refused_not_attached():
    left = hp.blank_data_volume("db-data", "vms", "10Gi", "px-rwx", "ReadWriteMany", "Block", owner="db/data")
    with pytest.raises(Refusal) as refused:
        hp.plan_hotplug(request(size="50Gi"), facts(data_volume=left))
    assert "asks for 10Gi, not the 50Gi requested now" in refused.value.msg and "delete the DataVolume vms/db-data" in refused.value.msg
    assert hp.plan_hotplug(request(size="10240Mi"), facts(data_volume=left)).previous_run is not None  # the same size
