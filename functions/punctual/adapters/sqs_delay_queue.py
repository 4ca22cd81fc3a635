"""DelayQueue on SQS: the link as the body, delivered ``DelaySeconds`` later to the executor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import boto3

from punctual.adapters.aws_errors import THROTTLING_CODES, aws_errors
from punctual.adapters.link_codec import link_to_json
from punctual.domain.errors import DependencyError, PunctualError, ThrottledError
from punctual.domain.model import Link

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_DELAY_SECONDS = 900  # SQS's per-message ceiling
MAX_BATCH_ENTRIES = 10  # SQS's limit per SendMessageBatch (links are ~200 bytes: far below its 256 KiB)


class SqsDelayQueue:
    def __init__(self, queue_url: str, *, client: SQSClient | None = None) -> None:
        self._queue_url = queue_url
        self._client = client or boto3.client("sqs")

    def enqueue(self, link: Link, delay_seconds: int) -> None:
        _check_delay(delay_seconds)
        with aws_errors():
            self._client.send_message(
                QueueUrl=self._queue_url, MessageBody=link_to_json(link), DelaySeconds=delay_seconds
            )

    def enqueue_batch(self, entries: Sequence[tuple[Link, int]]) -> list[Exception | None]:
        """One SendMessageBatch per 10 entries; an entry SQS refused, or every entry of a request that failed
        as a whole, gets its domain error."""
        for _, delay_seconds in entries:
            _check_delay(delay_seconds)
        outcomes: list[Exception | None] = []
        for first in range(0, len(entries), MAX_BATCH_ENTRIES):
            outcomes.extend(self._send_batch(entries[first : first + MAX_BATCH_ENTRIES]))
        return outcomes

    def _send_batch(self, entries: Sequence[tuple[Link, int]]) -> list[Exception | None]:
        try:
            with aws_errors():
                response = self._client.send_message_batch(
                    QueueUrl=self._queue_url,
                    Entries=[
                        {"Id": str(index), "MessageBody": link_to_json(link), "DelaySeconds": delay}
                        for index, (link, delay) in enumerate(entries)
                    ],
                )
        except PunctualError as error:
            return [error] * len(entries)
        outcomes: list[Exception | None] = [None] * len(entries)
        for failure in response.get("Failed", []):
            outcomes[int(failure["Id"])] = _entry_error(failure.get("Code", ""))
        return outcomes


def _check_delay(delay_seconds: int) -> None:
    if isinstance(delay_seconds, bool) or not isinstance(delay_seconds, int):
        raise ValueError(f"delay_seconds must be an integer, not {delay_seconds!r}")
    if not 0 <= delay_seconds <= MAX_DELAY_SECONDS:
        raise ValueError(f"delay_seconds must be 0..{MAX_DELAY_SECONDS}, not {delay_seconds}")


def _entry_error(code: str) -> PunctualError:
    if code in THROTTLING_CODES:
        return ThrottledError("AWS throttled SendMessageBatch; retry shortly")
    return DependencyError(f"AWS SendMessageBatch failed for the entry ({code or 'unknown error'})")
