"""RBAC evaluation without a server (simulator/clustersim/authz.py, seed_rbac.py): request
attributes, rule matching, bindings, the refusal text, aggregation and the bootstrap policy."""
import pytest

from clustersim.authn import ADMIN, ANONYMOUS, UserInfo
from clustersim.authz import (Attributes, Policy, aggregated_rules, authorize, forbidden, forbidden_message,
                              request_attributes, rule_allows, rules_for)
from clustersim.seed_rbac import bootstrap_cluster_role_bindings, bootstrap_cluster_roles, with_aggregated_rules

RBAC = "rbac.authorization.k8s.io"
BOT = UserInfo("system:serviceaccount:apps:bot", "uid-1",
               ("system:serviceaccounts", "system:serviceaccounts:apps", "system:authenticated"))


def attrs(verb, resource="", namespace="", group="", subresource="", name="", user=BOT):
    return Attributes(user, verb, True, "", namespace, group, "v1", resource, subresource, name)


def url(verb, path, user=BOT):
    return Attributes(user, verb, False, path)


def role(name, rules, namespace="", labels=None, aggregate=None):
    obj = {"kind": "Role" if namespace else "ClusterRole", "metadata": {"name": name, "labels": labels or {}},
           "rules": rules}
    if namespace:
        obj["metadata"]["namespace"] = namespace
    if aggregate is not None:
        obj["aggregationRule"] = {"clusterRoleSelectors": aggregate}
    return obj


