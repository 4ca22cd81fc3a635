"""Creating many tasks at once: per-item validation, one store write and one batched arming, replays,
per-item failures that leave nothing written, and the envelope's limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from punctual.domain.errors import (
    AlreadyExistsError,
    ConflictError,
    DependencyError,
    ErrorDetail,
    ThrottledError,
    UnprocessableError,
    ValidationError,
)
from punctual.domain.model import Context, Link, TaskStatus
from punctual.domain.timefmt import format_instant
from punctual.service.commands import BulkCreate, CreateTask, ScheduleInput

from tests.fakes import Services, make_services

ACME = Context("acme")


def _at(services: Services, **delta: float) -> CreateTask:
    return CreateTask(ScheduleInput(at=format_instant(services.clock.now() + timedelta(**delta))))


def test_every_valid_item_is_written_in_one_call_and_armed_in_one_batch(services: Services) -> None:
    now = services.clock.now()
    commands = [_at(services, minutes=5, seconds=index) for index in range(30)]
    results = services.tasks.create_many(ACME, BulkCreate(list(commands)))

    assert [result.index for result in results] == list(range(30))
    assert all(result.ok and result.created for result in results)
    tasks = [result.task for result in results if result.task is not None]
    assert len({task.id for task in tasks}) == 30
    assert services.store.calls == ["create_tasks"]
    assert set(services.store.tasks) == {task.id for task in tasks}
    assert services.queue.calls == ["enqueue_batch"]
    assert services.queue.messages == [
        (Link(task.id, 1, now + timedelta(minutes=5, seconds=index)), 300 + index)
        for index, task in enumerate(tasks)
    ]
    assert services.metrics.counts["scheduled"] == 30


def test_far_items_get_an_ebs_wake_up_each_and_near_ones_share_the_queue_batch(services: Services) -> None:
    now = services.clock.now()
    results = services.tasks.create_many(
        ACME,
        BulkCreate(
            [
                _at(services, days=2),
                _at(services, seconds=10),
                CreateTask(ScheduleInput(every="5 minutes")),
            ]
        ),
    )
    far, near, recurring = (result.task for result in results)
    assert far is not None and near is not None and recurring is not None
    far_link = Link(far.id, 1, now + timedelta(days=2))
    assert services.scheduler.wakes == {far_link: far_link.occurrence - services.settings.lead}
    assert services.queue.messages == [
        (Link(near.id, 1, now + timedelta(seconds=10)), 10),
        (Link(recurring.id, 1, now + timedelta(minutes=5)), 300),
    ]


def test_an_invalid_item_fails_alone_with_its_error_and_details(services: Services) -> None:
    unreadable = ValidationError("invalid request: cronn", [ErrorDetail("cronn", "unknown field")])
    results = services.tasks.create_many(
        ACME,
        BulkCreate(
            [
                _at(services, minutes=5),
                CreateTask(ScheduleInput(cron="61 * * * *")),
                unreadable,
                _at(services, days=400),
                CreateTask(ScheduleInput(at="2026-01-01T00:00:00Z", every="5 minutes")),
                _at(services, minutes=6),
            ]
        ),
    )
    assert [result.ok for result in results] == [True, False, False, False, False, True]
    bad_cron, shape, beyond, both = (results[index].error for index in (1, 2, 3, 4))
    assert isinstance(bad_cron, ValidationError)
    assert bad_cron.details and bad_cron.details[0].field == "cron"
    assert shape is unreadable
    assert isinstance(beyond, UnprocessableError)
    assert isinstance(both, ValidationError)
    # Only the two valid items were written and armed.
    assert len(services.store.tasks) == 2
    assert len(services.queue.messages) == 2
    assert services.metrics.counts["scheduled"] == 2


def test_no_valid_item_writes_nothing_and_calls_nothing(services: Services) -> None:
    results = services.tasks.create_many(ACME, BulkCreate([CreateTask(ScheduleInput(every="1 second"))]))
    assert isinstance(results[0].error, UnprocessableError)
    assert services.store.calls == [] and services.queue.calls == []
    assert services.store.tasks == {}
    assert "scheduled" not in services.metrics.counts


@pytest.mark.parametrize("count", [0, 4])
def test_the_envelope_holds_one_to_max_bulk_items(count: int) -> None:
    services = make_services(max_bulk_items=3)
    with pytest.raises(ValidationError) as raised:
        services.tasks.create_many(ACME, BulkCreate([_at(services, minutes=5)] * count))
    assert raised.value.details[0].field == "tasks"
    assert services.store.tasks == {}


def test_a_replayed_idempotency_key_returns_the_existing_task_unchanged(services: Services) -> None:
    first, _ = services.tasks.create(
        ACME, CreateTask(ScheduleInput(every="1 hour"), idempotency_key="invoice-42")
    )
    services.queue.drain()
    again = CreateTask(ScheduleInput(every="1 hour"), idempotency_key="invoice-42")
    fresh = CreateTask(ScheduleInput(every="5 minutes"), idempotency_key="invoice-43")
    replayed, created = services.tasks.create_many(ACME, BulkCreate([again, fresh]))

    assert replayed.ok and not replayed.created and replayed.task == first
    assert created.ok and created.created and created.task is not None
    assert created.task.idempotency_key == "invoice-43"
    assert [link.task_id for link, _ in services.queue.messages] == [created.task.id]
    assert len(services.store.tasks) == 2


def test_a_key_reused_for_another_request_fails_that_item_with_422(services: Services) -> None:
    services.tasks.create(ACME, CreateTask(ScheduleInput(every="1 hour"), idempotency_key="invoice-42"))
    other = CreateTask(ScheduleInput(every="5 minutes"), idempotency_key="invoice-42")
    same_key_twice = [
        CreateTask(ScheduleInput(every="1 hour"), idempotency_key="k2"),
        CreateTask(ScheduleInput(every="2 hours"), idempotency_key="k2"),
    ]

    reused, first, second = services.tasks.create_many(ACME, BulkCreate([other, *same_key_twice]))

    assert isinstance(reused.error, UnprocessableError) and reused.error.details[0].field == "idempotency_key"
    assert first.created
    assert isinstance(second.error, UnprocessableError)
    assert len(services.store.tasks) == 2


def test_a_key_is_scoped_to_the_context(services: Services) -> None:
    keyed = CreateTask(ScheduleInput(every="1 hour"), idempotency_key="k")
    services.tasks.create_many(ACME, BulkCreate([keyed]))
    (other,) = services.tasks.create_many(Context("acme", "alice"), BulkCreate([keyed]))
    assert other.created


def test_the_same_key_twice_in_one_request_creates_one_task(services: Services) -> None:
    keyed = CreateTask(ScheduleInput(every="5 minutes"), idempotency_key="k")
    first, second = services.tasks.create_many(ACME, BulkCreate([keyed, keyed]))
    assert first.created and not second.created
    assert second.index == 1 and second.task == first.task
    assert len(services.store.tasks) == 1
    assert len(services.queue.messages) == 1
    assert services.metrics.counts["scheduled"] == 1


def test_a_key_in_progress_is_a_per_item_conflict(services: Services) -> None:
    # The reservation exists but its task is gone (a create being compensated right now).
    services.store.idempotency[(ACME.key, "k")] = "0" * 32
    (result,) = services.tasks.create_many(
        ACME, BulkCreate([CreateTask(ScheduleInput(every="1 hour"), idempotency_key="k")])
    )
    assert isinstance(result.error, ConflictError)


def test_a_task_the_store_could_not_write_fails_alone(services: Services) -> None:
    services.store.fail_tasks(ThrottledError("DynamoDB left it unprocessed"))
    results = services.tasks.create_many(
        ACME, BulkCreate([_at(services, minutes=5), _at(services, minutes=6)])
    )
    assert isinstance(results[0].error, ThrottledError)
    assert results[1].created and results[1].task is not None
    assert list(services.store.tasks) == [results[1].task.id]
    assert [link.task_id for link, _ in services.queue.messages] == [results[1].task.id]


def test_a_store_call_that_fails_as_a_whole_fails_every_item(services: Services) -> None:
    services.store.fail_next("create_tasks", DependencyError("DynamoDB is down"))
    results = services.tasks.create_many(
        ACME, BulkCreate([_at(services, minutes=5), _at(services, minutes=6)])
    )
    assert all(isinstance(result.error, DependencyError) for result in results)
    assert services.queue.calls == []


def test_an_entry_the_queue_refused_is_removed_again_and_reported(services: Services) -> None:
    services.queue.fail_entries(DependencyError("SendMessageBatch entry failed"))
    services.queue.fail_entries(ThrottledError("throttled"))
    keyed = CreateTask(
        ScheduleInput(at=format_instant(services.clock.now() + timedelta(minutes=5))), idempotency_key="k"
    )
    results = services.tasks.create_many(
        ACME, BulkCreate([keyed, _at(services, minutes=6), _at(services, minutes=7)])
    )

    assert isinstance(results[0].error, DependencyError)
    assert results[0].error.message == "could not arm the task; nothing was scheduled"
    assert isinstance(results[1].error, ThrottledError)
    assert results[2].created and results[2].task is not None
    # Nothing of the failed items is left: not the task, not its idempotency reservation.
    assert list(services.store.tasks) == [results[2].task.id]
    assert services.store.idempotency == {}
    assert services.store.calls.count("delete_task") == 2
    # The key is free again: a retry of the item creates it.
    (retried,) = services.tasks.create_many(ACME, BulkCreate([keyed]))
    assert retried.created


def test_a_queue_call_that_fails_as_a_whole_removes_every_near_task(services: Services) -> None:
    services.queue.fail_batch(ThrottledError("throttled"))
    results = services.tasks.create_many(ACME, BulkCreate([_at(services, minutes=5), _at(services, days=1)]))
    assert isinstance(results[0].error, ThrottledError)
    assert results[1].created and results[1].task is not None  # armed through EBS, not the queue
    assert list(services.store.tasks) == [results[1].task.id]


def test_a_failed_wake_up_fails_its_item_alone(services: Services) -> None:
    services.scheduler.fail_next(DependencyError("CreateSchedule failed"))
    results = services.tasks.create_many(ACME, BulkCreate([_at(services, days=1), _at(services, days=2)]))
    assert isinstance(results[0].error, DependencyError)
    assert results[1].created and results[1].task is not None
    assert list(services.store.tasks) == [results[1].task.id]
    assert results[1].task.status is TaskStatus.SCHEDULED


def test_an_already_existing_task_id_is_not_mistaken_for_a_replay(services: Services) -> None:
    # AlreadyExistsError without an idempotency key (an id collision) cannot be replayed: a per-item 409.
    services.store.fail_tasks(AlreadyExistsError("task exists"))
    (result,) = services.tasks.create_many(ACME, BulkCreate([_at(services, minutes=5)]))
    assert isinstance(result.error, ConflictError)
