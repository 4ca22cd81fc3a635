"""Every punctual queue: SSE-SQS at rest, TLS-only access; dead-letter queues keep messages two weeks."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

DLQ_RETENTION = Duration.days(14)


def encrypted_queue(
    scope: Construct,
    id: str,
    *,
    fifo: bool = False,
    visibility_timeout: Duration | None = None,
    retention_period: Duration | None = None,
    dead_letter_queue: sqs.DeadLetterQueue | None = None,
) -> sqs.Queue:
    return sqs.Queue(
        scope,
        id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        fifo=True if fifo else None,
        visibility_timeout=visibility_timeout,
        retention_period=retention_period,
        dead_letter_queue=dead_letter_queue,
    )


def dead_letter_queue(scope: Construct, id: str, *, fifo: bool = False) -> sqs.Queue:
    return encrypted_queue(scope, id, fifo=fifo, retention_period=DLQ_RETENTION)
