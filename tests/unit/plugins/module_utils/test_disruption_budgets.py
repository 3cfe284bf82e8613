import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils.disruption_budgets import blocking_budgets, selects


@pytest.mark.parametrize("selector, labels, expected", [
    (None, {"a": "b"}, False),
    ({}, {"a": "b"}, True),
    ({"matchLabels": {"a": "b"}}, {"a": "b", "c": "d"}, True),
    ({"matchLabels": {"a": "x"}}, {"a": "b"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["b", "c"]}]}, {"a": "c"}, True),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["b"]}]}, {}, True),
    ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": ""}, True),
    ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"a": ""}, False),
])
def test_label_selectors(selector, labels, expected):
    assert selects(selector, labels) is expected


def test_only_budgets_of_the_pods_namespace_that_allow_nothing_block():
    pod = {"metadata": {"namespace": "a", "labels": {"app": "x"}}}
    budgets = [{"metadata": {"name": "other-ns", "namespace": "b"}, "spec": {"selector": {}}, "status": {"disruptionsAllowed": 0}},
               {"metadata": {"name": "blocks", "namespace": "a"}, "spec": {"selector": {}}, "status": {"disruptionsAllowed": 0}},
               {"metadata": {"name": "not-reconciled-yet", "namespace": "a"}, "spec": {"selector": {}}, "status": {}},
               {"metadata": {"name": "allows", "namespace": "a"}, "spec": {"selector": {}}, "status": {"disruptionsAllowed": 2}}]
    assert blocking_budgets(pod, budgets) == ["blocks"]
