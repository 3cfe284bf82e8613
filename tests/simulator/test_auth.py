"""Bearer-token authentication: the kubeconfig token works, anything else is 401 Unauthorized."""
import json
import urllib.error
import urllib.request

import pytest


def call(sim, path, token):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    request = urllib.request.Request(sim.url + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize("token", ["wrong-token", "", None])
@pytest.mark.parametrize("path", ["/api/v1/namespaces", "/apis", "/_sim/requests", "/_sim/state"])
def test_bad_or_missing_token_is_401_status(sim, path, token):
    code, body = call(sim, path, token)
    assert code == 401
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_kubeconfig_token_is_accepted(sim):
    code, body = call(sim, "/api/v1/namespaces", sim.token)
    assert code == 200 and body["kind"] == "NamespaceList"


def test_kubernetes_client_with_wrong_token_gets_401(sim):
    from kubernetes import client as kube_client
    from kubernetes.client.rest import ApiException

    configuration = kube_client.Configuration()
    configuration.host = sim.url
    configuration.api_key = {"authorization": "Bearer nope"}
    with kube_client.ApiClient(configuration) as api_client:
        with pytest.raises(ApiException) as info:
            kube_client.CoreV1Api(api_client).list_namespace()
    assert info.value.status == 401


def test_health_endpoints_need_no_token(sim):
    request = urllib.request.Request(sim.url + "/healthz")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.read() == b"ok"
