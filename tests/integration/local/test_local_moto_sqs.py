"""The emulator's SQS retention check (no whole-queue count per message) behaves as moto's own: the same
messages are received, those past the queue's retention period still are not, the boundary is the same;
and a receive no longer asks for the queue's attributes (which count every message) once per message."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sqs import models as moto_sqs_models
from moto.sqs.models import Message, SQSBackend, sqs_backends
from punctual.local import moto_sqs

REGION = "us-east-1"
QUEUE = "retention"
RETENTION_SECONDS = 60
ORIGINAL = SQSBackend.is_message_valid_based_on_retention_period


@pytest.fixture(params=["moto", "emulator"])
def implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    patched = moto_sqs.is_message_valid_based_on_retention_period if request.param == "emulator" else ORIGINAL
    monkeypatch.setattr(SQSBackend, "is_message_valid_based_on_retention_period", patched)
    return str(request.param)


@pytest.fixture
def sqs(aws: None, implementation: str) -> Any:
    return boto3.client("sqs", region_name=REGION)


def backend() -> SQSBackend:
    return sqs_backends[DEFAULT_ACCOUNT_ID][REGION]


def queue_with(sqs: Any, bodies: list[str]) -> str:
    url: str = sqs.create_queue(
        QueueName=QUEUE, Attributes={"MessageRetentionPeriod": str(RETENTION_SECONDS)}
    )["QueueUrl"]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    return url


def age(body: str, seconds: int) -> None:
    """Make a waiting message look sent ``seconds`` earlier than it was."""
    (message,) = (m for m in backend().get_queue(QUEUE)._messages if m.body == body)
    message.sent_timestamp -= seconds * 1000  # type: ignore[operator,assignment]


def receive(sqs: Any, url: str, count: int = 10) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=count).get("Messages", [])
    return [m["Body"] for m in messages]


def test_fresh_messages_are_all_received(sqs: Any) -> None:
    url = queue_with(sqs, ["a", "b", "c"])

    assert receive(sqs, url) == ["a", "b", "c"]


def test_a_message_past_retention_is_not_received(sqs: Any) -> None:
    # moto stops at the first expired message, so "e" (fresh, behind it) is not in this receive either.
    url = queue_with(sqs, ["a", "b", "old", "e"])
    age("old", RETENTION_SECONDS + 1)

    assert receive(sqs, url) == ["a", "b"]


def test_an_expired_message_first_in_line_yields_nothing(sqs: Any) -> None:
    url = queue_with(sqs, ["old", "a"])
    age("old", RETENTION_SECONDS * 2)

    assert receive(sqs, url) == []


def test_a_message_just_inside_retention_is_received(sqs: Any) -> None:
    url = queue_with(sqs, ["a", "nearly"])
    age("nearly", RETENTION_SECONDS - 5)

    assert receive(sqs, url) == ["a", "nearly"]


@pytest.mark.parametrize(
    ("sent_seconds_ago", "valid"),
    [(0.0, True), (59.999, True), (60.0, False), (60.001, False), (3600.0, False)],
)
def test_the_retention_boundary_is_moto_s(
    aws: None, monkeypatch: pytest.MonkeyPatch, sent_seconds_ago: float, valid: bool
) -> None:
    now = 1_800_000_000.0
    monkeypatch.setattr(moto_sqs_models, "unix_time", lambda: now)
    monkeypatch.setattr(moto_sqs, "unix_time", lambda: now)
    boto3.client("sqs", region_name=REGION).create_queue(
        QueueName=QUEUE, Attributes={"MessageRetentionPeriod": str(RETENTION_SECONDS)}
    )
    message = Message("id", "body")
    message.sent_timestamp = round((now - sent_seconds_ago) * 1000)  # type: ignore[assignment]

    assert ORIGINAL(backend(), QUEUE, message) is valid
    assert moto_sqs.is_message_valid_based_on_retention_period(backend(), QUEUE, message) is valid


def test_a_receive_no_longer_counts_the_queue_per_message(
    sqs: Any, implementation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = queue_with(sqs, [f"m{i}" for i in range(30)])
    counts = {"get_queue_attributes": 0}
    original = SQSBackend.get_queue_attributes

    def counting(self: SQSBackend, queue_name: str, attribute_names: list[str]) -> dict[str, Any]:
        counts["get_queue_attributes"] += 1
        return original(self, queue_name, attribute_names)

    monkeypatch.setattr(SQSBackend, "get_queue_attributes", counting)

    assert receive(sqs, url) == [f"m{i}" for i in range(10)]
    # moto's own asks once per message returned, each time counting all 30 messages.
    assert counts["get_queue_attributes"] == (10 if implementation == "moto" else 0)


def test_install_replaces_the_check(monkeypatch: pytest.MonkeyPatch, moto_restored: None) -> None:
    monkeypatch.setattr(SQSBackend, "is_message_valid_based_on_retention_period", ORIGINAL)

    moto_sqs.install()

    assert (
        SQSBackend.is_message_valid_based_on_retention_period
        is moto_sqs.is_message_valid_based_on_retention_period
    )


ORIGINAL_VISIBLE = Message.visible
ORIGINAL_DELAYED = Message.delayed


@pytest.mark.parametrize("offset_ms", [-60_000.0, -100.0, 100.0, 60_000.0])
def test_visibility_and_delay_answer_as_moto_s(offset_ms: float) -> None:
    from moto.core.utils import unix_time_millis

    message = Message("id", "body")
    message.visible_at = unix_time_millis() + offset_ms  # type: ignore[assignment]
    message.delayed_until = unix_time_millis() + offset_ms  # type: ignore[assignment]

    assert moto_sqs.is_visible(message) is ORIGINAL_VISIBLE.fget(message) is (offset_ms < 0)  # type: ignore[attr-defined]
    assert moto_sqs.is_delayed(message) is ORIGINAL_DELAYED.fget(message) is (offset_ms > 0)  # type: ignore[attr-defined]
