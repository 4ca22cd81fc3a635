"""Pagination cursors: opaque, bound to the caller's context, tamper-evident."""

from __future__ import annotations

import base64
import json

import pytest
from punctual.domain.cursor import decode_cursor, encode_cursor
from punctual.domain.errors import ValidationError
from punctual.domain.model import Context

SECRET = b"secret"
ACME = Context("acme")


def test_round_trip_in_the_same_context() -> None:
    continuation = {"after": "2026-01-01T00:00:00.000000Z#abc", "n": 3}
    token = encode_cursor(continuation, ACME, SECRET)
    assert decode_cursor(token, ACME, SECRET) == continuation


def test_token_is_url_safe_and_opaque() -> None:
    token = encode_cursor({"after": "x/y+z"}, ACME, SECRET)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


@pytest.mark.parametrize(
    "other",
    [Context("globex"), Context("acme", "alice"), Context("acme|"), Context("acme", "")],
    ids=["other tenant", "user of the same tenant", "look-alike tenant", "empty user"],
)
def test_a_cursor_from_another_context_is_rejected(other: Context) -> None:
    token = encode_cursor({"after": "k"}, ACME, SECRET)
    if other.key == ACME.key:
        # Context("acme", "") has the same key as Context("acme"): they are the same context.
        assert decode_cursor(token, other, SECRET) == {"after": "k"}
        return
    with pytest.raises(ValidationError) as caught:
        decode_cursor(token, other, SECRET)
    assert caught.value.message == "invalid cursor"
    assert [detail.field for detail in caught.value.details] == ["cursor"]


def test_another_secret_is_rejected() -> None:
    token = encode_cursor({"after": "k"}, ACME, SECRET)
    with pytest.raises(ValidationError):
        decode_cursor(token, ACME, b"other")


def test_a_payload_altered_with_a_valid_encoding_is_rejected() -> None:
    token = encode_cursor({"after": "k"}, ACME, SECRET)
    _, signature = token.split(".")
    forged = base64.urlsafe_b64encode(json.dumps({"after": "z"}).encode()).rstrip(b"=").decode()
    with pytest.raises(ValidationError):
        decode_cursor(f"{forged}.{signature}", ACME, SECRET)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1],
        lambda t: t[:5],
        lambda t: t.replace(".", ""),
        lambda t: t + ".x",
        lambda t: ("A" if t[0] != "A" else "B") + t[1:],
        lambda t: "",
        lambda t: "not a cursor",
        lambda t: "%%%.%%%",
        lambda t: "é.é",
        lambda t: "x" * 10_000,
    ],
)
def test_altered_truncated_or_garbage_tokens_are_rejected(mangle: object) -> None:
    token = encode_cursor({"after": "k"}, ACME, SECRET)
    assert callable(mangle)
    with pytest.raises(ValidationError):
        decode_cursor(mangle(token), ACME, SECRET)


def test_a_signed_payload_that_is_not_an_object_is_rejected() -> None:
    # Signed with the right secret but not a dict: still not something the service issued.
    import hashlib
    import hmac

    payload = base64.urlsafe_b64encode(b"[1,2]").rstrip(b"=").decode()
    digest = hmac.new(SECRET, f"{payload}\n{ACME.key}".encode(), hashlib.sha256).digest()
    token = f"{payload}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"
    with pytest.raises(ValidationError):
        decode_cursor(token, ACME, SECRET)
