"""The AWS resources ``punctual dev`` provisions in the emulator: names and configuration in one place.

They mirror the CDK stack (table, topic, delay queue + DLQ, schedule group + its DLQ, an ``events`` queue
subscribed to the topic with raw delivery + DLQ), so a test can hold these values against the synthesized
template. The ``tap`` queue is dev-only: the dev process consumes it to print and stream fired events,
leaving the ``events`` queue to the developer (``aws sqs receive-message``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from punctual.adapters.dynamodb_schema import table_definition, ttl_specification
from punctual.handlers.env import HandlerEnv
from punctual.service.settings import ServiceSettings

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
SQS_DEFAULT_RETENTION_SECONDS = 4 * 86400
EXECUTOR_TIMEOUT_SECONDS = 30
DELAY_QUEUE_RECEIVE_HEADROOM = 5


@dataclass(frozen=True)
class QueueShape:
    """The configuration a queue shares with its CDK counterpart."""

    visibility_timeout_seconds: int
    retention_seconds: int
    max_receive_count: int | None = None  # with a DLQ: receives before SQS moves a message there


@dataclass(frozen=True)
class StackShape:
    """Names and settings of one stage's resources."""

    prefix: str = "punctual-local"  # the stack names its schedule group punctual-<stage>
    # As infra/firing.py: six executor timeouts (and at least the run's lease plus one timeout); more receives
    # than the executor's MAX_ATTEMPTS (it records the failed run first), plus headroom for receives that are
    # not publish attempts.
    delay_queue: QueueShape = QueueShape(
        visibility_timeout_seconds=max(
            6 * EXECUTOR_TIMEOUT_SECONDS,
            int(ServiceSettings().lease.total_seconds()) + EXECUTOR_TIMEOUT_SECONDS,
        ),
        retention_seconds=SQS_DEFAULT_RETENTION_SECONDS,
        max_receive_count=HandlerEnv().MAX_ATTEMPTS + DELAY_QUEUE_RECEIVE_HEADROOM,
    )
    # As infra/events.py: SQS's default visibility and retention, five receives before the DLQ.
    events_queue: QueueShape = QueueShape(
        visibility_timeout_seconds=30, retention_seconds=SQS_DEFAULT_RETENTION_SECONDS, max_receive_count=5
    )
    # As infra/targets.py: longer than one call (the target timeout's ceiling) and its bookkeeping.
    delivery_queue: QueueShape = QueueShape(
        visibility_timeout_seconds=90, retention_seconds=SQS_DEFAULT_RETENTION_SECONDS, max_receive_count=5
    )
    dlq_retention_seconds: int = 14 * 86400
    executor_batch_size: int = 10  # the delay-queue event source's batch size

    @property
    def table_name(self) -> str:
        return f"{self.prefix}-tasks"

    @property
    def topic_name(self) -> str:
        return f"{self.prefix}-fired"

    @property
    def delay_queue_name(self) -> str:
        return f"{self.prefix}-delay"

    @property
    def delay_dlq_name(self) -> str:
        return f"{self.prefix}-delay-dlq"

    @property
    def delivery_queue_name(self) -> str:
        return f"{self.prefix}-delivery"

    @property
    def delivery_dlq_name(self) -> str:
        return f"{self.prefix}-delivery-dlq"

    @property
    def lambda_arn_prefix(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:"

    @property
    def schedule_group_name(self) -> str:
        return self.prefix

    @property
    def schedule_dlq_name(self) -> str:
        return f"{self.prefix}-schedule-dlq"

    @property
    def events_queue_name(self) -> str:
        return f"{self.prefix}-events"

    @property
    def events_dlq_name(self) -> str:
        return f"{self.prefix}-events-dlq"

    @property
    def tap_queue_name(self) -> str:
        return f"{self.prefix}-dev-tap"

    def function_name(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    def function_arn(self, role: str) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name(role)}"

    @property
    def scheduler_role_arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT_ID}:role/{self.prefix}-scheduler"


@dataclass(frozen=True)
class Provisioned:
    """What provisioning created: the addresses the handlers and the emulation loops need."""

    shape: StackShape
    endpoint_url: str
    topic_arn: str
    delay_queue_url: str
    delay_dlq_url: str
    schedule_dlq_url: str
    schedule_dlq_arn: str
    events_queue_url: str
    events_dlq_url: str
    tap_queue_url: str
    delivery_queue_url: str = ""
    delivery_dlq_url: str = ""

    @property
    def executor_arn(self) -> str:
        return self.shape.function_arn("executor")


