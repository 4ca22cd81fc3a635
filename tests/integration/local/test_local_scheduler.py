"""The EventBridge Scheduler emulation of ``punctual dev``: one-time schedules stored in moto fire into their
target at the right instant (exactly, or somewhere in the scheduled minute with jitter), are deleted after
firing, retry and dead-letter like EBS. A fake clock drives it; nothing sleeps."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from punctual.local.scheduler import SchedulerEmulator, firing_instant, parse_at

from tests.fakes import FakeClock

GROUP = "punctual-local"
EXECUTOR_ARN = "arn:aws:lambda:us-east-1:123456789012:function:punctual-local-executor"
ROLE_ARN = "arn:aws:iam::123456789012:role/punctual-local-scheduler"
T0 = datetime(2030, 3, 1, 12, 0, 0, tzinfo=UTC)


class Target:
    """A Lambda target that records its events and can be told to fail."""

    def __init__(self) -> None:
        self.events: list[tuple[datetime, Any]] = []
        self.failures_left = 0
        self.clock: FakeClock | None = None

    def __call__(self, event: Any) -> None:
        assert self.clock is not None
        self.events.append((self.clock.now(), event))
        if self.failures_left:
            self.failures_left -= 1
            raise RuntimeError("executor unavailable")


@pytest.fixture
def scheduler(aws: None) -> Any:
    client = boto3.client("scheduler", region_name="us-east-1")
    client.create_schedule_group(Name=GROUP)
    return client


@pytest.fixture
def sqs(aws: None) -> Any:
    return boto3.client("sqs", region_name="us-east-1")


@pytest.fixture
def dlq(sqs: Any) -> tuple[str, str]:
    url = sqs.create_queue(QueueName="punctual-local-schedule-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0 - timedelta(minutes=5))


@pytest.fixture
def target(clock: FakeClock) -> Target:
    executor = Target()
    executor.clock = clock
    return executor


def emulator(
    scheduler: Any, sqs: Any, target: Target, clock: FakeClock, *, jitter: bool, seed: int = 7
) -> SchedulerEmulator:
    return SchedulerEmulator(
        scheduler, sqs, GROUP, {EXECUTOR_ARN: target}, now=clock.now, rng=random.Random(seed), jitter=jitter
    )


def create(
    scheduler: Any,
    name: str,
    at: datetime,
    *,
    dlq_arn: str | None = None,
    action: str = "DELETE",
    retries: int = 185,
    expression: str | None = None,
    timezone: str = "UTC",
    target_arn: str = EXECUTOR_ARN,
) -> dict[str, Any]:
    link = {"source": "punctual.link", "task_id": name, "version": 1, "occurrence": at.isoformat()}
    target: dict[str, Any] = {
        "Arn": target_arn,
        "RoleArn": ROLE_ARN,
        "Input": json.dumps(link),
        "RetryPolicy": {"MaximumRetryAttempts": retries, "MaximumEventAgeInSeconds": 86400},
    }
    if dlq_arn:
        target["DeadLetterConfig"] = {"Arn": dlq_arn}
    scheduler.create_schedule(
        Name=name,
        GroupName=GROUP,
        ScheduleExpression=expression or at.astimezone(UTC).strftime("at(%Y-%m-%dT%H:%M:%S)"),
        ScheduleExpressionTimezone=timezone,
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion=action,
        Target=target,
    )
    return link


def names(scheduler: Any) -> set[str]:
    return {s["Name"] for s in scheduler.list_schedules(GroupName=GROUP)["Schedules"]}


def test_without_jitter_fires_at_the_scheduled_instant_and_deletes_the_schedule(
    scheduler: Any, sqs: Any, target: Target, clock: FakeClock
) -> None:
    link = create(scheduler, "wake-1", T0 + timedelta(seconds=27))
    ebs = emulator(scheduler, sqs, target, clock, jitter=False)

    clock.set(T0 + timedelta(seconds=26, microseconds=999_000))
    assert ebs.poll() == []
    assert target.events == []

    clock.set(T0 + timedelta(seconds=27))
    fired = ebs.poll()

    assert [f.name for f in fired] == ["wake-1"]
    assert target.events == [(T0 + timedelta(seconds=27), link)]  # the Input, parsed, is the event
    assert names(scheduler) == set()  # ActionAfterCompletion=DELETE
    clock.advance(minutes=5)
    assert ebs.poll() == []
    assert len(target.events) == 1


def test_with_jitter_fires_at_a_random_point_of_the_scheduled_minute(
    scheduler: Any, sqs: Any, target: Target, clock: FakeClock
) -> None:
    for index in range(40):
        create(scheduler, f"wake-{index}", T0 + timedelta(seconds=30))
    ebs = emulator(scheduler, sqs, target, clock, jitter=True)
    ebs.refresh()

    clock.set(T0 - timedelta(microseconds=1))
    assert ebs.fire_due() == []
    while clock.now() < T0 + timedelta(minutes=2):
        clock.advance(milliseconds=250)
        ebs.fire_due()

    instants = [instant for instant, _ in target.events]
    assert len(instants) == 40
    assert all(T0 <= instant < T0 + timedelta(seconds=60, milliseconds=250) for instant in instants)
    # Spread across the minute, not bunched at the scheduled second.
    assert max(instants) - min(instants) > timedelta(seconds=30)
    assert any(instant < T0 + timedelta(seconds=30) for instant in instants)
    assert names(scheduler) == set()


def test_the_same_seed_gives_the_same_firing_instants() -> None:
    def draws(seed: int) -> list[datetime]:
        rng = random.Random(seed)
        return [firing_instant(T0, {"Mode": "OFF"}, rng, True) for _ in range(5)]

    assert draws(42) == draws(42) != draws(43)


def test_a_flexible_window_widens_the_firing_range() -> None:
    rng = random.Random(1)
    window = {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5}
    instants = [firing_instant(T0, window, rng, True) for _ in range(200)]
    assert all(T0 <= instant < T0 + timedelta(minutes=6) for instant in instants)
    assert max(instants) > T0 + timedelta(minutes=2)


def test_a_schedule_deleted_before_its_instant_never_fires(
    scheduler: Any, sqs: Any, target: Target, clock: FakeClock
) -> None:
    create(scheduler, "cancelled", T0)
    ebs = emulator(scheduler, sqs, target, clock, jitter=False)
    ebs.refresh()
    scheduler.delete_schedule(Name="cancelled", GroupName=GROUP)  # after the emulator saw it

    clock.set(T0 + timedelta(seconds=1))
    assert ebs.fire_due() == []
    assert target.events == []


def test_an_updated_schedule_fires_at_its_new_instant(
    scheduler: Any, sqs: Any, target: Target, clock: FakeClock
) -> None:
    create(scheduler, "moved", T0)
    ebs = emulator(scheduler, sqs, target, clock, jitter=False)
    ebs.refresh()
    current = scheduler.get_schedule(Name="moved", GroupName=GROUP)
    later = T0 + timedelta(minutes=3)
    scheduler.update_schedule(
        Name="moved",
        GroupName=GROUP,
        ScheduleExpression=later.strftime("at(%Y-%m-%dT%H:%M:%S)"),
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=current["Target"],
    )

    clock.set(T0)
    assert ebs.fire_due() == []  # re-read before firing: the old instant is gone
    clock.set(later)
    assert [f.name for f in ebs.poll()] == ["moved"]


def test_a_schedule_kept_after_completion_fires_only_once(
    scheduler: Any, sqs: Any, target: Target, clock: FakeClock
) -> None:
    create(scheduler, "kept", T0, action="NONE")
    ebs = emulator(scheduler, sqs, target, clock, jitter=False)
    clock.set(T0)
    ebs.poll()
    clock.advance(minutes=1)
    ebs.poll()
    assert len(target.events) == 1
    assert names(scheduler) == {"kept"}


def test_a_failing_target_is_retried_with_backoff(
    scheduler: Any, sqs: Any, target: Target, clock: FakeClock
) -> None:
    create(scheduler, "flaky", T0)
    target.failures_left = 2
    ebs = emulator(scheduler, sqs, target, clock, jitter=False)

    clock.set(T0)
    assert [f.ok for f in ebs.poll()] == [False]
    assert names(scheduler) == {"flaky"}  # kept until it succeeds
    for _ in range(40):
        clock.advance(milliseconds=100)
        ebs.fire_due()

    times = [instant for instant, _ in target.events]
    assert times == [T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=3)]
    assert names(scheduler) == set()


def test_after_the_last_retry_the_input_goes_to_the_dead_letter_queue(
    scheduler: Any, sqs: Any, target: Target, clock: FakeClock, dlq: tuple[str, str]
) -> None:
    dlq_url, dlq_arn = dlq
    link = create(scheduler, "doomed", T0, dlq_arn=dlq_arn, retries=1)
    target.failures_left = 10
    ebs = emulator(scheduler, sqs, target, clock, jitter=False)

    clock.set(T0)
    ebs.poll()
    clock.advance(seconds=1)
    ebs.poll()

    assert len(target.events) == 2  # the first attempt and one retry
    messages = sqs.receive_message(QueueUrl=dlq_url, MessageAttributeNames=["All"])["Messages"]
    assert [json.loads(m["Body"]) for m in messages] == [link]
    assert messages[0]["MessageAttributes"]["TARGET_ARN"]["StringValue"] == EXECUTOR_ARN
    assert names(scheduler) == set()


def test_a_target_with_no_local_function_is_dead_lettered_at_once(
    scheduler: Any, sqs: Any, target: Target, clock: FakeClock, dlq: tuple[str, str]
) -> None:
    dlq_url, dlq_arn = dlq
    create(scheduler, "elsewhere", T0, dlq_arn=dlq_arn, target_arn=EXECUTOR_ARN + "-other")
    ebs = emulator(scheduler, sqs, target, clock, jitter=False)
    clock.set(T0)
    assert [f.ok for f in ebs.poll()] == [False]
    assert target.events == []
    assert len(sqs.receive_message(QueueUrl=dlq_url)["Messages"]) == 1


def test_recurring_schedules_are_not_fired(
    scheduler: Any, sqs: Any, target: Target, clock: FakeClock
) -> None:
    create(scheduler, "every-minute", T0, expression="rate(1 minute)")
    create(scheduler, "cron", T0, expression="cron(0/5 * * * ? *)")
    reads: list[str] = []
    scheduler.meta.events.register("before-call.scheduler.GetSchedule", lambda **kw: reads.append("get"))
    ebs = emulator(scheduler, sqs, target, clock, jitter=False)
    clock.set(T0 + timedelta(hours=1))
    assert ebs.poll() == []
    assert ebs.poll() == []
    assert names(scheduler) == {"every-minute", "cron"}
    assert len(reads) == 2  # each read once, not on every pass


def test_at_expressions_are_read_in_the_schedule_time_zone() -> None:
    assert parse_at("at(2030-07-01T09:00:00)", "America/New_York") == datetime(2030, 7, 1, 13, 0, tzinfo=UTC)
    assert parse_at("at(2030-07-01T09:00:00)", None) == datetime(2030, 7, 1, 9, 0, tzinfo=UTC)
    assert parse_at("rate(5 minutes)", "UTC") is None


def test_a_schedule_in_another_time_zone_fires_at_its_utc_instant(
    scheduler: Any, sqs: Any, target: Target, clock: FakeClock
) -> None:
    create(scheduler, "tokyo", T0, expression="at(2030-03-01T21:00:10)", timezone="Asia/Tokyo")
    ebs = emulator(scheduler, sqs, target, clock, jitter=False)
    clock.set(T0 + timedelta(seconds=9))
    assert ebs.poll() == []
    clock.set(T0 + timedelta(seconds=10))
    assert [f.name for f in ebs.poll()] == ["tokyo"]