def binding(name, role_kind, role_name, subjects, namespace=""):
    obj = {"kind": "RoleBinding" if namespace else "ClusterRoleBinding", "metadata": {"name": name},
           "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role_name}, "subjects": subjects}
    if namespace:
        obj["metadata"]["namespace"] = namespace
    return obj


def bootstrap_policy(*extra):
    return Policy.from_objects(with_aggregated_rules(bootstrap_cluster_roles()) + bootstrap_cluster_role_bindings()
                               + list(extra))


# --- request attributes (requestinfo.go) -------------------------------------------------------

@pytest.mark.parametrize("method, path, query, expected", [
    ("GET", "/api/v1/namespaces/ns/pods", {}, ("list", "", "ns", "pods", "", "")),
    ("GET", "/api/v1/namespaces/ns/pods", {"watch": ["true"]}, ("watch", "", "ns", "pods", "", "")),
    ("GET", "/api/v1/namespaces/ns/pods", {"fieldSelector": ["metadata.name=p1"]}, ("list", "", "ns", "pods", "", "p1")),
    ("GET", "/api/v1/namespaces/ns/pods/p1", {}, ("get", "", "ns", "pods", "", "p1")),
    ("GET", "/api/v1/namespaces/ns/pods/p1/log", {}, ("get", "", "ns", "pods", "log", "p1")),
    ("POST", "/api/v1/namespaces/ns/pods/p1/eviction", {}, ("create", "", "ns", "pods", "eviction", "p1")),
    ("DELETE", "/apis/apps/v1/namespaces/ns/deployments", {}, ("deletecollection", "apps", "ns", "deployments", "", "")),
    ("PATCH", "/apis/storage.k8s.io/v1/storageclasses/fast", {}, ("patch", "storage.k8s.io", "", "storageclasses", "", "fast")),
    ("GET", "/api/v1/namespaces/ns", {}, ("get", "", "ns", "namespaces", "", "ns")),
    ("PUT", "/api/v1/namespaces/ns/finalize", {}, ("update", "", "ns", "namespaces", "finalize", "ns")),
    ("GET", "/api/v1/watch/namespaces/ns/pods", {}, ("watch", "", "ns", "pods", "", "")),
    ("GET", "/api/v1/namespaces/ns/services/https:web:9091/proxy/api/v1/alerts", {},
     ("get", "", "ns", "services", "proxy", "https:web:9091")),
    ("PUT", "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/vm-0/start", {},
     ("update", "subresources.kubevirt.io", "vms", "virtualmachines", "start", "vm-0")),
])
def test_resource_request_attributes(method, path, query, expected):
    got = request_attributes(BOT, method, path, query)
    assert got.resource_request
    assert (got.verb, got.api_group, got.namespace, got.resource, got.subresource, got.name) == expected


@pytest.mark.parametrize("method, path", [("GET", "/api"), ("GET", "/api/v1"), ("GET", "/apis/apps"),
                                          ("GET", "/apis/apps/v1"), ("GET", "/version"), ("POST", "/_sim/reset"),
                                          ("GET", "/openapi/v3")])
def test_discovery_and_other_paths_are_non_resource_requests_with_the_http_method_as_verb(method, path):
    got = request_attributes(BOT, method, path, {})
    assert not got.resource_request and got.verb == method.lower() and got.path == path


# --- rule matching (evaluation_helpers.go) ----------------------------------------------------

@pytest.mark.parametrize("rule, asked, allowed", [
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}, attrs("get", "pods"), True),
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}, attrs("list", "pods"), False),
    ({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}, attrs("delete", "nodes", subresource="status"), True),
    ({"verbs": ["get"], "apiGroups": ["apps"], "resources": ["pods"]}, attrs("get", "pods"), False),
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}, attrs("get", "pods", subresource="log"), False),
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["pods/log"]}, attrs("get", "pods"), False),
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["pods/log"]}, attrs("get", "pods", subresource="log"), True),
    ({"verbs": ["get"], "apiGroups": ["*"], "resources": ["*/status"]},
     attrs("get", "virtualmachines", group="kubevirt.io", subresource="status"), True),
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["*/status"]}, attrs("get", "pods"), False),
    # upstream has no "resource/*": pods/* matches only a subresource literally named "*"
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["pods/*"]}, attrs("get", "pods", subresource="log"), False),
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"]},
     attrs("get", "pods", name="a"), True),
    ({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"]},
     attrs("get", "pods", name="b"), False),
    ({"verbs": ["list"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"]},
     attrs("list", "pods"), False),  # a list has no name
    ({"verbs": ["get"], "nonResourceURLs": ["/apis/*"]}, url("get", "/apis/apps/v1"), True),
    ({"verbs": ["get"], "nonResourceURLs": ["/apis/*"]}, url("get", "/apis"), False),
    ({"verbs": ["get"], "nonResourceURLs": ["/version"]}, url("get", "/version"), True),
    ({"verbs": ["get"], "nonResourceURLs": ["/version"]}, url("post", "/version"), False),
    ({"verbs": ["*"], "nonResourceURLs": ["*"]}, url("delete", "/anything"), True),
    ({"verbs": ["get"], "apiGroups": ["*"], "resources": ["*"]}, url("get", "/version"), False),
    ({"verbs": ["get"], "nonResourceURLs": ["*"]}, attrs("get", "pods"), False),
])
def test_rule_allows(rule, asked, allowed):
    assert rule_allows(asked, rule) is allowed


# --- bindings and decisions (rule.go, rbac.go) ------------------------------------------------

def test_no_binding_means_no_and_no_reason():
    decision = authorize(bootstrap_policy(), attrs("list", "pods", "apps"))
    assert not decision.allowed and decision.reason == ""


def test_a_rolebinding_to_view_allows_reads_in_its_namespace_only():
    policy = bootstrap_policy(binding("bot-view", "ClusterRole", "view", [{"kind": "ServiceAccount", "name": "bot"}],
                                      namespace="apps"))
    allowed = authorize(policy, attrs("list", "pods", "apps"))
    assert allowed.allowed
    assert allowed.reason == ('RBAC: allowed by RoleBinding "bot-view/apps" of ClusterRole "view" to '
                              'ServiceAccount "bot/apps"')
    assert not authorize(policy, attrs("list", "pods", "other")).allowed
    assert not authorize(policy, attrs("list", "pods")).allowed  # cluster scope
    assert not authorize(policy, attrs("create", "pods", "apps")).allowed
    assert not authorize(policy, attrs("get", "secrets", "apps", name="s")).allowed  # view reads no secrets


def test_service_account_subject_in_a_cluster_role_binding_needs_its_namespace():
    no_namespace = binding("b", "ClusterRole", "view", [{"kind": "ServiceAccount", "name": "bot"}])
    with_namespace = binding("b", "ClusterRole", "view", [{"kind": "ServiceAccount", "name": "bot", "namespace": "apps"}])
    assert not authorize(bootstrap_policy(no_namespace), attrs("list", "pods", "x")).allowed
    decision = authorize(bootstrap_policy(with_namespace), attrs("list", "pods", "x"))
    assert decision.reason == 'RBAC: allowed by ClusterRoleBinding "b" of ClusterRole "view" to ServiceAccount "bot/apps"'


def test_group_and_user_subjects():
    by_group = binding("g", "ClusterRole", "view", [{"kind": "Group", "name": "system:serviceaccounts:apps"}])
    by_user = binding("u", "ClusterRole", "view", [{"kind": "User", "name": "system:serviceaccount:apps:bot"}])
    assert authorize(bootstrap_policy(by_group), attrs("get", "pods", "x", name="p")).allowed
    assert authorize(bootstrap_policy(by_user), attrs("get", "pods", "x", name="p")).allowed
    other = UserInfo("someone", groups=("system:authenticated",))
    assert not authorize(bootstrap_policy(by_group, by_user), attrs("get", "pods", "x", name="p", user=other)).allowed


def test_a_binding_to_a_missing_role_is_reported_in_the_reason():
    policy = Policy.from_objects([
        binding("gone", "ClusterRole", "nope", [{"kind": "Group", "name": "system:authenticated"}]),
        binding("gone-role", "Role", "nope", [{"kind": "Group", "name": "system:authenticated"}], namespace="apps"),
    ])
    decision = authorize(policy, attrs("list", "pods", "apps"))
    assert not decision.allowed
    assert decision.reason == ('RBAC: [clusterrole.rbac.authorization.k8s.io "nope" not found, '
                               'role.rbac.authorization.k8s.io "nope" not found]')
    assert authorize(policy, attrs("list", "pods")).reason == 'RBAC: clusterrole.rbac.authorization.k8s.io "nope" not found'


def test_a_role_binds_its_own_namespace_role():
    policy = Policy.from_objects([
        role("cm-writer", [{"verbs": ["create"], "apiGroups": [""], "resources": ["configmaps"]}], namespace="apps"),
        binding("w", "Role", "cm-writer", [{"kind": "ServiceAccount", "name": "bot"}], namespace="apps"),
    ])
    assert authorize(policy, attrs("create", "configmaps", "apps")).allowed
    assert not authorize(policy, attrs("create", "configmaps", "other")).allowed


def test_bootstrap_policy_admin_discovery_and_anonymous():
    policy = bootstrap_policy()
    admin = authorize(policy, attrs("delete", "nodes", name="worker-0", user=ADMIN))
    assert admin.reason == ('RBAC: allowed by ClusterRoleBinding "cluster-admins" of ClusterRole "cluster-admin" to '
                            'Group "system:cluster-admins"')
    assert authorize(policy, url("post", "/anything", user=ADMIN)).allowed
    for path in ("/api", "/api/v1", "/apis", "/apis/apps/v1", "/version", "/openapi/v3", "/healthz"):
        assert authorize(policy, url("get", path)).allowed, path
    assert authorize(policy, attrs("create", "selfsubjectaccessreviews", group="authorization.k8s.io")).allowed
    assert authorize(policy, attrs("create", "selfsubjectrulesreviews", group="authorization.k8s.io")).allowed
    assert authorize(policy, attrs("create", "selfsubjectreviews", group="authentication.k8s.io")).allowed
    assert not authorize(policy, attrs("create", "subjectaccessreviews", group="authorization.k8s.io")).allowed
    assert authorize(policy, url("get", "/version", user=ANONYMOUS)).allowed
    assert not authorize(policy, url("get", "/api", user=ANONYMOUS)).allowed


def test_rules_for_lists_cluster_wide_rules_then_the_namespace_ones():
    policy = bootstrap_policy(binding("bot-edit", "ClusterRole", "edit", [{"kind": "ServiceAccount", "name": "bot"}],
                                      namespace="apps"))
    rules, found = rules_for(policy, BOT, "apps")
    assert found == []
    # ClusterRoleBindings by name first (system:basic-user's rules), then the namespace's RoleBindings
    assert rules[0] == {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"],
                        "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]}
    edit = next(r for r in with_aggregated_rules(bootstrap_cluster_roles()) if r["metadata"]["name"] == "edit")
    assert rules[-len(edit["rules"]):] == edit["rules"]
    assert {"verbs": ["create"], "apiGroups": [""], "resources": ["pods/eviction"]} in rules
    assert len(rules_for(policy, BOT, "other")[0]) < len(rules)


# --- the refusal (responsewriters/errors.go) --------------------------------------------------

def test_forbidden_messages():
    assert forbidden_message(attrs("list", "pods", "apps")) == (
        'User "system:serviceaccount:apps:bot" cannot list resource "pods" in API group "" in the namespace "apps"')
    assert forbidden_message(attrs("get", "virtualmachines", "vms", "kubevirt.io", "status", "vm")) == (
        'User "system:serviceaccount:apps:bot" cannot get resource "virtualmachines/status" in API group '
        '"kubevirt.io" in the namespace "vms"')
    assert forbidden_message(attrs("create", "storageclasses", group="storage.k8s.io")) == (
        'User "system:serviceaccount:apps:bot" cannot create resource "storageclasses" in API group '
        '"storage.k8s.io" at the cluster scope')
    assert forbidden_message(url("get", "/metrics")) == 'User "system:serviceaccount:apps:bot" cannot get path "/metrics"'


def test_forbidden_status():
    status = forbidden(attrs("get", "storageclasses", group="storage.k8s.io", name="fast")).to_status()
    assert status["message"] == ('storageclasses.storage.k8s.io "fast" is forbidden: User '
                                 '"system:serviceaccount:apps:bot" cannot get resource "storageclasses" in API group '
                                 '"storage.k8s.io" at the cluster scope')
    assert (status["code"], status["reason"]) == (403, "Forbidden")
    assert status["details"] == {"name": "fast", "group": "storage.k8s.io", "kind": "storageclasses"}
    listing = forbidden(attrs("list", "pods", "apps"), "RBAC: x").to_status()
    assert listing["message"].startswith("pods is forbidden: User ") and listing["message"].endswith(': RBAC: x')
    assert listing["details"] == {"kind": "pods"}
    path = forbidden(url("get", "/metrics")).to_status()
    assert path["message"] == 'forbidden: User "system:serviceaccount:apps:bot" cannot get path "/metrics"'
    assert "details" not in path


# --- aggregation (clusterroleaggregation_controller.go) ---------------------------------------

def test_aggregation_collects_distinct_rules_of_selected_roles_by_name_and_skips_itself():
    read_pods = {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}
    read_vms = {"verbs": ["get"], "apiGroups": ["kubevirt.io"], "resources": ["virtualmachines"]}
    label = {"example.com/aggregate": "true"}
    target = role("target", [{"verbs": ["stale"]}], labels=label, aggregate=[{"matchLabels": label}])
    roles = [target, role("b", [read_vms, read_pods], labels=label), role("a", [read_pods], labels=label),
             role("c", [{"verbs": ["delete"], "apiGroups": ["*"], "resources": ["*"]}])]
    assert aggregated_rules(target, roles) == [read_pods, read_vms]
    assert aggregated_rules(role("plain", [read_pods]), roles) is None


def test_aggregation_with_match_expressions_and_several_selectors():
    one = role("one", [{"verbs": ["get"], "apiGroups": [""], "resources": ["a"]}], labels={"tier": "x"})
    two = role("two", [{"verbs": ["get"], "apiGroups": [""], "resources": ["b"]}], labels={"other": "y"})
    target = role("t", [], aggregate=[{"matchLabels": {"other": "y"}},
                                      {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["x"]}]}])
    assert [r["resources"] for r in aggregated_rules(target, [one, two, target])] == [["b"], ["a"]]


