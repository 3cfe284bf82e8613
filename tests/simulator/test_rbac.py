"""RBAC over HTTP: a service account token is refused with the apiserver's 403 until a binding
lets it in; the authorization.k8s.io reviews; ClusterRole aggregation; kubectl ``auth can-i``."""
import os
import subprocess

import pytest

from api_helpers import raw
from clustersim.testing import eventually

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KUBECTL = os.environ.get("KUBECTL") or os.path.join(REPO_ROOT, ".venv", "bin", "kubectl")
RBAC = "/apis/rbac.authorization.k8s.io/v1"
AUTHZ = "/apis/authorization.k8s.io/v1"
USER = "system:serviceaccount:vms:auditor"


@pytest.fixture(scope="module")
def token(sim):
    """A token of the service account ``vms/auditor``, which nothing is bound to at first."""
    code, _ = raw(sim, "POST", "/api/v1/namespaces/vms/serviceaccounts",
                  {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "auditor"}})
    assert code == 201
    code, body = raw(sim, "POST", "/api/v1/namespaces/vms/serviceaccounts/auditor/token",
                     {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}})
    assert code == 201, body
    return body["status"]["token"]


@pytest.fixture()
def view_in_vms(sim):
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "auditor-view", "namespace": "vms"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
               "subjects": [{"kind": "ServiceAccount", "name": "auditor"}]}
    assert raw(sim, "POST", f"{RBAC}/namespaces/vms/rolebindings", binding)[0] == 201
    yield
    raw(sim, "DELETE", f"{RBAC}/namespaces/vms/rolebindings/auditor-view")


def ssar(sim, token, **attributes):
    key = "nonResourceAttributes" if "path" in attributes else "resourceAttributes"
    code, body = raw(sim, "POST", f"{AUTHZ}/selfsubjectaccessreviews",
                     {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                      "spec": {key: attributes}}, token=token)
    assert code == 201, body
    return body["status"]


# --- refusals --------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path, body, message", [
    ("GET", "/api/v1/namespaces/vms/pods", None,
     f'pods is forbidden: User "{USER}" cannot list resource "pods" in API group "" in the namespace "vms"'),
    ("GET", "/apis/kubevirt.io/v1/namespaces/vms/virtualmachines/vm-000", None,
     f'virtualmachines.kubevirt.io "vm-000" is forbidden: User "{USER}" cannot get resource "virtualmachines" in '
     'API group "kubevirt.io" in the namespace "vms"'),
    ("POST", "/apis/storage.k8s.io/v1/storageclasses", {"metadata": {"name": "x"}, "provisioner": "p"},
     f'storageclasses.storage.k8s.io is forbidden: User "{USER}" cannot create resource "storageclasses" in API '
     'group "storage.k8s.io" at the cluster scope'),
    ("GET", "/api/v1/nodes?watch=true", None,
     f'nodes is forbidden: User "{USER}" cannot watch resource "nodes" in API group "" at the cluster scope'),
    ("PATCH", "/apis/kubevirt.io/v1/namespaces/vms/virtualmachines/vm-000/status", {},
     f'virtualmachines.kubevirt.io "vm-000" is forbidden: User "{USER}" cannot patch resource '
     '"virtualmachines/status" in API group "kubevirt.io" in the namespace "vms"'),
])
def test_an_unbound_service_account_is_refused_with_the_apiservers_message(sim, token, method, path, body, message):
    code, status = raw(sim, method, path, body, token=token, content_type="application/merge-patch+json")
    assert code == 403
    assert status["reason"] == "Forbidden" and status["message"] == message


def test_refused_requests_are_in_the_request_log(sim, token):
    sim.reset_requests()
    assert raw(sim, "POST", "/api/v1/namespaces/vms/configmaps?dryRun=All", {"metadata": {"name": "x"}},
               token=token)[0] == 403
    assert raw(sim, "PUT", "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/vm-000/stop", {},
               token=token)[0] == 403
    log = sim.requests()
    assert (log["writes"], log["dry_run_writes"], log["changing_writes"], log["by_code"]) == (1, 1, 0, {"403": 2})
    assert log["by_verb_resource"] == {"create configmaps": 1, "update kubevirt.io/virtualmachines/stop": 1}


