# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One client for every module: reads, check-mode aware writes, retries and error mapping.

It sits on kubernetes.core's ``K8SClient`` (discovery, auth, the DynamicClient) and adds what our
modules need on every call: objects as plain dicts, ``None`` for a missing object, server-side
``dryRun=All`` for writes in check mode, ``fieldValidation=Strict`` on every write (a misspelled
field is refused instead of silently pruned), the API's ``Warning`` headers handed to the module
as warnings, bounded retries for transient failures, read-modify-write with conflict retry,
subresource calls (KubeVirt ``addvolume``, pod eviction), and one-line failures naming the object.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import re

try:
    from urllib.parse import urlencode
except ImportError:  # Python 2
    from urllib import urlencode

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import (
    ModuleFailure,
    api_failure,
)
from ansible_collections.ocpvirt.portworx.plugins.module_utils.retry import (
    RetryPolicy,
    call_with_retry,
)

try:
    from kubernetes.dynamic.exceptions import ResourceNotFoundError, ResourceNotUniqueError
except ImportError:  # handled by AnsibleK8SModule's requirement check
    ResourceNotFoundError = ResourceNotUniqueError = LookupError

DRY_RUN_ALL = "All"
#: Unknown or duplicate fields in a write are an error, not silently dropped (apiserver >= 1.27 default is Warn).
FIELD_VALIDATION = "Strict"
# One RFC 7234 warning value as the apiserver sends it: 299 - "text" (several may share one header).
_WARNING_VALUE = re.compile(r'\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"')
PATCH_CONTENT_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}


def describe(kind, name, namespace=None):
    """How failures and refusals name an object: ``Kind namespace/name`` or ``Kind name``."""
    return "{0} {1}".format(kind, "{0}/{1}".format(namespace, name) if namespace else name)


def warning_texts(headers):
    """The texts of the ``Warning`` headers of an answer, in order, without duplicates."""
    if headers is None:
        return []
    if hasattr(headers, "getlist"):
        values = headers.getlist("Warning")
    elif hasattr(headers, "get_all"):
        values = headers.get_all("Warning") or []
    else:
        value = dict((str(k).lower(), v) for k, v in dict(headers).items()).get("warning")
        values = [value] if value else []
    texts = []
    for value in values:
        found = [m.group(1).replace('\\"', '"').replace("\\\\", "\\") for m in _WARNING_VALUE.finditer(value)]
        for text in found or [value.strip()]:
            if text and text not in texts:
                texts.append(text)
    return texts


def decode_answer(response):
    """A raw HTTP answer's JSON body as a dict (None for an empty body)."""
    data = getattr(response, "data", response)
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    if isinstance(data, str):
        if not data.strip():
            return None
        try:
            data = json.loads(data)
        except ValueError:
            return None
    return as_dict(data)


def as_dict(response):
    if response is None:
        return None
    if hasattr(response, "to_dict"):
        return response.to_dict()
    return response


class UrlError(Exception):
    """An HTTP error answer from outside the API server, shaped like the kubernetes client's ApiException."""

    def __init__(self, status, reason, body=None):
        super(UrlError, self).__init__("{0} {1}".format(status, reason))
        self.status = status
        self.reason = reason
        self.body = body


def bearer_token(configuration):
    """The ``Bearer ...`` header value the kubernetes client sends, or None (client certificates only)."""
    settings = configuration.auth_settings() if hasattr(configuration, "auth_settings") else {}
    value = (settings.get("BearerToken") or {}).get("value")
    if value:
        return value
    if hasattr(configuration, "get_api_key_with_prefix"):
        return configuration.get_api_key_with_prefix("authorization")
    return None