def test_bootstrap_admin_edit_view_are_aggregated_in_a_chain():
    roles = {r["metadata"]["name"]: r for r in with_aggregated_rules(bootstrap_cluster_roles())}
    view, edit, admin = (roles[n]["rules"] for n in ("view", "edit", "admin"))
    assert view == roles["system:aggregate-to-view"]["rules"]
    assert all(r in edit for r in view) and all(r in admin for r in edit)
    assert {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": ["localsubjectaccessreviews"]} in admin
    assert not any("roles" in r.get("resources", []) for r in edit)


# --- escalation prevention (policy_comparator.go, rule.go ConfirmNoEscalation) ----------------

def test_breakdown_and_coverage():
    from clustersim.rbac_escalation import breakdown_rule, uncovered

    assert breakdown_rule({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"]}) == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"], "resourceNames": ["a"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"], "resourceNames": ["a"]}]
    owned = [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "*/status"]},
             {"verbs": ["get"], "nonResourceURLs": ["/apis/*"]},
             {"verbs": ["update"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["one"]}]
    assert uncovered(owned, [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods", "pods/status"]}]) == []
    assert uncovered(owned, [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["x"]}]) == []
    assert uncovered(owned, [{"verbs": ["get"], "nonResourceURLs": ["/apis/apps"]}]) == []
    assert uncovered(owned, [{"verbs": ["update"], "apiGroups": [""], "resources": ["configmaps"]}]) == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["update"]}]  # a named grant covers no unnamed one
    assert uncovered(owned, [{"verbs": ["get"], "nonResourceURLs": ["/api"]}]) == [
        {"nonResourceURLs": ["/api"], "verbs": ["get"]}]
    assert uncovered([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                     [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]) != []


def test_escalation_message_compacts_the_missing_rules():
    from clustersim.rbac_escalation import escalation_message

    policy = bootstrap_policy(binding("bot-view", "ClusterRole", "view", [{"kind": "ServiceAccount", "name": "bot"}],
                                      namespace="apps"))
    wanted = [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]},
              {"verbs": ["create", "delete"], "apiGroups": [""], "resources": ["secrets", "pods"]}]
    assert escalation_message(policy, BOT, "apps", wanted[:1]) == ""
    assert escalation_message(policy, BOT, "apps", wanted) == (
        'user "system:serviceaccount:apps:bot" (groups=["system:serviceaccounts" "system:serviceaccounts:apps" '
        '"system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n'
        '{APIGroups:[""], Resources:["pods"], Verbs:["create" "delete"]}\n'
        '{APIGroups:[""], Resources:["secrets"], Verbs:["create" "delete"]}')
    assert escalation_message(policy, BOT, "other", wanted[:1]) != ""


