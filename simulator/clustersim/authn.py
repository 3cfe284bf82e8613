"""Who is asking: client-certificate and bearer-token authentication, and the authentication.k8s.io API.

Identities, as an OpenShift 4.20 kube-apiserver reports them:

* A client certificate signed by the client CA (``tls.py``; the installer's ``auth/kubeconfig``
  holds one for ``CN=system:admin, O=system:masters``) authenticates as its subject: username the
  common name, groups the organizations, uid the ``UID`` attribute (``AllowParsingUserUIDFromCertAuth``,
  beta and on in 1.33; more than one or an empty one is an error), extra
  ``authentication.kubernetes.io/credential-id: [X509SHA256=<hex of the certificate's SHA-256>]``;
  a certificate without a common name stands for nobody (kubernetes/apiserver v0.33.5
  ``pkg/authentication/request/x509/x509.go``, ``CommonNameUserConversion``).  It is tried before the
  bearer token, and the first identity found wins (kubernetes/kubernetes
  ``pkg/kubeapiserver/authenticator/config.go``: front proxy, x509, then tokens, in a union).

* The kubeconfig's token is an OAuth access token of the bootstrap user ``kube:admin`` (what
  ``oc login -u kubeadmin`` yields): username ``kube:admin``, no uid, groups
  ``system:cluster-admins`` and ``system:authenticated``, extra ``scopes.authorization.openshift.io:
  [user:full]`` (openshift/oauth-apiserver ``pkg/tokenvalidation/bootstrapauthenticator.go``; the
  bootstrap user is not in the ``system:authenticated:oauth`` group, which
  ``pkg/oauth/apiserver/apiserver.go`` adds only to tokens of real users).  OAuth tokens look like
  ``sha256~<43 characters>`` (openshift/oauth-server).
* Service account tokens from ``serviceaccounts/token`` (TokenRequest) authenticate as
  ``system:serviceaccount:<ns>:<name>`` with the service account's uid, groups
  ``system:serviceaccounts``, ``system:serviceaccounts:<ns>``, ``system:authenticated`` and extra
  ``authentication.kubernetes.io/credential-id: [JTI=<jti>]`` (plus pod/node name and uid for
  pod-bound tokens) — kubernetes/kubernetes ``pkg/serviceaccount/claims.go`` and
  ``staging/src/k8s.io/apiserver/pkg/authentication/serviceaccount/util.go`` (v1.33).  A token stops
  working when its service account (or bound object) is deleted or recreated with another uid.
* Every authenticated identity gets ``system:authenticated`` unless its groups hold it or
  ``system:unauthenticated`` already (``pkg/authentication/group/authenticated_group_adder.go``;
  the token identities above list it themselves).
* No credentials at all (no client certificate, no bearer token): ``system:anonymous`` in
  ``system:unauthenticated`` — OpenShift runs the kube-apiserver with ``anonymous-auth: true``
  (openshift/cluster-kube-apiserver-operator ``bindata/assets/config/defaultconfig.yaml``) —, which
  RBAC lets through only to ``/version`` and the health endpoints (``system:public-info-viewer``)
  and refuses everything else with 403.  A bearer token nobody issued is 401.

The identity is put on the request (``HttpRequest.user``); this module decides nothing about
what an identity may do (that is authorization's job).

Served here: ``POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token`` (TokenRequest,
``pkg/registry/core/serviceaccount/storage/token.go``), ``POST
/apis/authentication.k8s.io/v1/selfsubjectreviews`` (``kubectl auth whoami``,
``pkg/registry/authentication/selfsubjectreview/rest.go``) and ``tokenreviews``.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from . import errors
from .cluster import HttpRequest, HttpResponse, SubresourceRequest
from .controller import Controller, serves_route, serves_subresource
from .kinds import Kind
from .serviceaccount_tokens import API_AUDIENCES, TokenIssuer
from .util import dig, now_rfc3339

if TYPE_CHECKING:  # pragma: no cover
    from .cluster import Cluster

GROUP, VERSION = "authentication.k8s.io", "v1"
API_VERSION = f"{GROUP}/{VERSION}"
ADMIN_USER = "kube:admin"
ADMIN_GROUPS = ("system:cluster-admins", "system:authenticated")
ADMIN_EXTRA = {"scopes.authorization.openshift.io": ["user:full"]}
DEFAULT_EXPIRATION_SECONDS = 3600  # TokenRequestSpec default (pkg/apis/authentication/v1/defaults.go)
MIN_EXPIRATION_SECONDS = 600
MAX_EXPIRATION_SECONDS = 1 << 32


@dataclass(frozen=True)
class UserInfo:
    """``user.Info`` of the apiserver: what authorization and audit see."""

    username: str
    uid: str = ""
    groups: Tuple[str, ...] = ()
    extra: Dict[str, List[str]] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        """The ``authentication.k8s.io/v1`` ``UserInfo`` shape (empty fields omitted)."""
        out: Dict[str, Any] = {"username": self.username}
        if self.uid:
            out["uid"] = self.uid
        if self.groups:
            out["groups"] = list(self.groups)
        if self.extra:
            out["extra"] = {key: list(values) for key, values in self.extra.items()}
        return out


ANONYMOUS = UserInfo("system:anonymous", groups=("system:unauthenticated",))
ADMIN = UserInfo(ADMIN_USER, groups=ADMIN_GROUPS, extra=ADMIN_EXTRA)


def new_admin_token() -> str:
    """A fresh token in the shape of an OpenShift OAuth access token."""
    return "sha256~" + secrets.token_urlsafe(32)


def bearer_token(header: Optional[str]) -> Optional[str]:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive), or None
    when the header carries none: absent, another scheme, or an empty token (``Bearer  x`` with two
    spaces included) — kubernetes/apiserver v0.33.5 ``pkg/authentication/request/bearertoken``."""
    parts = (header or "").strip().split(" ", 2)
    if len(parts) < 2 or parts[0].lower() != "bearer" or not parts[1]:
        return None
    return parts[1]


