"""The module base: options, check mode, diff, and how failures end a task."""

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.ocpvirt.portworx.plugins.module_utils import module as base
from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Refusal


class Exited(Exception):
    def __init__(self, kwargs):
        super(Exited, self).__init__(kwargs)
        self.result = kwargs


class Failed(Exited):
    pass


@pytest.fixture(autouse=True)
def capture_exits(monkeypatch):
    def exit_json(self, **kwargs):
        raise Exited(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs["msg"] = msg
        raise Failed(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)


class Scripted(base.OcpVirtModule):
    """A module whose execute_module does what the test says."""

    def __init__(self, action):
        super(Scripted, self).__init__(argument_spec=dict(name=dict(type="str", required=True)))
        self.action = action

    def execute_module(self):
        self.action(self)


def run(action, **args):
    args.setdefault("name", "px")
    with patch_module_args(args):
        module = Scripted(action)
        with pytest.raises(Exited) as ended:
            module.run()
    return module, ended.value


def test_common_argument_spec_has_auth_and_wait_options():
    spec = base.common_argument_spec()
    assert {"kubeconfig", "context", "host", "api_key", "validate_certs"} <= set(spec)
    assert spec["wait"]["default"] is True and spec["wait_sleep"]["type"] == "float"
    assert "wait" not in base.common_argument_spec(wait=False)


def test_success_reports_result_and_diff_only_when_asked():
    def change(module):
        module.changed()
        module.result["name"] = module.params["name"]
        module.set_diff({"a": 1}, {"a": 2})

    dummy, ended = run(change)
    assert not isinstance(ended, Failed)
    assert ended.result["changed"] is True and ended.result["name"] == "px" and "diff" not in ended.result
    dummy, ended = run(change, _ansible_diff=True)
    assert ended.result["diff"] == {"before": {"a": 1}, "after": {"a": 2}}


def test_module_failure_ends_in_one_line_fail_json_with_status_and_reason():
    def refuse(module):
        module.changed()
        raise Refusal("StorageClass px", "it does not allow volume expansion", "Pick another class.", offered=["RWO"])

    dummy, ended = run(refuse)
    assert isinstance(ended, Failed)
    assert ended.result["msg"] == "StorageClass px: it does not allow volume expansion. Pick another class."
    assert ended.result["reason"] == "Refused" and ended.result["offered"] == ["RWO"]
    assert ended.result["changed"] is True  # what was written before the failure stays reported
    assert "exception" not in ended.result


def test_no_waiting_in_check_mode_or_when_disabled():
    seen = {}

    def record(module):
        seen["wait"] = module.wait_enabled

    run(record)
    assert seen["wait"] is True
    run(record, _ansible_check_mode=True)
    assert seen["wait"] is False
    run(record, wait=False)
    assert seen["wait"] is False


def test_waiter_takes_explicit_zero_timeout():
    seen = {}

    def record(module):
        waiter = module.waiter()
        seen.update(timeout=waiter.timeout, sleep=waiter.sleep)

    run(record, wait_timeout=0, wait_sleep=0.5)
    assert seen == {"timeout": 0, "sleep": 0.5}


@pytest.mark.parametrize("args, message", [
    ({"wait_sleep": 0}, "option wait_sleep = 0.0 must be more than 0"),
    ({"wait_timeout": -1}, "option wait_timeout = -1 must be at least 0"),
])
def test_unusable_wait_options_are_refused(args, message):
    args["name"] = "px"
    with patch_module_args(args):
        with pytest.raises(Failed) as failed:
            Scripted(lambda module: None)
    assert message in failed.value.result["msg"]


def test_unusable_client_configuration_is_a_one_line_failure(tmp_path):
    missing = str(tmp_path / "no-such-kubeconfig")

    def connect(module):
        module.cluster.get("v1", "Node", "worker-0")

    dummy, ended = run(connect, kubeconfig=missing)
    assert isinstance(ended, Failed)
    assert ended.result["reason"] == "ClientConfig" and "\n" not in ended.result["msg"]


def test_a_wait_ends_interrupted_once_the_controller_found_at_start_is_gone():
    def wait(module):
        module.controller_watch.gone = lambda: "the job that ran this module ended"  # as ControllerWatch says it
        module.waiter().until("claim to bind", lambda: (False, "Pending"))

    module, ended = run(wait)
    assert isinstance(ended, Failed) and ended.result["reason"] == "Interrupted", ended.result
    assert ended.result["msg"] == "Stopped waiting for claim to bind: the job that ran this module ended"
