"""The Jinja test the roles use to retry kubernetes.core tasks like the collection's modules do."""

import pytest

from ansible_collections.ocpvirt.portworx.plugins.test.transient_api_error import TestModule as JinjaTests
from ansible_collections.ocpvirt.portworx.plugins.test.transient_api_error import transient_api_error

# As kubernetes.core k8s_info reports a kubernetes-client ApiException (taken from a run against the simulator).
K8S_INFO_MSG = ("Exception '{0}\nReason: {1}\nHTTP response headers: HTTPHeaderDict({{'Content-Type': 'application/json'}})\n"
                "HTTP response body: {{\"kind\":\"Status\",\"code\":{0}}}\nOriginal traceback: \n  File \"client.py\", line 54, in inner\n"
                "' raised while trying to get resource using (name=None, namespace=None, label_selectors=[], field_selectors=[])")


@pytest.mark.parametrize("code, reason, transient", [
    (500, "Internal Server Error", True),
    (503, "Service Unavailable", True),
    (504, "Gateway Timeout", True),
    (429, "Too Many Requests", True),
    (403, "Forbidden", False),
    (404, "Not Found", False),
    (422, "Unprocessable Entity", False),
    (409, "Conflict", False),
])
def test_k8s_info_api_errors_in_msg(code, reason, transient):
    assert transient_api_error({"failed": True, "msg": K8S_INFO_MSG.format(code, reason)}) is transient


@pytest.mark.parametrize("result, transient", [
    ({"failed": True, "msg": "Failed to patch object", "status": 500, "reason": "Internal Server Error"}, True),
    ({"failed": True, "msg": "Failed to create object", "error": 422, "status": 422, "reason": "Invalid"}, False),
    ({"failed": True, "msg": "HTTPSConnectionPool(host='api', port=6443): Max retries exceeded (Caused by "
      "NewConnectionError('Failed to establish a new connection: [Errno 111] Connection refused'))"}, True),
    ({"failed": True, "msg": "Exception '('Connection aborted.', RemoteDisconnected('Remote end closed connection'))'"}, True),
    ({"failed": True, "msg": "kubernetes.core requires the kubernetes python library"}, False),
    ({"changed": False, "resources": []}, False),
    ({"failed": False, "msg": K8S_INFO_MSG.format(500, "Internal Server Error")}, False),
    ("not a result", False),
])
def test_other_shapes(result, transient):
    assert transient_api_error(result) is transient


def test_registered_under_its_name():
    assert JinjaTests().tests()["transient_api_error"] is transient_api_error
