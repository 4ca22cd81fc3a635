"""Lambda's SQS event source mapping, emulated: receive batches, invoke, delete what succeeded.

As Lambda does with ``ReportBatchItemFailures``: records the handler lists in ``batchItemFailures`` stay
in the queue and come back after the visibility timeout; if the handler raises, the whole batch does.
The queue's redrive policy moves a message to its DLQ after ``maxReceiveCount`` receives.

The emulator's long poll notices a *delayed* message only once a second, so the delay queue is
short-polled in a tight loop instead (idle pause ``idle_seconds``): a message is picked up within tens of
milliseconds of becoming visible, which the executor's sub-second wait needs. Queues without delayed
messages long-poll (the emulator wakes a long poll as soon as a message arrives).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from punctual.local.resources import REGION

log = logging.getLogger("punctual_dev.event_source")

Invoke = Callable[[Any], Any]


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda passes for a batch of SQS messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes", {})),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value.get("DataType", "String"),
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for message in messages
        ]
    }


def failed_ids(result: Any, batch_ids: set[str]) -> set[str]:
    """Message ids a handler reported in ``batchItemFailures``. A malformed response fails the whole batch,
    as Lambda treats it."""
    if not isinstance(result, dict) or "batchItemFailures" not in result:
        return set()
    failures = result["batchItemFailures"]
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return set(batch_ids)
    ids: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in batch_ids:
            return set(batch_ids)
        ids.add(identifier)
    return ids


class QueuePoller:
    """One queue's event source mapping. ``concurrency`` batches may be in the handler at once (Lambda
    scales out the same way); ``wait_seconds`` > 0 long-polls, which suits queues without delayed messages."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        invoke: Invoke,
        *,
        batch_size: int = 10,
        concurrency: int = 1,
        wait_seconds: int = 0,
        idle_seconds: float = 0.05,
    ) -> None:
        self._sqs, self._queue_url, self._invoke = sqs, queue_url, invoke
        self._batch_size, self._concurrency = batch_size, max(1, concurrency)
        self._wait, self._idle = wait_seconds, idle_seconds
        self._queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    @property
    def name(self) -> str:
        return self._queue_url.rsplit("/", 1)[-1]

    def receive(self) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=self._wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def process(self, messages: list[dict[str, Any]]) -> set[str]:
        """Invoke the handler with one batch; delete what succeeded. Returns the ids left for redelivery."""
        batch_ids = {m["MessageId"] for m in messages}
        try:
            failed = failed_ids(self._invoke(sqs_event(messages, self._queue_arn)), batch_ids)
        except Exception as exc:
            log.warning(
                "%s: handler failed, %d message(s) will be redelivered: %r", self.name, len(messages), exc
            )
            return batch_ids
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return failed

    def poll_once(self) -> int:
        """Receive one batch and process it; returns how many messages were received."""
        messages = self.receive()
        if messages:
            self.process(messages)
        return len(messages)

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set, handing batches to up to ``concurrency`` invocations at once."""
        slots = threading.BoundedSemaphore(self._concurrency)
        with ThreadPoolExecutor(self._concurrency, thread_name_prefix=f"invoke-{self.name}") as pool:
            while not stop.is_set():
                if not slots.acquire(timeout=0.2):
                    continue
                try:
                    messages = self.receive()
                except Exception:
                    log.exception("%s: receiving failed", self.name)
                    messages = []
                if not messages:
                    slots.release()
                    stop.wait(self._idle)
                    continue
                future = pool.submit(self._process_logged, messages)
                future.add_done_callback(lambda _: slots.release())

    def _process_logged(self, messages: list[dict[str, Any]]) -> None:
        try:
            self.process(messages)
        except Exception:
            log.exception("%s: processing a batch failed", self.name)
