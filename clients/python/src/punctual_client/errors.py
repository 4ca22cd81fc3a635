"""Typed errors: every non-2xx answer (and every connection failure) becomes one of these.

The API answers ``{"error": {"code", "message", "details": [{"field", "message"}]}}``; the error keeps all
three, plus the HTTP status (0 when no answer arrived)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorDetail:
    field: str
    message: str


class PunctualError(Exception):
    """Base of every error the SDK raises for an API call."""

    def __init__(
        self, status: int, code: str, message: str, details: list[ErrorDetail] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details: list[ErrorDetail] = list(details or [])


class NotFound(PunctualError):
    """404: an unknown task or run, or another context's."""


class Conflict(PunctualError):
    """409: the task changed state (already fired, being published right now, cancelled)."""


class Invalid(PunctualError):
    """400 (malformed) or 422 (well-formed but unacceptable); ``details`` names the fields."""


class Unauthorized(PunctualError):
    """401 or 403: a missing or wrong API key or shared secret."""


class TooLarge(PunctualError):
    """413: the message or the body is too large."""


class RateLimited(PunctualError):
    """429: throttled; ``retry_after`` (seconds) is the server's hint, when it gave one."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[ErrorDetail] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, code, message, details)
        self.retry_after = retry_after


class Unavailable(PunctualError):
    """503 or another 5xx, or no answer at all (connection refused, reset, timed out): status 0."""


def error_class(status: int) -> type[PunctualError]:
    if status == 404:
        return NotFound
    if status == 409:
        return Conflict
    if status in (400, 422):
        return Invalid
    if status in (401, 403):
        return Unauthorized
    if status == 413:
        return TooLarge
    if status == 429:
        return RateLimited
    if status >= 500:
        return Unavailable
    return PunctualError
