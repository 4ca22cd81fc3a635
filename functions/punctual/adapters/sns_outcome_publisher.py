"""OutcomePublisher on SNS: task.completed / task.failed on the stage's topic, with task.fired's attributes
(``type`` says which), so one filter policy can take a task's whole story or just its failures."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

from punctual.adapters.aws_errors import aws_errors
from punctual.adapters.sns_publisher import attributes_of, fifo_id
from punctual.domain.jsontext import compact_json
from punctual.domain.model import OutcomeEvent

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


class SnsOutcomePublisher:
    def __init__(self, topic_arn: str, *, fifo: bool = False, client: SNSClient | None = None) -> None:
        self._topic_arn, self._fifo = topic_arn, fifo
        self._client = client or boto3.client("sns")

    def publish_outcome(self, event: OutcomeEvent) -> None:
        run = event.run
        body = event.body()
        attributes = attributes_of(
            event.type.value,
            run.task_id,
            run.context.tenant,
            run.context.user,
            event.name,
            event.metadata,
            run.kind.value,
        )
        extra: dict[str, str] = {}
        if self._fifo:
            extra = {
                "MessageGroupId": fifo_id(run.task_id),
                "MessageDeduplicationId": fifo_id(body["dedup_key"]),
            }
        with aws_errors():
            self._client.publish(
                TopicArn=self._topic_arn, Message=compact_json(body), MessageAttributes=attributes, **extra
            )
