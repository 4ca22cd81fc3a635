from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from punctual.adapters.link_codec import decode_link
from punctual.adapters.sqs_delay_queue import SqsDelayQueue
from punctual.domain.errors import DependencyError, ThrottledError
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


def _links(count: int) -> list[Link]:
    return [Link(f"{index:032x}", 1, LINK.occurrence) for index in range(count)]


def test_enqueue_batch_sends_ten_entries_a_request_with_each_delay(sqs_client: Any, queue_url: str) -> None:
    captured: list[dict[str, Any]] = []
    sqs_client.meta.events.register(
        "provide-client-params.sqs.SendMessageBatch", lambda params, **_: captured.append(dict(params))
    )
    links = _links(23)

    with count_aws_calls(sqs_client) as calls:
        outcomes = SqsDelayQueue(queue_url, client=sqs_client).enqueue_batch(
            [(link, 0 if index % 2 else 900) for index, link in enumerate(links)]
        )

    assert outcomes == [None] * 23
    assert calls.counts == {"sqs.SendMessageBatch": 3}
    assert [len(params["Entries"]) for params in captured] == [10, 10, 3]
    sent = [entry for params in captured for entry in params["Entries"]]
    assert [decode_link(entry["MessageBody"]) for entry in sent] == links
    assert [entry["DelaySeconds"] for entry in sent] == [0 if index % 2 else 900 for index in range(23)]
    # The undelayed ones are deliverable now, the others later.
    delivered: list[Link] = []
    for _ in range(3):
        delivered += [decode_link(message["Body"]) for message in receive(sqs_client, queue_url)]
    assert sorted(link.task_id for link in delivered) == [link.task_id for link in links[1::2]]


def test_an_entry_sqs_refuses_fails_alone(sqs_client: Any, queue_url: str) -> None:
    writer = boto3.client("sqs", region_name="us-east-1")  # moto's same queue, outside the hooks
    requested: list[dict[str, Any]] = []

    class _Http:
        status_code = 200

    def capture(params: dict[str, Any], **_: Any) -> None:
        requested[:] = params["Entries"]

    def refuse_the_second(**_: Any) -> Any:
        kept = [entry for entry in requested if entry["Id"] != "1"]
        sent = writer.send_message_batch(QueueUrl=queue_url, Entries=kept)
        failed = [{"Id": "1", "SenderFault": False, "Code": "InternalError", "Message": "ignored"}]
        return _Http(), {"Successful": sent["Successful"], "Failed": failed}

    sqs_client.meta.events.register("provide-client-params.sqs.SendMessageBatch", capture)
    sqs_client.meta.events.register("before-call.sqs.SendMessageBatch", refuse_the_second)
    outcomes = SqsDelayQueue(queue_url, client=sqs_client).enqueue_batch([(link, 0) for link in _links(3)])

    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], DependencyError)
    assert len(receive(sqs_client, queue_url)) == 2


def test_a_throttled_request_fails_each_of_its_entries(sqs_client: Any, queue_url: str) -> None:
    class _Http:
        status_code = 400

    sqs_client.meta.events.register(
        "before-call.sqs.SendMessageBatch",
        lambda **_: (_Http(), {"Error": {"Code": "RequestThrottled", "Message": "slow down"}}),
    )
    outcomes = SqsDelayQueue(queue_url, client=sqs_client).enqueue_batch([(link, 0) for link in _links(12)])
    assert len(outcomes) == 12
    assert all(isinstance(outcome, ThrottledError) for outcome in outcomes)


def test_enqueue_batch_refuses_a_delay_out_of_range_before_sending(sqs_client: Any, queue_url: str) -> None:
    with count_aws_calls(sqs_client) as calls, pytest.raises(ValueError):
        SqsDelayQueue(queue_url, client=sqs_client).enqueue_batch([(LINK, 0), (LINK, 901)])
    assert calls.counts == {}
