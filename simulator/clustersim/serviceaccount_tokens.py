"""Service account tokens: JWTs signed RS256, as the kube-apiserver's token issuer makes them.

Claims follow kubernetes/kubernetes ``pkg/serviceaccount/claims.go`` (v1.33): ``iss``, ``sub``
(``system:serviceaccount:<ns>:<name>``), ``aud``, ``iat``, ``nbf``, ``exp``, ``jti`` and the
private ``kubernetes.io`` claim naming the namespace, the service account (name and uid) and the
object the token is bound to (pod, with its node, or secret).  OpenShift issues them with issuer
and audience ``https://kubernetes.default.svc``.  The header carries ``kid``, the base64url SHA-256
of the public key in DER form (``pkg/serviceaccount/jwt.go``, ``keyIDFromPublicKey``).

This module only signs and checks signatures, times and audiences; whether the service account
and the bound object still exist is checked by ``authn`` against the store.
"""
from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from typing import Any, Dict, List, Optional

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ISSUER = "https://kubernetes.default.svc"
API_AUDIENCES = ("https://kubernetes.default.svc",)
LEEWAY_SECONDS = 60  # the validator accepts this much clock skew on nbf/exp (jwt.DefaultLeeway)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _compact_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    """Signs and verifies service account JWTs with one RSA key, made on first use (RSA key
    generation costs tens of milliseconds, and most simulator runs never issue a token)."""

    def __init__(self) -> None:
        self._key: Optional[rsa.RSAPrivateKey] = None
        self._key_id = ""
        self._lock = threading.Lock()

    def _signing_key(self) -> rsa.RSAPrivateKey:
        with self._lock:
            if self._key is None:
                self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                der = self._key.public_key().public_bytes(serialization.Encoding.DER,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo)
                self._key_id = _b64(hashlib.sha256(der).digest())
            return self._key

    def issue(self, namespace: str, service_account: Dict[str, Any], audiences: List[str],
              expiration_seconds: int, bound: Dict[str, Any], now: Optional[float] = None) -> str:
        """A signed token; ``bound`` is the extra ``kubernetes.io`` content (pod/node/secret refs)."""
        key = self._signing_key()
        issued = int(now if now is not None else time.time())
        meta = service_account["metadata"]
        claims = {
            "aud": list(audiences), "exp": issued + int(expiration_seconds), "iat": issued, "iss": ISSUER,
            "jti": str(uuid.uuid4()), "nbf": issued, "sub": f"system:serviceaccount:{namespace}:{meta['name']}",
            "kubernetes.io": dict(bound, namespace=namespace,
                                  serviceaccount={"name": meta["name"], "uid": meta.get("uid", "")}),
        }
        header = {"alg": "RS256", "kid": self._key_id}
        signing_input = f"{_b64(_compact_json(header))}.{_b64(_compact_json(claims))}"
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"

    def verify(self, token: str, now: Optional[float] = None) -> Optional[Dict[str, Any]]:
        """The claims of a token this issuer signed, still valid in time and meant for the API
        server; None for anything else (other issuers, bad signatures, expired tokens)."""
        if self._key is None or token.count(".") != 2:
            return None
        head, body, signature = token.split(".")
        try:
            header = json.loads(_unb64(head))
            if header.get("alg") != "RS256" or header.get("kid") != self._key_id:
                return None
            self._key.public_key().verify(_unb64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(),
                                          hashes.SHA256())
            claims = json.loads(_unb64(body))
        except (ValueError, InvalidSignature):
            return None
        current = now if now is not None else time.time()
        if claims.get("iss") != ISSUER or not isinstance(claims.get("kubernetes.io"), dict):
            return None
        if current > claims.get("exp", 0) + LEEWAY_SECONDS or current < claims.get("nbf", 0) - LEEWAY_SECONDS:
            return None
        if not set(claims.get("aud") or []) & set(API_AUDIENCES):
            return None
        return claims