def test_what_every_authenticated_identity_may_do(sim, token):
    for path in ("/api", "/api/v1", "/apis", "/apis/kubevirt.io/v1", "/version", "/openapi/v3"):
        assert raw(sim, "GET", path, token=token)[0] == 200, path
    code, body = raw(sim, "GET", "/metrics", token=token)
    assert code == 403 and body["message"] == f'forbidden: User "{USER}" cannot get path "/metrics"'


def test_sim_admin_endpoints_are_for_cluster_admins_only(sim, token):
    code, body = raw(sim, "GET", "/_sim/state", token=token)
    assert code == 403 and body["message"] == f'forbidden: User "{USER}" cannot get path "/_sim/state"'
    assert raw(sim, "POST", "/_sim/reset", token=token)[0] == 403
    assert raw(sim, "GET", "/_sim/status")[0] == 200


def test_the_thanos_route_asks_kube_rbac_proxy_questions(sim, token):
    code, body = raw(sim, "GET", "/api/v1/alerts", token=token)
    assert code == 403
    assert body == (f"Forbidden (user={USER}, verb=get, resource=prometheuses, subresource=api)\n").encode()
    assert raw(sim, "GET", "/api/v1/alerts")[0] == 200


def test_a_binding_to_a_missing_role_shows_in_the_refusal(sim, token):
    binding = {"metadata": {"name": "ghostly", "namespace": "vms"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "ghost"},
               "subjects": [{"kind": "ServiceAccount", "name": "auditor"}]}
    assert raw(sim, "POST", f"{RBAC}/namespaces/vms/rolebindings", binding)[0] == 201
    try:
        code, body = raw(sim, "GET", "/api/v1/namespaces/vms/configmaps", token=token)
        assert code == 403
        assert body["message"].endswith(': RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found')
        code, review = raw(sim, "POST", f"{AUTHZ}/selfsubjectrulesreviews", {"spec": {"namespace": "vms"}},
                           token=token)
        assert code == 201 and review["status"]["incomplete"] is True
        assert review["status"]["evaluationError"] == 'clusterrole.rbac.authorization.k8s.io "ghost" not found'
    finally:
        raw(sim, "DELETE", f"{RBAC}/namespaces/vms/rolebindings/ghostly")


# --- bindings --------------------------------------------------------------------------------

@pytest.mark.usefixtures("view_in_vms")
def test_view_in_one_namespace_reads_there_only_and_writes_nothing(sim, token):
    code, pods = raw(sim, "GET", "/api/v1/namespaces/vms/pods", token=token)
    assert code == 200 and pods["kind"] == "PodList"
    assert raw(sim, "GET", "/api/v1/namespaces/vms/persistentvolumeclaims", token=token)[0] == 200
    assert raw(sim, "GET", "/api/v1/namespaces/default/pods", token=token)[0] == 403
    assert raw(sim, "GET", "/api/v1/pods", token=token)[0] == 403  # all namespaces is the cluster scope
    assert raw(sim, "GET", "/api/v1/namespaces/vms/secrets", token=token)[0] == 403
    code, body = raw(sim, "POST", "/api/v1/namespaces/vms/configmaps", {"metadata": {"name": "nope"}}, token=token)
    assert code == 403 and body["message"] == (
        f'configmaps is forbidden: User "{USER}" cannot create resource "configmaps" in API group "" in the '
        'namespace "vms"')