CREDENTIAL_ID = "authentication.kubernetes.io/credential-id"


def with_authenticated_group(user: UserInfo) -> UserInfo:
    """``AuthenticatedGroupAdder``: add ``system:authenticated`` where the apiserver adds it."""
    if user.username == ANONYMOUS.username or any(
            group in ("system:authenticated", "system:unauthenticated") for group in user.groups):
        return user
    return UserInfo(user.username, user.uid, user.groups + ("system:authenticated",), user.extra)


class CertificateUserError(ValueError):
    """A verified certificate whose ``UID`` attributes are unusable (more than one, or empty)."""


def certificate_user(der: Optional[bytes]) -> Optional[UserInfo]:
    """``CommonNameUserConversion`` of a verified client certificate (DER), or None when it
    stands for nobody (no certificate, no common name); raises :class:`CertificateUserError`
    for a bad ``UID`` attribute (an authentication error: 401 unless a token authenticates)."""
    if not der:
        return None
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    subject = x509.load_der_x509_certificate(der).subject
    common_names = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    uids = [str(attribute.value) for attribute in subject.get_attributes_for_oid(NameOID.USER_ID)]
    if not common_names or not common_names[-1].value:  # Go's pkix.Name keeps the last common name
        return None
    if len(uids) > 1:
        raise CertificateUserError(f"expected 1 UID, but found multiple: {uids}")
    if uids == [""]:
        raise CertificateUserError("UID cannot be an empty string")
    organizations = tuple(str(attribute.value)
                          for attribute in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))
    extra = {CREDENTIAL_ID: ["X509SHA256=" + hashlib.sha256(der).hexdigest()]}
    username = str(common_names[-1].value)
    return with_authenticated_group(UserInfo(username, uids[0] if uids else "", organizations, extra))


def service_account_user(claims: Dict[str, Any]) -> UserInfo:
    """The identity a verified service account token stands for."""
    private = claims["kubernetes.io"]
    namespace, account = private["namespace"], private["serviceaccount"]
    extra: Dict[str, List[str]] = {}
    if claims.get("jti"):
        extra["authentication.kubernetes.io/credential-id"] = [f"JTI={claims['jti']}"]
    for ref in ("node", "pod"):
        if isinstance(private.get(ref), dict):
            extra[f"authentication.kubernetes.io/{ref}-name"] = [private[ref]["name"]]
            if private[ref].get("uid"):
                extra[f"authentication.kubernetes.io/{ref}-uid"] = [private[ref]["uid"]]
    return UserInfo(f"system:serviceaccount:{namespace}:{account['name']}", account.get("uid", ""),
                    ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"),
                    dict(sorted(extra.items())))


