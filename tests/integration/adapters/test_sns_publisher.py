import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from punctual.adapters.sns_publisher import SnsEventPublisher
from punctual.domain.model import FiredEvent, RunKind

from tests.support.aws_calls import count_aws_calls

SCHEDULED = datetime(2026, 12, 1, 9, tzinfo=UTC)
TASK_ID = "0123456789abcdef0123456789abcdef"


def fired(**changes: Any) -> FiredEvent:
    fields: dict[str, Any] = {
        "task_id": TASK_ID,
        "tracking_id": "fedcba9876543210fedcba9876543210",
        "name": "nightly-report",
        "scheduled_for": SCHEDULED,
        "fired_at": SCHEDULED + timedelta(milliseconds=42),
        "lateness_ms": 42,
        "message": {"report": "sales", "n": [1, 2]},
        "metadata": {"env": "prod", "team": "billing"},
        "attempt": 1,
        "dedup_key": f"{TASK_ID}#2026-12-01T09:00:00Z",
        "tenant": "acme",
        "user": "alice",
    }
    fields.update(changes)
    return FiredEvent(**fields)


def subscribed_queue(
    sns: Any, sqs: Any, topic_arn: str, name: str, filter_policy: dict[str, Any] | None = None
) -> str:
    attributes = {"FifoQueue": "true"} if name.endswith(".fifo") else {}
    url = str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = {"RawMessageDelivery": "true"}
    if filter_policy is not None:
        subscription["FilterPolicy"] = json.dumps(filter_policy)
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=subscription)
    return url


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
    ).get("Messages", [])
    return messages


def attribute_values(message: dict[str, Any]) -> dict[str, str]:
    return {name: attr["StringValue"] for name, attr in message.get("MessageAttributes", {}).items()}


@pytest.fixture
def topic_arn(sns_client: Any) -> str:
    return str(sns_client.create_topic(Name="punctual-fired")["TopicArn"])


def test_subscriber_receives_the_body_and_filterable_attributes(
    sns_client: Any, sqs_client: Any, topic_arn: str
) -> None:
    url = subscribed_queue(sns_client, sqs_client, topic_arn, "subscriber")
    event = fired()

    with count_aws_calls(sns_client) as calls:
        (message_id,) = SnsEventPublisher(topic_arn, client=sns_client).publish_batch([event])

    assert calls.counts == {"sns.PublishBatch": 1}
    [message] = drain(sqs_client, url)
    assert json.loads(message["Body"]) == event.body()
    assert json.loads(message["Body"])["type"] == "task.fired"
    assert attribute_values(message) == {
        "type": "task.fired",
        "task_id": TASK_ID,
        "tenant": "acme",
        "user": "alice",
        "name": "nightly-report",
        "run_kind": "scheduled",
        "metadata.env": "prod",
        "metadata.team": "billing",
    }
    assert isinstance(message_id, str) and message_id


def test_manual_run_without_user_or_name(sns_client: Any, sqs_client: Any, topic_arn: str) -> None:
    url = subscribed_queue(sns_client, sqs_client, topic_arn, "subscriber")
    event = fired(user=None, name=None, metadata={}, kind=RunKind.MANUAL, dedup_key=f"{TASK_ID}#manual#x")

    SnsEventPublisher(topic_arn, client=sns_client).publish_batch([event])

    [message] = drain(sqs_client, url)
    assert attribute_values(message) == {
        "type": "task.fired",
        "task_id": TASK_ID,
        "tenant": "acme",
        "run_kind": "manual",
    }
    assert json.loads(message["Body"])["run_kind"] == "manual"


def test_filter_policy_on_metadata_receives_only_matching_events(
    sns_client: Any, sqs_client: Any, topic_arn: str
) -> None:
    prod_only = subscribed_queue(sns_client, sqs_client, topic_arn, "prod-only", {"metadata.env": ["prod"]})
    everything = subscribed_queue(sns_client, sqs_client, topic_arn, "everything")
    publisher = SnsEventPublisher(topic_arn, client=sns_client)

    events = [fired(metadata={"env": env}, tracking_id=f"{env:0<32}") for env in ("prod", "staging", "prod")]
    publisher.publish_batch([*events, fired(metadata={})])

    assert sorted(json.loads(m["Body"])["metadata"]["env"] for m in drain(sqs_client, prod_only)) == [
        "prod",
        "prod",
    ]
    assert len(drain(sqs_client, everything)) == 4


