"""Request helpers for the simulator tests (a module of its own: conftest modules are not importable by name
when several test folders are collected together)."""
import json
import urllib.error
import urllib.request


def resource(client, api_version, kind):
    return client.resources.get(api_version=api_version, kind=kind)


def raw(sim, method, path, body=None, content_type="application/json", token=None, headers=None):
    """A hand-made HTTP request; returns (status code, decoded JSON body or None)."""
    data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body
    request = urllib.request.Request(sim.url + path, data=data, method=method, headers={
        "Authorization": f"Bearer {sim.token if token is None else token}", "Content-Type": content_type,
        **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30, context=sim.ssl_context) as response:
            payload, code = response.read(), response.status
    except urllib.error.HTTPError as error:
        payload, code = error.read(), error.code
    try:
        return code, json.loads(payload) if payload else None
    except ValueError:
        return code, payload
