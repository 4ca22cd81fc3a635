from typing import Any

import boto3
from botocore.stub import Stubber

from tests.support.aws_calls import AwsCallCounter, aws_calls, count_aws_calls

__all__ = ["aws_calls"]  # the fixture, used below


def test_counts_calls_per_service_and_operation(aws: None) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    sns = boto3.client("sns", region_name="us-east-1")

    with count_aws_calls(sqs, sns) as calls:
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="a")
        sqs.send_message(QueueUrl=url, MessageBody="b")
        sns.create_topic(Name="t")

    assert calls.counts == {"sqs.CreateQueue": 1, "sqs.SendMessage": 2, "sns.CreateTopic": 1}
    assert calls.total() == 4
    assert calls.total("sqs") == 3


def test_stops_counting_when_closed(aws: None) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    with count_aws_calls(sqs) as calls:
        sqs.list_queues()

    sqs.list_queues()

    assert calls.counts == {"sqs.ListQueues": 1}


def test_unwatched_clients_are_not_counted(aws: None) -> None:
    watched = boto3.client("sqs", region_name="us-east-1")
    other = boto3.client("sqs", region_name="us-east-1")

    with count_aws_calls(watched) as calls:
        other.list_queues()

    assert calls.total() == 0


def test_watching_a_session_counts_clients_it_creates_later_once(aws: None) -> None:
    session = boto3.Session(region_name="us-east-1")
    counter = AwsCallCounter().watch_session(session)
    sqs = session.client("sqs")
    counter.watch(sqs)  # already covered through the session: must not double count

    sqs.list_queues()
    session.client("sns").list_topics()
    counter.close()
    sqs.list_queues()

    assert counter.counts == {"sqs.ListQueues": 1, "sns.ListTopics": 1}


def test_calls_answered_by_a_stubber_are_counted() -> None:
    sqs = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(sqs) as stub, count_aws_calls(sqs) as calls:
        stub.add_response("list_queues", {"QueueUrls": []})
        sqs.list_queues()

    assert calls.counts == {"sqs.ListQueues": 1}


def test_fixture_counts_and_resets(aws: None, aws_calls: AwsCallCounter) -> None:
    sqs: Any = boto3.client("sqs", region_name="us-east-1")
    aws_calls.watch(sqs)
    sqs.list_queues()
    aws_calls.reset()
    sqs.create_queue(QueueName="q")

    assert aws_calls.counts == {"sqs.CreateQueue": 1}
