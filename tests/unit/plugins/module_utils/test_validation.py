"""Option validators: what each accepts and refuses, and how a refusal reads."""

import pytest

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import Refusal
from ansible_collections.ocpvirt.portworx.plugins.module_utils.validation import (
    InvalidValue,
    base_url,
    label_selector,
    boolean_values,
    check_options,
    check_text,
    count,
    describe_name,
    dns_label,
    dns_subdomain,
    duration,
    each_key,
    each_value,
    image_reference,
    namespaced_name,
    non_empty_list,
    quantity,
    string_values,
)


def refused(check, value):
    with pytest.raises(InvalidValue) as invalid:
        check(value)
    return invalid.value


@pytest.mark.parametrize("name", ["px-rwx-block-kubevirt", "a", "0", "worker-0.example.com", "a" * 253])
def test_subdomain_accepts_what_the_api_accepts(name):
    dns_subdomain("StorageClass")(name)


@pytest.mark.parametrize("name, rule", [
    ("", "is empty"), ("  ", "is empty"), ("Upper", "DNS-1123 subdomain"), ("-x", "DNS-1123"), ("x-", "DNS-1123"),
    ("a_b", "DNS-1123"), ("wörker", "DNS-1123"), ("a;b", "DNS-1123"), ("a/b", "DNS-1123"), ("a..b", "DNS-1123"),
    ("a" * 254, "254 characters long"), (7, "not a string"),
])
def test_subdomain_refuses(name, rule):
    assert rule in refused(dns_subdomain("StorageClass"), name).rule


def test_label_refuses_dots_and_more_than_63_characters():
    dns_label("VirtualMachine")("vm-000")
    assert "DNS-1123 label" in refused(dns_label("VirtualMachine"), "a.b").rule
    assert "at most 63" in refused(dns_label("VirtualMachine"), "a" * 64).rule


def test_reserved_suffix_shortens_the_allowed_name():
    check = dns_subdomain("Node", reserve=12)
    check("n" * 241)
    assert "appends 12 characters" in refused(check, "n" * 242).rule


@pytest.mark.parametrize("value", ["20Gi", "1", "500M", "1.5Ti", "1e3", 10, "512Ki"])
def test_quantity_accepts_positive_byte_sizes(value):
    quantity()(value)


@pytest.mark.parametrize("value, rule", [
    ("abc", "not a Kubernetes quantity"), ("", "not a Kubernetes quantity"), ("10GB", "not a Kubernetes quantity"),
    ("10K", "not a Kubernetes quantity"), ("10 Gi", "not a Kubernetes quantity"), ("-1Gi", "more than 0"), ("0", "more than 0"),
    ("100m", "whole number of bytes"), ("0.5", "whole number of bytes"), (True, "not a Kubernetes quantity"),
    (["1Gi"], "not a Kubernetes quantity"), (-3, "more than 0"),
])
def test_quantity_refuses(value, rule):
    assert rule in refused(quantity(), value).rule


def test_quantity_with_a_floor_catches_a_missing_suffix():
    check = quantity(example="20Gi", at_least=2 ** 20)
    check("1Mi")
    invalid = refused(check, "20")
    assert "counts bytes" in invalid.rule and "20Gi" in invalid.fix


def test_quantity_may_allow_zero_and_fractions():
    quantity(bytes_=False, allow_zero=True)("0")
    quantity(bytes_=False)("100m")


def test_count_bounds():
    check = count(minimum=1, maximum=3)
    for value in (1, 2, 3):
        check(value)
    assert refused(check, 0).rule == "must be between 1 and 3"
    assert refused(check, 4).rule == "must be between 1 and 3"
    assert refused(count(minimum=0), -1).rule == "must be at least 0"
    assert refused(count(minimum=0, kind="float", above=True), 0).rule == "must be more than 0"
    assert refused(count(maximum=5), 6).rule == "must be at most 5"


