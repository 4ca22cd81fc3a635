"""SQS ReceiveMessage for the emulator without a whole-queue count per message returned.

moto checks each message it is about to return against the queue's retention period by asking
``get_queue_attributes``, which builds every attribute, ApproximateNumberOfMessages included: a scan of
the whole queue per message. With ~1,000 messages waiting each receive took ~68 ms, all of it inside the
emulator's one-request-at-a-time lock. The same check here reads the retention period off the queue.

Installed only by the emulator process (``install``), never at import: tests using ``mock_aws`` keep
moto's own implementation.
"""

from __future__ import annotations

from moto.core.utils import unix_time
from moto.sqs.models import Message, SQSBackend


def is_message_valid_based_on_retention_period(self: SQSBackend, queue_name: str, message: Message) -> bool:
    """Whether ``message`` is still within its queue's retention period (moto's rule, same answer)."""
    retention_period: int = self.get_queue(queue_name).message_retention_period  # type: ignore[attr-defined]
    sent_at: int = message.sent_timestamp  # type: ignore[assignment]
    return bool(retention_period + sent_at / 1000 > unix_time())


def install() -> None:
    """Replace moto's retention check in this process (the emulator's)."""
    SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        is_message_valid_based_on_retention_period
    )
