"""ClusterClient behaviour over a fake discovery layer (the real API is covered by integration tests)."""

import copy
import json

try:
    from urllib.parse import parse_qsl
except ImportError:  # Python 2
    from urlparse import parse_qsl

import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils.cluster import ClusterClient
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ApiFailure
from ansible_collections.ocpvirt.portworx.plugins.module_utils.retry import RetryPolicy


class ApiError(Exception):
    def __init__(self, status, reason="", body=None):
        super(ApiError, self).__init__(reason)
        self.status = status
        self.reason = reason
        self.body = body


class FakeResource(object):
    """A StorageClass-like resource kept in a dict, recording the calls it gets."""

    def __init__(self):
        self.objects = {}
        self.calls = []
        self.fail_next = []

    def path(self, name=None, namespace=None):
        return "/things/" + name if name else "/things"

    def delete(self, name=None, namespace=None, **params):
        self.calls.append(("delete", name, params))
        self._maybe_fail()
        if name not in self.objects:
            raise ApiError(404, "Not Found")
        return self.objects.pop(name) if not params.get("dry_run") else self.objects[name]

    def _maybe_fail(self):
        if self.fail_next:
            raise self.fail_next.pop(0)

    def get(self, name=None, namespace=None, **params):
        self.calls.append(("get", name, params))
        self._maybe_fail()
        if name is None:
            return {"items": list(self.objects.values())}
        if name not in self.objects:
            raise ApiError(404, "Not Found")
        return copy.deepcopy(self.objects[name])

    def replace(self, body, name=None, namespace=None, **params):
        self.calls.append(("replace", name, params))
        self._maybe_fail()
        if body["metadata"]["resourceVersion"] != self.objects[name]["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict")
        if not params.get("dry_run"):
            body = copy.deepcopy(body)
            body["metadata"]["resourceVersion"] = str(int(body["metadata"]["resourceVersion"]) + 1)
            self.objects[name] = body
        return body

    def create(self, body, namespace=None, **params):
        self.calls.append(("create", body["metadata"]["name"], params))
        name = body["metadata"]["name"]
        if name in self.objects:
            raise ApiError(409, "Conflict", '{"reason": "AlreadyExists", "message": "already exists"}')
        if not params.get("dry_run"):
            self.objects[name] = copy.deepcopy(body)
        self._maybe_fail()
        return body

    def patch(self, body, name=None, namespace=None, **params):
        self.calls.append(("patch", name, params))
        self._maybe_fail()
        return self.objects[name]


class FakeResponse(object):
    """A raw urllib3-like answer: JSON ``data`` and ``headers`` with ``getlist``."""

    def __init__(self, body, warnings=()):
        self.data = json.dumps(body).encode() if body is not None else b""
        self.headers = FakeHeaders({"Warning": list(warnings)})


class FakeHeaders(dict):
    def getlist(self, name):
        return list(self.get(name) or [])


class FakeDynamic(object):
    """What ClusterClient sends for writes: ``request(method, path?query, body, content_type, serialize=False)``."""

    def __init__(self, resource):
        self.resource = resource
        self.warnings = []

    def request(self, method, path, body=None, content_type=None, serialize=True):
        assert serialize is False
        base, _sep, query = path.partition("?")
        params = dict(parse_qsl(query))
        params = {"field_validation": params.pop("fieldValidation"), "dry_run": params.pop("dryRun", None)}
        params = dict((k, v) for k, v in params.items() if v is not None)
        name = base.rsplit("/", 1)[-1] if base != "/things" else None
        if method == "patch":
            params["content_type"] = content_type
            answer = self.resource.patch(body, name=name, **params)
        elif method == "put":
            answer = self.resource.replace(body, name=name, **params)
        elif method == "post":
            answer = self.resource.create(body, **params)
        else:
            answer = self.resource.delete(name=name, **params)
        return FakeResponse(answer, self.warnings)


class FakeK8s(object):
    def __init__(self, resource):
        self.client = FakeDynamic(resource)
        self._resource = resource

    def resource(self, kind, api_version):
        return self._resource


@pytest.fixture
def resource():
    res = FakeResource()
    res.objects["px"] = {"metadata": {"name": "px", "resourceVersion": "1", "annotations": {}}}
    return res


def client(resource, check_mode=False):
    return ClusterClient(FakeK8s(resource), check_mode=check_mode, policy=RetryPolicy(attempts=3, sleep=lambda s: None))


def test_get_missing_object_is_none(resource):
    assert client(resource).get("storage.k8s.io/v1", "StorageClass", "absent") is None


def test_check_mode_sends_server_side_dry_run(resource):
    client(resource, check_mode=True).patch("storage.k8s.io/v1", "StorageClass", "px", {"metadata": {}})
    assert resource.calls[-1] == ("patch", "px", {"content_type": "application/merge-patch+json", "dry_run": "All",
                                                  "field_validation": "Strict"})


