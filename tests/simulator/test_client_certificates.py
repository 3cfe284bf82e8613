"""Client-certificate (x509) authentication, the installer-style ``admin`` context, the
SystemMasters authorizer and the impersonation filter's edges.

The API tests run an in-process server whose TLS material the test holds, so it can sign client
certificates for any subject with the server's client CA (what ``oc adm`` / a CSR would hand out).
"""
import base64
import hashlib
import json
import os
import ssl
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from clustersim import tls
from clustersim.authn import ADMIN, CertificateUserError, UserInfo, certificate_user
from clustersim.authz import Attributes, Policy, authorize
from clustersim.impersonation import ImpersonationError, impersonation_checks, split_service_account

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WHOAMI = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
REVIEW = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}


def der(cert_pem):
    return x509.load_pem_x509_certificate(cert_pem).public_bytes(Encoding.DER)


# --- unit: CommonNameUserConversion ------------------------------------------------------------

@pytest.fixture(scope="module")
def signer():
    return tls.new_client_signer()


def test_common_name_is_the_user_and_organizations_the_groups(signer):
    cert, _ = signer.issue("alice", ["devs", "ops"])
    user = certificate_user(der(cert))
    assert (user.username, user.uid, user.groups) == ("alice", "", ("devs", "ops", "system:authenticated"))
    assert user.extra == {"authentication.kubernetes.io/credential-id":
                          ["X509SHA256=" + hashlib.sha256(der(cert)).hexdigest()]}


def test_uid_attribute_is_the_uid_and_system_authenticated_is_not_repeated(signer):
    cert, _ = signer.issue("bob", ["system:authenticated"], uid="u-42")
    user = certificate_user(der(cert))
    assert (user.uid, user.groups) == ("u-42", ("system:authenticated",))


def with_subject(signer, attributes):
    """A client certificate with exactly these subject attributes, signed by ``signer``."""
    import datetime

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(x509.Name(attributes))
            .issuer_name(x509.load_pem_x509_certificate(signer.ca_pem).subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(signer.key, hashes.SHA256()))
    return cert.public_bytes(Encoding.PEM), key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def test_certificate_without_common_name_stands_for_nobody(signer):
    cert, _ = signer.issue("", ["devs"])
    assert certificate_user(der(cert)) is None
    assert certificate_user(None) is None


def test_the_last_common_name_counts_and_bad_uids_are_errors(signer):
    cert, _ = with_subject(signer, [x509.NameAttribute(NameOID.COMMON_NAME, "first"),
                                    x509.NameAttribute(NameOID.COMMON_NAME, "last")])
    assert certificate_user(der(cert)).username == "last"
    for uids in (["u-1", "u-2"], [""]):
        cert, _ = with_subject(signer, [x509.NameAttribute(NameOID.COMMON_NAME, "x")]
                               + [x509.NameAttribute(NameOID.USER_ID, uid) for uid in uids])
        with pytest.raises(CertificateUserError):
            certificate_user(der(cert))


def test_the_admin_certificate_is_the_installers(signer):
    material = tls.generate()
    cert = x509.load_pem_x509_certificate(material.admin_cert_pem)
    assert cert.subject.rfc4514_string() == "CN=system:admin,O=system:masters"
    assert cert.issuer.rfc4514_string() == "CN=admin-kubeconfig-signer,OU=openshift"
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    assert certificate_user(der(material.admin_cert_pem)).groups == ("system:masters", "system:authenticated")
    # The client CA is not the serving CA: a server certificate is no client credential.
    assert material.client_signer.ca_pem != material.ca_pem


# --- unit: SystemMasters, service account names, the 500 ---------------------------------------

def test_system_masters_may_do_anything_without_any_binding():
    master = UserInfo("eve", groups=("system:masters", "system:authenticated"))
    decision = authorize(Policy.from_objects([]), Attributes(master, "delete", True, "", "kube-system", "", "v1",
                                                             "secrets", "", "x"))
    assert decision.allowed and decision.reason == ""
    assert not authorize(Policy.from_objects([]), Attributes(ADMIN, "get", True, "", "", "", "v1", "nodes")).allowed


@pytest.mark.parametrize("username, expected", [
    ("system:serviceaccount:vms:bot", ("vms", "bot")),
    ("system:serviceaccount:vms:bot.v2", ("vms", "bot.v2")),
    ("system:serviceaccount:VMs:bot", None),      # namespace: a DNS-1123 label
    ("system:serviceaccount:vms:Bot", None),      # name: a DNS-1123 subdomain
    ("system:serviceaccount:vms:bot:extra", None),
    ("system:serviceaccount:vms", None),
    ("system:serviceaccount:" + "n" * 64 + ":bot", None),
    ("bob", None),
])
def test_service_account_usernames_split_as_upstream(username, expected):
    assert split_service_account(username) == expected