class Authentication(Controller):
    """Authenticates bearer tokens and serves TokenRequest, SelfSubjectReview and TokenReview."""

    name = "authentication"

    def __init__(self, cluster: "Cluster") -> None:
        super().__init__(cluster)
        self.issuer = TokenIssuer()

    def setup(self) -> None:
        for resource, kind in (("selfsubjectreviews", "SelfSubjectReview"), ("tokenreviews", "TokenReview")):
            self.cluster.kinds.register(Kind(GROUP, VERSION, resource, kind, namespaced=False, verbs=("create",),
                                             builtin=True))

    # ------------------------------------------------------------------ authentication
    def authenticate(self, header: Optional[str], client_certificate: Optional[bytes] = None) -> Optional[UserInfo]:
        """The identity behind the connection's verified client certificate (DER) or else the
        ``Authorization`` header; ``system:anonymous`` for a request with neither (OpenShift runs
        the kube-apiserver with ``anonymous-auth: true``); None for a credential that does not
        authenticate (answer 401: ``union.NewFailOnError`` in front of the anonymous authenticator)."""
        try:
            user = certificate_user(client_certificate)
        except CertificateUserError:
            user, failed = None, True
        else:
            failed = False
        if user is not None:
            return user
        token = bearer_token(header)
        if token is None:
            return None if failed else ANONYMOUS
        return self.authenticate_token(token)

    def authenticate_token(self, token: str) -> Optional[UserInfo]:
        """The identity of a bearer token (the admin's OAuth token or a service account token), or None."""
        if not token:
            return None
        if hmac.compare_digest(token.encode(), self.cluster.token.encode()):
            return ADMIN
        claims = self.issuer.verify(token)
        if claims is None or not self._still_bound(claims):
            return None
        return service_account_user(claims)

    def _still_bound(self, claims: Dict[str, Any]) -> bool:
        """The service account and the bound pod/secret exist, with the uids the token names, and
        are not being deleted (``pkg/serviceaccount/claims.go``, ``validator.Validate``)."""
        private = claims["kubernetes.io"]
        namespace = private.get("namespace", "")
        for key, ref in (("serviceaccounts", private.get("serviceaccount")), ("pods", private.get("pod")),
                         ("secrets", private.get("secret"))):
            if ref is None:
                continue
            stored = self.store.peek(key, ref.get("name", ""), namespace)
            if stored is None or stored["metadata"].get("uid") != ref.get("uid"):
                return False
            if stored["metadata"].get("deletionTimestamp"):
                return False
        return True

    def issue_secret_token(self, namespace: str, account: Dict[str, Any], secret: Dict[str, Any],
                           expiration_seconds: int) -> str:
        """A token bound to ``secret`` (the tokens controller's legacy token Secrets): valid
        while the account and the Secret exist with the same uids."""
        bound = {"secret": {"name": secret["metadata"]["name"], "uid": secret["metadata"].get("uid", "")}}
        return self.issuer.issue(namespace, account, list(API_AUDIENCES), expiration_seconds, bound)

    # ------------------------------------------------------------------ TokenRequest
    @serves_subresource("serviceaccounts", "token", kind="TokenRequest", group=GROUP, version=VERSION,
                        verbs=("create",))
    def token_request(self, req: SubresourceRequest) -> HttpResponse:
        if req.method != "POST":
            raise errors.method_not_allowed()
        body = req.body if isinstance(req.body, dict) else {}
        meta = dict(body.get("metadata") or {})
        spec = dict(body.get("spec") or {})
        for attribute, expected, what in (("name", req.name, "name"), ("namespace", req.namespace, "namespace")):
            if meta.get(attribute) and meta[attribute] != expected:
                raise errors.invalid("TokenRequest", req.name, [errors.invalid_field(
                    f"metadata.{attribute}", meta[attribute], f"must match the service account {what} if specified")],
                    GROUP)
        account = self.store.must_get("serviceaccounts", req.name, req.namespace)
        spec["audiences"] = spec.get("audiences") or list(API_AUDIENCES)
        spec.setdefault("expirationSeconds", DEFAULT_EXPIRATION_SECONDS)
        spec.setdefault("boundObjectRef", None)
        self._validate_expiration(spec["expirationSeconds"])
        meta.update(name=req.name, namespace=req.namespace, creationTimestamp=now_rfc3339())
        bound = self._bound_claims(req.name, req.namespace, spec["boundObjectRef"])
        issued = time.time()
        token = self.issuer.issue(req.namespace, account, spec["audiences"], spec["expirationSeconds"], bound, issued)
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(issued) + int(spec["expirationSeconds"])))
        return HttpResponse(201, {"kind": "TokenRequest", "apiVersion": API_VERSION, "metadata": meta,
                                  "spec": spec, "status": {"token": token, "expirationTimestamp": expires}})

    @staticmethod
    def _validate_expiration(seconds: Any) -> None:
        """``ValidateTokenRequest`` (pkg/apis/authentication/validation/validation.go)."""
        if not isinstance(seconds, int) or isinstance(seconds, bool):
            raise errors.bad_request("TokenRequest in version \"v1\" cannot be handled as a TokenRequest: "
                                     "spec.expirationSeconds must be an integer")
        detail = ("may not specify a duration less than 10 minutes" if seconds < MIN_EXPIRATION_SECONDS else
                  "may not specify a duration larger than 2^32 seconds" if seconds > MAX_EXPIRATION_SECONDS else "")
        if detail:
            raise errors.invalid("TokenRequest", "", [errors.invalid_field("spec.expirationSeconds", seconds, detail)],
                                 GROUP)

    def _bound_claims(self, account: str, namespace: str, ref: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        """The ``kubernetes.io`` claims naming the object a token is bound to (Pod or Secret)."""
        if not ref:
            return {}
        kind, api_version = ref.get("kind", ""), ref.get("apiVersion", "")
        if api_version != "v1" or kind not in ("Pod", "Secret"):
            group_kind = f"{api_version}, Kind={kind}" if "/" in api_version else f"/{api_version}, Kind={kind}"
            raise errors.bad_request(f"cannot bind token to object of type {group_kind}")
        key = "pods" if kind == "Pod" else "secrets"
        obj = self.store.must_get(key, ref.get("name", ""), namespace)
        if ref.get("uid") and ref["uid"] != obj["metadata"]["uid"]:
            raise errors.conflict(kind, ref["name"], "", f"the UID in the bound object reference ({ref['uid']}) does "
                                  "not match the UID in record. The object might have been deleted and then recreated")
        claims: Dict[str, Any] = {kind.lower(): {"name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"]}}
        if kind == "Pod":
            if dig(obj, "spec", "serviceAccountName", default="default") != account:
                raise errors.bad_request(f'cannot bind token for serviceaccount "{account}" to pod running with '
                                         "different serviceaccount name.")
            node_name = dig(obj, "spec", "nodeName")
            if node_name:
                node = self.store.peek("nodes", node_name)
                claims["node"] = {"name": node_name, "uid": node["metadata"]["uid"] if node else ""}
        return claims

    # ------------------------------------------------------------------ reviews
    @serves_route("POST", f"/apis/{API_VERSION}/selfsubjectreviews")
    def self_subject_review(self, http: HttpRequest) -> HttpResponse:
        user = http.user or ANONYMOUS
        return HttpResponse(201, {"kind": "SelfSubjectReview", "apiVersion": API_VERSION,
                                  "metadata": {"creationTimestamp": now_rfc3339()},
                                  "status": {"userInfo": user.to_dict()}})

    @serves_route("POST", f"/apis/{API_VERSION}/tokenreviews")
    def token_review(self, http: HttpRequest) -> HttpResponse:
        body = _json_object(http)
        spec = body.get("spec") or {}
        user = self.authenticate_token(spec.get("token") or "")
        status: Dict[str, Any] = {"user": {}} if user is None else {
            "authenticated": True, "user": user.to_dict(), "audiences": list(API_AUDIENCES)}
        return HttpResponse(201, {"kind": "TokenReview", "apiVersion": API_VERSION,
                                  "metadata": {"creationTimestamp": now_rfc3339()}, "spec": spec, "status": status})


def _json_object(http: HttpRequest) -> Dict[str, Any]:
    try:
        body = http.json()
    except ValueError:
        raise errors.bad_request("the body of the request must be a JSON object") from None
    return body if isinstance(body, dict) else {}


def install(cluster: "Cluster") -> Authentication:
    """Build, register and wire the authentication controller (every cluster has one)."""
    controller = Authentication(cluster)
    cluster.register_controller(controller)
    controller.install()
    return controller
