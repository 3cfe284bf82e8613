"""Transport and identity: HTTPS with the kubeconfig's CA, bearer tokens, ServiceAccount tokens
(TokenRequest), SelfSubjectReview, chunked and protobuf request bodies."""
import base64
import json
import ssl
import urllib.error
import urllib.request

import pytest
import yaml

from api_helpers import raw


# Discovery: every authenticated identity may read it (system:discovery), so 200 vs 401 is
# authentication alone.
READABLE = "/api/v1"


def call(sim, path, token, method="GET", body=None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(sim.url + path, headers=headers, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10, context=sim.ssl_context) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def whoami(sim, token):
    code, body = call(sim, "/apis/authentication.k8s.io/v1/selfsubjectreviews", token, "POST",
                      {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    assert code == 201, body
    return body["status"]["userInfo"]


def request_token(sim, name, namespace="default", spec=None):
    return raw(sim, "POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
               {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec or {}})


@pytest.fixture()
def account(sim):
    name = "robot"
    raw(sim, "DELETE", f"/api/v1/namespaces/default/serviceaccounts/{name}")
    code, created = raw(sim, "POST", "/api/v1/namespaces/default/serviceaccounts",
                        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}})
    assert code == 201, created
    return created


# --- transport ---------------------------------------------------------------------------------

def test_kubeconfig_is_https_with_the_ca_that_signed_the_server_certificate(sim):
    kubeconfig = yaml.safe_load(open(sim.kubeconfig, encoding="utf-8"))
    cluster = kubeconfig["clusters"][0]["cluster"]
    assert cluster["server"] == sim.url and sim.url.startswith("https://127.0.0.1:")
    ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
    context = ssl.create_default_context(cadata=ca)
    with urllib.request.urlopen(sim.url + "/healthz", timeout=10, context=context) as response:
        assert response.read() == b"ok"


def test_a_client_that_does_not_trust_the_ca_is_refused(sim):
    with pytest.raises(urllib.error.URLError) as info:
        urllib.request.urlopen(sim.url + "/healthz", timeout=10, context=ssl.create_default_context())
    assert isinstance(info.value.reason, ssl.SSLCertVerificationError)


def test_certificate_names_localhost_and_both_loopback_addresses(sim):
    context = ssl.create_default_context(cafile=sim.ca_file)
    for host in ("localhost", "127.0.0.1"):
        with urllib.request.urlopen(f"https://{host}:{sim.port}/healthz", timeout=10, context=context) as response:
            assert response.status == 200
    from cryptography import x509

    pem = ssl.get_server_certificate(("127.0.0.1", sim.port)).encode()
    names = x509.load_pem_x509_certificate(pem).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]


def test_plain_http_is_an_explicit_option():
    from clustersim.testing import Simulator

    with Simulator(workers=1, vms=0, insecure_http=True) as plain:
        assert plain.url.startswith("http://") and plain.ssl_context is None
        kubeconfig = yaml.safe_load(open(plain.kubeconfig, encoding="utf-8"))
        assert "certificate-authority-data" not in kubeconfig["clusters"][0]["cluster"]
        assert plain.request("GET", "/api/v1/namespaces/default")["metadata"]["name"] == "default"


def test_chunked_request_body_is_read(sim):
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "chunked"},
                       "data": {"k": "v"}}).encode()
    connection = sim.connection(timeout=10)
    connection.putrequest("POST", "/api/v1/namespaces/default/configmaps?dryRun=All")
    for name, value in (("Authorization", f"Bearer {sim.token}"), ("Content-Type", "application/json"),
                        ("Transfer-Encoding", "chunked")):
        connection.putheader(name, value)
    connection.endheaders()
    for start in range(0, len(body), 16):
        piece = body[start:start + 16]
        connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    assert response.status == 201
    assert json.loads(response.read())["data"] == {"k": "v"}
    connection.close()


# --- the admin identity ------------------------------------------------------------------------

@pytest.mark.parametrize("token", ["wrong-token", "a.b.c"])
@pytest.mark.parametrize("path", ["/api/v1/namespaces", "/apis", "/_sim/requests", "/_sim/state", "/version"])
def test_a_token_nobody_issued_is_401_status(sim, path, token):
    code, body = call(sim, path, token)
    assert code == 401
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


# OpenShift runs the kube-apiserver with anonymous-auth true: no credentials is system:anonymous,
# which RBAC refuses (OpenShift 4.2 answers `forbidden: User "system:anonymous" cannot get path
# "/apis"`, openshift/openshift-restclient-java#403).
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer "}, {"Authorization": "Bearer  spaced"},
                                     {"Authorization": "Basic a3ViZTphZG1pbg=="}])
