"""A failed PVC expansion and the recovery Kubernetes 1.33 allows (RecoverVolumeExpansionFailure, beta and on
by default since 1.32): the API server's rule for lowering a request, and the external-resizer's answer to
each class of ControllerExpandVolume error (simulator/clustersim/operators/_resize_recovery.py)."""
import time

import pytest

from clustersim.cluster import build_cluster
from clustersim.config import Config
from clustersim.errors import ApiError
from clustersim.operators._resize_recovery import size_to_expand, update_queues_claim, waits_for_slow_retry

PVC = "persistentvolumeclaims"
NS = "vms"


def make_cluster(retry):
    c = build_cluster(Config(vms=0, durations={"pvc_bind": 0.01, "pvc_resize": 0.02, "pvc_resize_retry": retry}))
    c.settle()
    return c


@pytest.fixture
def cluster(request):
    # Backoff retries stay out of the way unless a test asks for a short period (indirect parameter).
    c = make_cluster(retry=getattr(request, "param", 60.0))
    yield c
    c.stop()


def claim(cluster, name, size="10Gi"):
    spec = {"accessModes": ["ReadWriteOnce"], "volumeMode": "Block", "storageClassName": "px-csi-db",
            "resources": {"requests": {"storage": size}}}
    cluster.store.create(PVC, {"metadata": {"name": name, "namespace": NS}, "spec": spec}, internal=False)
    cluster.settle()


def request(cluster, name, size):
    cluster.store.patch(PVC, name, {"spec": {"resources": {"requests": {"storage": size}}}}, NS, internal=False)
    cluster.settle()
    return cluster.store.get(PVC, name, NS)


def fail_next_resize(cluster, name, code, count=1):
    cluster.faults.add({"operator": "pvc-resize-fail", "target": f"{NS}/{name}", "code": code, "count": count,
                        "message": "pool has not enough free space"})


def types(pvc):
    return sorted(c["type"] for c in pvc["status"].get("conditions") or [])


def resize_events(cluster, name):
    return [(e["type"], e["reason"], e["message"]) for e in cluster.store.list("events", NS)
            if e["involvedObject"]["name"] == name and e["reason"].startswith("VolumeResize")]


