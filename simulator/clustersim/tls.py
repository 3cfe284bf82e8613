"""HTTPS for the simulator: a CA made at start, a serving certificate it signs, the SSL wiring.

OpenShift's kube-apiserver answers loopback clients with a serving certificate signed by its own
``kube-apiserver-localhost-signer`` CA, and the installer's kubeconfig trusts that CA through
``certificate-authority-data`` (openshift/api ``tls/docs/kube-apiserver Serving Certificates``;
openshift/cluster-kube-apiserver-operator, ``localhost-serving-signer``).  The simulator does the
same with a fresh CA per start, so a client that verifies certificates (kubectl, client-go, the
kubernetes Python client) works with the kubeconfig unchanged.  client-go sends bearer tokens only
over TLS, which is why plain HTTP is just a debugging option (``--insecure-http``).

Client certificates (mutual TLS), as the installer sets them up (openshift/installer
``pkg/asset/tls/adminkubeconfig.go``): a second CA, ``admin-kubeconfig-signer`` (OU ``openshift``),
signs the client certificate of ``auth/kubeconfig``, subject ``CN=system:admin, O=system:masters``,
key usages digital signature + key encipherment, extended key usages server and client auth.  The
kube-apiserver trusts that CA through its ``client-ca-file`` (openshift/cluster-kube-apiserver-operator
``bindata/assets/config/defaultconfig.yaml``) and requests, but does not require, a client certificate;
which identity a certificate stands for is ``authn.certificate_user``.  One difference: Go's TLS server
accepts any client certificate in the handshake and the x509 authenticator rejects a bad one later
(401, or the bearer token is tried), whereas OpenSSL verifies it during the handshake, so a
certificate from another CA, expired or without the client-auth usage fails the handshake here.

Keys are ECDSA P-256 (what the apiserver also accepts; generating them costs about a millisecond,
where RSA-2048 costs tens of milliseconds on every simulator start).
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SIGNER_NAME = "kube-apiserver-localhost-signer"
CLIENT_SIGNER_NAME = "admin-kubeconfig-signer"
ADMIN_SUBJECT = ("system:admin", ("system:masters",))  # (CN, O) of the installer's admin certificate
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
VALIDITY = datetime.timedelta(days=365)
CLOCK_SKEW = datetime.timedelta(minutes=5)  # not-before in the past, so a skewed client still accepts it


@dataclass(frozen=True)
class ClientSigner:
    """A CA that signs client certificates (the ``admin-kubeconfig-signer``)."""

    ca_pem: bytes
    key: Any  # the CA's private key

    def issue(self, common_name: str, organizations: Sequence[str] = (), uid: str = "",
              validity: datetime.timedelta = VALIDITY) -> Tuple[bytes, bytes]:
        """(certificate PEM, key PEM) of a client certificate for ``CN=common_name, O=organizations``
        (and the ``UID`` attribute when given), with the installer's key usages."""
        attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
        if common_name:
            attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        if uid:
            attributes.append(x509.NameAttribute(NameOID.USER_ID, uid))
        key = _new_key()
        issuer = x509.load_pem_x509_certificate(self.ca_pem)
        cert = _signed(x509.Name(attributes), issuer.subject, key.public_key(), self.key, [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (_key_usage(key_encipherment=True), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False),
        ], validity)
        return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


@dataclass(frozen=True)
class ServingMaterial:
    """PEM bytes of the CA certificate and of the server's certificate and key, and the signer of
    client certificates with the admin's certificate and key."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes
    client_signer: Optional[ClientSigner] = None
    admin_cert_pem: bytes = b""
    admin_key_pem: bytes = b""

    @property
    def admin_certificate(self) -> Optional[Tuple[bytes, bytes]]:
        """(certificate PEM, key PEM) of ``system:admin``, or None."""
        return (self.admin_cert_pem, self.admin_key_pem) if self.admin_cert_pem else None

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.client_signer is not None:  # ask for a client certificate; go on without one
            context.verify_mode = ssl.CERT_OPTIONAL
            context.load_verify_locations(cadata=self.client_signer.ca_pem.decode())
        # The ssl module loads a certificate chain only from files.
        with tempfile.TemporaryDirectory(prefix="clustersim-tls-") as directory:
            cert_path, key_path = os.path.join(directory, "tls.crt"), os.path.join(directory, "tls.key")
            with open(cert_path, "wb") as handle:
                handle.write(self.cert_pem)
            with open(os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as handle:
                handle.write(self.key_pem)
            context.load_cert_chain(cert_path, key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A context that trusts exactly this CA (what the kubeconfig's CA data says)."""
        return ssl.create_default_context(cadata=self.ca_pem.decode())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _alt_names(hosts: Iterable[str]) -> List[x509.GeneralName]:
    names: List[x509.GeneralName] = []
    for host in dict.fromkeys(hosts):  # keep order, drop repeats
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _key_usage(key_encipherment: bool = False, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=key_encipherment,
                         data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign,
                         encipher_only=False, decipher_only=False)


