"""DeliveryQueue on SQS: ``{"source": "punctual.delivery", "tracking_id", "attempt"}``, for the runner."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3

from punctual.adapters.aws_errors import aws_errors

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SOURCE = "punctual.delivery"
MAX_DELAY_SECONDS = 900


def delivery_body(tracking_id: str, attempt: int) -> str:
    return json.dumps(
        {"source": SOURCE, "tracking_id": tracking_id, "attempt": attempt}, separators=(",", ":")
    )


def decode_delivery(body: str) -> tuple[str, int]:
    """(tracking id, attempt) from a message body; ValueError naming what is wrong otherwise."""
    try:
        values: Any = json.loads(body)
    except ValueError as error:
        raise ValueError(f"not JSON: {error}") from None
    if not isinstance(values, dict) or values.get("source") != SOURCE:
        raise ValueError("not a delivery message")
    tracking_id, attempt = values.get("tracking_id"), values.get("attempt")
    if not isinstance(tracking_id, str) or not 1 <= len(tracking_id) <= 128:
        raise ValueError("tracking_id must be a short string")
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ValueError("attempt must be a positive integer")
    return tracking_id, attempt


class SqsDeliveryQueue:
    def __init__(self, queue_url: str, *, client: SQSClient | None = None) -> None:
        self._queue_url = queue_url
        self._client = client or boto3.client("sqs")

    def send(self, tracking_id: str, attempt: int, *, delay_seconds: int) -> None:
        if not 0 <= delay_seconds <= MAX_DELAY_SECONDS:
            raise ValueError(f"delay_seconds must be 0..{MAX_DELAY_SECONDS}, not {delay_seconds}")
        with aws_errors():
            self._client.send_message(
                QueueUrl=self._queue_url,
                MessageBody=delivery_body(tracking_id, attempt),
                DelaySeconds=delay_seconds,
            )