def provision(clients: Any, shape: StackShape, endpoint_url: str) -> Provisioned:
    """Create every resource in a fresh emulator. ``clients(service)`` returns a boto3 client."""
    dynamodb, sns, sqs, scheduler = clients("dynamodb"), clients("sns"), clients("sqs"), clients("scheduler")

    dynamodb.create_table(**table_definition(shape.table_name))
    dynamodb.update_time_to_live(TableName=shape.table_name, TimeToLiveSpecification=ttl_specification())

    topic_arn = sns.create_topic(Name=shape.topic_name)["TopicArn"]

    def queue(name: str, config: QueueShape | None, dlq_arn: str | None = None) -> tuple[str, str]:
        attributes = {
            "MessageRetentionPeriod": str(
                config.retention_seconds if config else shape.dlq_retention_seconds
            ),
        }
        if config:
            attributes["VisibilityTimeout"] = str(config.visibility_timeout_seconds)
        if dlq_arn and config and config.max_receive_count:
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": config.max_receive_count}
            )
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    delay_dlq_url, delay_dlq_arn = queue(shape.delay_dlq_name, None)
    delay_queue_url, _ = queue(shape.delay_queue_name, shape.delay_queue, delay_dlq_arn)
    schedule_dlq_url, schedule_dlq_arn = queue(shape.schedule_dlq_name, None)
    events_dlq_url, events_dlq_arn = queue(shape.events_dlq_name, None)
    events_queue_url, events_queue_arn = queue(shape.events_queue_name, shape.events_queue, events_dlq_arn)
    tap_queue_url, tap_queue_arn = queue(shape.tap_queue_name, shape.events_queue)
    delivery_dlq_url, delivery_dlq_arn = queue(shape.delivery_dlq_name, None)
    delivery_queue_url, _ = queue(shape.delivery_queue_name, shape.delivery_queue, delivery_dlq_arn)

    # As infra/events.py, the events subscription dead-letters what SNS could not deliver into the events DLQ.
    for queue_arn, dlq_arn in ((events_queue_arn, events_dlq_arn), (tap_queue_arn, None)):
        attributes = {"RawMessageDelivery": "true"}
        if dlq_arn is not None:
            attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn})
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes)

    scheduler.create_schedule_group(Name=shape.schedule_group_name)

    return Provisioned(
        shape=shape,
        endpoint_url=endpoint_url,
        topic_arn=topic_arn,
        delay_queue_url=delay_queue_url,
        delay_dlq_url=delay_dlq_url,
        schedule_dlq_url=schedule_dlq_url,
        schedule_dlq_arn=schedule_dlq_arn,
        events_queue_url=events_queue_url,
        events_dlq_url=events_dlq_url,
        tap_queue_url=tap_queue_url,
        delivery_queue_url=delivery_queue_url,
        delivery_dlq_url=delivery_dlq_url,
    )


def handler_environment(
    resources: Provisioned, *, log_level: str, cursor_secret: str, functions: tuple[str, ...] = ()
) -> dict[str, str]:
    """The environment variables the Lambda handlers read, pointed at the emulator. ``functions``: the names
    registered with --function, the only Lambda targets this stage allows."""
    shape = resources.shape
    return {
        # Targets: http:// and loopback receivers work here (a development stage), and only the local
        # functions may be called.
        "DELIVERY_QUEUE_URL": resources.delivery_queue_url,
        "ALLOW_INSECURE_TARGETS": "true",
        "LAMBDA_TARGETS": ",".join(shape.lambda_arn_prefix + name for name in functions),
        "LAMBDA_ARN_PREFIX": shape.lambda_arn_prefix,
        "SIGNING_SECRET": "punctual-dev-signing-key",
        **FAKE_CREDENTIALS,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": resources.endpoint_url,
        "TABLE_NAME": shape.table_name,
        "TOPIC_ARN": resources.topic_arn,
        "TOPIC_FIFO": "false",
        "DELAY_QUEUE_URL": resources.delay_queue_url,
        "SCHEDULE_GROUP": shape.schedule_group_name,
        "SCHEDULER_ROLE_ARN": shape.scheduler_role_arn,
        "SCHEDULE_DLQ_ARN": resources.schedule_dlq_arn,
        "EXECUTOR_ARN": resources.executor_arn,
        "CURSOR_SECRET": cursor_secret,
        "STAGE": "local",
        "POWERTOOLS_SERVICE_NAME": "punctual",
        "POWERTOOLS_METRICS_NAMESPACE": "Punctual",
        # No CloudWatch or X-Ray here: metrics would print EMF blobs on every invocation.
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "LOG_LEVEL": log_level,
    }
