"""``punctual dev`` provisions what the stack deploys: the synthesized template held against the resources
``punctual.local.resources.provision`` creates (in moto, read back through the AWS APIs), so neither can
drift from the other. Dev-only additions (the tap queue) and per-stage values (names, LOG_LEVEL) aside."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from punctual.adapters import dynamodb_schema as schema
from punctual.handlers.env import HandlerEnv
from punctual.local import resources as local_resources
from punctual.local.resources import Provisioned, StackShape, handler_environment, provision

from infra import events as infra_events
from infra import firing as infra_firing
from infra import queues as infra_queues
from tests.infra.synth import Synthesized

# What SQS uses when a queue does not set the attribute (the stack leaves these to SQS on the main queues).
SQS_DEFAULT_VISIBILITY_SECONDS = 30
SQS_DEFAULT_RETENTION_SECONDS = 4 * 24 * 3600
FUNCTIONS = ("Api/Handler/Function", "Firing/Executor/Function", "Firing/Sweeper/Function")
# Deliberately different per stage: the stage's own name and its log level.
# Per stage, and deliberately different under punctual dev: a stage's dashboard is on CloudFront (punctual dev
# serves it on the API's own origin); http:// and loopback receivers are allowed under dev, and the Lambda
# targets are the functions registered with --function.
PER_STAGE_VARIABLES = frozenset(
    {"STAGE", "LOG_LEVEL", "CORS_ALLOW_ORIGIN", "ALLOW_INSECURE_TARGETS", "LAMBDA_TARGETS"}
)


@dataclass(frozen=True)
class LocalStack:
    provisioned: Provisioned
    client: Callable[[str], Any]

    @property
    def shape(self) -> StackShape:
        return self.provisioned.shape

    def queue(self, url: str) -> dict[str, str]:
        attributes = self.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
        return dict(attributes["Attributes"])


@pytest.fixture(scope="module")
def local() -> Iterator[LocalStack]:
    """Everything ``punctual dev`` provisions at startup, in moto (fake credentials, no network)."""
    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
            env.delenv(name, raising=False)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_SESSION_TOKEN", "testing")
        env.setenv("AWS_DEFAULT_REGION", local_resources.REGION)
        with mock_aws():
            session = boto3.session.Session(region_name=local_resources.REGION)

            def client(service: str) -> Any:
                return session.client(service)  # type: ignore[call-overload]

            yield LocalStack(provision(client, StackShape(), "http://127.0.0.1:4566"), client)


@pytest.fixture(params=["dev", "prod"])
def stack(request: pytest.FixtureRequest) -> Synthesized:
    """The stages cdk.json defines (the FIFO variant is not what ``punctual dev`` mirrors)."""
    synthesized: Synthesized = request.getfixturevalue(request.param)
    return synthesized


def _table_shape(
    key_schema: list[dict[str, Any]],
    attributes: list[dict[str, Any]],
    indexes: list[dict[str, Any]],
    billing_mode: str,
    ttl: dict[str, Any],
) -> dict[str, Any]:
    """The properties both sides share, in one comparable form (lists keyed by name)."""
    return {
        "KeySchema": key_schema,
        "AttributeDefinitions": {a["AttributeName"]: a["AttributeType"] for a in attributes},
        "GlobalSecondaryIndexes": {
            index["IndexName"]: {"KeySchema": index["KeySchema"], "Projection": index["Projection"]}
            for index in indexes
        },
        "BillingMode": billing_mode,
        "TimeToLive": {"AttributeName": ttl["AttributeName"], "Enabled": ttl["Enabled"]},
    }


def test_the_table_is_the_schema_modules_table_in_the_stack_and_in_punctual_dev(
    stack: Synthesized, local: LocalStack
) -> None:
    definition = schema.table_definition("any")
    expected = _table_shape(
        definition["KeySchema"],
        definition["AttributeDefinitions"],
        definition["GlobalSecondaryIndexes"],
        definition["BillingMode"],
        schema.ttl_specification(),
    )
    table = stack.props("Storage/Table")
    deployed = _table_shape(
        table["KeySchema"],
        table["AttributeDefinitions"],
        table["GlobalSecondaryIndexes"],
        table["BillingMode"],
        table["TimeToLiveSpecification"],
    )
    dynamodb = local.client("dynamodb")
    described = dynamodb.describe_table(TableName=local.shape.table_name)["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=local.shape.table_name)["TimeToLiveDescription"]
    emulated = _table_shape(
        described["KeySchema"],
        described["AttributeDefinitions"],
        described["GlobalSecondaryIndexes"],
        described["BillingModeSummary"]["BillingMode"],
        {"AttributeName": ttl["AttributeName"], "Enabled": ttl["TimeToLiveStatus"] == "ENABLED"},
    )
    assert deployed == expected
    assert emulated == expected
    assert set(expected["GlobalSecondaryIndexes"]) == {schema.GSI1_NAME, schema.GSI2_NAME}
    assert expected["TimeToLive"] == {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True}


def test_the_delay_queue_times_out_and_redrives_alike(stack: Synthesized, local: LocalStack) -> None:
    deployed = stack.props("Firing/DelayQueue")
    emulated = local.queue(local.provisioned.delay_queue_url)
    emulated_redrive = json.loads(emulated["RedrivePolicy"])

    assert int(emulated["VisibilityTimeout"]) == deployed["VisibilityTimeout"]
    assert deployed["VisibilityTimeout"] == infra_firing.DELAY_QUEUE_VISIBILITY.to_seconds()
    assert local.shape.delay_queue.visibility_timeout_seconds == deployed["VisibilityTimeout"]
    # The visibility timeout is derived from the executor's timeout on both sides: the same timeout.
    assert stack.props("Firing/Executor/Function")["Timeout"] == local_resources.EXECUTOR_TIMEOUT_SECONDS
    assert infra_firing.EXECUTOR_TIMEOUT.to_seconds() == local_resources.EXECUTOR_TIMEOUT_SECONDS

    assert emulated_redrive["maxReceiveCount"] == deployed["RedrivePolicy"]["maxReceiveCount"]
    assert local.shape.delay_queue.max_receive_count == deployed["RedrivePolicy"]["maxReceiveCount"]
    assert infra_firing.DELAY_QUEUE_RECEIVE_HEADROOM == local_resources.DELAY_QUEUE_RECEIVE_HEADROOM
    assert deployed["RedrivePolicy"]["deadLetterTargetArn"] == stack.att("Firing/DelayDeadLetters")
    assert emulated_redrive["deadLetterTargetArn"] == local.queue(local.provisioned.delay_dlq_url)["QueueArn"]

    assert "MessageRetentionPeriod" not in deployed  # SQS's default
    assert int(emulated["MessageRetentionPeriod"]) == SQS_DEFAULT_RETENTION_SECONDS


def test_dead_letter_queues_keep_messages_as_long(stack: Synthesized, local: LocalStack) -> None:
    provisioned = local.provisioned
    pairs = {
        "Firing/DelayDeadLetters": provisioned.delay_dlq_url,
        "Firing/ScheduleDeadLetters": provisioned.schedule_dlq_url,
        "Events/EventsDeadLetters": provisioned.events_dlq_url,
    }
    for path, url in pairs.items():
        deployed = stack.props(path)["MessageRetentionPeriod"]
        assert deployed == infra_queues.DLQ_RETENTION.to_seconds(), path
        assert int(local.queue(url)["MessageRetentionPeriod"]) == deployed, path
        assert "RedrivePolicy" not in local.queue(url), path
    assert local.shape.dlq_retention_seconds == infra_queues.DLQ_RETENTION.to_seconds()


def test_the_events_queue_redrives_alike(stack: Synthesized, local: LocalStack) -> None:
    deployed = stack.props("Events/EventsQueue")
    emulated = local.queue(local.provisioned.events_queue_url)
    emulated_redrive = json.loads(emulated["RedrivePolicy"])

    assert emulated_redrive["maxReceiveCount"] == deployed["RedrivePolicy"]["maxReceiveCount"]
    assert deployed["RedrivePolicy"]["maxReceiveCount"] == infra_events.EVENTS_MAX_RECEIVE_COUNT
    assert local.shape.events_queue.max_receive_count == infra_events.EVENTS_MAX_RECEIVE_COUNT
    assert deployed["RedrivePolicy"]["deadLetterTargetArn"] == stack.att("Events/EventsDeadLetters")
    assert (
        emulated_redrive["deadLetterTargetArn"] == local.queue(local.provisioned.events_dlq_url)["QueueArn"]
    )
    # The stack leaves visibility to SQS; punctual dev sets SQS's default explicitly. Retention is a stage
    # setting, 4 days (SQS's default, as punctual dev keeps) in both committed stages.
    assert "VisibilityTimeout" not in deployed
    assert int(emulated["VisibilityTimeout"]) == SQS_DEFAULT_VISIBILITY_SECONDS
    assert deployed["MessageRetentionPeriod"] == SQS_DEFAULT_RETENTION_SECONDS
    assert int(emulated["MessageRetentionPeriod"]) == SQS_DEFAULT_RETENTION_SECONDS


def test_the_events_queue_subscribes_with_raw_delivery_in_both(stack: Synthesized, local: LocalStack) -> None:
    [deployed] = [
        s for s in stack.of_type("AWS::SNS::Subscription").values() if s["Properties"]["Protocol"] == "sqs"
    ]
    assert deployed["Properties"]["Endpoint"] == stack.att("Events/EventsQueue")
    assert deployed["Properties"]["RawMessageDelivery"] is True
    assert deployed["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": stack.att("Events/EventsDeadLetters")
    }

    sns = local.client("sns")
    events_queue_arn = local.queue(local.provisioned.events_queue_url)["QueueArn"]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=local.provisioned.topic_arn)["Subscriptions"]
    [emulated] = [s for s in subscriptions if s["Endpoint"] == events_queue_arn]
    assert emulated["Protocol"] == "sqs"
    attributes = sns.get_subscription_attributes(SubscriptionArn=emulated["SubscriptionArn"])["Attributes"]
    assert attributes["RawMessageDelivery"] == "true"
    events_dlq_arn = local.queue(local.provisioned.events_dlq_url)["QueueArn"]
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": events_dlq_arn}


def test_the_executor_takes_the_delay_queue_in_batches_of_the_same_size(
    stack: Synthesized, local: LocalStack
) -> None:
    [mapping] = [
        m
        for m in stack.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == stack.att("Firing/DelayQueue")
    ]
    assert mapping["Properties"]["BatchSize"] == infra_firing.EXECUTOR_BATCH_SIZE
    assert local.shape.executor_batch_size == mapping["Properties"]["BatchSize"]


def test_every_variable_the_stack_gives_a_function_reaches_the_local_handlers_too(
    stack: Synthesized, local: LocalStack
) -> None:
    """Each variable is either set by punctual dev (resource addresses, names, flags), or left to the handlers'
    defaults, which must then equal the value the stack sets (the tunables)."""
    local_env = handler_environment(local.provisioned, log_level="INFO", cursor_secret="dev-secret")
    read_locally = HandlerEnv.from_environ(local_env).model_dump()
    for function in FUNCTIONS:
        for name, value in stack.environment(function).items():
            where = f"{function}: {name}"
            if name in PER_STAGE_VARIABLES:
                continue
            if name.endswith("_SECRET_ARN"):  # Secrets Manager in the stack, the plain value locally
                assert name.removesuffix("_ARN") in local_env, where
            elif name == "CURSOR_SECRET_FROM_SIGNING_KEY":  # derived in the stack, a plain value locally
                assert value == "true" and local_env["CURSOR_SECRET"], where
            elif name == "SCHEDULE_GROUP":  # named after the stage on both sides
                assert value == f"punctual-{stack.environment(function)['STAGE']}", where
                assert local_env[name] == f"punctual-{local_env['STAGE']}" == local.shape.schedule_group_name
            elif not isinstance(value, str):  # a reference to a deployed resource: dev has its own
                assert local_env.get(name), where
            elif name in local_env:
                assert local_env[name] == value, where
            else:
                assert name in read_locally, f"{where} is neither set by punctual dev nor a handler setting"
                assert str(read_locally[name]) == value, where
