"""Secret values never leave a module in its result or diff."""

from ansible_collections.ocpvirt.portworx.plugins.module_utils.secrets import MASK, redact


def test_registry_http_secret_is_masked_wherever_it_is():
    result = {"config": {"spec": {"httpSecret": "s3cr3t", "replicas": 2}}, "diff": {"after": [{"httpSecret": "s3cr3t"}]}}
    masked = redact(result)
    assert masked == {"config": {"spec": {"httpSecret": MASK, "replicas": 2}}, "diff": {"after": [{"httpSecret": MASK}]}}
    assert result["config"]["spec"]["httpSecret"] == "s3cr3t"  # the input is not changed


def test_secret_data_and_tokens_are_masked_other_values_kept():
    secret = {"kind": "Secret", "metadata": {"name": "px-user-token"}, "data": {"auth-token": "dG9rZW4="}, "stringData": {"x": "y"}}
    masked = redact({"secret": secret, "token": "abc", "name": "px-user-token", "empty": {"token": ""}})
    assert masked["secret"]["data"] == {"auth-token": MASK} and masked["secret"]["stringData"] == {"x": MASK}
    assert masked["secret"]["metadata"] == {"name": "px-user-token"}
    assert masked["token"] == MASK and masked["name"] == "px-user-token" and masked["empty"] == {"token": ""}


def test_a_config_map_with_data_is_not_a_secret():
    config_map = {"kind": "ConfigMap", "data": {"key": "value"}}
    assert redact(config_map) == config_map
