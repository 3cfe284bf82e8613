from decimal import Decimal

from ansible_collections.ocpvirt.portworx.plugins.module_utils import node_room


def test_first_fit_needs_memory_and_cpu_on_the_same_node():
    free = {"big-memory": {"memory": Decimal(64), "cpu": Decimal(1)}, "big-cpu": {"memory": Decimal(2), "cpu": Decimal(32)}}
    assert node_room.place_first_fit({"vm": {"memory": Decimal(4), "cpu": Decimal(2)}}, free) == ["vm"]
    assert node_room.place_first_fit({"vm": {"memory": Decimal(4), "cpu": Decimal(1)}}, free) == []


def test_launcher_requests_win_over_the_vmi():
    vmi = {"spec": {"domain": {"resources": {"requests": {"memory": "1Gi", "cpu": "1"}}}}}
    launcher = {"spec": {"containers": [{"resources": {"requests": {"memory": "1280Mi", "cpu": "100m"}}}]}}
    assert node_room.vm_needs(vmi, launcher) == {"memory": 1280 * 2 ** 20, "cpu": Decimal("0.1")}
    assert node_room.vm_needs(vmi) == {"memory": 2 ** 30, "cpu": 1}


def test_cpu_is_written_as_the_api_does():
    assert node_room.format_cpu(Decimal("2")) == "2" and node_room.format_cpu(Decimal("1.5")) == "1500m"
