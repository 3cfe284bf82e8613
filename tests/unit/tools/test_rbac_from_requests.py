"""tools/rbac_from_requests.py: request log entries to RBAC permissions, and the exact comparison
of the shipped roles (roles/rbac/files/) with what the playbooks use."""

import copy
import os
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(REPO_ROOT, "tools"))

import rbac_from_requests as rbac  # noqa: E402  (needs the path above)

PERSONAS = ("installer", "operator", "auditor")


def entry(verb, resource, path, namespace="", subresource="", name=""):
    return {"verb": verb, "resource": resource, "subresource": subresource, "namespace": namespace, "name": name,
            "path": path, "code": 200, "dry_run": False}


def test_discovery_needs_no_permission_of_ours():
    assert rbac.permission_of(entry("discovery", "", "/apis/kubevirt.io/v1")) is None


def test_core_and_named_group_requests():
    assert rbac.permission_of(entry("list", "nodes", "/api/v1/nodes")) == rbac.Permission("", "nodes", "list", "")
    assert rbac.permission_of(entry("get", "storage.k8s.io/storageclasses", "/apis/storage.k8s.io/v1/storageclasses/x", name="x")) \
        == rbac.Permission("storage.k8s.io", "storageclasses", "get", "")
    assert rbac.permission_of(entry("create", "pods", "/api/v1/namespaces/vms/pods/p/eviction", "vms", "eviction", "p")) \
        == rbac.Permission("", "pods/eviction", "create", "vms")


def test_kubevirt_volume_subresources_are_authorized_in_their_own_group():
    # the log keys them by the VM's resource; RBAC sees group subresources.kubevirt.io (KubeVirt's own roles grant it there)
    found = rbac.permission_of(entry("update", "kubevirt.io/virtualmachines",
                                     "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/vm-1/addvolume",
                                     "vms", "addvolume", "vm-1"))
    assert found == rbac.Permission("subresources.kubevirt.io", "virtualmachines/addvolume", "update", "vms")


def test_the_alerts_route_host_is_kube_rbac_proxys_check():
    assert rbac.permission_of(entry("proxy", "", "/api/v1/alerts")) == \
        rbac.Permission("monitoring.coreos.com", "prometheuses/api", "get", "openshift-monitoring")
    with pytest.raises(ValueError):
        rbac.permission_of(entry("proxy", "", "/somewhere/else"))


def test_wildcards_cannot_be_compared_and_are_refused():
    with pytest.raises(ValueError):
        rbac.rule_permissions({"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}, "")
    with pytest.raises(ValueError):
        rbac.rule_permissions({"apiGroups": [""], "resources": ["*/status"], "verbs": ["get"]}, "")


def test_a_cluster_binding_covers_every_namespace_a_namespaced_one_only_its_own():
    grants = {rbac.Permission("", "pods", "list", ""), rbac.Permission("", "pods", "get", "vms")}
    used = {rbac.Permission("", "pods", "list", "vms"), rbac.Permission("", "pods", "get", "other")}
    result = rbac.compare(grants, used)
    assert result.missing == [rbac.Permission("", "pods", "get", "other")]
    assert result.surplus == [rbac.Permission("", "pods", "get", "vms")]


@pytest.mark.parametrize("persona", PERSONAS)
def test_removing_any_one_verb_from_a_shipped_role_is_a_missing_permission(persona):
    roles = rbac.load_roles()
    used = rbac.granted(roles, persona)  # a run that used exactly what the roles grant
    assert rbac.compare(used, used) == rbac.Comparison([], [])
    for index, role in enumerate(roles):
        if persona not in rbac.personas_of(role):
            continue
        for rule_index, rule in enumerate(role["rules"]):
            narrowed = copy.deepcopy(roles)
            removed = narrowed[index]["rules"][rule_index]["verbs"].pop()
            result = rbac.compare(rbac.granted(narrowed, persona), used)
            assert result.missing and all(p.verb == removed for p in result.missing), (role["metadata"]["name"], rule)


@pytest.mark.parametrize("persona", PERSONAS)
def test_adding_a_verb_to_a_shipped_role_is_a_surplus_permission(persona):
    roles = rbac.load_roles()
    used = rbac.granted(roles, persona)
    widened = copy.deepcopy(roles)
    role = next(r for r in widened if persona in rbac.personas_of(r))
    role["rules"][0]["verbs"].append("deletecollection")
    result = rbac.compare(rbac.granted(widened, persona), used)
    assert not result.missing and result.surplus and all(p.verb == "deletecollection" for p in result.surplus)


def test_no_persona_is_granted_one_permission_twice():
    # a duplicate (or a namespaced grant a cluster-wide one covers) would hide a surplus:
    # removing it from one role would not show in the comparison
    for persona in PERSONAS:
        seen = {}
        for role in rbac.load_roles():
            if persona not in rbac.personas_of(role):
                continue
            for namespace in rbac.binding_namespaces(role, ("vms",)):
                for rule in role["rules"]:
                    for permission in rbac.rule_permissions(rule, namespace):
                        assert permission not in seen, (persona, str(permission), seen.get(permission), role["metadata"]["name"])
                        seen[permission] = role["metadata"]["name"]
        for permission in seen:
            if permission.namespace:
                assert permission._replace(namespace="") not in seen, (persona, str(permission), "covered cluster-wide")


def test_the_auditor_roles_grant_only_reads():
    assert {p.verb for p in rbac.granted(rbac.load_roles(), "auditor")} == {"get", "list"}


def test_every_shipped_role_names_its_personas_and_the_declared_paths_their_reasons():
    for role in rbac.load_roles():
        assert role["metadata"]["name"].startswith("ocpvirt-portworx-")
        assert set(rbac.personas_of(role)) <= set(PERSONAS) and rbac.personas_of(role), role["metadata"]["name"]
    for persona in PERSONAS:
        grants = rbac.granted(rbac.load_roles(), persona)
        for permission in rbac.declared_paths(persona):
            assert rbac.covers(grants, permission), (persona, str(permission))
