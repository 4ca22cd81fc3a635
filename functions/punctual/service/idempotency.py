"""What an idempotency key promises: the same request again gets the first answer; another request under
the same key is a caller's mistake, answered 422 (as Stripe and the IETF Idempotency-Key draft do), never the
first task as if it were the second.

The request is remembered as a fingerprint stored with the key's reservation: a SHA-256 of the create
command's fields (everything but the key itself), as canonical JSON.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from punctual.domain.errors import ErrorDetail, UnprocessableError
from punctual.service.commands import CreateTask


def request_fingerprint(command: CreateTask) -> str:
    schedule = dataclasses.asdict(command.schedule)
    schedule.pop("at_field", None)  # how the caller named the field, not what was asked
    fields = {
        "schedule": schedule,
        "name": command.name,
        "message": command.message,
        "metadata": command.metadata,
        "misfire": command.misfire,
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_same_request(stored: str | None, given: str) -> None:
    """Raises 422 when the key was first used for another request. A reservation written before fingerprints
    were kept (``stored`` None) replays as it always did."""
    if stored is not None and stored != given:
        raise UnprocessableError(
            "this idempotency key was already used with a different request",
            [ErrorDetail("idempotency_key", "already used for a request with other fields; use a new key")],
        )