@pytest.mark.parametrize("path, message", [
    ("/api/v1/namespaces", 'namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" in '
                           'API group "" at the cluster scope'),
    ("/apis", 'forbidden: User "system:anonymous" cannot get path "/apis"'),
    ("/_sim/state", 'forbidden: User "system:anonymous" cannot get path "/_sim/state"'),
])
def test_no_credentials_is_system_anonymous_and_forbidden(sim, headers, path, message):
    code, body = raw(sim, "GET", path, headers=headers) if headers else call(sim, path, None)
    assert code == 403 and body["message"] == message


def test_anonymous_reads_version_and_reviews_itself_as_unauthenticated(sim):
    code, body = call(sim, "/version", None)
    assert code == 200 and body["major"] == "1"
    code, body = call(sim, "/apis/authentication.k8s.io/v1/selfsubjectreviews", None, "POST",
                      {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    assert code == 403 and body["message"].startswith('selfsubjectreviews.authentication.k8s.io is forbidden: User '
                                                      '"system:anonymous" cannot create')


def test_kubeconfig_token_is_accepted_and_looks_like_an_openshift_oauth_token(sim):
    code, body = call(sim, "/api/v1/namespaces", sim.token)
    assert code == 200 and body["kind"] == "NamespaceList"
    assert sim.token.startswith("sha256~") and len(sim.token) == len("sha256~") + 43


def test_kubernetes_client_with_wrong_token_gets_401(sim):
    from kubernetes import client as kube_client
    from kubernetes.client.rest import ApiException

    configuration = kube_client.Configuration()
    configuration.host = sim.url
    configuration.ssl_ca_cert = sim.ca_file
    configuration.api_key = {"authorization": "Bearer nope"}
    with kube_client.ApiClient(configuration) as api_client:
        with pytest.raises(ApiException) as info:
            kube_client.CoreV1Api(api_client).list_namespace()
    assert info.value.status == 401


def test_health_endpoints_need_no_token(sim):
    with urllib.request.urlopen(sim.url + "/healthz", timeout=10, context=sim.ssl_context) as response:
        assert response.read() == b"ok"


def test_admin_is_the_openshift_bootstrap_user(sim):
    assert whoami(sim, sim.token) == {"username": "kube:admin",
                                      "groups": ["system:cluster-admins", "system:authenticated"],
                                      "extra": {"scopes.authorization.openshift.io": ["user:full"]}}


def test_selfsubjectreviews_are_discoverable_and_create_only(sim):
    code, doc = call(sim, "/apis/authentication.k8s.io/v1", sim.token)
    assert code == 200
    resources = {entry["name"]: entry for entry in doc["resources"]}
    assert resources["selfsubjectreviews"]["verbs"] == ["create"]
    assert resources["selfsubjectreviews"]["namespaced"] is False
    code, _ = call(sim, "/apis/authentication.k8s.io/v1/selfsubjectreviews", sim.token)
    assert code == 405


# --- ServiceAccount tokens -----------------------------------------------------------------------

def test_token_request_is_discoverable_as_a_subresource(sim):
    code, doc = call(sim, "/api/v1", sim.token)
    entry = next(e for e in doc["resources"] if e["name"] == "serviceaccounts/token")
    assert entry == {"name": "serviceaccounts/token", "singularName": "", "namespaced": True,
                     "group": "authentication.k8s.io", "version": "v1", "kind": "TokenRequest", "verbs": ["create"]}


def test_token_request_returns_a_token_for_the_service_account(sim, account):
    code, body = request_token(sim, "robot")
    assert code == 201, body
    assert body["kind"] == "TokenRequest" and body["apiVersion"] == "authentication.k8s.io/v1"
    assert body["metadata"]["name"] == "robot" and body["metadata"]["namespace"] == "default"
    assert body["spec"]["audiences"] == ["https://kubernetes.default.svc"]
    assert body["spec"]["expirationSeconds"] == 3600
    header, claims, _ = body["status"]["token"].split(".")
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert decoded["sub"] == "system:serviceaccount:default:robot"
    assert decoded["kubernetes.io"]["serviceaccount"] == {"name": "robot", "uid": account["metadata"]["uid"]}
    assert decoded["exp"] - decoded["iat"] == 3600
    assert json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["alg"] == "RS256"


def test_service_account_token_authenticates_as_the_service_account(sim, account):
    token = request_token(sim, "robot")[1]["status"]["token"]
    user = whoami(sim, token)
    assert user["username"] == "system:serviceaccount:default:robot"
    assert user["uid"] == account["metadata"]["uid"]
    assert user["groups"] == ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"]
    assert user["extra"]["authentication.kubernetes.io/credential-id"][0].startswith("JTI=")
    assert call(sim, READABLE, token)[0] == 200
    assert call(sim, "/api/v1/namespaces/default", token)[0] == 403  # authenticated, not authorized (RBAC)


def test_token_stops_working_when_its_service_account_is_deleted(sim, account):
    token = request_token(sim, "robot")[1]["status"]["token"]
    assert call(sim, READABLE, token)[0] == 200
    assert raw(sim, "DELETE", "/api/v1/namespaces/default/serviceaccounts/robot")[0] == 200
    assert call(sim, READABLE, token)[0] == 401
    raw(sim, "POST", "/api/v1/namespaces/default/serviceaccounts",
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}})
    assert call(sim, READABLE, token)[0] == 401  # same name, another uid


