"""ClientError codes the adapters absorb (idempotency) and the ones they turn into domain errors.
botocore's Stubber answers every call: no network, no moto."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from punctual.adapters.eventbridge_scheduler import EventBridgeLinkScheduler
from punctual.adapters.sns_publisher import SnsEventPublisher
from punctual.adapters.sqs_delay_queue import SqsDelayQueue
from punctual.domain.errors import DependencyError, ThrottledError
from punctual.domain.model import FiredEvent, Link

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
LINK = Link("a" * 32, 1, AT)
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/delay"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:fired"


def client(service: str) -> Any:
    session = boto3.Session(
        region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    return session.client(service)  # type: ignore[call-overload]


@pytest.fixture
def scheduler_stub() -> Iterator[tuple[EventBridgeLinkScheduler, Stubber]]:
    scheduler_client = client("scheduler")
    with Stubber(scheduler_client) as stub:
        yield (
            EventBridgeLinkScheduler("g", "arn:target", "arn:role", "arn:dlq", client=scheduler_client),
            stub,
        )
        stub.assert_no_pending_responses()


def test_existing_schedule_means_already_armed(
    scheduler_stub: tuple[EventBridgeLinkScheduler, Stubber],
) -> None:
    scheduler, stub = scheduler_stub
    stub.add_client_error("create_schedule", "ConflictException", http_status_code=409)

    scheduler.wake_at(LINK, AT - timedelta(minutes=2))


def test_missing_schedule_means_already_cancelled(
    scheduler_stub: tuple[EventBridgeLinkScheduler, Stubber],
) -> None:
    scheduler, stub = scheduler_stub
    stub.add_client_error("delete_schedule", "ResourceNotFoundException", http_status_code=404)

    scheduler.cancel_wake(LINK)


@pytest.mark.parametrize(
    ("code", "status", "domain_error"),
    [
        ("ThrottlingException", 429, ThrottledError),
        ("ServiceQuotaExceededException", 402, DependencyError),
        ("ValidationException", 400, DependencyError),
        ("ResourceNotFoundException", 404, DependencyError),  # e.g. the schedule group is gone
        ("AccessDeniedException", 403, DependencyError),
    ],
)
def test_wake_at_failures_become_domain_errors(
    scheduler_stub: tuple[EventBridgeLinkScheduler, Stubber], code: str, status: int, domain_error: type
) -> None:
    scheduler, stub = scheduler_stub
    stub.add_client_error("create_schedule", code, http_status_code=status)

    with pytest.raises(domain_error):
        scheduler.wake_at(LINK, AT - timedelta(minutes=2))


@pytest.mark.parametrize(
    ("code", "domain_error"),
    [("ThrottlingException", ThrottledError), ("ConflictException", DependencyError)],
)
def test_cancel_wake_failures_become_domain_errors(
    scheduler_stub: tuple[EventBridgeLinkScheduler, Stubber], code: str, domain_error: type
) -> None:
    scheduler, stub = scheduler_stub
    stub.add_client_error("delete_schedule", code)

    with pytest.raises(domain_error):
        scheduler.cancel_wake(LINK)


def test_enqueue_failure_becomes_a_domain_error() -> None:
    sqs = client("sqs")
    with Stubber(sqs) as stub:
        stub.add_client_error("send_message", "AWS.SimpleQueueService.NonExistentQueue")
        with pytest.raises(DependencyError):
            SqsDelayQueue(QUEUE_URL, client=sqs).enqueue(LINK, 10)


def _events(count: int) -> list[FiredEvent]:
    return [
        FiredEvent("a" * 32, f"{index:032x}", None, AT, AT, 0, "hi", {}, 1, f"a#{index}", "acme", None)
        for index in range(count)
    ]


@pytest.mark.parametrize(
    ("code", "domain_error"),
    [
        ("Throttling", ThrottledError),
        ("Throttled", ThrottledError),  # SNS's own ThrottledException code
        ("NotFound", DependencyError),
        ("AuthorizationError", DependencyError),
    ],
)
def test_a_failed_publish_batch_request_fails_each_of_its_events(code: str, domain_error: type) -> None:
    sns = client("sns")
    with Stubber(sns) as stub:
        stub.add_client_error("publish_batch", code)
        results = SnsEventPublisher(TOPIC_ARN, client=sns).publish_batch(_events(3))
    assert [type(result) for result in results] == [domain_error] * 3


def test_events_sns_refuses_in_a_batch_fail_alone() -> None:
    sns = client("sns")
    with Stubber(sns) as stub:
        stub.add_response(
            "publish_batch",
            {
                "Successful": [{"Id": "0", "MessageId": "m-0"}, {"Id": "2", "MessageId": "m-2"}],
                "Failed": [
                    {"Id": "1", "Code": "InternalError", "SenderFault": False},
                    {"Id": "3", "Code": "Throttled", "SenderFault": False, "Message": "slow down"},
                ],
            },
        )
        results = SnsEventPublisher(TOPIC_ARN, client=sns).publish_batch(_events(4))
    assert results[0] == "m-0" and results[2] == "m-2"
    assert isinstance(results[1], DependencyError) and "InternalError" in str(results[1])
    assert isinstance(results[3], ThrottledError)


def test_an_event_that_cannot_be_sent_fails_alone_in_its_batch() -> None:
    sns = client("sns")
    events = _events(3)

    class OneUnsendable(SnsEventPublisher):
        def _entry(self, event: FiredEvent) -> dict[str, Any]:
            if event is events[1]:
                raise ValueError("cannot encode")
            return super()._entry(event)

    with Stubber(sns) as stub:
        stub.add_response(
            "publish_batch",
            {"Successful": [{"Id": "0", "MessageId": "m-0"}, {"Id": "1", "MessageId": "m-2"}], "Failed": []},
        )
        results = OneUnsendable(TOPIC_ARN, client=sns).publish_batch(events)
    assert results[0] == "m-0" and results[2] == "m-2"
    assert isinstance(results[1], ValueError)