def test_operator_roles_come_with_their_operators_cr():
    from clustersim.seed_rbac_virtualization import operator_policy

    class Store:
        def __init__(self, *keys):
            self.keys = keys

        def count(self, key):
            return int(key in self.keys)

    assert operator_policy(Store()) == []
    names = {o["metadata"]["name"] for o in operator_policy(Store("kubevirt.io/kubevirts", "cdi.kubevirt.io/cdis"))}
    assert {"kubevirt.io:view", "kubevirt.io:edit", "kubevirt.io:admin", "cdi.kubevirt.io:view",
            "cdi.kubevirt.io:config-reader"} <= names
    roles = with_aggregated_rules(bootstrap_cluster_roles() + [
        o for o in operator_policy(Store("kubevirt.io/kubevirts")) if o["kind"] == "ClusterRole"])
    view = next(r for r in roles if r["metadata"]["name"] == "view")["rules"]
    admin = next(r for r in roles if r["metadata"]["name"] == "admin")["rules"]
    assert {"verbs": ["get", "list", "watch"], "apiGroups": ["kubevirt.io"],
            "resources": ["virtualmachines", "virtualmachineinstances", "virtualmachineinstancepresets",
                          "virtualmachineinstancereplicasets", "virtualmachineinstancemigrations"]} in view
    assert {"verbs": ["update"], "apiGroups": ["subresources.kubevirt.io"],
            "resources": ["virtualmachines/start", "virtualmachines/stop", "virtualmachines/restart",
                          "virtualmachines/addvolume", "virtualmachines/removevolume",
                          "virtualmachines/memorydump"]} in admin


