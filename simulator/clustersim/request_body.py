"""Reading an HTTP/1.1 request body: ``Content-Length`` or ``Transfer-Encoding: chunked``.

Go's net/http client (kubectl, client-go) sends a body whose length it does not know up front in
chunks (RFC 9112 section 7.1), e.g. ``kubectl create -f -`` reading standard input; the stdlib
``BaseHTTPRequestHandler`` does not decode them, so this does.
"""
from __future__ import annotations

from typing import Any, BinaryIO

from . import errors


def read_body(headers: Any, stream: BinaryIO) -> bytes:
    encoding = (headers.get("Transfer-Encoding") or "").lower()
    if "chunked" in encoding:
        return read_chunked(stream)
    try:
        length = int(headers.get("Content-Length") or 0)
    except ValueError:
        raise errors.bad_request("invalid Content-Length") from None
    return stream.read(length) if length > 0 else b""


def read_chunked(stream: BinaryIO) -> bytes:
    """The decoded body of a chunked request, trailers read and dropped."""
    parts = []
    while True:
        size_line = stream.readline(1024)
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)  # chunk extensions follow a ';'
        except ValueError:
            raise errors.bad_request("malformed chunked encoding") from None
        if size == 0:
            break
        parts.append(stream.read(size))
        if stream.read(2) != b"\r\n":
            raise errors.bad_request("malformed chunked encoding")
    while stream.readline(1024) not in (b"\r\n", b"\n", b""):
        pass  # trailer fields
    return b"".join(parts)