def test_tampered_token_is_401(sim, account):
    token = request_token(sim, "robot")[1]["status"]["token"]
    header, claims, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    decoded["kubernetes.io"]["namespace"] = "kube-system"
    forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    assert call(sim, READABLE, f"{header}.{forged}.{signature}")[0] == 401


def test_token_request_for_a_missing_service_account_is_404(sim):
    code, body = request_token(sim, "nobody")
    assert code == 404 and body["message"] == 'serviceaccounts "nobody" not found'


@pytest.mark.parametrize("seconds, detail", [
    (599, "may not specify a duration less than 10 minutes"),
    ((1 << 32) + 1, "may not specify a duration larger than 2^32 seconds"),
])
def test_token_request_expiration_bounds(sim, account, seconds, detail):
    code, body = request_token(sim, "robot", spec={"expirationSeconds": seconds})
    assert code == 422
    assert body["message"] == (f'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: '
                               f"Invalid value: {seconds}: {detail}")


def test_token_request_name_must_match_the_url(sim, account):
    code, body = raw(sim, "POST", "/api/v1/namespaces/default/serviceaccounts/robot/token",
                     {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                      "metadata": {"name": "other"}, "spec": {}})
    assert code == 422
    assert body["message"] == ('TokenRequest.authentication.k8s.io "robot" is invalid: metadata.name: '
                               'Invalid value: "other": must match the service account name if specified')


def test_token_request_is_create_only(sim, account):
    assert raw(sim, "GET", "/api/v1/namespaces/default/serviceaccounts/robot/token")[0] == 405


def test_token_bound_to_a_secret_dies_with_the_secret(sim, account):
    secret = raw(sim, "POST", "/api/v1/namespaces/default/secrets",
                 {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "binding"}})[1]
    code, body = request_token(sim, "robot", spec={"boundObjectRef": {"apiVersion": "v1", "kind": "Secret",
                                                                      "name": "binding"}})
    assert code == 201, body
    token = body["status"]["token"]
    assert call(sim, READABLE, token)[0] == 200
    raw(sim, "DELETE", "/api/v1/namespaces/default/secrets/binding")
    assert call(sim, READABLE, token)[0] == 401
    assert secret["metadata"]["uid"]


def test_token_cannot_bind_to_other_kinds(sim, account):
    code, body = request_token(sim, "robot", spec={"boundObjectRef": {"apiVersion": "v1", "kind": "ConfigMap",
                                                                      "name": "x"}})
    assert code == 400 and body["message"] == "cannot bind token to object of type /v1, Kind=ConfigMap"


