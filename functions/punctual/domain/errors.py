"""Domain errors. The API maps each class to one HTTP status in one place (handlers/http_errors.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ErrorDetail:
    """One problem with one input field, e.g. ``field="cron"``, ``message="minute 61 is out of range 0-59"``."""

    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message}


@dataclass
class PunctualError(Exception):
    """Base of every error the API reports to a caller."""

    message: str
    details: list[ErrorDetail] = field(default_factory=list)
    code: str = "error"

    def __str__(self) -> str:
        return self.message


@dataclass
class ValidationError(PunctualError):
    """Malformed input: wrong type, missing field, unparsable expression (400)."""

    code: str = "validation_error"


@dataclass
class UnprocessableError(PunctualError):
    """Well-formed input that cannot be honoured: beyond the horizon, interval below the minimum (422)."""

    code: str = "unprocessable"


@dataclass
class NotFoundError(PunctualError):
    """No such task or run in the caller's context. Other contexts' records are reported the same way (404)."""

    code: str = "not_found"


@dataclass
class ConflictError(PunctualError):
    """The record changed state: already fired, claimed, cancelled, or a concurrent write won (409)."""

    code: str = "conflict"


@dataclass
class UnauthorizedError(PunctualError):
    """The shared secret is missing or wrong (401)."""

    code: str = "unauthorized"


@dataclass
class PayloadTooLargeError(PunctualError):
    """A message, metadata or request body over the limits (413)."""

    code: str = "payload_too_large"


@dataclass
class ThrottledError(PunctualError):
    """AWS throttled us; the caller may retry (429)."""

    code: str = "throttled"


@dataclass
class DependencyError(PunctualError):
    """An AWS dependency failed in a way the caller cannot fix; nothing was left half-written (503)."""

    code: str = "dependency_unavailable"


class StaleWriteError(Exception):
    """A conditional write lost: the record is not at the expected version/state. Internal to service+store."""


class AlreadyExistsError(Exception):
    """A conditional put found the key present (claims, idempotency keys). Internal to service+store."""
