"""kubernetes.core failures as one line, and their status for the retry test (messages taken from runs against the simulator)."""

import pytest

from ansible_collections.ocpvirt.portworx.plugins.filter.api_error_line import FilterModule, api_error_line
from ansible_collections.ocpvirt.portworx.plugins.module_utils.task_errors import task_status
from ansible_collections.ocpvirt.portworx.plugins.test.transient_api_error import transient_api_error

STATUS = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"simulated fault (500 InternalError)",'
          '"reason":"InternalError","code":500}')
K8S_INFO = ("Exception '500\nReason: Internal Server Error\nHTTP response headers: HTTPHeaderDict({'Server': 'clustersim', "
            "'Content-Type': 'application/json'})\nHTTP response body: " + STATUS + "\nOriginal traceback: \n  File \"/x/kubernetes/"
            "dynamic/client.py\", line 54, in inner\n    resp = func(self, *args, **kwargs)\n' raised while trying to get resource "
            "using (name=mtv-storage, namespace=None, label_selectors=[], field_selectors=[])")
K8S_READ = "Failed to retrieve requested object: " + STATUS


@pytest.mark.parametrize("result, status, line", [
    ({"failed": True, "msg": K8S_INFO}, 500,
     "read failed with HTTP 500 InternalError: simulated fault (500 InternalError)"),
    ({"failed": True, "msg": K8S_READ, "reason": "Internal Server Error"}, 500,
     "read failed with HTTP 500 InternalError: simulated fault (500 InternalError)"),
    ({"failed": True, "msg": "Failed to create object: b'{}'", "status": 422, "reason": "Unprocessable Entity"}, 422,
     "read failed with HTTP 422 Unprocessable Entity: Failed to create object: b'{}'"),
    ({"failed": True, "msg": "Exception '('Connection aborted.', RemoteDisconnected('Remote end closed\nconnection'))'"}, None,
     "read failed: Exception '('Connection aborted.', RemoteDisconnected('Remote end closed connection'))'"),
])
def test_one_line_with_status_reason_and_the_apis_message(result, status, line):
    assert task_status(result) == status
    assert api_error_line(result, "read") == line
    assert "\n" not in api_error_line(result, "read") and "traceback" not in api_error_line(result, "read")


def test_the_status_json_of_a_k8s_read_is_retried():
    # kubernetes.core.k8s reads the object before it writes; a 5xx there came back as a Status in msg only
    assert transient_api_error({"failed": True, "msg": K8S_READ, "reason": "Internal Server Error"}) is True
    assert transient_api_error({"failed": True, "msg": K8S_READ.replace("500", "403").replace("InternalError", "Forbidden")}) is False


def test_the_filter_is_registered_and_defaults_its_action():
    assert FilterModule().filters()["api_error_line"] is api_error_line
    assert api_error_line({"msg": "boom"}).startswith("the task failed: boom")
    assert api_error_line(None) == "the task failed: no message"
