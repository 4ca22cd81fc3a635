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
from typing import TYPE_CHECKING

import boto3

from punctual.adapters.aws_errors import aws_errors
from punctual.domain.jsontext import compact_json
from punctual.domain.model import FiredEvent

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sns.type_defs import MessageAttributeValueTypeDef

MAX_ATTRIBUTES = 10
METADATA_PREFIX = "metadata."
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_-](?:[A-Za-z0-9_.-]{0,254}[A-Za-z0-9_-])?$")
_RESERVED_NAME_PREFIXES = ("aws.", "amazon.")
# Characters SNS accepts in a String attribute value (the XML character range).
_INVALID_VALUE_CHARACTER = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# FIFO group and deduplication ids: 1-128 ASCII letters, digits and punctuation.
_FIFO_ID = re.compile(r"^[!-~]{1,128}$")


def message_attributes(event: FiredEvent) -> dict[str, MessageAttributeValueTypeDef]:
    candidates: list[tuple[str, str | None]] = [
        ("type", "task.fired"),
        ("task_id", event.task_id),
        ("tenant", event.tenant),
        ("user", event.user),
        ("name", event.name),
    ]
    candidates += [(METADATA_PREFIX + key, event.metadata[key]) for key in sorted(event.metadata)]
    candidates.append(("run_kind", event.kind.value))
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

    def publish(self, event: FiredEvent) -> str:
        message = compact_json(event.body())  # the form, and so the size, the API checked
        attributes = message_attributes(event)
        with aws_errors():
            if self._fifo:
                response = self._client.publish(
                    TopicArn=self._topic_arn,
                    Message=message,
                    MessageAttributes=attributes,
                    MessageGroupId=fifo_id(event.task_id),
                    MessageDeduplicationId=fifo_id(event.dedup_key),
                )
            else:
                response = self._client.publish(
                    TopicArn=self._topic_arn, Message=message, MessageAttributes=attributes
                )
        return response["MessageId"]
