"""Verify the ``Punctual-Signature`` header punctual puts on every HTTPS target call.

    from punctual_client import verify
    event = verify(request_body_bytes, request.headers["Punctual-Signature"], secret)  # raises if forged

The header is ``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``; the secret is your tenant's
(``GET /signing-secret``). ``tolerance`` bounds the age of the timestamp, so a captured call cannot be
replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any


class SignatureError(ValueError):
    """The header is missing or malformed, the signature does not match, or the timestamp is too old."""


def verify(
    body: bytes | str,
    header: str | None,
    secret: str,
    tolerance: int = 300,
    *,
    now: float | None = None,
) -> Any:
    """The request's JSON body once its signature checks out; ``SignatureError`` otherwise."""
    raw = body.encode() if isinstance(body, str) else body
    if not header:
        raise SignatureError("no Punctual-Signature header")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise SignatureError("the header has no valid t=<unix seconds>") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError(f"the timestamp is more than {tolerance} s from now")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
        raise SignatureError("the signature does not match")
    return json.loads(raw)
