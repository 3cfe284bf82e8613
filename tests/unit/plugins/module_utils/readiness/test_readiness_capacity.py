"""The sizing formulas of the documents and the N-1 headroom."""

from decimal import Decimal

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.audit import run_audit
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.capacity import (
    boot_image_raw,
    headroom,
    snapshot_reserve,
    usable_after_overhead,
    vm_request,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.rules_platform import max_unavailable_count, pods_per_node

from readiness_facts import clean_facts, vm, vmi

GB = 10 ** 9


def test_snapshot_reserve_seed_example():
    # 30GB disk, 10 percent change, 7 snapshots kept -> 21GB [000]
    assert snapshot_reserve(30 * GB, 0.1, 7) == 21 * GB


def test_boot_image_raw_seed_example():
    # 500GB of images x repl 3 -> 1.5TB [000]
    assert boot_image_raw(500 * GB, 3) == 1500 * GB


def test_usable_after_overhead():
    assert usable_after_overhead(100 * GB, "0.08") == 92 * GB


def test_pods_per_node_seed_example():
    assert pods_per_node(23) == 512


def test_max_unavailable_percent_rounds_down_with_a_floor_of_one():
    assert max_unavailable_count(None, 10) == 1
    assert max_unavailable_count("10%", 5) == 1
    assert max_unavailable_count("50%", 10) == 5
    assert max_unavailable_count(2, 10) == 2


def test_vm_request_divides_vcpus_by_the_allocation_ratio():
    machine = vmi(vm("a"))
    cpu, memory = vm_request(machine, 10)
    assert cpu == Decimal(200) and memory == 8 * 1024 ** 3


def test_other_workers_absorb_the_biggest_worker():
    report = headroom(clean_facts(), 10)
    assert report["biggest_worker"] == "worker-0" and report["absorbs_biggest_worker"] is True


def test_n_minus_1_fails_when_the_rest_cannot_take_the_vms():
    facts = clean_facts()
    for worker in facts["nodes"][1:]:
        worker["status"]["allocatable"]["memory"] = "16Gi"
    for index in range(4):
        machine = vm("big-%d" % index)
        machine["spec"]["template"]["spec"]["domain"]["resources"]["requests"]["memory"] = "100Gi"
        facts["vms"].append(machine)
        facts["vmis"].append(vmi(machine, "worker-0"))
    report = run_audit(facts)
    assert [f["rule"] for f in report["findings"]] == ["R23"]
    assert report["capacity"]["n_minus_1"]["absorbs_biggest_worker"] is False


def test_storage_sizing_uses_claims_replicas_and_boot_sources():
    storage = run_audit(clean_facts(), capacity_inputs={"snapshot_change_rate": 0.1, "snapshots_retained": 7})["capacity"]["storage"]
    assert storage["vm_disk_gib"] == 30.0 and storage["vm_disk_raw_gib"] == 90.0
    assert storage["snapshot_reserve_gib"] == 21.0
    assert storage["boot_image_footprint_gib"] == 30.0 and storage["boot_image_raw_gib"] == 90.0


def test_pool_skew_is_distance_from_the_mean():
    pools = run_audit(clean_facts())["capacity"]["pools"]
    assert pools["total_gib"] == 9216.0 and all(n["skew_percent"] == 0 for n in pools["nodes"])