def test_fifo_topic_deduplicates_on_the_dedup_key(sns_client: Any, sqs_client: Any) -> None:
    topic_arn = sns_client.create_topic(Name="punctual-fired.fifo", Attributes={"FifoTopic": "true"})[
        "TopicArn"
    ]
    url = subscribed_queue(sns_client, sqs_client, topic_arn, "subscriber.fifo")
    publisher = SnsEventPublisher(topic_arn, fifo=True, client=sns_client)
    first = fired()
    redelivered = fired(
        attempt=2, fired_at=SCHEDULED + timedelta(seconds=3)
    )  # same occurrence, retried publish
    next_occurrence = fired(
        scheduled_for=SCHEDULED + timedelta(hours=1), dedup_key=f"{TASK_ID}#2026-12-01T10:00:00Z"
    )

    for event in (first, redelivered, next_occurrence):  # one request each, as redeliveries come
        (result,) = publisher.publish_batch([event])
        assert isinstance(result, str)

    messages = drain(sqs_client, url)
    assert [json.loads(m["Body"])["dedup_key"] for m in messages] == [
        first.dedup_key,
        next_occurrence.dedup_key,
    ]
    assert json.loads(messages[0]["Body"])["attempt"] == 1


def test_standard_topic_publish_sends_no_fifo_parameters(sns_client: Any, topic_arn: str) -> None:
    captured: list[dict[str, Any]] = []
    sns_client.meta.events.register(
        "provide-client-params.sns.PublishBatch", lambda params, **_: captured.append(params)
    )

    SnsEventPublisher(topic_arn, client=sns_client).publish_batch([fired()])

    (entry,) = captured[0]["PublishBatchRequestEntries"]
    assert "MessageGroupId" not in entry
    assert "MessageDeduplicationId" not in entry


def test_a_batch_goes_out_in_requests_of_ten_in_order(
    sns_client: Any, sqs_client: Any, topic_arn: str
) -> None:
    url = subscribed_queue(sns_client, sqs_client, topic_arn, "subscriber")
    events = [fired(tracking_id=f"{index:032x}", message={"n": index}) for index in range(25)]
    sizes: list[int] = []
    sns_client.meta.events.register(
        "provide-client-params.sns.PublishBatch",
        lambda params, **_: sizes.append(len(params["PublishBatchRequestEntries"])),
    )

    results = SnsEventPublisher(topic_arn, client=sns_client).publish_batch(events)

    assert sizes == [10, 10, 5]
    assert all(isinstance(result, str) for result in results) and len(set(results)) == 25
    received = []
    while batch := drain(sqs_client, url):
        received += batch
    assert sorted(json.loads(m["Body"])["message"]["n"] for m in received) == list(range(25))
    assert all(attribute_values(m)["task_id"] == TASK_ID for m in received)


def test_a_batch_request_stays_within_256_kib(sns_client: Any, sqs_client: Any, topic_arn: str) -> None:
    url = subscribed_queue(sns_client, sqs_client, topic_arn, "subscriber")
    events = [fired(tracking_id=f"{index:032x}", message="x" * 100_000) for index in range(5)]
    sizes: list[int] = []
    sns_client.meta.events.register(
        "provide-client-params.sns.PublishBatch",
        lambda params, **_: sizes.append(len(params["PublishBatchRequestEntries"])),
    )

    results = SnsEventPublisher(topic_arn, client=sns_client).publish_batch(events)

    assert sizes == [2, 2, 1]  # three ~100 KB messages would be over 256 KiB
    assert all(isinstance(result, str) for result in results)
    received = []
    while batch := drain(sqs_client, url):
        received += batch
    assert len(received) == 5


def test_a_fifo_batch_sends_each_event_s_group_and_deduplication_ids(sns_client: Any) -> None:
    topic_arn = sns_client.create_topic(Name="punctual-fired.fifo", Attributes={"FifoTopic": "true"})[
        "TopicArn"
    ]
    captured: list[dict[str, Any]] = []
    sns_client.meta.events.register(
        "provide-client-params.sns.PublishBatch", lambda params, **_: captured.append(params)
    )
    events = [fired(), fired(task_id="f" * 32, dedup_key="f" * 32 + "#2026-12-01T09:00:00Z")]

    results = SnsEventPublisher(topic_arn, fifo=True, client=sns_client).publish_batch(events)

    assert all(isinstance(result, str) for result in results)
    entries = captured[0]["PublishBatchRequestEntries"]
    assert [(e["MessageGroupId"], e["MessageDeduplicationId"]) for e in entries] == [
        (event.task_id, event.dedup_key) for event in events
    ]
