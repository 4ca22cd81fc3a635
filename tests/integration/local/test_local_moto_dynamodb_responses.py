"""The emulator's DynamoDB item responses (plain JSON) are what moto's model-driven serializer makes: every
response of a run of store operations is serialized both ways and compared."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from moto.core.responses import ActionResult
from moto.dynamodb.responses import DynamoHandler
from punctual.adapters.dynamodb_store import DynamoDbTaskStore
from punctual.domain.errors import AlreadyExistsError, StaleWriteError
from punctual.local import moto_dynamodb_responses
from punctual.service.ports import TaskFilter

from tests.integration.store.records import T0, TENANT_A, make_run, make_task

MODEL = DynamoHandler.serialized


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Serve with the emulator's plain responses, checking each against moto's serializer; yields the actions
    that took the plain path."""
    actions: list[str] = []

    def both(self: DynamoHandler, action_result: ActionResult) -> Any:
        fast = moto_dynamodb_responses.plain_response(self, action_result)
        model = MODEL(self, action_result)
        if fast is None:
            return model
        assert fast[0] == model[0]
        assert fast[1]["Content-Type"] == model[1]["Content-Type"]
        assert json.loads(fast[2]) == json.loads(model[2]), self._get_action()
        actions.append(self._get_action())
        return fast

    monkeypatch.setattr(DynamoHandler, "serialized", both)
    yield actions


def test_the_store_s_responses_serialize_the_same_both_ways(
    compared: list[str], store: DynamoDbTaskStore
) -> None:
    tasks = [make_task(f"{index:032x}", created_at=T0 + timedelta(seconds=index)) for index in range(5)]
    for task in tasks:
        store.create_task(task)
    task = tasks[0]
    run = make_run(task)
    claimed = task.evolve(version=task.version + 1, in_flight=run.scheduled_for)
    store.claim(claimed, expected_version=task.version, run=run)
    with pytest.raises(StaleWriteError):
        store.claim(claimed, expected_version=task.version, run=run)  # an error response
    with pytest.raises(AlreadyExistsError):
        store.create_task(tasks[1])
    assert store.get_task(task.id, consistent=True) == claimed
    assert store.get_tasks_and_runs([(task.id, run.tracking_id), ("f" * 32, "e" * 32)])[0] == (claimed, run)
    page = store.query_tasks(TENANT_A, TaskFilter(), limit=2, continuation=None)
    assert len(page.items) == 2 and page.continuation  # LastEvaluatedKey in the response
    # The executor's finish: the run, then the task's release (a PutItem returning the old item).
    store.save_run(run.evolve(lease_until=None), expected_attempt=run.attempt)
    released = claimed.evolve(version=claimed.version + 1, in_flight=None)
    store.save_task(released, expected_version=claimed.version)
    with pytest.raises(StaleWriteError):
        store.save_task(released, expected_version=claimed.version)  # a conditional PutItem's error
    assert store.get_task(task.id, consistent=True) == released
    store.delete_task(tasks[4])

    assert set(compared) == moto_dynamodb_responses.FAST_ACTIONS


def test_other_operations_keep_moto_s_serializer(
    compared: list[str], table: str, dynamodb_client: Any
) -> None:
    tables = dynamodb_client.list_tables()["TableNames"]
    description = dynamodb_client.describe_table(TableName=tables[0])["Table"]  # timestamps: model-serialized
    assert description["CreationDateTime"]
    assert compared == []  # neither took the plain path
