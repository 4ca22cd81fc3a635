"""SQS for the emulator without whole-queue work per message sent or received.

moto checks each message it is about to return against the queue's retention period by asking
``get_queue_attributes``, which builds every attribute, ApproximateNumberOfMessages included: a scan of
the whole queue per message. With ~1,000 messages waiting each receive took ~68 ms, all of it inside the
emulator's one-request-at-a-time lock. The same check here reads the retention period off the queue.

Sends and receives still scan the queue (moto keeps one list; ``send_message`` builds every attribute to
read ContentBasedDeduplication), asking each message whether it is visible and whether it is delayed. moto
answers from a naive UTC datetime built twice per question (~3 µs); here from ``time.time()``, the same
instant in the same milliseconds, so that a send with 1,000 messages waiting costs ~1 ms, not ~25.

Installed only by the emulator process (``install``), never at import: tests using ``mock_aws`` keep
moto's own implementation.
"""

from __future__ import annotations

import time

from moto.core.utils import unix_time
from moto.sqs.models import Message, SQSBackend


def is_message_valid_based_on_retention_period(self: SQSBackend, queue_name: str, message: Message) -> bool:
    """Whether ``message`` is still within its queue's retention period (moto's rule, same answer)."""
    retention_period: int = self.get_queue(queue_name).message_retention_period  # type: ignore[attr-defined]
    sent_at: int = message.sent_timestamp  # type: ignore[assignment]
    return bool(retention_period + sent_at / 1000 > unix_time())


def is_visible(message: Message) -> bool:
    """moto's ``Message.visible``: past the end of its visibility timeout (epoch milliseconds)."""
    return bool(time.time() * 1000.0 > message.visible_at)


def is_delayed(message: Message) -> bool:
    """moto's ``Message.delayed``: before the end of its delay (epoch milliseconds)."""
    return bool(time.time() * 1000.0 < message.delayed_until)


# What install replaces.
PATCHED: tuple[tuple[object, str], ...] = (
    (SQSBackend, "is_message_valid_based_on_retention_period"),
    (Message, "visible"),
    (Message, "delayed"),
)


def install() -> None:
    """Replace moto's retention check and message clocks in this process (the emulator's)."""
    SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        is_message_valid_based_on_retention_period
    )
    Message.visible = property(is_visible)  # type: ignore[method-assign,assignment]
    Message.delayed = property(is_delayed)  # type: ignore[method-assign,assignment]
