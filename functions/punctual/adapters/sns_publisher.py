"""EventPublisher on SNS: the fired event's body as the message, with string attributes for filter policies.

SQS subscriptions with raw message delivery discard messages that carry more than 10 attributes, so the
attributes are capped at 10: ``type``, ``task_id``, ``tenant``, ``user``, ``name``, then ``metadata.<key>``
(keys in sorted order), then ``run_kind`` if there is still room. Values SNS would reject (empty, or with
characters outside its set) and metadata keys that are not valid attribute names are left out; the body
always carries everything, for subscribers that filter on the message body instead.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import boto3

from punctual.adapters.aws_errors import THROTTLING_CODES, aws_errors
from punctual.domain.errors import DependencyError, ThrottledError
from punctual.domain.jsontext import compact_json
from punctual.domain.model import FiredEvent

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sns.type_defs import MessageAttributeValueTypeDef

MAX_ATTRIBUTES = 10
MAX_BATCH_ENTRIES = 10  # SNS PublishBatch limits
MAX_BATCH_BYTES = 262_144
METADATA_PREFIX = "metadata."
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_-](?:[A-Za-z0-9_.-]{0,254}[A-Za-z0-9_-])?$")
_RESERVED_NAME_PREFIXES = ("aws.", "amazon.")
# Characters SNS accepts in a String attribute value (the XML character range).
_INVALID_VALUE_CHARACTER = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# FIFO group and deduplication ids: 1-128 ASCII letters, digits and punctuation.
_FIFO_ID = re.compile(r"^[!-~]{1,128}$")

# The arguments of one Publish, also one PublishBatch entry (without its Id).
PublishEntry = dict[str, Any]


def message_attributes(event: FiredEvent) -> dict[str, MessageAttributeValueTypeDef]:
    return attributes_of(
        "task.fired", event.task_id, event.tenant, event.user, event.name, event.metadata, event.kind.value
    )


def attributes_of(
    event_type: str,
    task_id: str,
    tenant: str,
    user: str | None,
    name: str | None,
    metadata: dict[str, str],
    run_kind: str,
) -> dict[str, MessageAttributeValueTypeDef]:
    """The attributes of every event of a task (task.fired, task.completed, task.failed), in order."""
    candidates: list[tuple[str, str | None]] = [
        ("type", event_type),
        ("task_id", task_id),
        ("tenant", tenant),
        ("user", user),
        ("name", name),
    ]
    candidates += [(METADATA_PREFIX + key, metadata[key]) for key in sorted(metadata)]
    candidates.append(("run_kind", run_kind))
    attributes: dict[str, MessageAttributeValueTypeDef] = {}
    for name, value in candidates:
        if len(attributes) == MAX_ATTRIBUTES:
            break
        if _is_sendable(name, value):
            attributes[name] = {"DataType": "String", "StringValue": str(value)}
    return attributes


def fifo_id(text: str) -> str:
    """``text`` when SNS accepts it as a FIFO group/deduplication id, else a stable digest of it."""
    if _FIFO_ID.match(text):
        return text
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _is_sendable(name: str, value: str | None) -> bool:
    if not value or _INVALID_VALUE_CHARACTER.search(value):
        return False
    return (
        bool(_ATTRIBUTE_NAME.match(name))
        and ".." not in name
        and not name.lower().startswith(_RESERVED_NAME_PREFIXES)
    )


class SnsEventPublisher:
    def __init__(self, topic_arn: str, *, fifo: bool = False, client: SNSClient | None = None) -> None:
        self._topic_arn = topic_arn
        self._fifo = fifo
        self._client = client or boto3.client("sns")

    def publish_batch(self, events: Sequence[FiredEvent]) -> list[str | Exception]:
        """PublishBatch in requests of at most 10 entries and 256 KiB; a request that fails fails each of its
        events with the same domain error, an entry SNS refuses fails alone."""
        results: list[str | Exception | None] = []
        entries: list[tuple[int, PublishEntry]] = []
        for index, event in enumerate(events):
            try:
                entries.append((index, self._entry(event)))
                results.append(None)
            except Exception as error:  # an event that cannot be sent fails alone
                results.append(error)
        for chunk in _batches(entries):
            for (index, _), outcome in zip(chunk, self._publish_chunk([e for _, e in chunk]), strict=True):
                results[index] = outcome
        return [result if result is not None else DependencyError("not published") for result in results]

    def _publish_chunk(self, entries: list[PublishEntry]) -> list[str | Exception]:
        request = [{"Id": str(index), **entry} for index, entry in enumerate(entries)]
        try:
            with aws_errors():
                response = self._client.publish_batch(
                    TopicArn=self._topic_arn,
                    PublishBatchRequestEntries=request,  # type: ignore[arg-type]
                )
        except Exception as error:
            return [error] * len(entries)
        outcome: dict[str, str | Exception] = {
            done["Id"]: done["MessageId"] for done in response.get("Successful", [])
        }
        for failed in response.get("Failed", []):
            code = failed.get("Code", "")
            message = f"SNS refused the event ({code}: {failed.get('Message', '')})"
            outcome[failed["Id"]] = (
                ThrottledError(message) if code in THROTTLING_CODES else DependencyError(message)
            )
        missing = DependencyError("SNS did not report on the event")
        return [outcome.get(str(index), missing) for index in range(len(entries))]

    def _entry(self, event: FiredEvent) -> PublishEntry:
        entry: PublishEntry = {
            "Message": compact_json(event.body()),  # the form, and so the size, the API checked
            "MessageAttributes": message_attributes(event),
        }
        if self._fifo:
            entry["MessageGroupId"] = fifo_id(event.task_id)
            entry["MessageDeduplicationId"] = fifo_id(event.dedup_key)
        return entry


def _entry_size(entry: PublishEntry) -> int:
    """What SNS counts toward a request's 256 KiB: the message and its attributes' names, types, values."""
    texts = [entry["Message"]]
    for name, value in entry["MessageAttributes"].items():
        texts += [name, value["DataType"], value.get("StringValue", "")]
    return sum(len(text.encode("utf-8", "replace")) for text in texts)


def _batches(entries: list[tuple[int, PublishEntry]]) -> Iterator[list[tuple[int, PublishEntry]]]:
    """Consecutive runs of at most MAX_BATCH_ENTRIES entries and MAX_BATCH_BYTES (one entry always fits:
    the API keeps each event under SNS's limit for one message)."""
    chunk: list[tuple[int, PublishEntry]] = []
    size = 0
    for numbered in entries:
        entry_size = _entry_size(numbered[1])
        if chunk and (len(chunk) == MAX_BATCH_ENTRIES or size + entry_size > MAX_BATCH_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(numbered)
        size += entry_size
    if chunk:
        yield chunk
