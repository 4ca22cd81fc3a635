"""Every punctual queue: SSE-SQS at rest, TLS-only access; dead-letter queues keep messages two weeks."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.checkov import skip_checkov

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
    queue = sqs.Queue(
        scope,
        id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        fifo=True if fifo else None,
        visibility_timeout=visibility_timeout,
        retention_period=retention_period,
        dead_letter_queue=dead_letter_queue,
    )
    skip_checkov(
        queue,
        "CKV_AWS_27",
        "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled); checkov only recognises a KMS key, which would "
        "add a KMS call per message for no one else to be granted.",
    )
    return queue


def dead_letter_queue(scope: Construct, id: str, *, fifo: bool = False) -> sqs.Queue:
    return encrypted_queue(scope, id, fifo=fifo, retention_period=DLQ_RETENTION)