def _signed(subject: x509.Name, issuer: x509.Name, public_key: Any, signer_key: Any,
            extensions: List[Tuple[x509.ExtensionType, bool]],
            validity: datetime.timedelta = VALIDITY) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - CLOCK_SKEW).not_valid_after(now + validity))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signer_key, hashes.SHA256())


def serving_hosts(bind_host: str) -> List[str]:
    """The names the certificate covers: loopback, plus the bind address unless it is a wildcard."""
    hosts = list(LOOPBACK_NAMES)
    if bind_host and bind_host not in ("0.0.0.0", "::", ""):
        hosts.append(bind_host)
    return hosts


def _new_ca(subject: x509.Name) -> Tuple[x509.Certificate, Any]:
    key = _new_key()
    cert = _signed(subject, subject, key.public_key(), key, [
        (x509.BasicConstraints(ca=True, path_length=None), True),
        (_key_usage(cert_sign=True), True),
        (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
    ])
    return cert, key


def new_client_signer() -> ClientSigner:
    """A fresh ``admin-kubeconfig-signer`` (``CN=admin-kubeconfig-signer, OU=openshift``)."""
    cert, key = _new_ca(x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "openshift"),
                                   x509.NameAttribute(NameOID.COMMON_NAME, CLIENT_SIGNER_NAME)]))
    return ClientSigner(cert.public_bytes(serialization.Encoding.PEM), key)


def generate(hosts: Iterable[str] = LOOPBACK_NAMES) -> ServingMaterial:
    """A new CA and a serving certificate for ``hosts`` (IP addresses or DNS names), and a new
    client signer with the admin's client certificate."""
    ca_cert, ca_key = _new_ca(_name(SIGNER_NAME))
    server_key = _new_key()
    server_cert = _signed(_name("127.0.0.1"), ca_cert.subject, server_key.public_key(), ca_key, [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (_key_usage(key_encipherment=True), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        (x509.SubjectAlternativeName(_alt_names(hosts)), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
    ])
    signer = new_client_signer()
    admin_cert, admin_key = signer.issue(ADMIN_SUBJECT[0], ADMIN_SUBJECT[1])
    return ServingMaterial(ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
                           cert_pem=server_cert.public_bytes(serialization.Encoding.PEM), key_pem=_key_pem(server_key),
                           client_signer=signer, admin_cert_pem=admin_cert, admin_key_pem=admin_key)


def wrap_listener(httpd: Any, material: ServingMaterial) -> None:
    """Make ``httpd`` (a socketserver) accept TLS connections.

    The handshake is left to the request thread (:func:`handshake`) so one slow or broken client
    cannot hold up the accept loop.
    """
    httpd.socket = material.server_context().wrap_socket(httpd.socket, server_side=True,
                                                         do_handshake_on_connect=False)


# What Go's net/http server (so the kube-apiserver) answers a plain HTTP request on a TLS port.
PLAIN_HTTP_ANSWER = b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"


def handshake(connection: Any) -> None:
    """Complete the TLS handshake of an accepted connection (no-op for plain sockets)."""
    if not isinstance(connection, ssl.SSLSocket):
        return
    try:
        connection.do_handshake()
    except ssl.SSLError as error:
        if error.reason == "HTTP_REQUEST":  # OpenSSL saw "GET /..." where a ClientHello belongs
            try:
                os.write(connection.fileno(), PLAIN_HTTP_ANSWER)
            except OSError:
                pass
        raise


def peer_certificate(connection: Any) -> Optional[bytes]:
    """The DER bytes of the client certificate the TLS handshake verified, or None."""
    if not isinstance(connection, ssl.SSLSocket):
        return None
    try:
        return connection.getpeercert(binary_form=True)
    except (ValueError, ssl.SSLError):  # no handshake yet / connection gone
        return None


def is_client_gone(error: BaseException) -> bool:
    """Errors that mean the client went away or spoke something else than TLS: not server faults."""
    return isinstance(error, (ssl.SSLError, ConnectionError, TimeoutError))