def test_aggregation_extends_view_while_the_labelled_role_exists(sim, token, view_in_vms):
    role = {"metadata": {"name": "route-reader", "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
            "rules": [{"verbs": ["get", "list"], "apiGroups": ["route.openshift.io"], "resources": ["routes"]}]}
    routes = "/apis/route.openshift.io/v1/namespaces/vms/routes"
    assert raw(sim, "GET", routes, token=token)[0] == 403
    assert raw(sim, "POST", f"{RBAC}/clusterroles", role)[0] == 201
    try:
        eventually("admin aggregates the rule through edit", lambda: role["rules"][0] in raw(
            sim, "GET", f"{RBAC}/clusterroles/admin")[1]["rules"], timeout=10)
        assert raw(sim, "GET", routes, token=token)[0] == 200
    finally:
        raw(sim, "DELETE", f"{RBAC}/clusterroles/route-reader")
    eventually("view forgets the rule", lambda: raw(sim, "GET", routes, token=token)[0] == 403, timeout=10)


def test_openshift_virtualization_roles_aggregate_into_view(sim, token, view_in_vms):
    """kubevirt.io:view and cdi.kubevirt.io:view are in view; KubeVirt's and CDI's own bindings give
    every authenticated identity the KubeVirt CR and the StorageProfiles."""
    assert raw(sim, "GET", "/apis/kubevirt.io/v1/namespaces/vms/virtualmachines", token=token)[0] == 200
    assert raw(sim, "GET", "/apis/cdi.kubevirt.io/v1beta1/namespaces/vms/datavolumes", token=token)[0] == 200
    assert raw(sim, "GET", "/apis/kubevirt.io/v1/namespaces/default/virtualmachines", token=token)[0] == 403
    assert raw(sim, "GET", "/apis/cdi.kubevirt.io/v1beta1/storageprofiles", token=token)[0] == 200
    assert raw(sim, "GET", "/apis/kubevirt.io/v1/kubevirts", token=token)[0] == 200
    code, body = raw(sim, "PUT", "/apis/subresources.kubevirt.io/v1/namespaces/vms/virtualmachines/vm-000/stop", {},
                     token=token)
    assert code == 403 and body["message"] == (
        f'virtualmachines.subresources.kubevirt.io "vm-000" is forbidden: User "{USER}" cannot update resource '
        '"virtualmachines/stop" in API group "subresources.kubevirt.io" in the namespace "vms"')


# --- reviews ---------------------------------------------------------------------------------

def test_self_subject_access_review(sim, token, view_in_vms):
    assert ssar(sim, token, verb="list", resource="pods", namespace="vms") == {
        "allowed": True,
        "reason": 'RBAC: allowed by RoleBinding "auditor-view/vms" of ClusterRole "view" to ServiceAccount '
                  '"auditor/vms"'}
    assert ssar(sim, token, verb="create", resource="pods", namespace="vms") == {"allowed": False}
    assert ssar(sim, token, verb="get", path="/healthz")["allowed"] is True
    assert ssar(sim, None, verb="delete", resource="nodes")["reason"] == (
        'RBAC: allowed by ClusterRoleBinding "cluster-admins" of ClusterRole "cluster-admin" to Group '
        '"system:cluster-admins"')


def test_review_validation_and_verbs(sim, token):
    code, body = raw(sim, "POST", f"{AUTHZ}/selfsubjectaccessreviews", {"spec": {}})
    assert code == 422 and "exactly one of nonResourceAttributes or resourceAttributes" in body["message"]
    assert raw(sim, "GET", f"{AUTHZ}/selfsubjectaccessreviews")[0] == 405
    code, body = raw(sim, "POST", f"{AUTHZ}/subjectaccessreviews",
                     {"spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}})
    assert code == 422 and "at least one of user or group must be specified" in body["message"]
    code, body = raw(sim, "POST", f"{AUTHZ}/subjectaccessreviews",
                     {"spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}, "user": USER}, token=token)
    assert code == 403 and body["message"].startswith("subjectaccessreviews.authorization.k8s.io is forbidden")
    code, body = raw(sim, "POST", f"{AUTHZ}/namespaces/vms/localsubjectaccessreviews",
                     {"spec": {"user": USER, "resourceAttributes": {"verb": "get", "resource": "pods",
                                                                    "namespace": "default"}}})
    assert code == 400 and body["message"] == "spec.resourceAttributes.namespace must match namespace: vms"


def test_subject_access_reviews_take_the_subject_as_given(sim, view_in_vms):
    spec = {"user": USER, "resourceAttributes": {"verb": "list", "resource": "pods", "namespace": "vms"}}
    code, body = raw(sim, "POST", f"{AUTHZ}/subjectaccessreviews", {"spec": spec})
    assert code == 201 and body["status"]["allowed"] is True
    code, body = raw(sim, "POST", f"{AUTHZ}/namespaces/vms/localsubjectaccessreviews", {"spec": spec})
    assert code == 201 and body["status"]["allowed"] and body["metadata"]["namespace"] == "vms"
    # No groups given, so the system:authenticated bindings do not apply.
    discovery = {"user": USER, "nonResourceAttributes": {"verb": "get", "path": "/api"}}
    assert raw(sim, "POST", f"{AUTHZ}/subjectaccessreviews", {"spec": discovery})[1]["status"] == {"allowed": False}
    discovery["groups"] = ["system:authenticated"]
    assert raw(sim, "POST", f"{AUTHZ}/subjectaccessreviews", {"spec": discovery})[1]["status"]["allowed"] is True


def test_self_subject_rules_review(sim, token, view_in_vms):
    code, body = raw(sim, "POST", f"{AUTHZ}/selfsubjectrulesreviews", {"spec": {"namespace": "vms"}}, token=token)
    assert code == 201 and body["spec"] == {}  # a new object: the status only
    status = body["status"]
    assert status["incomplete"] is False and "evaluationError" not in status
    assert {"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["namespaces"]} in status["resourceRules"]
    assert {"verbs": ["get"], "nonResourceURLs": ["/livez", "/readyz", "/healthz", "/version", "/version/"]} in \
        status["nonResourceRules"]
    elsewhere = raw(sim, "POST", f"{AUTHZ}/selfsubjectrulesreviews", {"spec": {"namespace": "default"}}, token=token)
    assert len(elsewhere[1]["status"]["resourceRules"]) < len(status["resourceRules"])
    assert raw(sim, "POST", f"{AUTHZ}/selfsubjectrulesreviews", {"spec": {}}, token=token)[0] == 400


# --- kubectl auth can-i ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def kubectl(sim, tmp_path_factory):
    if not os.access(KUBECTL, os.X_OK):
        pytest.fail(f"kubectl not found at {KUBECTL}: run `make kubectl`")
    cache = tmp_path_factory.mktemp("kube-cache")
    env = dict(os.environ, KUBECONFIG=sim.kubeconfig, KUBECACHEDIR=str(cache))

    def run(*args):
        return subprocess.run([KUBECTL, *args], env=env, capture_output=True, text=True, timeout=60)
    return run


def test_kubectl_auth_can_i(kubectl, token, view_in_vms):
    assert (kubectl("auth", "can-i", "delete", "nodes").stdout, kubectl("auth", "can-i", "delete", "nodes").returncode) \
        == ("yes\n", 0)
    allowed = kubectl("--token", token, "auth", "can-i", "list", "pods", "-n", "vms")
    assert (allowed.stdout, allowed.returncode) == ("yes\n", 0)
    refused = kubectl("--token", token, "auth", "can-i", "create", "configmaps", "-n", "vms")
    assert (refused.stdout, refused.returncode) == ("no\n", 1)
    assert kubectl("--token", token, "auth", "can-i", "list", "pods", "-n", "default").stdout == "no\n"
    assert kubectl("--token", token, "auth", "can-i", "get", "/version").stdout == "yes\n"


def test_kubectl_auth_can_i_list(kubectl, token, view_in_vms):
    listed = kubectl("--token", token, "auth", "can-i", "--list", "-n", "vms")
    assert listed.returncode == 0, listed.stderr
    lines = [line.split() for line in listed.stdout.splitlines()]
    assert lines[0] == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    assert ["pods", "[]", "[]", "[get", "list", "watch]"] in lines
    assert ["selfsubjectaccessreviews.authorization.k8s.io", "[]", "[]", "[create]"] in lines
    assert not any(line[0] == "configmaps" and "create" in " ".join(line) for line in lines)


# --- kubernetes.core ---------------------------------------------------------------------------
# kubernetes.core 6.x has no access-review module: a SelfSubjectAccessReview is created with
# kubernetes.core.k8s (its GET of the review answers 405, and the module then creates it).

def kubeconfig_for(sim, token, path):
    """The simulator's kubeconfig with another bearer token (what ``oc login --token`` writes)."""
    import yaml

    config = yaml.safe_load(open(sim.kubeconfig, encoding="utf-8"))
    config["users"][0]["user"] = {"token": token}
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_kubernetes_core_access_review_and_refusal(sim, token, view_in_vms, tmp_path):
    from test_ansible import run_playbook

    auditor = kubeconfig_for(sim, token, tmp_path / "auditor.kubeconfig")
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": {"verb": "create", "resource": "configmaps", "namespace": "vms"}}}
    rc, results = run_playbook(sim, tmp_path, [
        {"name": "as the admin", "kubernetes.core.k8s": {"state": "present", "definition": review}},
        {"name": "as the auditor", "kubernetes.core.k8s": {"state": "present", "definition": review,
                                                           "kubeconfig": auditor}},
        {"name": "auditor reads vms", "kubernetes.core.k8s_info": {"kind": "Pod", "namespace": "vms",
                                                                   "kubeconfig": auditor}},
        {"name": "auditor reads default", "kubernetes.core.k8s_info": {"kind": "Pod", "namespace": "default",
                                                                       "kubeconfig": auditor},
         "ignore_errors": True},
        {"name": "admin as the auditor", "kubernetes.core.k8s_info": {"kind": "Pod", "namespace": "default",
                                                                      "impersonate_user": USER},
         "ignore_errors": True},
        {"name": "admin as the auditor, in vms", "kubernetes.core.k8s_info": {"kind": "Pod", "namespace": "vms",
                                                                              "impersonate_user": USER}},
    ])
    assert rc == 0, results
    assert results[0]["result"]["status"]["allowed"] is True
    assert results[1]["result"]["status"] == {"allowed": False}
    assert "resources" in results[2]
    assert results[3].get("failed"), results[3]
    assert f'User \\"{USER}\\" cannot list resource \\"pods\\"' in results[3]["msg"], results[3]["msg"]
    assert results[4].get("failed") and f'User \\"{USER}\\" cannot list' in results[4]["msg"], results[4]
    assert "resources" in results[5] and not results[5].get("failed")


# --- escalation prevention -----------------------------------------------------------------------

@pytest.fixture()
def admin_in_vms(sim):
    binding = {"metadata": {"name": "auditor-admin", "namespace": "vms"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
               "subjects": [{"kind": "ServiceAccount", "name": "auditor"}]}
    assert raw(sim, "POST", f"{RBAC}/namespaces/vms/rolebindings", binding)[0] == 201
    yield
    raw(sim, "DELETE", f"{RBAC}/namespaces/vms/rolebindings/auditor-admin")


def test_a_namespace_admin_grants_only_what_it_holds(sim, token, admin_in_vms):
    def role(name, rules):
        return {"metadata": {"name": name}, "rules": rules}
    pods = [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]
    assert raw(sim, "POST", f"{RBAC}/namespaces/vms/roles", role("pod-reader", pods), token=token)[0] == 201
    nodes = [{"verbs": ["create"], "apiGroups": [""], "resources": ["nodes"]}]
    code, body = raw(sim, "POST", f"{RBAC}/namespaces/vms/roles", role("too-much", nodes), token=token)
    assert code == 403
    assert body["message"] == (
        f'roles.rbac.authorization.k8s.io "too-much" is forbidden: user "{USER}" (groups=["system:serviceaccounts" '
        '"system:serviceaccounts:vms" "system:authenticated"]) is attempting to grant RBAC permissions not currently '
        'held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["create"]}')
    code, body = raw(sim, "PUT", f"{RBAC}/namespaces/vms/roles/pod-reader", role("pod-reader", pods + nodes),
                     token=token)
    assert code == 403
    assert raw(sim, "POST", f"{RBAC}/namespaces/vms/roles?dryRun=All", role("too-much", nodes), token=token)[0] == 403

    def binding(name, kind, role_name):
        return {"metadata": {"name": name}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind,
                                                        "name": role_name},
                "subjects": [{"kind": "ServiceAccount", "name": "default"}]}
    assert raw(sim, "POST", f"{RBAC}/namespaces/vms/rolebindings", binding("b1", "Role", "pod-reader"),
               token=token)[0] == 201
    assert raw(sim, "POST", f"{RBAC}/namespaces/vms/rolebindings", binding("b2", "ClusterRole", "view"),
               token=token)[0] == 201
    code, body = raw(sim, "POST", f"{RBAC}/namespaces/vms/rolebindings", binding("b3", "ClusterRole", "cluster-admin"),
                     token=token)
    assert code == 403 and "is attempting to grant RBAC permissions not currently held" in body["message"]
    code, body = raw(sim, "POST", f"{RBAC}/namespaces/vms/rolebindings", binding("b4", "Role", "ghost"), token=token)
    assert code == 403 and body["message"] == (
        'rolebindings.rbac.authorization.k8s.io "b4" is forbidden: role.rbac.authorization.k8s.io "ghost" not found')
    # The admin holds escalate and bind through cluster-admin.
    assert raw(sim, "POST", f"{RBAC}/namespaces/vms/roles", role("admin-made", nodes))[0] == 201
    for path in ("roles/pod-reader", "roles/admin-made", "rolebindings/b1", "rolebindings/b2"):
        raw(sim, "DELETE", f"{RBAC}/namespaces/vms/{path}")


# --- impersonation -----------------------------------------------------------------------------

def whoami_as(sim, token=None, **headers):
    code, body = raw(sim, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {}, token=token,
                     headers=headers)
    return code, body


def test_the_admin_impersonates_a_service_account_and_gets_its_rights(sim, token, view_in_vms):
    code, body = whoami_as(sim, **{"Impersonate-User": USER})
    assert code == 201 and body["status"]["userInfo"] == {
        "username": USER, "groups": ["system:serviceaccounts", "system:serviceaccounts:vms", "system:authenticated"]}
    as_auditor = {"Impersonate-User": USER}
    assert raw(sim, "GET", "/api/v1/namespaces/vms/pods", headers=as_auditor)[0] == 200
    code, body = raw(sim, "GET", "/api/v1/namespaces/default/pods", headers=as_auditor)
    assert code == 403 and body["message"].startswith(f'pods is forbidden: User "{USER}" cannot list')
    assert raw(sim, "GET", "/_sim/status", headers=as_auditor)[0] == 403


def test_impersonation_needs_the_impersonate_verb(sim, token):
    code, body = whoami_as(sim, token, **{"Impersonate-User": "bob"})
    assert code == 403 and body["message"] == (
        f'users "bob" is forbidden: User "{USER}" cannot impersonate resource "users" in API group "" at the '
        'cluster scope')
    code, body = whoami_as(sim, token, **{"Impersonate-User": "system:serviceaccount:vms:default"})
    assert code == 403 and body["message"] == (
        f'serviceaccounts "default" is forbidden: User "{USER}" cannot impersonate resource "serviceaccounts" in '
        'API group "" in the namespace "vms"')
    assert whoami_as(sim, **{"Impersonate-Group": "devs"})[0] == 500  # a group without a user


def test_kubectl_as_and_as_group(kubectl, view_in_vms):
    out = kubectl("--as", "bob", "--as-group", "devs", "--as-group", "ops", "auth", "whoami").stdout.splitlines()
    assert out[1:] == ["Username    bob", "Groups      [devs ops system:authenticated]"]
    assert kubectl("--as", USER, "auth", "can-i", "list", "pods", "-n", "vms").stdout == "yes\n"
    assert kubectl("--as", USER, "auth", "can-i", "list", "pods", "-n", "default").stdout == "no\n"
