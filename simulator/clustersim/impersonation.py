"""User impersonation (``kubectl --as`` / ``--as-group``): the ``Impersonate-*`` headers.

kubernetes/kubernetes release-1.33 ``staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go``
(after authentication, before authorization):

* ``Impersonate-User: system:serviceaccount:<ns>:<name>`` (``<ns>`` a DNS-1123 label, ``<name>`` a
  DNS-1123 subdomain: ``serviceaccount.SplitUsername``) asks for ``impersonate`` on
  ``serviceaccounts`` ``<name>`` in ``<ns>`` and, without ``Impersonate-Group``, gives the service
  account's groups; any other name asks for ``impersonate`` on ``users`` ``<name>``;
* each ``Impersonate-Group`` asks for ``impersonate`` on ``groups``; each ``Impersonate-Extra-<key>``
  value on ``userextras/<key>`` and ``Impersonate-Uid`` on ``uids`` (both in
  ``authentication.k8s.io``); groups, extra or uid without a user is an error, answered by
  ``responsewriters.InternalError`` as a plain-text 500 (``Internal Server Error: "<uri>": requested
  [<the requests, as Go prints ObjectReference structs>] without impersonating a user``);
* ``system:authenticated`` is added unless the groups already hold it or
  ``system:unauthenticated`` (``system:unauthenticated`` for ``system:anonymous``);
* a refusal is the authorizer's 403 for that ``impersonate`` check (``users "bob" is forbidden:
  User "..." cannot impersonate resource "users" in API group "" at the cluster scope``).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import unquote

from .authn import UserInfo
from .authz import SERVICE_ACCOUNT_PREFIX, Attributes, Decision, Policy, authorize
from .validation import DNS1123_LABEL, DNS1123_SUBDOMAIN

USER_HEADER, GROUP_HEADER, UID_HEADER = "Impersonate-User", "Impersonate-Group", "Impersonate-Uid"
EXTRA_PREFIX = "impersonate-extra-"
AUTHENTICATION_GROUP = "authentication.k8s.io"


class ImpersonationError(Exception):
    """The headers ask for something without a user: the filter's plain-text 500."""


def split_service_account(username: str) -> Optional[Tuple[str, str]]:
    """``serviceaccount.SplitUsername``: (namespace, name) of a service account's username, or None."""
    if not username.startswith(SERVICE_ACCOUNT_PREFIX):
        return None
    parts = username[len(SERVICE_ACCOUNT_PREFIX):].split(":")
    if len(parts) != 2:
        return None
    namespace, name = parts
    if len(namespace) > 63 or not DNS1123_LABEL.match(namespace):
        return None
    if len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        return None
    return namespace, name


def _go_reference(kind: str, namespace: str = "", name: str = "", api_version: str = "", field_path: str = "") -> str:
    """How Go's ``%v`` prints a ``v1.ObjectReference`` value (fields in declaration order)."""
    return "{" + " ".join((kind, namespace, name, "", api_version, "", field_path)) + "}"


def impersonation_checks(headers: List[Tuple[str, str]]) -> List[Tuple[Attributes, str, str]]:
    """``buildImpersonationRequests``: one (attributes without user, kind, value) per thing asked."""
    def values(name: str) -> List[str]:
        return [v for k, v in headers if k.lower() == name.lower()]

    checks: List[Tuple[Attributes, str, str]] = []
    printed: List[str] = []  # for the error message
    users = values(USER_HEADER)
    if users and users[0]:
        requested = users[0]
        account_ref = split_service_account(requested)
        if account_ref is not None:
            namespace, account = account_ref
            checks.append((Attributes(None, "impersonate", True, "", namespace, "", "v1", "serviceaccounts", "",
                                      account), "ServiceAccount", requested))
        else:
            checks.append((Attributes(None, "impersonate", True, "", "", "", "v1", "users", "", requested), "User",
                           requested))
    for group in values(GROUP_HEADER):
        checks.append((Attributes(None, "impersonate", True, "", "", "", "v1", "groups", "", group), "Group", group))
        printed.append(_go_reference("Group", name=group))
    for key, value in headers:
        if key.lower().startswith(EXTRA_PREFIX):
            extra = unquote(key[len(EXTRA_PREFIX):].lower())
            checks.append((Attributes(None, "impersonate", True, "", "", AUTHENTICATION_GROUP, "v1", "userextras",
                                      extra, value), "UserExtra:" + extra, value))
            printed.append(_go_reference("UserExtra", name=value, api_version=f"{AUTHENTICATION_GROUP}/v1",
                                         field_path=extra))
    uids = values(UID_HEADER)
    if uids and uids[0]:
        checks.append((Attributes(None, "impersonate", True, "", "", AUTHENTICATION_GROUP, "v1", "uids", "", uids[0]),
                       "UID", uids[0]))
        printed.append(_go_reference("UID", name=uids[0], api_version=f"{AUTHENTICATION_GROUP}/v1"))
    if checks and not (users and users[0]):
        raise ImpersonationError(f"requested [{' '.join(printed)}] without impersonating a user")
    return checks


def impersonated_user(checks: List[Tuple[Attributes, str, str]], groups_given: bool) -> UserInfo:
    """The identity the request goes on as."""
    username, uid = "", ""
    groups: List[str] = []
    extra: Dict[str, List[str]] = {}
    for attrs, kind, value in checks:
        if kind == "ServiceAccount":
            username = value
            if not groups_given:
                groups = ["system:serviceaccounts", f"system:serviceaccounts:{attrs.namespace}"]
        elif kind == "User":
            username = value
        elif kind == "Group":
            groups.append(value)
        elif kind.startswith("UserExtra:"):
            extra.setdefault(kind.split(":", 1)[1], []).append(value)
        elif kind == "UID":
            uid = value
    if username != "system:anonymous":
        if "system:authenticated" not in groups and "system:unauthenticated" not in groups:
            groups.append("system:authenticated")
    elif "system:unauthenticated" not in groups:
        groups.append("system:unauthenticated")
    return UserInfo(username, uid, tuple(groups), extra)


def impersonate(policy: Policy, requestor: Any, headers: List[Tuple[str, str]]
                ) -> Tuple[Any, Optional[Tuple[Attributes, Decision]]]:
    """(the identity to continue as, None) or (the requestor, the refused check and its decision)."""
    checks = impersonation_checks(headers)
    if not checks:
        return requestor, None
    for attrs, _, _ in checks:
        asked = replace(attrs, user=requestor)
        decision = authorize(policy, asked)
        if not decision.allowed:
            return requestor, (asked, decision)
    groups_given = any(kind == "Group" for _, kind, _ in checks)
    return impersonated_user(checks, groups_given), None