def test_boolean_values_refuse_strings_that_would_read_as_true():
    boolean_values("feature gate")({"a": True, "b": False})
    invalid = refused(boolean_values("feature gate"), {"deployKubeSecondaryDNS": "false"})
    assert "'false', a str" in invalid.rule and "without quotes" in invalid.fix
    assert "a int" in refused(boolean_values("feature gate"), {"x": 1}).rule


def test_string_values_take_numbers_and_refuse_lists_maps_booleans_and_empty_keys():
    string_values("StorageClass parameter")({"repl": "3", "io_priority": 2, "ratio": 0.5})
    for bad in ({"a": ["x", "y"]}, {"a": {"b": 1}}, {"a": True}, {"a": None}):
        assert "must be a string" in refused(string_values("StorageClass parameter"), bad).rule
    assert "empty key" in refused(string_values("StorageClass parameter"), {"": "x"}).rule


def test_non_empty_list_and_keys_and_text():
    non_empty_list("why")(["x"])
    assert refused(non_empty_list("why"), []).rule == "is empty; why"
    each_key(dns_subdomain("StorageClass"))({"px": "0.08"})
    assert refused(each_key(dns_subdomain("StorageClass")), {"Bad": "0.08"}).rule.startswith("key 'Bad' is not a valid")
    each_value(non_empty_list("why"))({"a": [1]})
    assert refused(each_value(non_empty_list("why")), {"a": []}).rule == "has a: [], which is empty; why"
    check_text(str.isdigit, "has a non-digit", "Digits only.")("123")
    assert refused(check_text(str.isdigit, "has a non-digit", "Digits only."), "12a").rule == "has a non-digit"


def test_check_options_walks_suboptions_lists_and_skips_unset_options():
    rules = (
        ("size", quantity()),
        ("live_migration.bandwidth_per_migration", quantity(example="64Mi")),
        ("claim_property_sets[].access_modes", non_empty_list("no modes")),
    )
    check_options({"size": None, "live_migration": None, "claim_property_sets": None}, rules, "X")
    check_options({"size": "1Gi", "live_migration": {"bandwidth_per_migration": None}, "claim_property_sets": [{"access_modes": ["a"]}]},
                  rules, "X")
    with pytest.raises(Refusal) as refusal:
        check_options({"claim_property_sets": [{"access_modes": ["a"]}, {"access_modes": []}]}, rules, "StorageProfile px")
    assert refusal.value.msg == ("StorageProfile px: option claim_property_sets[1].access_modes = [] is empty; no modes. "
                                 "Give at least one entry, or leave the option out to keep the default.")
    assert refusal.value.details["option"] == "claim_property_sets[1].access_modes"
    with pytest.raises(Refusal) as refusal:
        check_options({"live_migration": {"bandwidth_per_migration": "-1Mi"}}, rules, "HyperConverged ns/x")
    assert "option live_migration.bandwidth_per_migration = '-1Mi' must be more than 0" in refusal.value.msg


def test_refusal_is_one_line_and_long_values_are_shortened():
    with pytest.raises(Refusal) as refusal:
        check_options({"name": "x\n" * 100}, (("name", dns_subdomain("StorageClass")),), "StorageClass")
    assert "\n" not in refusal.value.msg and "..." in refusal.value.msg


def test_describe_name_shows_empty_and_odd_names_as_repr():
    assert describe_name("px") == "px"
    assert describe_name("") == "''"
    assert describe_name(None) == "None"
    assert describe_name("a\nb") == "'a\\nb'"


@pytest.mark.parametrize("url", ["https://thanos-querier-openshift-monitoring.apps.example.com", "http://127.0.0.1:8443/",
                                 "https://api.example.com:6443/api/v1/namespaces/x/services/y/proxy"])
def test_base_url_accepts_absolute_http_urls(url):
    base_url("https://thanos.example.com")(url)


@pytest.mark.parametrize("url, rule", [
    ("", "is empty"), ("thanos.example.com", "absolute"), ("ftp://thanos.example.com", "absolute"), ("https://", "absolute"),
    ("https://thanos.example.com/?x=1", "query or fragment"), ("https://thanos.example.com#top", "query or fragment"),
    ("https://thanos example.com", "white space"), (["https://a.example.com"], "not a string"),
])
def test_base_url_refuses(url, rule):
    assert rule in refused(base_url("https://thanos.example.com"), url).rule