class ClusterClient(object):
    """Plain-dict access to the cluster for one module run.

    ``check_mode`` turns every write into a server-side dry run: the API server validates and
    admits the request exactly as it would for real and persists nothing.
    """

    def __init__(self, k8s_client, check_mode=False, policy=None, on_retry=None, on_warning=None):
        self.k8s = k8s_client
        self.dynamic = k8s_client.client
        self.check_mode = check_mode
        self.policy = policy or RetryPolicy()
        self.on_retry = on_retry
        self.on_warning = on_warning
        self.warnings = []
        self._resources = {}

    # discovery -------------------------------------------------------------------------------
    def resource(self, api_version, kind):
        """The discovered API resource, or a failure saying the API is not served."""
        key = (api_version, kind)
        if key not in self._resources:
            try:
                self._resources[key] = self._call(lambda: self.k8s.resource(kind, api_version), "discover", kind)
            except (ResourceNotFoundError, ResourceNotUniqueError):
                raise ModuleFailure(
                    "The cluster does not serve {0} in {1}: is the operator that owns it installed?".format(kind, api_version),
                    status=404,
                    reason="NotFound",
                )
        return self._resources[key]

    def served(self, api_version, kind):
        try:
            self.resource(api_version, kind)
        except ModuleFailure:
            return False
        return True

    # reads -----------------------------------------------------------------------------------
    def get(self, api_version, kind, name, namespace=None):
        """The object as a dict, or ``None`` when it does not exist."""
        resource = self.resource(api_version, kind)
        try:
            return as_dict(self._call(lambda: resource.get(name=name, namespace=namespace), "get", describe(kind, name, namespace)))
        except ModuleFailure as failure:
            if failure.status == 404:
                return None
            raise

    def list(self, api_version, kind, namespace=None, label_selector=None, field_selector=None):
        resource = self.resource(api_version, kind)
        params = dict(namespace=namespace)
        if label_selector:
            params["label_selector"] = label_selector
        if field_selector:
            params["field_selector"] = field_selector
        listing = as_dict(self._call(lambda: resource.get(**params), "list", kind + " objects"))
        return listing.get("items") or []

    # writes ----------------------------------------------------------------------------------
    def _write_query(self):
        query = [("fieldValidation", FIELD_VALIDATION)]
        if self.check_mode:
            query.append(("dryRun", DRY_RUN_ALL))
        return query

    def _send(self, method, resource, name, namespace, body=None, content_type="application/json"):
        """One write request, with Strict field validation (and dryRun in check mode); its warnings are kept."""
        path = "{0}?{1}".format(resource.path(name=name, namespace=namespace), urlencode(self._write_query()))
        response = self.dynamic.request(method, path, body=body, content_type=content_type, serialize=False)
        self.note_warnings(getattr(response, "headers", None))
        return decode_answer(response)

    def note_warnings(self, headers):
        """Hand each new ``Warning`` of an answer to ``on_warning`` (the module's warnings)."""
        for text in warning_texts(headers):
            if text in self.warnings:
                continue
            self.warnings.append(text)
            if self.on_warning is not None:
                self.on_warning(text)

    def create(self, definition):
        kind, name, namespace = _identity(definition)
        resource = self.resource(definition["apiVersion"], kind)
        attempts = []

        def attempt():
            attempts.append(True)
            return self._send("post", resource, None, namespace, body=definition)

        try:
            return self._call(attempt, "create", describe(kind, name, namespace))
        except ModuleFailure as failure:
            # A create whose answer was lost (a reset connection, a 5xx from a proxy after the write)
            # is replayed by the retry, and the replay meets the object the first attempt created.
            replayed = len(attempts) > 1 and failure.status == 409 and failure.reason == "AlreadyExists"
            if replayed and name and not self.check_mode:
                existing = self.get(definition["apiVersion"], kind, name, namespace)
                if existing is not None:
                    return existing
            raise

    def patch(self, api_version, kind, name, patch, namespace=None, patch_type="merge"):
        resource = self.resource(api_version, kind)
        return self._call(
            lambda: self._send("patch", resource, name, namespace, body=patch, content_type=PATCH_CONTENT_TYPES[patch_type]),
            "patch",
            describe(kind, name, namespace),
        )

    def replace(self, definition):
        kind, name, namespace = _identity(definition)
        resource = self.resource(definition["apiVersion"], kind)
        return self._call(lambda: self._send("put", resource, name, namespace, body=definition), "replace", describe(kind, name, namespace))

    def delete(self, api_version, kind, name, namespace=None, propagation=None):
        """Delete; returns the API's answer, or ``None`` when the object was already gone.

        ``propagation`` (``Background``, ``Foreground``, ``Orphan``) sets ``propagationPolicy``;
        a batch/v1 Job otherwise orphans its pods.
        """
        resource = self.resource(api_version, kind)
        options = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation} if propagation else None
        try:
            return self._call(lambda: self._send("delete", resource, name, namespace, body=options), "delete", describe(kind, name, namespace))
        except ModuleFailure as failure:
            if failure.status == 404:
                return None
            raise

    def update(self, api_version, kind, name, mutate, namespace=None):
        """Read-modify-write that survives concurrent writers.

        ``mutate(obj)`` changes the object in place and returns True when it changed something.
        On 409 Conflict the object is read again and the change re-applied. Returns
        ``(before, after)``; ``after`` is ``before`` when nothing needed changing.
        """
        subject = describe(kind, name, namespace)
        resource = self.resource(api_version, kind)

        def attempt():
            current = as_dict(resource.get(name=name, namespace=namespace))
            wanted = copy.deepcopy(current)
            if not mutate(wanted):
                return current, current
            return current, self._send("put", resource, name, namespace, body=wanted)

        return self._call(attempt, "update", subject, conflict_is_transient=True)

    # subresources ----------------------------------------------------------------------------
    def subresource(self, method, path, body=None, subject=None, action="call"):
        """Call a subresource path such as ``/apis/subresources.kubevirt.io/v1/.../addvolume``.

        KubeVirt's volume subresources take their dry-run flag in the body, so callers pass it there;
        for the rest, the query parameter is added here in check mode.
        """
        params = {}
        if self.check_mode and method.lower() != "get" and "subresources.kubevirt.io" not in path:
            params["dry_run"] = DRY_RUN_ALL

        def call():
            response = self.dynamic.request(method, path, body=body, content_type="application/json", serialize=False, **params)
            self.note_warnings(getattr(response, "headers", None))
            return decode_answer(response)

        return self._call(call, action, subject or path)

    def read_url_json(self, url, subject):
        """GET an absolute URL outside the API server (an OpenShift Route) with the client's own bearer token and CA.

        The kubernetes client's REST client carries the kubeconfig's CA, client certificate and
        proxy settings; the token is the one every API request sends.
        """
        api_client = self.dynamic.client

        def call():
            headers = {"Accept": "application/json"}
            token = bearer_token(api_client.configuration)
            if token:
                headers["Authorization"] = token
            response = api_client.rest_client.request("GET", url, headers=headers)
            data = response.read() if hasattr(response, "read") else getattr(response, "data", None)
            if response.status >= 400:
                raise UrlError(response.status, response.reason, data)
            return data

        data = self._call(call, "read", subject)
        if isinstance(data, bytes):
            data = data.decode("utf-8", "replace")
        try:
            decoded = json.loads(data) if isinstance(data, str) else data
        except ValueError:
            raise ModuleFailure("read {0} failed: the answer is not JSON".format(subject), reason="BadResponse")
        return decoded if isinstance(decoded, dict) else {}

    def evict(self, pod_name, namespace):
        """Ask for an eviction through ``pods/eviction`` (respects PodDisruptionBudgets)."""
        body = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": pod_name, "namespace": namespace},
        }
        if self.check_mode:
            body["deleteOptions"] = {"dryRun": [DRY_RUN_ALL]}
        path = "/api/v1/namespaces/{0}/pods/{1}/eviction?{2}".format(namespace, pod_name, urlencode([("fieldValidation", FIELD_VALIDATION)]))

        def call():
            response = self.dynamic.request("post", path, body=body, content_type="application/json", serialize=False)
            self.note_warnings(getattr(response, "headers", None))
            return decode_answer(response)

        return self._call_once(call, "evict", describe("Pod", pod_name, namespace))

    # plumbing --------------------------------------------------------------------------------
    def _call(self, func, action, subject, conflict_is_transient=False):
        try:
            return call_with_retry(func, self.policy, conflict_is_transient=conflict_is_transient, on_retry=self.on_retry)
        except (ResourceNotFoundError, ResourceNotUniqueError, ModuleFailure):
            raise
        except Exception as exc:  # noqa: B902 - every API/transport error becomes a one-line failure
            raise api_failure(exc, action, subject)

    def _call_once(self, func, action, subject):
        """No retry: the caller interprets the status itself (429 on eviction means 'not yet')."""
        try:
            return func()
        except Exception as exc:  # noqa: B902
            raise api_failure(exc, action, subject)


def _identity(definition):
    metadata = definition.get("metadata") or {}
    return definition["kind"], metadata.get("name"), metadata.get("namespace")
