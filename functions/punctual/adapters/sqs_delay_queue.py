"""DelayQueue on SQS: the link as the body, delivered ``DelaySeconds`` later to the executor."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

from punctual.adapters.aws_errors import aws_errors
from punctual.adapters.link_codec import link_to_json
from punctual.domain.model import Link

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_DELAY_SECONDS = 900  # SQS's per-message ceiling


class SqsDelayQueue:
    def __init__(self, queue_url: str, *, client: SQSClient | None = None) -> None:
        self._queue_url = queue_url
        self._client = client or boto3.client("sqs")

    def enqueue(self, link: Link, delay_seconds: int) -> None:
        if isinstance(delay_seconds, bool) or not isinstance(delay_seconds, int):
            raise ValueError(f"delay_seconds must be an integer, not {delay_seconds!r}")
        if not 0 <= delay_seconds <= MAX_DELAY_SECONDS:
            raise ValueError(f"delay_seconds must be 0..{MAX_DELAY_SECONDS}, not {delay_seconds}")
        with aws_errors():
            self._client.send_message(
                QueueUrl=self._queue_url, MessageBody=link_to_json(link), DelaySeconds=delay_seconds
            )
