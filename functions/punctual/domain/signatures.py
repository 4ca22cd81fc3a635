"""``Punctual-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`` on every HTTPS call.

The receiver recomputes the HMAC over the timestamp and the raw body with its tenant's secret and refuses
stale timestamps (replays); clients/python has the matching ``verify``.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Punctual-Signature"


def sign(body: bytes, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