def wait_for(probe, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(0.02)
    return False


def test_a_request_may_be_lowered_only_above_the_capacity(cluster):
    claim(cluster, "done")
    request(cluster, "done", "20Gi")
    for size in ("15Gi", "10Gi"):  # below the capacity a finished resize reached
        with pytest.raises(ApiError) as refused:
            request(cluster, "done", size)
        assert refused.value.code == 422
        assert "spec.resources.requests.storage" in refused.value.message
        assert "field can not be less than status.capacity" in refused.value.message
    claim(cluster, "stuck")
    fail_next_resize(cluster, "stuck", "OutOfRange")
    request(cluster, "stuck", "40Gi")
    with pytest.raises(ApiError) as at_capacity:
        request(cluster, "stuck", "10Gi")  # equal to status.capacity: still refused (the rule is strictly above)
    assert at_capacity.value.code == 422
    assert request(cluster, "stuck", "10241Mi")["spec"]["resources"]["requests"]["storage"] == "10241Mi"


def test_an_infeasible_size_is_not_retried_and_a_smaller_request_recovers(cluster):
    claim(cluster, "full")
    fail_next_resize(cluster, "full", "OutOfRange")
    pvc = request(cluster, "full", "40Gi")
    assert pvc["status"]["allocatedResourceStatuses"] == {"storage": "ControllerResizeInfeasible"}
    assert pvc["status"]["allocatedResources"] == {"storage": "40Gi"}
    assert types(pvc) == ["ControllerResizeError", "Resizing"]  # the resizer keeps the older resize conditions
    error = next(c for c in pvc["status"]["conditions"] if c["type"] == "ControllerResizeError")
    assert error["message"] == "failed to expand pvc with rpc error: code = OutOfRange desc = pool has not enough free space"
    pv = pvc["spec"]["volumeName"]
    assert resize_events(cluster, "full")[-1] == (
        "Warning", "VolumeResizeFailed",
        f'resize volume "{pv}" by resizer "pxd.portworx.com" failed: rpc error: code = OutOfRange desc = pool has not enough free space')
    assert pvc["status"]["capacity"]["storage"] == "10Gi"

    pvc = request(cluster, "full", "15Gi")
    assert pvc["status"]["capacity"]["storage"] == "15Gi"
    assert pvc["status"]["allocatedResources"] == {"storage": "15Gi"}
    assert "allocatedResourceStatuses" not in pvc["status"] and types(pvc) == []
    assert cluster.store.get("persistentvolumes", pv)["spec"]["capacity"]["storage"] == "15Gi"


@pytest.mark.parametrize("cluster", [0.05], indirect=True)
def test_the_same_infeasible_size_waits_even_when_the_claim_changes_otherwise(cluster):
    claim(cluster, "slow")
    fail_next_resize(cluster, "slow", "InvalidArgument")
    request(cluster, "slow", "40Gi")
    cluster.store.patch(PVC, "slow", {"metadata": {"labels": {"touched": "yes"}}}, NS, internal=False)
    time.sleep(0.3)  # several backoff periods: an infeasible size is held in the slow-retry set instead
    cluster.settle()
    pvc = cluster.store.get(PVC, "slow", NS)
    assert pvc["status"]["allocatedResourceStatuses"] == {"storage": "ControllerResizeInfeasible"}
    assert pvc["status"]["capacity"]["storage"] == "10Gi"


def test_a_final_error_is_recorded_and_the_status_stays_in_progress(cluster):
    claim(cluster, "busy")
    fail_next_resize(cluster, "busy", "Internal")
    pvc = request(cluster, "busy", "30Gi")
    # A final but not infeasible error: ControllerResizeError, the status stays ControllerResizeInProgress.
    assert pvc["status"]["allocatedResourceStatuses"] == {"storage": "ControllerResizeInProgress"}
    assert types(pvc) == ["ControllerResizeError", "Resizing"]
    assert pvc["status"]["capacity"]["storage"] == "10Gi"


@pytest.mark.parametrize("cluster", [0.1], indirect=True)
def test_a_final_error_is_retried_with_backoff_and_then_succeeds(cluster):
    claim(cluster, "retried")
    fail_next_resize(cluster, "retried", "Internal")
    request(cluster, "retried", "30Gi")
    assert wait_for(lambda: cluster.store.get(PVC, "retried", NS)["status"]["capacity"]["storage"] == "30Gi")
    cluster.settle()
    assert types(cluster.store.get(PVC, "retried", NS)) == []
    assert [e[:2] for e in resize_events(cluster, "retried")].count(("Warning", "VolumeResizeFailed")) == 1


def test_after_a_final_error_a_lowered_request_is_tried_at_once(cluster):
    claim(cluster, "retry")
    fail_next_resize(cluster, "retry", "Internal")
    request(cluster, "retry", "40Gi")
    pvc = request(cluster, "retry", "20Gi")  # long before the backoff retry is due
    assert pvc["status"]["capacity"]["storage"] == "20Gi" and types(pvc) == []


def test_after_an_uncertain_error_the_resizer_finishes_the_size_it_started(cluster):
    claim(cluster, "uncertain")
    fail_next_resize(cluster, "uncertain", "Unavailable")
    pvc = request(cluster, "uncertain", "30Gi")
    assert types(pvc) == ["Resizing"]  # nothing recorded on the claim; only a Warning event
    assert resize_events(cluster, "uncertain")[-1][:2] == ("Warning", "VolumeResizeFailed")
    pvc = request(cluster, "uncertain", "15Gi")
    # the RPC may still be running, so recovery is not possible yet: the resizer asks for 30Gi again
    assert pvc["status"]["allocatedResources"] == {"storage": "30Gi"}
    assert pvc["status"]["capacity"]["storage"] == "30Gi"
    assert pvc["spec"]["resources"]["requests"]["storage"] == "15Gi"


@pytest.mark.parametrize("request_size, pv, allocated, status, final_error, expected", [
    ("40Gi", "30Gi", None, None, False, "40Gi"),                                       # a first attempt
    ("35Gi", "30Gi", "40Gi", "ControllerResizeInfeasible", False, "35Gi"),             # lowered after infeasible
    ("35Gi", "30Gi", "40Gi", "ControllerResizeInProgress", True, "35Gi"),              # lowered after a final error
    ("35Gi", "30Gi", "40Gi", "ControllerResizeInProgress", False, "40Gi"),             # an RPC may still run
    ("40Gi", "30Gi", "30Gi", "NodeResizePending", False, None),                        # the node step goes first
    ("35Gi", "40Gi", "40Gi", "ControllerResizeInProgress", False, "40Gi"),             # PV already past the request
    ("35Gi", "40Gi", None, None, False, None),
])
def test_the_size_the_resizer_asks_for(request_size, pv, allocated, status, final_error, expected):
    assert size_to_expand(request_size, pv, allocated, status, final_error) == expected


def test_an_infeasible_size_is_held_back_only_when_it_is_the_same():
    assert waits_for_slow_retry("40Gi", "40960Mi", "ControllerResizeInfeasible")
    assert not waits_for_slow_retry("35Gi", "40Gi", "ControllerResizeInfeasible")
    assert not waits_for_slow_retry("40Gi", "40Gi", "ControllerResizeInProgress")


def test_which_updates_the_resizer_acts_on():
    old = {"spec": {"resources": {"requests": {"storage": "40Gi"}}},
           "status": {"capacity": {"storage": "30Gi"}, "allocatedResourceStatuses": {"storage": "ControllerResizeInProgress"}}}
    lowered = {"spec": {"resources": {"requests": {"storage": "35Gi"}}}, "status": old["status"]}
    failed = {"spec": old["spec"], "status": {"capacity": {"storage": "30Gi"},
                                              "allocatedResourceStatuses": {"storage": "ControllerResizeInfeasible"}}}
    relabelled = {"metadata": {"labels": {"a": "b"}}, **old}
    assert update_queues_claim(old, None) and update_queues_claim(lowered, old) and update_queues_claim(failed, old)
    assert not update_queues_claim(relabelled, old)
