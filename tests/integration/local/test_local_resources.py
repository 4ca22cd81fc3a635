"""What ``punctual dev`` provisions in the emulator, and the environment it gives the handlers."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from punctual.adapters import dynamodb_schema
from punctual.handlers.env import HandlerEnv
from punctual.local.resources import Provisioned, StackShape, handler_environment, provision

ENDPOINT = "http://127.0.0.1:4566"


@pytest.fixture
def clients(aws: None) -> Any:
    def client(service: str) -> Any:
        return boto3.client(service, region_name="us-east-1")  # type: ignore[call-overload]

    return client


@pytest.fixture
def provisioned(clients: Any) -> Provisioned:
    return provision(clients, StackShape(), ENDPOINT)


def attributes(sqs: Any, url: str) -> dict[str, str]:
    return dict(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"])


def test_the_table_is_the_schema_modules_table_with_ttl(clients: Any, provisioned: Provisioned) -> None:
    dynamodb = clients("dynamodb")
    table = dynamodb.describe_table(TableName=provisioned.shape.table_name)["Table"]
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == {
        dynamodb_schema.GSI1_NAME,
        dynamodb_schema.GSI2_NAME,
    }
    ttl = dynamodb.describe_time_to_live(TableName=provisioned.shape.table_name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == dynamodb_schema.TTL_ATTRIBUTE


def test_the_delay_queue_redrives_to_its_dlq(clients: Any, provisioned: Provisioned) -> None:
    sqs = clients("sqs")
    shape = provisioned.shape
    delay = attributes(sqs, provisioned.delay_queue_url)
    redrive = json.loads(delay["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == attributes(sqs, provisioned.delay_dlq_url)["QueueArn"]
    assert redrive["maxReceiveCount"] == shape.delay_queue.max_receive_count
    assert delay["VisibilityTimeout"] == str(shape.delay_queue.visibility_timeout_seconds)
    # The executor records a failed run before SQS gives up on the message.
    assert shape.delay_queue.max_receive_count is not None
    assert shape.delay_queue.max_receive_count > HandlerEnv().MAX_ATTEMPTS


def test_fired_events_reach_the_events_queue_and_the_dev_tap_unwrapped(
    clients: Any, provisioned: Provisioned
) -> None:
    sqs, sns = clients("sqs"), clients("sns")
    body = json.dumps({"type": "task.fired", "task_id": "t1", "message": {"nested": [1, 2]}})
    sns.publish(TopicArn=provisioned.topic_arn, Message=body)

    for url in (provisioned.events_queue_url, provisioned.tap_queue_url):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert [m["Body"] for m in messages] == [body]  # raw delivery: exactly the SNS message body
    events = attributes(sqs, provisioned.events_queue_url)
    assert (
        json.loads(events["RedrivePolicy"])["deadLetterTargetArn"]
        == attributes(sqs, provisioned.events_dlq_url)["QueueArn"]
    )


def test_the_schedule_group_exists(clients: Any, provisioned: Provisioned) -> None:
    group = clients("scheduler").get_schedule_group(Name=provisioned.shape.schedule_group_name)
    assert group["Name"] == provisioned.shape.schedule_group_name


def test_the_handler_environment_points_every_handler_setting_at_the_emulator(
    provisioned: Provisioned,
) -> None:
    environment = handler_environment(provisioned, log_level="WARNING", cursor_secret="s3cret")
    env = HandlerEnv.from_environ(environment)

    assert provisioned.shape.table_name == env.TABLE_NAME
    assert provisioned.topic_arn == env.TOPIC_ARN
    assert env.TOPIC_FIFO is False
    assert provisioned.delay_queue_url == env.DELAY_QUEUE_URL
    assert provisioned.shape.schedule_group_name == env.SCHEDULE_GROUP
    assert provisioned.schedule_dlq_arn == env.SCHEDULE_DLQ_ARN
    assert provisioned.executor_arn == env.EXECUTOR_ARN
    assert env.CURSOR_SECRET == "s3cret"
    assert environment["AWS_ENDPOINT_URL"] == ENDPOINT
    assert environment["AWS_ACCESS_KEY_ID"] == "testing"
    assert environment["AWS_DEFAULT_REGION"] == "us-east-1"
