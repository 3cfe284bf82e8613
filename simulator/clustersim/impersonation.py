"""User impersonation (``kubectl --as`` / ``--as-group``): the ``Impersonate-*`` headers.

kubernetes/kubernetes release-1.33 ``staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go``
(after authentication, before authorization):

* ``Impersonate-User: system:serviceaccount:<ns>:<name>`` asks for ``impersonate`` on
  ``serviceaccounts`` ``<name>`` in ``<ns>`` and, without ``Impersonate-Group``, gives the service
  account's groups; any other name asks for ``impersonate`` on ``users`` ``<name>``;
* each ``Impersonate-Group`` asks for ``impersonate`` on ``groups``; each ``Impersonate-Extra-<key>``
  value on ``userextras/<key>`` and ``Impersonate-Uid`` on ``uids`` (both in
  ``authentication.k8s.io``); groups, extra or uid without a user is an error (500);
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
from .errors import ApiError

USER_HEADER, GROUP_HEADER, UID_HEADER = "Impersonate-User", "Impersonate-Group", "Impersonate-Uid"
EXTRA_PREFIX = "impersonate-extra-"
AUTHENTICATION_GROUP = "authentication.k8s.io"


def impersonation_checks(headers: List[Tuple[str, str]]) -> List[Tuple[Attributes, str, str]]:
    """``buildImpersonationRequests``: one (attributes without user, kind, value) per thing asked."""
    def values(name: str) -> List[str]:
        return [v for k, v in headers if k.lower() == name.lower() and v]

    checks: List[Tuple[Attributes, str, str]] = []
    users = values(USER_HEADER)
    if users:
        requested = users[0]
        namespace, _, account = requested[len(SERVICE_ACCOUNT_PREFIX):].partition(":")
        if requested.startswith(SERVICE_ACCOUNT_PREFIX) and namespace and account and ":" not in account:
            checks.append((Attributes(None, "impersonate", True, "", namespace, "", "v1", "serviceaccounts", "",
                                      account), "ServiceAccount", requested))
        else:
            checks.append((Attributes(None, "impersonate", True, "", "", "", "v1", "users", "", requested), "User",
                           requested))
    checks += [(Attributes(None, "impersonate", True, "", "", "", "v1", "groups", "", g), "Group", g)
               for g in values(GROUP_HEADER)]
    for key, value in headers:
        if key.lower().startswith(EXTRA_PREFIX) and value:
            extra = unquote(key[len(EXTRA_PREFIX):].lower())
            checks.append((Attributes(None, "impersonate", True, "", "", AUTHENTICATION_GROUP, "v1", "userextras",
                                      extra, value), "UserExtra:" + extra, value))
    uids = values(UID_HEADER)
    if uids:
        checks.append((Attributes(None, "impersonate", True, "", "", AUTHENTICATION_GROUP, "v1", "uids", "", uids[0]),
                       "UID", uids[0]))
    if checks and not users:
        raise ApiError(500, "InternalError", f"requested {[value for _, _, value in checks]} without impersonating a user")
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
