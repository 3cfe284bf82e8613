"""Paginated, JSON-decoded reads: every page is read and nothing else is called."""

import json

from ansible_collections.ocpvirt.portworx.plugins.module_utils.readiness.gather import gather, paged_list
from ansible_collections.ocpvirt.portworx.plugins.module_utils.retry import RetryPolicy


class Response(object):
    def __init__(self, payload):
        self.data = json.dumps(payload).encode()


class PagedResource(object):
    """Answers ``limit``-sized pages with a continue token, as the API server does."""

    def __init__(self, total):
        self.items = [{"metadata": {"name": "vm-%d" % i}} for i in range(total)]
        self.calls = []

    def get(self, **options):
        self.calls.append(options)
        start = int(options.get("_continue") or 0)
        end = start + options["limit"]
        metadata = {"continue": str(end)} if end < len(self.items) else {}
        return Response({"items": self.items[start:end], "metadata": metadata})


class Cluster(object):
    def __init__(self, resource):
        self._resource = resource
        self.policy = RetryPolicy(attempts=1)
        self.on_retry = None

    def resource(self, api_version, kind):
        return self._resource


def test_reads_every_page_as_plain_dicts():
    resource = PagedResource(1234)
    items = paged_list(Cluster(resource), "kubevirt.io/v1", "VirtualMachine", page_size=500, label_selector="app=x")
    assert [i["metadata"]["name"] for i in items] == ["vm-%d" % i for i in range(1234)]
    assert len(resource.calls) == 3
    assert all(c["serialize"] is False and c["limit"] == 500 and c["label_selector"] == "app=x" for c in resource.calls)
    assert [c.get("_continue") for c in resource.calls] == [None, "500", "1000"]


class ForbiddenResource(object):
    def get(self, **options):
        raise _Forbidden()


class _Forbidden(Exception):
    status = 403
    reason = "Forbidden"
    body = '{"kind": "Status", "reason": "Forbidden", "message": "events is forbidden"}'


class ServingCluster(Cluster):
    def served(self, api_version, kind):
        return True

    def get(self, api_version, kind, name, namespace=None):
        return None


def test_a_forbidden_list_is_unserved_not_fatal():
    facts = gather(ServingCluster(ForbiddenResource()), keys=("evict_failures",))
    assert facts["evict_failures"] is None
    assert facts["unserved"] == ["v1 Event (forbidden)"]
