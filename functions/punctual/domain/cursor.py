"""Opaque, tamper-proof pagination cursors.

A cursor is ``base64url(json(continuation)) "." base64url(hmac)`` where the HMAC-SHA256 covers the payload
and the caller's context key: a cursor cannot be altered, and one made for another context is rejected
(it would otherwise reveal where another tenant's listing stands).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from punctual.domain.errors import ErrorDetail, ValidationError
from punctual.domain.model import Context

_MAX_CURSOR_CHARS = 4096


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: str, context: Context, secret: bytes) -> bytes:
    # The separator cannot occur in base64url text, so (payload, context) pairs cannot collide.
    return hmac.new(secret, f"{payload}\n{context.key}".encode(), hashlib.sha256).digest()


def _invalid() -> ValidationError:
    return ValidationError("invalid cursor", [ErrorDetail("cursor", "not a cursor issued for this listing")])


def encode_cursor(continuation: dict[str, Any], context: Context, secret: bytes) -> str:
    payload = _b64encode(json.dumps(continuation, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_b64encode(_signature(payload, context, secret))}"


def decode_cursor(token: str, context: Context, secret: bytes) -> dict[str, Any]:
    if not isinstance(token, str) or not token or len(token) > _MAX_CURSOR_CHARS or token.count(".") != 1:
        raise _invalid()
    payload, signature_text = token.split(".")
    try:
        signature = _b64decode(signature_text)
    except (binascii.Error, ValueError):
        raise _invalid() from None
    if not hmac.compare_digest(signature, _signature(payload, context, secret)):
        raise _invalid()
    try:
        continuation = json.loads(_b64decode(payload))
    except (binascii.Error, ValueError):
        raise _invalid() from None
    if not isinstance(continuation, dict):
        raise _invalid()
    return continuation
