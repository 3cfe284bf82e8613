"""HTTPS for the simulator: a CA made at start, a serving certificate it signs, the SSL wiring.

OpenShift's kube-apiserver answers loopback clients with a serving certificate signed by its own
``kube-apiserver-localhost-signer`` CA, and the installer's kubeconfig trusts that CA through
``certificate-authority-data`` (openshift/api ``tls/docs/kube-apiserver Serving Certificates``;
openshift/cluster-kube-apiserver-operator, ``localhost-serving-signer``).  The simulator does the
same with a fresh CA per start, so a client that verifies certificates (kubectl, client-go, the
kubernetes Python client) works with the kubeconfig unchanged.  client-go sends bearer tokens only
over TLS, which is why plain HTTP is just a debugging option (``--insecure-http``).

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
from typing import Any, Iterable, List, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SIGNER_NAME = "kube-apiserver-localhost-signer"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
VALIDITY = datetime.timedelta(days=365)
CLOCK_SKEW = datetime.timedelta(minutes=5)  # not-before in the past, so a skewed client still accepts it


@dataclass(frozen=True)
class ServingMaterial:
    """PEM bytes of the CA certificate and of the server's certificate and key."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
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


def _signed(subject: x509.Name, issuer: x509.Name, public_key: Any, signer_key: Any,
            extensions: List[Tuple[x509.ExtensionType, bool]]) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - CLOCK_SKEW).not_valid_after(now + VALIDITY))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signer_key, hashes.SHA256())


def serving_hosts(bind_host: str) -> List[str]:
    """The names the certificate covers: loopback, plus the bind address unless it is a wildcard."""
    hosts = list(LOOPBACK_NAMES)
    if bind_host and bind_host not in ("0.0.0.0", "::", ""):
        hosts.append(bind_host)
    return hosts


def generate(hosts: Iterable[str] = LOOPBACK_NAMES) -> ServingMaterial:
    """A new CA and a serving certificate for ``hosts`` (IP addresses or DNS names)."""
    ca_key, server_key = _new_key(), _new_key()
    ca_name = _name(SIGNER_NAME)
    ca_cert = _signed(ca_name, ca_name, ca_key.public_key(), ca_key, [
        (x509.BasicConstraints(ca=True, path_length=None), True),
        (x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                       data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                       encipher_only=False, decipher_only=False), True),
        (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False),
    ])
    server_cert = _signed(_name("127.0.0.1"), ca_name, server_key.public_key(), ca_key, [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                       data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                       encipher_only=False, decipher_only=False), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        (x509.SubjectAlternativeName(_alt_names(hosts)), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
    ])
    pem = serialization.Encoding.PEM
    return ServingMaterial(
        ca_pem=ca_cert.public_bytes(pem),
        cert_pem=server_cert.public_bytes(pem),
        key_pem=server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


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


def is_client_gone(error: BaseException) -> bool:
    """Errors that mean the client went away or spoke something else than TLS: not server faults."""
    return isinstance(error, (ssl.SSLError, ConnectionError, TimeoutError))
