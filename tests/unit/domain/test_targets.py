"""Targets, retry policies, retry waits and address checks: parsing with 422 details, pure decisions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from punctual.domain.address_safety import refusal
from punctual.domain.errors import UnprocessableError
from punctual.domain.retries import retry_after_seconds, retry_delay_seconds, worth_retrying
from punctual.domain.targets import (
    DEFAULT_RETRY,
    MASK,
    TOPIC,
    Backoff,
    RetryPolicy,
    TargetType,
    parse_overlap,
    parse_retry,
    parse_target,
    retry_json,
    target_json,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def fields_of(error: pytest.ExceptionInfo[UnprocessableError]) -> set[str]:
    return {detail.field for detail in error.value.details}


def test_no_target_is_the_topic() -> None:
    assert parse_target(None) is TOPIC
    assert parse_target({"type": "topic"}) is TOPIC


def test_an_https_target_with_defaults() -> None:
    target = parse_target({"type": "https", "url": "https://example.com/x"})
    assert target.type is TargetType.HTTPS and target.method == "POST" and target.timeout_seconds == 10


def test_a_lambda_target() -> None:
    target = parse_target({"type": "lambda", "function": "job", "timeout": "500ms"})
    assert target.function == "job" and target.timeout_seconds == 0.5


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ("https://x", "target"),
        ({"type": "ftp"}, "target.type"),
        ({"type": "topic", "url": "https://x"}, "target.url"),
        ({"type": "lambda"}, "target.function"),
        ({"type": "lambda", "function": "a b"}, "target.function"),
        ({"type": "https"}, "target.url"),
        ({"type": "https", "url": "ftp://x/"}, "target.url"),
        ({"type": "https", "url": "https://u:p@x/"}, "target.url"),
        ({"type": "https", "url": "https:///path"}, "target.url"),
        ({"type": "https", "url": "https://x/", "method": "TRACE"}, "target.method"),
        ({"type": "https", "url": "https://x/", "headers": {"Host": "y"}}, "target.headers.Host"),
        ({"type": "https", "url": "https://x/", "headers": {"X-A": "a\r\nb"}}, "target.headers.X-A"),
        ({"type": "https", "url": "https://x/", "headers": {"bad name": "v"}}, "target.headers.bad name"),
        ({"type": "https", "url": "https://x/", "timeout": "2h"}, "target.timeout"),
        ({"type": "https", "url": "https://x/", "timeout": "soon"}, "target.timeout"),
        ({"type": "https", "url": "https://x/", "extra": 1}, "target.extra"),
    ],
)
def test_bad_targets_are_422_naming_the_field(given: object, field: str) -> None:
    with pytest.raises(UnprocessableError) as raised:
        parse_target(given)
    assert field in fields_of(raised)


def test_target_json_masks_header_values() -> None:
    target = parse_target({"type": "https", "url": "https://x/", "headers": {"Authorization": "Bearer t"}})
    shown = target_json(target)
    assert shown["headers"] == {"Authorization": MASK}
    assert "Bearer t" not in str(shown)


def test_retry_defaults_and_round_trip_of_its_json() -> None:
    assert parse_retry(None) == DEFAULT_RETRY
    policy = parse_retry({"max_attempts": 20, "initial_delay": "1s", "max_delay": "15m", "backoff": "fixed"})
    assert policy == RetryPolicy(20, 1.0, 900.0, Backoff.FIXED)
    assert parse_retry(retry_json(policy)) == policy


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"max_attempts": 0}, "retry.max_attempts"),
        ({"max_attempts": 21}, "retry.max_attempts"),
        ({"max_attempts": True}, "retry.max_attempts"),
        ({"initial_delay": "500ms"}, "retry.initial_delay"),
        ({"max_delay": "16m"}, "retry.max_delay"),
        ({"initial_delay": "5m", "max_delay": "1m"}, "retry.initial_delay"),
        ({"backoff": "linear"}, "retry.backoff"),
        ({"retry_4xx": "yes"}, "retry.retry_4xx"),
        ({"jitter": False}, "retry.jitter"),
    ],
)
def test_bad_retry_policies_are_422_naming_the_field(given: dict[str, object], field: str) -> None:
    with pytest.raises(UnprocessableError) as raised:
        parse_retry(given)
    assert field in fields_of(raised)


def test_overlap() -> None:
    assert parse_overlap(None).value == "allow"
    assert parse_overlap("skip").value == "skip"
    with pytest.raises(UnprocessableError):
        parse_overlap("queue")


@pytest.mark.parametrize(
    ("status", "retry_4xx", "expected"),
    [
        (None, False, True),
        (500, False, True),
        (503, False, True),
        (408, False, True),
        (429, False, True),
        (400, False, False),
        (404, False, False),
        (404, True, True),
        (302, False, True),
    ],
)
def test_worth_retrying(status: int | None, retry_4xx: bool, expected: bool) -> None:
    assert worth_retrying(status, RetryPolicy(retry_4xx=retry_4xx)) is expected


def test_full_jitter_exponential_caps_at_max_delay() -> None:
    policy = RetryPolicy(initial_delay_seconds=2, max_delay_seconds=10)
    assert [retry_delay_seconds(policy, n, random=lambda: 1.0, retry_after=None) for n in (1, 2, 3, 4)] == [
        2,
        4,
        8,
        10,
    ]
    assert retry_delay_seconds(policy, 4, random=lambda: 0.0, retry_after=None) == 0


def test_fixed_backoff_and_retry_after_floor() -> None:
    policy = RetryPolicy(initial_delay_seconds=3, max_delay_seconds=60, backoff=Backoff.FIXED)
    assert retry_delay_seconds(policy, 5, random=lambda: 1.0, retry_after=None) == 3
    assert retry_delay_seconds(policy, 1, random=lambda: 0.0, retry_after=30) == 30
    assert retry_delay_seconds(policy, 1, random=lambda: 0.0, retry_after=5000) == 900


def test_retry_after_only_for_429_and_503() -> None:
    assert retry_after_seconds(429, "7", NOW) == 7
    assert retry_after_seconds(503, "Thu, 01 Jan 2026 00:01:00 GMT", NOW) == 60
    assert retry_after_seconds(500, "7", NOW) is None
    assert retry_after_seconds(429, "soon", NOW) is None


@pytest.mark.parametrize(
    ("address", "loopback_ok", "why"),
    [
        ("169.254.169.254", True, "metadata"),
        ("fd00:ec2::254", True, "metadata"),
        ("127.0.0.1", False, "loopback"),
        ("::1", False, "loopback"),
        ("10.0.0.1", True, "private"),
        ("192.168.1.1", True, "private"),
        ("fd12::1", True, "private"),
        ("169.254.1.1", True, "link-local"),
        ("fe80::1", True, "link-local"),
        ("0.0.0.0", True, "unspecified"),
        ("::ffff:10.0.0.1", True, "private"),
        ("224.0.0.1", True, "multicast"),
    ],
)
def test_refused_addresses(address: str, loopback_ok: bool, why: str) -> None:
    reason = refusal(address, allow_loopback=loopback_ok)
    assert reason is not None and why in reason


@pytest.mark.parametrize(
    ("address", "loopback_ok"), [("93.184.216.34", False), ("127.0.0.1", True), ("::1", True)]
)
def test_allowed_addresses(address: str, loopback_ok: bool) -> None:
    assert refusal(address, allow_loopback=loopback_ok) is None