def test_a_malformed_service_account_name_is_impersonated_as_a_user():
    (attrs, kind, value), = impersonation_checks([("Impersonate-User", "system:serviceaccount:VMs:bot")])
    assert (attrs.resource, kind, value) == ("users", "User", "system:serviceaccount:VMs:bot")


def test_groups_extra_and_uid_without_a_user_print_as_go_object_references():
    with pytest.raises(ImpersonationError) as info:
        impersonation_checks([("Impersonate-Group", "devs"), ("Impersonate-Extra-Scopes", "a"),
                              ("Impersonate-Uid", "u-1")])
    assert str(info.value) == ("requested [{Group  devs    } {UserExtra  a  authentication.k8s.io/v1  scopes} "
                               "{UID  u-1  authentication.k8s.io/v1  }] without impersonating a user")


# --- API: an in-process server whose client CA the test holds ----------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from clustersim.cluster import build_cluster
    from clustersim.config import Config
    from clustersim.server import SimServer

    material = tls.generate()
    cluster = build_cluster(Config.from_env(workers=1, vms=0))
    server = SimServer(cluster, serving=material).start()
    directory = tmp_path_factory.mktemp("certs")
    (directory / "ca.crt").write_bytes(material.ca_pem)
    try:
        yield server, material, directory
    finally:
        server.stop()


def context_for(served, cert_pem=None, key_pem=None, name="client"):
    _, material, directory = served
    context = ssl.create_default_context(cafile=str(directory / "ca.crt"))
    if cert_pem:
        (directory / f"{name}.crt").write_bytes(cert_pem)
        (directory / f"{name}.key").write_bytes(key_pem)
        context.load_cert_chain(str(directory / f"{name}.crt"), str(directory / f"{name}.key"))
    return context


def call(served, path, context, method="GET", body=None, headers=None):
    server = served[0]
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def whoami(served, context, **headers):
    code, _, payload = call(served, WHOAMI, context, "POST", REVIEW, headers)
    assert code == 201, payload
    return json.loads(payload)["status"]["userInfo"]


def issued(served, common_name, organizations=(), uid=""):
    return served[1].client_signer.issue(common_name, organizations, uid)


def test_the_admin_certificate_authenticates_as_system_admin(served):
    material = served[1]
    user = whoami(served, context_for(served, material.admin_cert_pem, material.admin_key_pem, "admin"))
    assert user == {"username": "system:admin", "groups": ["system:masters", "system:authenticated"],
                    "extra": {"authentication.kubernetes.io/credential-id": [
                        "X509SHA256=" + hashlib.sha256(der(material.admin_cert_pem)).hexdigest()]}}


def test_the_certificate_wins_over_a_bearer_token(served):
    token = {"Authorization": f"Bearer {served[0].cluster.token}"}
    context = context_for(served, *issued(served, "carol", ["devs"]), name="carol")
    assert whoami(served, context, **token)["username"] == "carol"
    assert whoami(served, context_for(served), **token)["username"] == "kube:admin"


def test_a_certificate_user_is_authorized_by_rbac_like_anyone(served):
    context = context_for(served, *issued(served, "dave", ["devs"]), name="dave")
    code, _, payload = call(served, "/api/v1/namespaces", context)
    assert code == 403
    assert json.loads(payload)["message"] == (
        'namespaces is forbidden: User "dave" cannot list resource "namespaces" in API group "" at the cluster scope')
    assert call(served, "/_sim/status", context)[0] == 403


def test_a_certificate_without_common_name_stands_for_nobody(served):
    context = context_for(served, *issued(served, "", ["devs"]), name="nameless")
    code, _, payload = call(served, "/api/v1/namespaces", context)
    assert code == 403 and 'User "system:anonymous" cannot list' in json.loads(payload)["message"]
    assert whoami(served, context, Authorization=f"Bearer {served[0].cluster.token}")["username"] == "kube:admin"


def test_a_certificate_with_two_uids_is_an_authentication_error(served):
    context = context_for(served, *with_subject(served[1].client_signer, [
        x509.NameAttribute(NameOID.COMMON_NAME, "hal"), x509.NameAttribute(NameOID.USER_ID, "u-1"),
        x509.NameAttribute(NameOID.USER_ID, "u-2")]), name="hal")
    assert call(served, "/api/v1/namespaces", context)[0] == 401  # not anonymous: the credential failed
    assert whoami(served, context, Authorization=f"Bearer {served[0].cluster.token}")["username"] == "kube:admin"


def test_the_uid_attribute_becomes_the_uid(served):
    user = whoami(served, context_for(served, *issued(served, "erin", uid="u-7"), name="erin"))
    assert (user["username"], user["uid"], user["groups"]) == ("erin", "u-7", ["system:authenticated"])


