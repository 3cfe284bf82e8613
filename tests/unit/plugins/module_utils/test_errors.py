import json

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import (
    Refusal,
    WaitTimeout,
    api_failure,
)


class FakeApiException(Exception):
    def __init__(self, status, reason, body):
        super(FakeApiException, self).__init__(reason)
        self.status = status
        self.reason = reason
        self.body = body


def test_api_failure_is_one_line_with_status_reason_and_causes():
    body = json.dumps(
        {
            "kind": "Status",
            "status": "Failure",
            "reason": "Invalid",
            "code": 422,
            "message": (
                'PersistentVolumeClaim "data" is invalid:\n'
                " spec.resources.requests.storage: Forbidden: field can not be less than previous value"
            ),
            "details": {"causes": [{"field": "spec.resources.requests.storage", "message": "Forbidden: field can not be less than previous value"}]},
        }
    )
    failure = api_failure(FakeApiException(422, "Unprocessable Entity", body), "patch", "PersistentVolumeClaim vms/data")
    assert "\n" not in failure.msg
    assert failure.msg.startswith("patch PersistentVolumeClaim vms/data failed with HTTP 422 Invalid:")
    assert "field can not be less than previous value" in failure.msg
    assert failure.result()["status"] == 422
    assert failure.result()["reason"] == "Invalid"


def test_api_failure_lists_causes_missing_from_the_message():
    cause = {"field": "parameters", "message": "updates to parameters are forbidden."}
    body = {"reason": "Invalid", "message": "StorageClass is invalid", "details": {"causes": [cause]}}
    failure = api_failure(FakeApiException(422, "Unprocessable Entity", json.dumps(body)), "replace", "StorageClass px")
    assert "parameters: updates to parameters are forbidden." in failure.msg


def test_api_failure_without_json_body_uses_transport_text():
    failure = api_failure(ConnectionResetError("Connection reset by peer"), "get", "Node worker-0")
    assert failure.status is None
    assert failure.msg == "get Node worker-0 failed: Connection reset by peer"


def test_refusal_names_subject_rule_and_fix():
    refusal = Refusal("StorageClass px-db", "the class does not allow volume expansion", "Use a class with allowVolumeExpansion: true.")
    assert refusal.msg == "StorageClass px-db: the class does not allow volume expansion. Use a class with allowVolumeExpansion: true."
    assert refusal.result()["reason"] == "Refused"


def test_wait_timeout_reports_last_state_and_details():
    timeout = WaitTimeout("PVC vms/data to be Bound", 30, last_state="phase Pending", pending=["x"])
    result = timeout.result()
    assert result["msg"] == "Timed out after 30s waiting for PVC vms/data to be Bound; last seen: phase Pending"
    assert result["pending"] == ["x"]


def test_half_done_names_what_was_changed_and_the_fix_in_one_line():
    from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import ApiFailure, half_done

    failure = half_done(ApiFailure("patch StorageClass b failed with HTTP 500 InternalError: boom.", status=500),
                        ["StorageClass a created", "StorageClass c patched"], "Run the task again to finish")
    assert failure.msg == ("patch StorageClass b failed with HTTP 500 InternalError: boom. Half done: StorageClass a created; "
                           "StorageClass c patched. Run the task again to finish.")
    assert failure.result()["half_done"] is True and failure.result()["done"] == ["StorageClass a created", "StorageClass c patched"]
    assert failure.status == 500
    untouched = ApiFailure("create X failed")
    assert half_done(untouched, []) is untouched and untouched.msg == "create X failed" and "half_done" not in untouched.result()
