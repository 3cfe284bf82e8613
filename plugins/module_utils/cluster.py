# -*- coding: utf-8 -*-
# Copyright: ocpvirt.portworx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One client for every module: reads, check-mode aware writes, retries and error mapping.

It sits on kubernetes.core's ``K8SClient`` (discovery, auth, the DynamicClient) and adds what our
modules need on every call: objects as plain dicts, ``None`` for a missing object, server-side
``dryRun=All`` for writes in check mode, bounded retries for transient failures, read-modify-write
with conflict retry, subresource calls (KubeVirt ``addvolume``, pod eviction), and one-line
failures naming the object.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

from ansible_collections.ocpvirt.portworx.plugins.module_utils.errors import (
    ModuleFailure,
    Refusal,
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
PATCH_CONTENT_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}


def describe(kind, name, namespace=None):
    """How failures and refusals name an object: ``Kind namespace/name`` or ``Kind name``."""
    return "{0} {1}".format(kind, "{0}/{1}".format(namespace, name) if namespace else name)


def require_name(kind, name, namespace=None):
    """Refuse an empty name: the API would answer a GET on it with the whole list of that kind."""
    if not isinstance(name, str) or not name.strip():
        raise Refusal(
            describe(kind, repr(name), namespace),
            "an object needs a non-empty name; without one the request would address every {0}".format(kind),
            "Give the name of the {0}.".format(kind),
        )


def as_dict(response):
    if response is None:
        return None
    if hasattr(response, "to_dict"):
        return response.to_dict()
    return response


class ClusterClient(object):
    """Plain-dict access to the cluster for one module run.

    ``check_mode`` turns every write into a server-side dry run: the API server validates and
    admits the request exactly as it would for real and persists nothing.
    """

    def __init__(self, k8s_client, check_mode=False, policy=None, on_retry=None):
        self.k8s = k8s_client
        self.dynamic = k8s_client.client
        self.check_mode = check_mode
        self.policy = policy or RetryPolicy()
        self.on_retry = on_retry
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
        require_name(kind, name, namespace)
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
    def _write_params(self):
        return {"dry_run": DRY_RUN_ALL} if self.check_mode else {}

    def create(self, definition):
        kind, name, namespace = _identity(definition)
        if not (definition.get("metadata") or {}).get("generateName"):  # the API server names it then
            require_name(kind, name, namespace)
        resource = self.resource(definition["apiVersion"], kind)
        attempts = []

        def attempt():
            attempts.append(True)
            return resource.create(body=definition, namespace=namespace, **self._write_params())

        try:
            return as_dict(self._call(attempt, "create", describe(kind, name, namespace)))
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
        require_name(kind, name, namespace)
        resource = self.resource(api_version, kind)
        return as_dict(
            self._call(
                lambda: resource.patch(
                    body=patch,
                    name=name,
                    namespace=namespace,
                    content_type=PATCH_CONTENT_TYPES[patch_type],
                    **self._write_params()
                ),
                "patch",
                describe(kind, name, namespace),
            )
        )

    def replace(self, definition):
        kind, name, namespace = _identity(definition)
        require_name(kind, name, namespace)
        resource = self.resource(definition["apiVersion"], kind)
        return as_dict(
            self._call(
                lambda: resource.replace(body=definition, name=name, namespace=namespace, **self._write_params()),
                "replace",
                describe(kind, name, namespace),
            )
        )

    def delete(self, api_version, kind, name, namespace=None):
        """Delete; returns the API's answer, or ``None`` when the object was already gone."""
        require_name(kind, name, namespace)
        resource = self.resource(api_version, kind)
        try:
            return as_dict(
                self._call(
                    lambda: resource.delete(name=name, namespace=namespace, **self._write_params()),
                    "delete",
                    describe(kind, name, namespace),
                )
            )
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
        require_name(kind, name, namespace)
        subject = describe(kind, name, namespace)
        resource = self.resource(api_version, kind)

        def attempt():
            current = as_dict(resource.get(name=name, namespace=namespace))
            wanted = copy.deepcopy(current)
            if not mutate(wanted):
                return current, current
            written = resource.replace(body=wanted, name=name, namespace=namespace, **self._write_params())
            return current, as_dict(written)

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
        return as_dict(
            self._call(
                lambda: self.dynamic.request(method, path, body=body, content_type="application/json", **params),
                action,
                subject or path,
            )
        )

    def read_json(self, path, subject):
        """GET a path whose answer is JSON but not a Kubernetes object (e.g. a service proxy)."""
        response = self._call(lambda: self.dynamic.request("get", path, serialize=False), "read", subject)
        data = getattr(response, "data", response)
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
        path = "/api/v1/namespaces/{0}/pods/{1}/eviction".format(namespace, pod_name)
        return as_dict(
            self._call_once(
                lambda: self.dynamic.request("post", path, body=body, content_type="application/json"),
                "evict",
                describe("Pod", pod_name, namespace),
            )
        )

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
