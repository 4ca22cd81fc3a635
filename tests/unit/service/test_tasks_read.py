"""Reading tasks: one by id, and listing with filters and signed cursors, always inside one context."""

from __future__ import annotations

import pytest
from punctual.domain.cursor import encode_cursor
from punctual.domain.errors import NotFoundError, ValidationError
from punctual.domain.model import Context, Task, TaskStatus
from punctual.service.commands import ListTasks

from tests.fakes import Services, create_one_time, create_recurring, make_services

ACME = Context("acme")
ALICE = Context("acme", "alice")
GLOBEX = Context("globex")


def _ids(tasks: list[Task]) -> list[str]:
    return [task.id for task in tasks]


def _set_status(services: Services, task: Task, status: TaskStatus) -> Task:
    changed = task.evolve(status=status, next_run_at=None)
    services.store.tasks[task.id] = changed
    return changed


def test_get_returns_a_task_of_the_callers_context(services: Services) -> None:
    task = create_one_time(services, ACME)
    assert services.tasks.get(ACME, task.id) == task


@pytest.mark.parametrize(
    ("owner", "reader"),
    [
        (ACME, GLOBEX),
        (ACME, ALICE),
        (ALICE, ACME),
        (ALICE, Context("acme", "bob")),
        (ALICE, Context("globex", "alice")),
    ],
)
def test_another_contexts_task_looks_exactly_like_a_missing_one(
    services: Services, owner: Context, reader: Context
) -> None:
    task = create_one_time(services, owner)
    with pytest.raises(NotFoundError) as foreign:
        services.tasks.get(reader, task.id)
    with pytest.raises(NotFoundError) as missing:
        services.tasks.get(reader, "f" * 32)
    assert foreign.value.message == f"task {task.id} not found"
    assert foreign.value.details == missing.value.details


@pytest.mark.parametrize("task_id", ["", "x" * 129, "../etc", "a b", "TASK#1"])
def test_implausible_ids_are_not_found_without_touching_the_store(services: Services, task_id: str) -> None:
    with pytest.raises(NotFoundError):
        services.tasks.get(ACME, task_id)
    assert services.store.calls == []


def test_list_defaults_to_live_tasks_newest_first(services: Services) -> None:
    first = create_one_time(services, ACME)
    services.clock.advance(seconds=1)
    second = create_recurring(services, ACME)
    services.clock.advance(seconds=1)
    paused = _set_status(services, create_one_time(services, ACME), TaskStatus.PAUSED)
    services.clock.advance(seconds=1)
    _set_status(services, create_one_time(services, ACME), TaskStatus.CANCELLED)
    services.clock.advance(seconds=1)
    _set_status(services, create_one_time(services, ACME), TaskStatus.COMPLETED)
    create_one_time(services, GLOBEX)
    create_one_time(services, ALICE)

    page = services.tasks.list(ACME, ListTasks())
    assert _ids(page.items) == [paused.id, second.id, first.id]
    assert page.next_cursor is None


def test_list_status_filters(services: Services) -> None:
    live = create_one_time(services, ACME)
    services.clock.advance(seconds=1)
    cancelled = _set_status(services, create_one_time(services, ACME), TaskStatus.CANCELLED)
    services.clock.advance(seconds=1)
    failed = _set_status(services, create_one_time(services, ACME), TaskStatus.FAILED)

    assert _ids(services.tasks.list(ACME, ListTasks(status="all")).items) == [
        failed.id,
        cancelled.id,
        live.id,
    ]
    assert _ids(services.tasks.list(ACME, ListTasks(status="cancelled")).items) == [cancelled.id]
    assert _ids(services.tasks.list(ACME, ListTasks(status="failed, scheduled")).items) == [
        failed.id,
        live.id,
    ]


@pytest.mark.parametrize("status", ["bogus", "scheduled,bogus", "", "scheduled,", "ALL"])
def test_unknown_statuses_are_400(services: Services, status: str) -> None:
    with pytest.raises(ValidationError) as caught:
        services.tasks.list(ACME, ListTasks(status=status))
    assert [detail.field for detail in caught.value.details] == ["status"]


def test_list_filters_by_name_and_metadata(services: Services) -> None:
    nightly = create_one_time(services, ACME, name="nightly", metadata={"env": "prod", "team": "a"})
    create_one_time(services, ACME, name="nightly", metadata={"env": "dev"})
    create_one_time(services, ACME, name="hourly", metadata={"env": "prod"})

    found = services.tasks.list(ACME, ListTasks(name="nightly", metadata={"env": "prod"}))
    assert _ids(found.items) == [nightly.id]
    assert len(services.tasks.list(ACME, ListTasks(metadata={"env": "prod"})).items) == 2
    with pytest.raises(ValidationError):
        services.tasks.list(ACME, ListTasks(metadata={"bad key": "x"}))


@pytest.mark.parametrize("limit", [0, -1, 101, True])
def test_limits_outside_1_to_max_are_400(services: Services, limit: int) -> None:
    with pytest.raises(ValidationError) as caught:
        services.tasks.list(ACME, ListTasks(limit=limit))
    assert [detail.field for detail in caught.value.details] == ["limit"]


def test_default_page_size_applies() -> None:
    services = make_services(default_page_size=2)
    for _ in range(3):
        create_one_time(services, ACME)
        services.clock.advance(seconds=1)
    page = services.tasks.list(ACME, ListTasks())
    assert len(page.items) == 2
    assert page.next_cursor is not None


def test_pages_through_every_task_once_in_order(services: Services) -> None:
    created = []
    for _ in range(5):
        created.append(create_one_time(services, ACME))
        services.clock.advance(seconds=1)
    create_one_time(services, GLOBEX)

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = services.tasks.list(ACME, ListTasks(limit=2, cursor=cursor))
        seen += _ids(page.items)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == _ids(list(reversed(created)))
    assert pages == 3


def test_cursors_are_opaque_and_signed(services: Services) -> None:
    for _ in range(3):
        create_one_time(services, ACME)
        services.clock.advance(seconds=1)
    cursor = services.tasks.list(ACME, ListTasks(limit=1)).next_cursor
    assert cursor is not None
    assert "after" not in cursor and "#" not in cursor


@pytest.mark.parametrize("other", [GLOBEX, ALICE])
def test_a_cursor_issued_to_another_context_is_400(services: Services, other: Context) -> None:
    for context in (ACME, other):
        for _ in range(2):
            create_one_time(services, context)
            services.clock.advance(seconds=1)
    theirs = services.tasks.list(other, ListTasks(limit=1)).next_cursor
    assert theirs is not None
    with pytest.raises(ValidationError) as caught:
        services.tasks.list(ACME, ListTasks(limit=1, cursor=theirs))
    assert [detail.field for detail in caught.value.details] == ["cursor"]


def test_forged_and_garbage_cursors_are_400(services: Services) -> None:
    forged = encode_cursor({"after": "9999"}, ACME, b"guessed secret")
    for cursor in (forged, "garbage", "a.b"):
        with pytest.raises(ValidationError):
            services.tasks.list(ACME, ListTasks(cursor=cursor))
    assert "query_tasks" not in services.store.calls
