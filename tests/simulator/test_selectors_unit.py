"""Label and field selectors, without a server (semantics of k8s.io/apimachinery release-1.33
``pkg/labels/selector.go`` and ``pkg/fields/selector.go``)."""
import pytest

from clustersim.errors import ApiError
from clustersim.selectors import (
    FieldRequirement, Requirement, all_paths, fields_match, labels_match, make_matcher, parse_field_selector,
    parse_label_selector)

LABELS = {"app": "web", "tier": "front", "example.com/role": "db"}


@pytest.mark.parametrize("selector, matches", [
    ("", True),
    ("app=web", True),
    ("app==web", True),
    ("app=api", False),
    ("app!=api", True),
    ("missing!=x", True),  # != matches objects without the key
    ("app in (web, api)", True),
    ("app notin (web)", False),
    ("missing notin (x)", True),
    ("tier", True),
    ("!tier", False),
    ("!missing", True),
    ("example.com/role=db,app=web", True),
    ("app=web,tier=back", False),
    ("app in (api),tier", False),
])
def test_label_selector_semantics(selector, matches):
    assert labels_match(parse_label_selector(selector), LABELS) is matches


def test_label_selector_parses_set_expressions_with_commas_inside():
    assert parse_label_selector("app in (a,b),tier") == (
        Requirement("app", "in", frozenset({"a", "b"})), Requirement("tier", "exists"))


@pytest.mark.parametrize("bad", ["!app in (a)", "bad key=1", "=x", "-app=1"])
def test_label_selector_errors_are_400(bad):
    with pytest.raises(ApiError) as info:
        parse_label_selector(bad)
    assert info.value.code == 400 and "unable to parse requirement" in info.value.message


def test_field_selector_compares_strings_and_refuses_unsupported_fields():
    pod = {"metadata": {"name": "p", "namespace": "ns"}, "spec": {"nodeName": "worker-1", "hostNetwork": True}}
    supported = frozenset({"metadata.name", "spec.nodeName", "spec.hostNetwork"})
    assert fields_match(parse_field_selector("spec.nodeName=worker-1,metadata.name!=q", supported, "Pod"), pod)
    assert not fields_match(parse_field_selector("spec.nodeName==worker-2", supported, "Pod"), pod)
    assert fields_match(parse_field_selector("spec.hostNetwork=true", supported, "Pod"), pod)
    assert fields_match((FieldRequirement("status.phase", "=", ""),), pod)  # missing compares as ""
    with pytest.raises(ApiError) as info:
        parse_field_selector("status.phase=Running", supported, "Pod")
    assert info.value.code == 400 and "field label not supported: status.phase" in info.value.message
    with pytest.raises(ApiError):
        parse_field_selector("spec.nodeName", supported, "Pod")


def test_matcher_combines_both_and_all_paths_lists_fields():
    matcher = make_matcher(parse_label_selector("app=web"),
                           parse_field_selector("metadata.name=a", frozenset({"metadata.name"}), "ConfigMap"))
    assert matcher({"metadata": {"name": "a", "labels": {"app": "web"}}})
    assert not matcher({"metadata": {"name": "b", "labels": {"app": "web"}}})
    assert not matcher({"metadata": {"name": "a"}})
    assert all_paths("spec.nodeName=x,status.phase!=Running") == frozenset({"spec.nodeName", "status.phase"})
    assert all_paths(None) == frozenset()
