from datetime import UTC, datetime
from typing import Any

import pytest
from punctual.adapters.link_codec import decode_link
from punctual.adapters.sqs_delay_queue import SqsDelayQueue
from punctual.domain.model import Link, LinkKind

from tests.support.aws_calls import count_aws_calls

LINK = Link("0123456789abcdef0123456789abcdef", 2, datetime(2026, 12, 1, 9, 0, 0, 500_000, tzinfo=UTC))


@pytest.fixture
def queue_url(sqs_client: Any) -> str:
    return str(sqs_client.create_queue(QueueName="punctual-delay")["QueueUrl"])


def sent_params(client: Any) -> list[dict[str, Any]]:
    """Record the parameters of every SendMessage the client makes."""
    captured: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.sqs.SendMessage", lambda params, **_: captured.append(dict(params))
    )
    return captured


def receive(client: Any, queue_url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = client.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
    ).get("Messages", [])
    return messages


def test_enqueue_sends_one_message_with_the_link_and_the_delay(sqs_client: Any, queue_url: str) -> None:
    captured = sent_params(sqs_client)

    with count_aws_calls(sqs_client) as calls:
        SqsDelayQueue(queue_url, client=sqs_client).enqueue(LINK, delay_seconds=900)

    assert calls.counts == {"sqs.SendMessage": 1}
    assert [params["DelaySeconds"] for params in captured] == [900]
    assert decode_link(captured[0]["MessageBody"]) == LINK
    # Delayed: not deliverable yet.
    assert receive(sqs_client, queue_url) == []
    attributes = sqs_client.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"


def test_zero_delay_is_deliverable_at_once_with_a_decodable_body(sqs_client: Any, queue_url: str) -> None:
    manual = Link(LINK.task_id, 2, LINK.occurrence, LinkKind.MANUAL, "fedcba9876543210fedcba9876543210")

    SqsDelayQueue(queue_url, client=sqs_client).enqueue(manual, delay_seconds=0)

    messages = receive(sqs_client, queue_url)
    assert [decode_link(message["Body"]) for message in messages] == [manual]


@pytest.mark.parametrize("delay", [-1, 901, 1.5, True, "10"])
def test_delay_outside_sqs_limits_is_refused_without_a_call(
    sqs_client: Any, queue_url: str, delay: Any
) -> None:
    with count_aws_calls(sqs_client) as calls, pytest.raises(ValueError, match="delay_seconds"):
        SqsDelayQueue(queue_url, client=sqs_client).enqueue(LINK, delay_seconds=delay)

    assert calls.total() == 0