# --- impersonation (filters/impersonation.go) -------------------------------------------------

def test_impersonated_identities():
    from clustersim.impersonation import impersonate

    policy = bootstrap_policy()
    as_account, refused = impersonate(policy, ADMIN, [("Impersonate-User", "system:serviceaccount:apps:bot")])
    assert refused is None and as_account.username == "system:serviceaccount:apps:bot"
    assert as_account.groups == ("system:serviceaccounts", "system:serviceaccounts:apps", "system:authenticated")
    headers = [("Impersonate-User", "bob"), ("Impersonate-Group", "devs"), ("Impersonate-Group", "system:unauthenticated"),
               ("Impersonate-Extra-Scopes%2fone", "a"), ("Impersonate-Uid", "u-1")]
    bob, _ = impersonate(policy, ADMIN, headers)
    assert (bob.username, bob.groups, bob.extra, bob.uid) == ("bob", ("devs", "system:unauthenticated"),
                                                               {"scopes/one": ["a"]}, "u-1")
    anonymous, _ = impersonate(policy, ADMIN, [("Impersonate-User", "system:anonymous")])
    assert anonymous.groups == ("system:unauthenticated",)
    assert impersonate(policy, BOT, [("Accept", "x")]) == (BOT, None)
    same, (asked, decision) = impersonate(policy, BOT, [("Impersonate-User", "bob")])
    assert same is BOT and (asked.verb, asked.resource, asked.name) == ("impersonate", "users", "bob")
    assert not decision.allowed
