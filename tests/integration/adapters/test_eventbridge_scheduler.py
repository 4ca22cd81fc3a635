import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from punctual.adapters.eventbridge_scheduler import EventBridgeLinkScheduler, schedule_name
from punctual.adapters.link_codec import decode_link
from punctual.domain.model import Link

from tests.support.aws_calls import count_aws_calls
from tests.support.ebs_expressions import parse_at, validate_expression

GROUP = "punctual-test"
EXECUTOR_ARN = "arn:aws:lambda:us-east-1:123456789012:function:punctual-executor"
ROLE_ARN = "arn:aws:iam::123456789012:role/punctual-scheduler"
DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:punctual-schedule-dlq"
OCCURRENCE = datetime(2026, 12, 1, 9, 0, 0, 250_000, tzinfo=UTC)
WAKE = OCCURRENCE - timedelta(minutes=2)
LINK = Link(task_id="0123456789abcdef0123456789abcdef", version=4, occurrence=OCCURRENCE)


@pytest.fixture
def scheduler(scheduler_client: Any) -> EventBridgeLinkScheduler:
    scheduler_client.create_schedule_group(Name=GROUP)
    return EventBridgeLinkScheduler(GROUP, EXECUTOR_ARN, ROLE_ARN, DLQ_ARN, client=scheduler_client)


def schedule_names(client: Any) -> list[str]:
    return [item["Name"] for item in client.list_schedules(GroupName=GROUP)["Schedules"]]


def test_wake_at_creates_a_one_time_schedule_with_exactly_these_fields(
    scheduler: EventBridgeLinkScheduler, scheduler_client: Any
) -> None:
    scheduler.wake_at(LINK, WAKE)

    name = f"p-{LINK.task_id}-4-{int(OCCURRENCE.timestamp())}"
    schedule = scheduler_client.get_schedule(Name=name, GroupName=GROUP)
    assert schedule["Name"] == name == schedule_name(LINK)
    assert schedule["GroupName"] == GROUP
    assert schedule["ScheduleExpression"] == "at(2026-12-01T08:58:00)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["State"] == "ENABLED"
    target = schedule["Target"]
    assert set(target) == {"Arn", "RoleArn", "Input", "RetryPolicy", "DeadLetterConfig"}
    assert target["Arn"] == EXECUTOR_ARN
    assert target["RoleArn"] == ROLE_ARN
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}
    assert target["DeadLetterConfig"] == {"Arn": DLQ_ARN}
    assert decode_link(target["Input"]) == LINK
    assert json.loads(target["Input"])["occurrence"] == "2026-12-01T09:00:00.250Z"
    validate_expression(schedule["ScheduleExpression"])
    assert parse_at(schedule["ScheduleExpression"]) == WAKE.replace(second=0, microsecond=0)


def test_retry_policy_is_configurable(scheduler_client: Any) -> None:
    scheduler_client.create_schedule_group(Name=GROUP)
    scheduler = EventBridgeLinkScheduler(
        GROUP,
        EXECUTOR_ARN,
        ROLE_ARN,
        DLQ_ARN,
        client=scheduler_client,
        max_retries=3,
        max_event_age_seconds=600,
    )

    scheduler.wake_at(LINK, WAKE)

    target = scheduler_client.get_schedule(Name=schedule_name(LINK), GroupName=GROUP)["Target"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600}


@pytest.mark.parametrize(("retries", "age"), [(-1, 600), (186, 600), (3, 59), (3, 86401)])
def test_retry_policy_outside_ebs_limits_is_refused(retries: int, age: int, scheduler_client: Any) -> None:
    with pytest.raises(ValueError):
        EventBridgeLinkScheduler(
            GROUP,
            EXECUTOR_ARN,
            ROLE_ARN,
            DLQ_ARN,
            client=scheduler_client,
            max_retries=retries,
            max_event_age_seconds=age,
        )


def test_wake_at_is_idempotent(scheduler: EventBridgeLinkScheduler, scheduler_client: Any) -> None:
    with count_aws_calls(scheduler_client) as calls:
        scheduler.wake_at(LINK, WAKE)
        scheduler.wake_at(LINK, WAKE)

    assert schedule_names(scheduler_client) == [schedule_name(LINK)]
    assert calls.counts == {"scheduler.CreateSchedule": 2}


def test_each_version_and_occurrence_gets_its_own_schedule(
    scheduler: EventBridgeLinkScheduler, scheduler_client: Any
) -> None:
    newer = Link(LINK.task_id, LINK.version + 1, LINK.occurrence)
    later = Link(LINK.task_id, LINK.version, LINK.occurrence + timedelta(hours=1))

    for link in (LINK, newer, later):
        scheduler.wake_at(link, link.occurrence - timedelta(minutes=2))

    assert sorted(schedule_names(scheduler_client)) == sorted(schedule_name(x) for x in (LINK, newer, later))


def test_cancel_wake_deletes_the_schedule(scheduler: EventBridgeLinkScheduler, scheduler_client: Any) -> None:
    other = Link(LINK.task_id, LINK.version + 1, LINK.occurrence)
    scheduler.wake_at(LINK, WAKE)
    scheduler.wake_at(other, WAKE)

    with count_aws_calls(scheduler_client) as calls:
        scheduler.cancel_wake(LINK)

    assert schedule_names(scheduler_client) == [schedule_name(other)]
    assert calls.counts == {"scheduler.DeleteSchedule": 1}


def test_cancel_of_a_missing_schedule_is_fine(
    scheduler: EventBridgeLinkScheduler, scheduler_client: Any
) -> None:
    scheduler.cancel_wake(LINK)
    scheduler.wake_at(LINK, WAKE)
    scheduler.cancel_wake(LINK)
    scheduler.cancel_wake(LINK)

    assert schedule_names(scheduler_client) == []