@pytest.mark.parametrize("selector", ["app=db", "app==db,tier!=web", "!legacy", "env in (prod, staging)", "env notin (dev),app",
                                      "kubevirt.io/domain=vm-000", "example.com/owner", "app="])
def test_label_selector_accepts_the_apimachinery_grammar(selector):
    label_selector()(selector)


@pytest.mark.parametrize("selector, rule", [
    ("", "is empty"), ("   ", "is empty"), ("app=db;rm -rf /", "not a label selector"), ("app=(db", "not a label selector"),
    ("env in prod", "not a label selector"), ("Bad Key=x", "not a label selector"), ("app=db,", "not a label selector"),
    ("a=" + "v" * 64, "not a label selector"), ("replicas>2", "not a label selector"), (["app=db"], "not a string"),
])
def test_label_selector_refuses(selector, rule):
    assert rule in refused(label_selector(), selector).rule


@pytest.mark.parametrize("value", ["10m", "1h30m", "1.5s", "500ms", "250us", "2\u00b5s", ".5h", "+3m", "90s"])
def test_duration_accepts_go_durations(value):
    duration()(value)


@pytest.mark.parametrize("value, rule", [
    ("", "is empty"), ("10", "not a Go duration"), ("m", "not a Go duration"), ("10 m", "not a Go duration"),
    (" 10m", "not a Go duration"), ("10M", "not a Go duration"), ("1..5m", "not a Go duration"), ("10mm", "not a Go duration"),
    ("-", "not a Go duration"), ("\uff11\uff10m", "not a Go duration"), ("0s", "more than 0"), ("0h0m", "more than 0"),
    ("-5m", "more than 0"), (["10m"], "not a string"), (10, "not a string"),
])
def test_duration_refuses(value, rule):
    assert rule in refused(duration(), value).rule


@pytest.mark.parametrize("value", [
    "portworx/oci-monitor:3.6.1", "docker.io/portworx/oci-monitor:3.6.1", "localhost:5000/px/oci-monitor:3.6.1-rc1",
    "registry.redhat.io/container-native-virtualization/kubevirt-storage-checkup-rhel9:v4.20",
    "quay.io/a/b_c__d--e:1@sha256:" + "0" * 64, "[fd00::1]:5000/px:1",
])
def test_image_reference_accepts_the_distribution_grammar(value):
    image_reference("px:1", require_tag=True)(value)


@pytest.mark.parametrize("value, rule", [
    ("", "is empty"), ("portworx/OCI-Monitor:1", "not a container image reference"),
    ("https://docker.io/px:1", "not a container image reference"), ("px:1 --privileged", "not a container image reference"),
    ("px:", "not a container image reference"), ("px:" + "1" * 129, "not a container image reference"),
    ("p\u00f6rtworx:1", "not a container image reference"), ("px@sha256:abc", "not a container image reference"),
    ("a/" * 127 + "abc:1", "longer than 255"), (["px:1"], "not a string"),
])
def test_image_reference_refuses(value, rule):
    assert rule in refused(image_reference("px:1"), value).rule


def test_image_reference_may_require_a_tag():
    image_reference("px:1")("portworx/oci-monitor")
    assert "no version tag" in refused(image_reference("px:1", require_tag=True), "portworx/oci-monitor").rule
    assert "no version tag" in refused(image_reference("px:1", require_tag=True), "px@sha256:" + "a" * 64).rule


def test_namespaced_name_wants_two_labels():
    namespaced_name("VirtualMachine")("vms/legacy-db")
    for value, rule in [("legacy-db", "exactly one '/'"), ("vms/a/b", "exactly one '/'"), ("/db", "is empty"),
                        ("Vms/db", "Namespace name"), ("vms/a.b", "VirtualMachine name"), ("vms/" + "a" * 64, "characters long"),
                        ("", "is empty"), (["vms/db"], "not a string")]:
        assert rule in refused(namespaced_name("VirtualMachine"), value).rule, value