def test_system_masters_reaches_everything_including_sim(served):
    context = context_for(served, *issued(served, "frank", ["system:masters"]), name="frank")
    assert call(served, "/api/v1/namespaces/kube-system/secrets", context)[0] == 200
    assert call(served, "/_sim/status", context)[0] == 200
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
              "spec": {"user": "frank", "groups": ["system:masters"],
                       "resourceAttributes": {"verb": "delete", "resource": "nodes", "name": "worker-1"}}}
    code, _, payload = call(served, "/apis/authorization.k8s.io/v1/subjectaccessreviews", context, "POST", review)
    assert code == 201 and json.loads(payload)["status"] == {"allowed": True}  # SystemMasters gives no reason


def test_the_forbidden_message_escapes_html_as_upstream(served):
    context = context_for(served, *issued(served, "<eve&co>"), name="eve")
    code, _, payload = call(served, "/api/v1/nodes", context)
    assert code == 403
    assert json.loads(payload)["message"] == ('nodes is forbidden: User "&lt;eve&amp;co&gt;" cannot list resource '
                                              '"nodes" in API group "" at the cluster scope')


def test_a_certificate_user_impersonates_when_allowed(served):
    material = served[1]
    admin = context_for(served, material.admin_cert_pem, material.admin_key_pem, "admin")
    user = whoami(served, admin, **{"Impersonate-User": "system:serviceaccount:default:default"})
    assert user == {"username": "system:serviceaccount:default:default",
                    "groups": ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"]}
    plain = context_for(served, *issued(served, "gina"), name="gina")
    code, _, payload = call(served, WHOAMI, plain, "POST", REVIEW, {"Impersonate-User": "bob"})
    assert code == 403 and json.loads(payload)["message"] == (
        'users "bob" is forbidden: User "gina" cannot impersonate resource "users" in API group "" at the '
        'cluster scope')


def test_impersonating_groups_without_a_user_is_a_plain_text_500(served):
    material = served[1]
    admin = context_for(served, material.admin_cert_pem, material.admin_key_pem, "admin")
    code, headers, payload = call(served, "/api/v1/namespaces?limit=1", admin, headers={"Impersonate-Group": "devs"})
    assert code == 500 and headers["Content-Type"] == "text/plain; charset=utf-8"
    assert payload.decode() == ('Internal Server Error: "/api/v1/namespaces?limit=1": requested [{Group  devs    }] '
                                "without impersonating a user\n")


def test_a_certificate_from_another_ca_fails_the_handshake(served):
    """A documented difference: Go would answer 401 (or use the token); OpenSSL refuses in the handshake."""
    foreign = tls.new_client_signer().issue("mallory", ["system:masters"])
    with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
        call(served, "/api/v1/namespaces", context_for(served, *foreign, name="mallory"))


def test_an_expired_certificate_fails_the_handshake(served):
    import datetime

    expired = served[1].client_signer.issue("old", validity=-datetime.timedelta(minutes=2))
    with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
        call(served, "/api/v1/namespaces", context_for(served, *expired, name="old"))


# --- the kubeconfig ---------------------------------------------------------------------------

def test_kubeconfig_has_the_token_context_current_and_the_installer_admin_context(sim):
    config = yaml.safe_load(open(sim.kubeconfig, encoding="utf-8"))
    assert config["current-context"] == "clustersim"
    assert [c["name"] for c in config["contexts"]] == ["clustersim", "admin"]
    admin = next(c["context"] for c in config["contexts"] if c["name"] == "admin")
    assert admin == {"cluster": "clustersim", "user": "admin"}
    user = next(u["user"] for u in config["users"] if u["name"] == "admin")
    cert = x509.load_pem_x509_certificate(base64.b64decode(user["client-certificate-data"]))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:admin"
    assert config["users"][0]["user"]["token"] == sim.token


def test_kubernetes_client_with_the_admin_context_is_system_admin(sim):
    """What kubernetes.core's setup_kubeconfig does: the client's cert_file/key_file from the kubeconfig."""
    from kubernetes import client as kube_client, config as kube_config

    api = kube_config.new_client_from_config(config_file=sim.kubeconfig, context="admin")
    try:
        assert api.configuration.cert_file and api.configuration.key_file and not api.configuration.api_key
        review = kube_client.AuthenticationV1Api(api).create_self_subject_review(
            {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        assert review.status.user_info.username == "system:admin"
        assert kube_client.CoreV1Api(api).list_namespace(limit=1).items
    finally:
        api.close()


def test_start_with_current_context_admin(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO_ROOT, "simulator"))
    command = [sys.executable, "-m", "clustersim"]
    directory = tmp_path / "sim"
    started = subprocess.run(command + ["start", "--dir", str(directory), "--workers", "1", "--vms", "0",
                                        "--current-context", "admin"], env=env, capture_output=True, text=True,
                             timeout=60)
    try:
        assert started.returncode == 0, started.stderr
        config = yaml.safe_load((directory / "kubeconfig").read_text())
        assert config["current-context"] == "admin"
    finally:
        subprocess.run(command + ["stop", "--dir", str(directory)], env=env, capture_output=True, timeout=60)
    refused = subprocess.run(command + ["serve", "--insecure-http", "--current-context", "admin"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "--current-context admin needs TLS" in refused.stderr