def test_token_review_reports_the_identity_of_a_token(sim, account):
    token = request_token(sim, "robot")[1]["status"]["token"]
    code, body = call(sim, "/apis/authentication.k8s.io/v1/tokenreviews", sim.token, "POST",
                      {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}})
    assert code == 201 and body["status"]["authenticated"] is True
    assert body["status"]["user"]["username"] == "system:serviceaccount:default:robot"
    code, body = call(sim, "/apis/authentication.k8s.io/v1/tokenreviews", sim.token, "POST",
                      {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": "nope"}})
    assert code == 201 and "authenticated" not in body["status"]


# --- protobuf request bodies (what kubectl's typed requests send) --------------------------------

def varint(value):
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def pb_field(number, value):
    """One proto2 field: ints as varints, str/bytes as length-delimited."""
    if isinstance(value, bool) or isinstance(value, int):
        return varint(number << 3) + varint(int(value))
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def envelope(api_version, kind, raw_message):
    type_meta = pb_field(1, api_version) + pb_field(2, kind)
    return b"k8s\x00" + pb_field(1, type_meta) + pb_field(2, raw_message) + pb_field(3, "") + pb_field(4, "")


def post_protobuf(sim, path, body):
    return raw(sim, "POST", path + "?dryRun=All", body, content_type="application/vnd.kubernetes.protobuf")


def test_protobuf_configmap_keeps_set_pointers_and_maps(sim):
    metadata = pb_field(1, "pb-cm") + pb_field(2, "") + pb_field(8, b"")  # empty name parts, zero time
    entry = pb_field(1, "k") + pb_field(2, "v")
    configmap = pb_field(1, metadata) + pb_field(2, entry) + pb_field(4, False)
    code, body = post_protobuf(sim, "/api/v1/namespaces/default/configmaps", envelope("v1", "ConfigMap", configmap))
    assert code == 201, body
    assert body["data"] == {"k": "v"} and body["immutable"] is False  # *bool set to false stays
    assert body["metadata"]["name"] == "pb-cm" and "generateName" not in body["metadata"]


def test_protobuf_deployment_replicas_zero_is_kept(sim):
    labels = pb_field(11, pb_field(1, "app") + pb_field(2, "x"))
    selector = pb_field(1, pb_field(1, "app") + pb_field(2, "x"))
    container = pb_field(1, "c") + pb_field(2, "image:1")
    template = pb_field(1, labels) + pb_field(2, pb_field(2, container))
    spec = pb_field(1, 0) + pb_field(2, selector) + pb_field(3, template) + pb_field(7, False)
    deployment = pb_field(1, pb_field(1, "pb-deploy")) + pb_field(2, spec)
    code, body = post_protobuf(sim, "/apis/apps/v1/namespaces/default/deployments",
                               envelope("apps/v1", "Deployment", deployment))
    assert code == 201, body
    assert body["spec"]["replicas"] == 0 and "paused" not in body["spec"]
    assert body["spec"]["template"]["spec"]["containers"][0]["image"] == "image:1"


def test_protobuf_body_of_a_custom_resource_is_415(sim):
    code, body = post_protobuf(sim, "/apis/kubevirt.io/v1/namespaces/default/virtualmachines",
                               envelope("kubevirt.io/v1", "VirtualMachine", pb_field(1, pb_field(1, "vm"))))
    assert code == 415
    assert body["message"] == ("the body of the request was in an unknown format - accepted media types include: "
                               "application/json, application/yaml")


def test_garbage_protobuf_is_400(sim):
    code, _ = post_protobuf(sim, "/api/v1/namespaces/default/configmaps", b"k8s\x00\xff\xff")
    assert code == 400


def test_protobuf_well_known_messages_render_as_their_json():
    from clustersim.protobuf import decode_message

    meta = "k8s.io.apimachinery.pkg.apis.meta.v1"
    assert decode_message(pb_field(1, 1_700_000_000) + pb_field(2, 0), f"{meta}.Time") == "2023-11-14T22:13:20Z"
    assert decode_message(b"", f"{meta}.Time") is None
    assert decode_message(pb_field(1, 90 * 10**9), f"{meta}.Duration") == "1m30s"
    assert decode_message(pb_field(1, 3600 * 10**9 + 500 * 10**6), f"{meta}.Duration") == "1h0m0.5s"
    int_or_string = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
    assert decode_message(pb_field(1, 0) + pb_field(2, 8080), int_or_string) == 8080
    assert decode_message(pb_field(1, 1) + pb_field(3, "http"), int_or_string) == "http"
    assert decode_message(pb_field(1, "10Gi"), "k8s.io.apimachinery.pkg.api.resource.Quantity") == "10Gi"
    port = decode_message(pb_field(1, "") + pb_field(2, "TCP") + pb_field(3, 80)
                          + pb_field(4, pb_field(1, 0) + pb_field(2, 8080)) + pb_field(5, 0),
                          "k8s.io.api.core.v1.ServicePort")
    assert port == {"protocol": "TCP", "port": 80, "targetPort": 8080}  # empty name, zero nodePort: omitempty
    zero_target = decode_message(pb_field(3, 80) + pb_field(4, pb_field(1, 0) + pb_field(2, 0)),
                                 "k8s.io.api.core.v1.ServicePort")
    assert zero_target == {"port": 80, "targetPort": 0}  # a struct is never omitempty-dropped


def test_plain_http_to_the_https_port_gets_go_s_answer(sim):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    connection.request("GET", "/version")
    response = connection.getresponse()
    assert response.status == 400
    assert response.read() == b"Client sent an HTTP request to an HTTPS server.\n"
