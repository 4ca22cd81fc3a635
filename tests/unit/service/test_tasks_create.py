"""Scheduling a task: validation, storage, arming, idempotency and compensation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from punctual.domain.errors import (
    DependencyError,
    PayloadTooLargeError,
    ThrottledError,
    UnprocessableError,
    ValidationError,
)
from punctual.domain.model import Context, Link, MisfirePolicy, ScheduleKind, TaskStatus
from punctual.domain.timefmt import format_instant
from punctual.service.commands import CreateTask, ScheduleInput

from tests.fakes import Services, create_one_time

ACME = Context("acme")


def _at(services: Services, **delta: float) -> str:
    return format_instant(services.clock.now() + timedelta(**delta))


def _assert_nothing_written(services: Services) -> None:
    assert services.store.tasks == {}
    assert services.store.idempotency == {}
    assert services.scheduler.wakes == {}
    assert services.queue.messages == []
    assert "scheduled" not in services.metrics.counts


def test_one_time_task_far_ahead_is_stored_and_woken_by_the_scheduler(services: Services) -> None:
    now = services.clock.now()
    task, created = services.tasks.create(
        ACME,
        CreateTask(
            ScheduleInput(at=_at(services, hours=2)),
            name="report",
            message={"hello": "world"},
            metadata={"env": "prod"},
        ),
    )
    assert created
    assert task.context == ACME
    assert task.status is TaskStatus.SCHEDULED
    assert task.version == 1
    assert task.schedule.kind is ScheduleKind.AT
    assert task.next_run_at == now + timedelta(hours=2)
    assert (task.name, task.message, task.metadata) == ("report", {"hello": "world"}, {"env": "prod"})
    assert task.misfire is MisfirePolicy.FIRE_ONCE
    assert task.created_at == task.updated_at == now
    assert len(task.id) == 32
    assert services.store.tasks == {task.id: task}
    link = Link(task.id, 1, now + timedelta(hours=2))
    assert services.scheduler.wakes == {link: link.occurrence - services.settings.lead}
    assert services.queue.messages == []
    assert services.metrics.counts["scheduled"] == 1


def test_a_near_occurrence_goes_straight_to_the_delay_queue(services: Services) -> None:
    task = create_one_time(services, ACME, after=timedelta(minutes=5))
    assert services.queue.messages == [(Link(task.id, 1, task.next_run_at), 300)]  # type: ignore[arg-type]
    assert services.scheduler.wakes == {}


def test_recurring_task_arms_its_first_occurrence(services: Services) -> None:
    task, _ = services.tasks.create(ACME, CreateTask(ScheduleInput(every="5 minutes"), misfire="skip"))
    assert task.schedule.recurring
    assert task.misfire is MisfirePolicy.SKIP
    assert task.next_run_at is not None
    assert services.clock.now() <= task.next_run_at <= services.clock.now() + timedelta(minutes=5)
    armed = [link for link, _ in services.queue.messages] + list(services.scheduler.wakes)
    assert armed == [Link(task.id, 1, task.next_run_at)]


def test_a_recurrence_with_no_occurrence_left_is_unprocessable(services: Services) -> None:
    # Daily at 09:00 UTC, but it must end within the hour (now is 12:00): it can never fire.
    with pytest.raises(UnprocessableError):
        services.tasks.create(
            ACME, CreateTask(ScheduleInput(cron="0 9 * * *", end_at=_at(services, hours=1)))
        )
    _assert_nothing_written(services)


def test_a_malformed_schedule_is_rejected_before_anything_is_written(services: Services) -> None:
    with pytest.raises(ValidationError):
        services.tasks.create(ACME, CreateTask(ScheduleInput(at="next tuesday")))
    with pytest.raises(ValidationError):
        services.tasks.create(ACME, CreateTask(ScheduleInput()))
    _assert_nothing_written(services)
    assert services.store.calls == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": 42}, "name"),
        ({"message": object()}, "message"),
        ({"message": float("nan")}, "message"),
        ({"metadata": {f"k{i}": "v" for i in range(6)}}, "metadata"),
        ({"metadata": {"has space": "v"}}, "metadata.has space"),
        ({"metadata": {"k" * 65: "v"}}, "metadata." + "k" * 65),
        ({"metadata": {"": "v"}}, "metadata."),
        ({"metadata": {"k": "v" * 257}}, "metadata.k"),
        ({"metadata": {"k": 1}}, "metadata.k"),
        ({"metadata": ["k"]}, "metadata"),
        ({"misfire": "burst"}, "misfire"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"idempotency_key": "k" * 129}, "idempotency_key"),
    ],
)
def test_invalid_fields_are_400_with_details_and_write_nothing(
    services: Services, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.tasks.create(ACME, CreateTask(ScheduleInput(at=_at(services, hours=1)), **fields))
    assert field in [detail.field for detail in caught.value.details]
    _assert_nothing_written(services)


def test_every_bad_metadata_entry_is_reported(services: Services) -> None:
    with pytest.raises(ValidationError) as caught:
        services.tasks.create(
            ACME,
            CreateTask(ScheduleInput(at=_at(services, hours=1)), metadata={"a b": "v", "ok": 3}),  # type: ignore[dict-item]
        )
    assert sorted(detail.field for detail in caught.value.details) == ["metadata.a b", "metadata.ok"]


def test_fields_at_their_limits_are_accepted(services: Services) -> None:
    task, _ = services.tasks.create(
        ACME,
        CreateTask(
            ScheduleInput(at=_at(services, hours=1)),
            name="n" * 200,
            metadata={f"{'k' * 63}{i}": "v" * 256 for i in range(5)},
            idempotency_key="i" * 128,
            message="m" * (services.settings.max_message_bytes - 2),  # two bytes of JSON quotes
        ),
    )
    assert services.store.tasks[task.id] == task


def test_an_oversized_message_is_413(services: Services) -> None:
    with pytest.raises(PayloadTooLargeError) as caught:
        services.tasks.create(
            ACME,
            CreateTask(
                ScheduleInput(at=_at(services, hours=1)), message="m" * services.settings.max_message_bytes
            ),
        )
    assert [detail.field for detail in caught.value.details] == ["message"]
    _assert_nothing_written(services)


def test_message_size_counts_utf8_bytes_not_characters() -> None:
    from tests.fakes import make_services

    services = make_services(max_message_bytes=10)
    with pytest.raises(PayloadTooLargeError):
        services.tasks.create(ACME, CreateTask(ScheduleInput(at=_at(services, hours=1)), message="ééééé"))
    task, _ = services.tasks.create(
        ACME, CreateTask(ScheduleInput(at=_at(services, hours=1)), message="éééé")
    )
    assert task.message == "éééé"


def test_any_json_value_is_a_valid_message(services: Services) -> None:
    for message in [None, 1, "text", [1, {"a": None}], {"nested": {"list": [True, 1.5]}}]:
        task, _ = services.tasks.create(
            ACME, CreateTask(ScheduleInput(at=_at(services, hours=1)), message=message)
        )
        assert task.message == message


def test_the_same_idempotency_key_returns_the_first_task_unchanged(services: Services) -> None:
    command = CreateTask(ScheduleInput(at=_at(services, hours=1)), idempotency_key="order-7")
    first, created = services.tasks.create(ACME, command)
    services.clock.advance(seconds=30)
    again, created_again = services.tasks.create(ACME, command)
    assert created and not created_again
    assert again == first
    assert list(services.store.tasks) == [first.id]
    assert len(services.scheduler.wakes) == 1
    assert services.metrics.counts["scheduled"] == 1


def test_an_idempotency_key_is_scoped_to_its_context(services: Services) -> None:
    command = CreateTask(ScheduleInput(at=_at(services, hours=1)), idempotency_key="order-7")
    mine, _ = services.tasks.create(ACME, command)
    theirs, created = services.tasks.create(Context("acme", "alice"), command)
    assert created
    assert theirs.id != mine.id


def test_arming_failure_deletes_the_task_and_its_key_and_is_503(services: Services) -> None:
    services.scheduler.fail_next(RuntimeError("scheduler down"))
    command = CreateTask(ScheduleInput(at=_at(services, hours=2)), idempotency_key="k1")
    with pytest.raises(DependencyError):
        services.tasks.create(ACME, command)
    _assert_nothing_written(services)
    assert services.store.calls == ["create_task", "delete_task"]

    # The key was released, so the caller's retry schedules the task.
    task, created = services.tasks.create(ACME, command)
    assert created
    assert services.store.tasks == {task.id: task}


def test_queue_failure_is_compensated_too(services: Services) -> None:
    services.queue.fail_next(RuntimeError("sqs down"))
    with pytest.raises(DependencyError):
        create_one_time(services, ACME, after=timedelta(seconds=30))
    _assert_nothing_written(services)


def test_throttled_arming_is_compensated_and_stays_429(services: Services) -> None:
    services.scheduler.fail_next(ThrottledError("slow down"))
    with pytest.raises(ThrottledError):
        create_one_time(services, ACME, after=timedelta(hours=2))
    _assert_nothing_written(services)


def test_a_store_failure_surfaces_and_arms_nothing(services: Services) -> None:
    services.store.fail_next("create_task", DependencyError("dynamodb down"))
    with pytest.raises(DependencyError):
        create_one_time(services, ACME)
    _assert_nothing_written(services)
