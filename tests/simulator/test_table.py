"""Server-side Table (``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``): the pure column
rendering, then the answers over HTTP."""
import pytest

from api_helpers import raw
from clustersim import jsonpath, printers
from clustersim.kinds import default_registry
from clustersim.table import custom_cells, to_table, wanted_table_version

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
NOW = 1_000_000.0


def stamp(seconds_ago):
    import datetime

    return datetime.datetime.fromtimestamp(NOW - seconds_ago, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("seconds,shown", [(-5, "<invalid>"), (0, "0s"), (119, "119s"), (125, "2m5s"), (600, "10m"),
                                           (3 * 3600, "3h"), (3 * 3600 + 60, "3h1m"), (9 * 3600, "9h"),
                                           (50 * 3600, "2d2h"), (10 * 86400, "10d"), (800 * 86400, "2y70d")])
def test_human_duration_is_apimachinerys(seconds, shown):
    assert printers.human_duration(seconds) == shown


def test_accept_negotiation_picks_the_first_table_version():
    assert wanted_table_version(TABLE) == "v1"
    assert wanted_table_version("application/json;as=Table;v=v1beta1;g=meta.k8s.io") == "v1beta1"
    assert wanted_table_version("application/json") is None
    assert wanted_table_version("application/json, application/json;as=Table;v=v1;g=meta.k8s.io") is None
    assert wanted_table_version(None) is None


def test_jsonpath_subset_of_printer_columns():
    vm = {"status": {"conditions": [{"type": "Paused", "status": "False"}, {"type": "Ready", "status": "True"}],
                     "interfaces": [{"ipAddress": "10.0.0.9"}]}}
    assert jsonpath.find(vm, ".status.conditions[?(@.type=='Ready')].status") == ["True"]
    assert jsonpath.find(vm, '.status.conditions[?(@.type=="Missing")].status') == []
    assert jsonpath.find(vm, ".status.interfaces[0].ipAddress") == ["10.0.0.9"]
    assert jsonpath.find(vm, ".status.conditions[*].type") == ["Paused", "Ready"]
    with pytest.raises(jsonpath.JsonPathError):
        jsonpath.find(vm, "status..x")


def test_pod_cells_ready_status_restarts_and_wide():
    pod = {"metadata": {"name": "p", "creationTimestamp": stamp(30)},
           "spec": {"nodeName": "worker-0", "containers": [{"name": "a"}, {"name": "b"}]},
           "status": {"phase": "Running", "podIPs": [{"ip": "10.128.0.5"}], "containerStatuses": [
               {"name": "a", "ready": True, "restartCount": 2, "state": {"running": {}},
                "lastState": {"terminated": {"finishedAt": stamp(200)}}},
               {"name": "b", "ready": False, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}
    assert printers.pod_cells(pod, NOW) == ["p", "1/2", "CrashLoopBackOff", "2 (3m20s ago)", "30s", "10.128.0.5",
                                            "worker-0", "<none>", "<none>"]
    pod["metadata"]["deletionTimestamp"] = stamp(1)
    assert printers.pod_cells(pod, NOW)[2] == "Terminating"


def test_node_cells_roles_and_scheduling_disabled():
    node = {"metadata": {"name": "n", "creationTimestamp": stamp(7200),
                         "labels": {"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/infra": ""}},
            "spec": {"unschedulable": True},
            "status": {"conditions": [{"type": "Ready", "status": "False"}],
                       "nodeInfo": {"kubeletVersion": "v1.33.5"}, "addresses": [{"type": "InternalIP", "address": "10.0.0.2"}]}}
    assert printers.node_cells(node, NOW)[:6] == ["n", "NotReady,SchedulingDisabled", "infra,worker", "120m", "v1.33.5",
                                                  "10.0.0.2"]


def test_claim_capacity_and_modes_only_once_bound():
    claim = {"metadata": {"name": "c", "creationTimestamp": stamp(5)},
             "spec": {"storageClassName": "sc", "volumeMode": "Block"},
             "status": {"phase": "Pending"}}
    assert printers.pvc_cells(claim, NOW) == ["c", "Pending", "", "", "", "sc", "<unset>", "5s", "Block"]
    claim["spec"]["volumeName"] = "pv-1"
    claim["status"] = {"phase": "Bound", "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteMany", "ReadWriteOnce"]}
    assert printers.pvc_cells(claim, NOW)[1:5] == ["Bound", "pv-1", "10Gi", "RWO,RWX"]


def test_default_storage_class_is_marked_in_the_name():
    sc = {"metadata": {"name": "fast", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
          "provisioner": "pxd.portworx.com"}
    assert printers.storageclass_cells(sc, NOW)[:5] == ["fast (default)", "pxd.portworx.com", "Delete", "Immediate", False]


def test_crd_columns_from_additional_printer_columns():
    kind = default_registry().get("kubevirt.io/virtualmachines")
    vm = {"metadata": {"name": "vm-1", "creationTimestamp": stamp(90)},
          "status": {"printableStatus": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    table = to_table(kind, vm, "v1", None, now=NOW)
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Age", "Status", "Ready"]
    assert table["rows"][0]["cells"] == ["vm-1", "90s", "Running", "True"]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert custom_cells({"metadata": {"name": "x"}}, list(kind.printer_columns), NOW) == ["x", None, None, None]


def test_kind_without_printer_columns_shows_name_and_age():
    kind = default_registry().get("autopilot.libopenstorage.org/autopilotrules")
    assert not kind.printer_columns
    table = to_table(kind, {"kind": "AutopilotRuleList", "metadata": {"resourceVersion": "7"},
                            "items": [{"metadata": {"name": "r", "creationTimestamp": stamp(3)}}]}, "v1", "None", now=NOW)
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Age"]
    assert table["rows"] == [{"cells": ["r", "3s"]}] and table["metadata"] == {"resourceVersion": "7"}


# --- over HTTP ------------------------------------------------------------------------------------
def test_list_of_nodes_as_table(sim):
    code, body = raw(sim, "GET", "/api/v1/nodes?limit=2", headers={"Accept": TABLE})
    assert code == 200 and body["kind"] == "Table" and body["apiVersion"] == "meta.k8s.io/v1"
    assert [(c["name"], c["priority"]) for c in body["columnDefinitions"]][:5] == [
        ("Name", 0), ("Status", 0), ("Roles", 0), ("Age", 0), ("Version", 0)]
    assert len(body["rows"]) == 2 and body["metadata"]["continue"]
    assert body["rows"][0]["cells"][:3] == ["master-0", "Ready", "control-plane,master"]
    assert body["rows"][0]["object"]["metadata"]["name"] == "master-0"


def test_get_of_one_object_as_table_with_the_whole_object(sim):
    code, body = raw(sim, "GET", "/api/v1/namespaces/default?includeObject=Object", headers={"Accept": TABLE})
    assert code == 200 and [c["name"] for c in body["columnDefinitions"]] == ["Name", "Status", "Age"]
    assert body["rows"][0]["cells"][:2] == ["default", "Active"]
    assert body["rows"][0]["object"]["kind"] == "Namespace"


def test_plain_json_clients_still_get_objects(sim):
    code, body = raw(sim, "GET", "/api/v1/namespaces/default")
    assert code == 200 and body["kind"] == "Namespace"


def test_bad_include_object_is_400(sim):
    code, body = raw(sim, "GET", "/api/v1/namespaces?includeObject=All", headers={"Accept": TABLE})
    assert code == 400 and body["reason"] == "BadRequest"


def test_watch_as_table_sends_rows_and_the_columns_once(sim):
    import json
    import urllib.request

    request = urllib.request.Request(sim.url + "/api/v1/namespaces?watch=true&timeoutSeconds=1",
                                     headers={"Authorization": f"Bearer {sim.token}", "Accept": TABLE})
    with urllib.request.urlopen(request, timeout=10, context=sim.ssl_context) as response:
        events = [json.loads(line) for line in response.read().splitlines() if line.strip()]
    assert len(events) > 2 and {e["type"] for e in events} == {"ADDED"}
    assert all(e["object"]["kind"] == "Table" and len(e["object"]["rows"]) == 1 for e in events)
    assert [c["name"] for c in events[0]["object"]["columnDefinitions"]] == ["Name", "Status", "Age"]
    assert events[1]["object"]["columnDefinitions"] == []
