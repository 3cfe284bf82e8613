"""Kubernetes ``Status`` errors.

Every failure the simulator reports travels as an :class:`ApiError`; the HTTP layer turns it into
a ``Status`` object with the code, reason and message the real kube-apiserver uses, so clients
(kubernetes Python client, kubernetes.core) take the same code paths as against a real cluster.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass
class FieldCause:
    """One ``details.causes[]`` entry of a 422 Invalid answer."""

    field: str
    message: str
    reason: str = "FieldValueInvalid"

    def to_dict(self) -> Dict[str, str]:
        return {"reason": self.reason, "message": self.message, "field": self.field}


class ApiError(Exception):
    """An error answered as a Kubernetes ``Status`` (``kind: Status``, ``status: Failure``)."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        name: Optional[str] = None,
        group: Optional[str] = None,
        kind: Optional[str] = None,
        causes: Optional[List[FieldCause]] = None,
        retry_after: Optional[int] = None,
        headers: Optional[Dict[str, str]] = None,
        metadata: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.name = name
        self.group = group
        self.kind = kind
        self.causes = list(causes or [])
        self.retry_after = retry_after
        self.headers = dict(headers or {})
        self.metadata = dict(metadata or {})  # the Status's ListMeta (e.g. an inconsistent continue token)
        if retry_after is not None:
            self.headers.setdefault("Retry-After", str(retry_after))

    def to_status(self) -> Dict[str, Any]:
        status: Dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": dict(self.metadata),
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        details: Dict[str, Any] = {}
        if self.name is not None:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        if self.kind is not None:
            details["kind"] = self.kind
        if self.causes:
            details["causes"] = [c.to_dict() for c in self.causes]
        if self.retry_after is not None:
            details["retryAfterSeconds"] = self.retry_after
        if details:
            status["details"] = details
        return status

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"ApiError({self.code}, {self.reason!r}, {self.message!r})"


def _qualified(resource: str, group: str) -> str:
    """``persistentvolumeclaims`` or ``virtualmachines.kubevirt.io`` as the apiserver prints it."""
    return f"{resource}.{group}" if group else resource


def success_status(name: str = "", group: str = "", kind: str = "", uid: str = "") -> Dict[str, Any]:
    details: Dict[str, Any] = {"name": name, "kind": kind}
    if group:
        details["group"] = group
    if uid:
        details["uid"] = uid
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


def not_found(resource: str, name: str, group: str = "") -> ApiError:
    return ApiError(404, "NotFound", f'{_qualified(resource, group)} "{name}" not found',
                    name=name, group=group, kind=resource)


def already_exists(resource: str, name: str, group: str = "") -> ApiError:
    return ApiError(409, "AlreadyExists", f'{_qualified(resource, group)} "{name}" already exists',
                    name=name, group=group, kind=resource)


def conflict(resource: str, name: str, group: str = "",
             detail: str = "the object has been modified; please apply your changes to the latest version and try again") -> ApiError:
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": {detail}',
                    name=name, group=group, kind=resource)


def invalid(kind: str, name: str, causes: List[FieldCause], group: str = "") -> ApiError:
    """422 Invalid; the message lists the causes as the apiserver's ``field.ErrorList`` does."""
    rendered = [f"{c.field}: {c.message}" for c in causes]
    joined = rendered[0] if len(rendered) == 1 else "[" + ", ".join(rendered) + "]"
    qualified = f"{kind}.{group}" if group else kind
    return ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {joined}',
                    name=name, group=group, kind=kind, causes=causes)


def forbidden_field(path: str, detail: str) -> FieldCause:
    return FieldCause(path, f"Forbidden: {detail}", "FieldValueForbidden")


def invalid_field(path: str, value: Any, detail: str) -> FieldCause:
    import json

    shown = json.dumps(value) if not isinstance(value, str) else f'"{value}"'
    return FieldCause(path, f"Invalid value: {shown}: {detail}", "FieldValueInvalid")


def required_field(path: str, detail: str = "") -> FieldCause:
    return FieldCause(path, "Required value" + (f": {detail}" if detail else ""), "FieldValueRequired")


def unsupported_field(path: str, value: Any, allowed: List[str]) -> FieldCause:
    shown = ", ".join(f'"{a}"' for a in allowed)
    return FieldCause(path, f'Unsupported value: "{value}": supported values: {shown}', "FieldValueNotSupported")


def forbidden(resource: str, name: str, detail: str, group: str = "") -> ApiError:
    subject = f'{_qualified(resource, group)} "{name}"' if name else _qualified(resource, group)
    return ApiError(403, "Forbidden", f"{subject} is forbidden: {detail}", name=name, group=group, kind=resource)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def method_not_allowed(message: str = "the server does not allow this method on the requested resource") -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def unsupported_media_type(content_type: str, accepted: List[str]) -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    f"the body of the request was in an unknown format - accepted media types include: {', '.join(accepted)}")


def too_many_requests(message: str = "Too many requests, please try again later.", retry_after: int = 1) -> ApiError:
    return ApiError(429, "TooManyRequests", message, retry_after=retry_after)


def internal_error(message: str = "Internal error occurred: simulated failure") -> ApiError:
    return ApiError(500, "InternalError", message)


def service_unavailable(message: str = "the server is currently unable to handle the request") -> ApiError:
    return ApiError(503, "ServiceUnavailable", message)


REASON_BY_CODE = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
    409: "Conflict", 410: "Expired", 415: "UnsupportedMediaType", 422: "Invalid", 429: "TooManyRequests",
    500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout",
}


def error_for_code(code: int, message: Optional[str] = None, retry_after: Optional[int] = None) -> ApiError:
    """A generic error for an injected fault with the reason the apiserver uses for that code."""
    reason = REASON_BY_CODE.get(code, "Unknown")
    return ApiError(code, reason, message or f"simulated fault ({code} {reason})", retry_after=retry_after)
