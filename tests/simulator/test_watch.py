"""watch=true streams as the kubernetes client's watch.Watch consumes them."""
import json
import os
import threading
import time

import pytest
from kubernetes import client as kube_client
from kubernetes import watch
from kubernetes.client.rest import ApiException

from clustersim.testing import Simulator, eventually
from api_helpers import resource


@pytest.fixture(scope="module")
def core(sim):
    return kube_client.CoreV1Api(sim.api_client())


def collect(stream_fn, *args, stop_after=None, **kwargs):
    events = []
    for event in watch.Watch().stream(stream_fn, *args, **kwargs):
        events.append((event["type"], event["object"].metadata.name if hasattr(event["object"], "metadata")
                       else event["object"]))
        if stop_after and len(events) >= stop_after:
            break
    return events


def settled_namespace(core, name):
    """Create a namespace and return the resourceVersion of its ConfigMap list once the CA bundle
    publishers are done with it: they create kube-root-ca.crt and openshift-service-ca.crt
    asynchronously and the injector then writes the service CA into the latter (its last write),
    so a start version taken earlier makes a watch see their events too."""
    core.create_namespace({"metadata": {"name": name}})
    eventually("the service CA is injected", lambda: [
        c for c in core.list_namespaced_config_map(name).items if (c.data or {}).get("service-ca.crt")])
    return core.list_namespaced_config_map(name).metadata.resource_version


def test_watch_from_now_sees_added_modified_deleted(sim, core):
    current = settled_namespace(core, "w1")
    results = []
    thread = threading.Thread(target=lambda: results.extend(collect(
        core.list_namespaced_config_map, "w1", resource_version=current, timeout_seconds=5, stop_after=3)))
    thread.start()
    # the watch replays every change after `current`, so the writes need not wait for it to connect
    core.create_namespaced_config_map("w1", {"metadata": {"name": "a"}, "data": {"k": "1"}})
    core.patch_namespaced_config_map("a", "w1", {"data": {"k": "2"}})
    core.delete_namespaced_config_map("a", "w1")
    thread.join(10)
    assert results == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]


def test_watch_without_resource_version_starts_with_synthetic_added(core):
    events = collect(core.list_namespaced_persistent_volume_claim, "vms", timeout_seconds=1)
    assert len(events) >= 2 and all(kind == "ADDED" for kind, _ in events)


def test_watch_resumes_from_resource_version(core):
    start = settled_namespace(core, "w2")
    core.create_namespaced_config_map("w2", {"metadata": {"name": "x"}})
    core.create_namespaced_config_map("w2", {"metadata": {"name": "y"}})
    core.delete_namespaced_config_map("x", "w2")
    events = collect(core.list_namespaced_config_map, "w2", resource_version=start, timeout_seconds=1)
    assert events == [("ADDED", "x"), ("ADDED", "y"), ("DELETED", "x")]


def test_watch_timeout_seconds_ends_the_stream(core):
    started = time.monotonic()
    current = core.list_namespaced_config_map("default").metadata.resource_version
    assert collect(core.list_namespaced_config_map, "default", resource_version=current, timeout_seconds=1) == []
    assert time.monotonic() - started < 10  # ended by the server, not by the test


def test_label_selector_watch_reports_objects_entering_and_leaving(core):
    core.create_namespace({"metadata": {"name": "w3"}})
    start = core.list_namespaced_config_map("w3").metadata.resource_version
    core.create_namespaced_config_map("w3", {"metadata": {"name": "m", "labels": {"pick": "no"}}})
    core.patch_namespaced_config_map("m", "w3", {"metadata": {"labels": {"pick": "yes"}}})
    core.patch_namespaced_config_map("m", "w3", {"data": {"a": "b"}})
    core.patch_namespaced_config_map("m", "w3", {"metadata": {"labels": {"pick": "no"}}})
    events = collect(core.list_namespaced_config_map, "w3", resource_version=start, label_selector="pick=yes",
                     timeout_seconds=1)
    assert events == [("ADDED", "m"), ("MODIFIED", "m"), ("DELETED", "m")]


def test_field_selector_watch(core):
    start = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "fs-1"}})
    core.create_namespaced_config_map("default", {"metadata": {"name": "fs-2"}})
    events = collect(core.list_namespaced_config_map, "default", resource_version=start,
                     field_selector="metadata.name=fs-2", timeout_seconds=1)
    assert events == [("ADDED", "fs-2")]


def test_dynamic_client_watch(client, core):
    cms = resource(client, "v1", "ConfigMap")
    settled_namespace(core, "w4")
    seen = []
    connected = threading.Event()

    def consume():
        for event in cms.watch(namespace="w4", timeout=5):
            connected.set()  # the synthetic ADDED of the CA bundles: the watch is registered
            if event["object"].metadata.name in ("kube-root-ca.crt", "openshift-service-ca.crt"):
                continue  # the CA bundles every new namespace gets (cacertpublishers.py)
            seen.append((event["type"], event["object"].metadata.name))
            if len(seen) == 2:
                return

    thread = threading.Thread(target=consume)
    thread.start()
    assert connected.wait(10), "the watch sent no initial events"
    cms.create(namespace="w4", body={"metadata": {"name": "d1"}})
    cms.delete(namespace="w4", name="d1")
    thread.join(10)
    assert seen == [("ADDED", "d1"), ("DELETED", "d1")]


def test_too_old_resource_version_is_410_expired():
    # A tiny history makes the seeded objects' changes fall out of it, as etcd compaction would.
    with Simulator(vms=1, workers=1, env={"SIM_WATCH_HISTORY": "10"}) as small:
        core = kube_client.CoreV1Api(small.api_client())
        with pytest.raises(ApiException) as info:
            collect(core.list_namespaced_config_map, "default", resource_version="1", timeout_seconds=2)
        assert info.value.status == 410


def test_bookmarks_when_allowed():
    with Simulator(vms=1, workers=1, durations={"watch_bookmark_interval": 0.2}) as small:
        core = kube_client.CoreV1Api(small.api_client())
        core.create_namespace({"metadata": {"name": "quiet"}})
        # a new namespace gets its CA bundle ConfigMaps and then the service CA injected: let them settle
        eventually("the service CA is injected", lambda: [
            c for c in core.list_namespaced_config_map("quiet").items if (c.data or {}).get("service-ca.crt")])
        current = core.list_namespaced_config_map("quiet").metadata.resource_version
        response = core.list_namespaced_config_map("quiet", watch=True, resource_version=current,
                                                   allow_watch_bookmarks=True, timeout_seconds=1,
                                                   _preload_content=False)
        lines = [line for line in response.read().decode().splitlines() if line]
        events = [json.loads(line) for line in lines]
        assert events and {e["type"] for e in events} == {"BOOKMARK"}
        assert int(events[-1]["object"]["metadata"]["resourceVersion"]) >= int(current)
