"""punctual_client.verify against signatures made by the server's own signer (domain/signatures.py)."""

from __future__ import annotations

import pytest
from punctual.domain.signatures import sign
from punctual_client import SignatureError, verify

BODY = b'{"type":"task.fired","task_id":"t1"}'
NOW = 1_800_000_000


def test_a_genuine_signature_verifies_and_returns_the_event() -> None:
    header = sign(BODY, "s3cret", NOW)
    assert verify(BODY, header, "s3cret", now=NOW + 10) == {"type": "task.fired", "task_id": "t1"}
    assert verify(BODY.decode(), header, "s3cret", now=NOW)["task_id"] == "t1"


@pytest.mark.parametrize(
    ("body", "header", "secret", "now"),
    [
        (BODY, sign(BODY, "s3cret", NOW), "other", NOW),  # another tenant's secret
        (BODY + b" ", sign(BODY, "s3cret", NOW), "s3cret", NOW),  # a changed body
        (BODY, sign(BODY, "s3cret", NOW), "s3cret", NOW + 301),  # too old: a replay
        (BODY, sign(BODY, "s3cret", NOW).replace(f"t={NOW}", f"t={NOW + 1}"), "s3cret", NOW),  # moved time
        (BODY, "v1=abc", "s3cret", NOW),
        (BODY, "", "s3cret", NOW),
        (BODY, None, "s3cret", NOW),
    ],
)
def test_anything_else_is_refused(body: bytes, header: str | None, secret: str, now: int) -> None:
    with pytest.raises(SignatureError):
        verify(body, header, secret, now=now)