def test_update_rereads_and_reapplies_on_conflict(resource):
    def annotate(obj):
        obj["metadata"]["annotations"]["a"] = "b"
        return True

    # Another writer bumps the object between our read and our write.
    original_get = resource.get

    def racing_get(name=None, namespace=None, **params):
        obj = original_get(name=name, namespace=namespace, **params)
        if len([c for c in resource.calls if c[0] == "get"]) == 1:
            resource.objects["px"]["metadata"]["resourceVersion"] = "2"
        return obj

    resource.get = racing_get
    before, after = client(resource).update("storage.k8s.io/v1", "StorageClass", "px", annotate)
    assert after["metadata"]["annotations"] == {"a": "b"}
    assert [c[0] for c in resource.calls] == ["get", "replace", "get", "replace"]


def test_update_without_change_writes_nothing(resource):
    before, after = client(resource).update("storage.k8s.io/v1", "StorageClass", "px", lambda obj: False)
    assert before is after
    assert [c[0] for c in resource.calls] == ["get"]


def test_transient_errors_are_retried_then_permanent_errors_fail_in_one_line(resource):
    resource.fail_next = [ApiError(503, "Service Unavailable")]
    assert client(resource).get("storage.k8s.io/v1", "StorageClass", "px")["metadata"]["name"] == "px"
    resource.fail_next = [ApiError(403, "Forbidden", '{"reason": "Forbidden", "message": "no access"}')]
    with pytest.raises(ApiFailure) as info:
        client(resource).get("storage.k8s.io/v1", "StorageClass", "px")
    assert info.value.msg == "get StorageClass px failed with HTTP 403 Forbidden: no access"


def test_create_replayed_after_a_lost_answer_returns_the_object_it_created(resource):
    # The first attempt is written but its answer is lost; the retry then meets AlreadyExists.
    resource.fail_next = [ConnectionResetError("reset")]
    created = client(resource).create({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "new"}})
    assert created["metadata"]["name"] == "new"
    assert [c[0] for c in resource.calls] == ["create", "create", "get"]


def test_create_of_an_existing_object_still_fails(resource):
    with pytest.raises(ApiFailure) as info:
        client(resource).create({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "px"}})
    assert info.value.status == 409 and info.value.reason == "AlreadyExists"


@pytest.mark.parametrize("write", [
    lambda c: c.patch("storage.k8s.io/v1", "StorageClass", "px", {"metadata": {}}),
    lambda c: c.replace({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                         "metadata": {"name": "px", "resourceVersion": "1"}}),
    lambda c: c.create({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "new"}}),
    lambda c: c.update("storage.k8s.io/v1", "StorageClass", "px", lambda obj: obj["metadata"].update(labels={"a": "b"}) or True),
    lambda c: c.delete("storage.k8s.io/v1", "StorageClass", "px"),
])
def test_every_write_asks_for_strict_field_validation(resource, write):
    # A typo in a planner's patch must be refused (400), not pruned silently as the apiserver's default Warn does.
    write(client(resource))
    writes = [c for c in resource.calls if c[0] != "get"]
    assert writes and all(c[2]["field_validation"] == "Strict" for c in writes)
    assert all("dry_run" not in c[2] for c in writes)


def test_api_warnings_reach_the_module_once_each(resource):
    seen = []
    cluster = ClusterClient(FakeK8s(resource), policy=RetryPolicy(attempts=3, sleep=lambda s: None), on_warning=seen.append)
    cluster.k8s.client.warnings = ['299 - "unknown field \\"spec.foo\\"", 299 - "v1beta1 is deprecated"']
    cluster.patch("storage.k8s.io/v1", "StorageClass", "px", {"metadata": {}})
    cluster.patch("storage.k8s.io/v1", "StorageClass", "px", {"metadata": {}})
    assert seen == ['unknown field "spec.foo"', "v1beta1 is deprecated"]
    assert cluster.warnings == seen


def test_warning_texts_accept_plain_values():
    from ansible_collections.ocpvirt.portworx.plugins.module_utils.cluster import warning_texts

    assert warning_texts({"Warning": "not quoted"}) == ["not quoted"]
    assert warning_texts(None) == []


@pytest.mark.parametrize("name", ["", "  ", None])
def test_an_empty_name_is_refused_instead_of_listing(resource, name):
    from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Refusal

    cluster = client(resource)
    calls = [
        lambda: cluster.get("storage.k8s.io/v1", "StorageClass", name),
        lambda: cluster.patch("storage.k8s.io/v1", "StorageClass", name, {"metadata": {}}),
        lambda: cluster.delete("storage.k8s.io/v1", "StorageClass", name),
        lambda: cluster.update("storage.k8s.io/v1", "StorageClass", name, lambda obj: True),
        lambda: cluster.create({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name}}),
        lambda: cluster.replace({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name}}),
    ]
    for call in calls:
        with pytest.raises(Refusal) as refused:
            call()
        assert "needs a non-empty name" in refused.value.msg
    assert resource.calls == []


def test_a_generated_name_needs_no_name(resource):
    created = client(resource).create({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                                       "metadata": {"name": None, "generateName": "px-"}})
    assert created["metadata"]["generateName"] == "px-"
