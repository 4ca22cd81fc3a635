"""service/idempotency.py: what makes two creates "the same request"."""

from __future__ import annotations

import pytest
from punctual.domain.errors import UnprocessableError
from punctual.service.commands import CreateTask, ScheduleInput
from punctual.service.idempotency import check_same_request, request_fingerprint

BASE = CreateTask(
    schedule=ScheduleInput(at="2026-12-01T09:00:00Z"),
    name="n",
    message={"a": 1, "b": [1, 2]},
    metadata={"k": "v"},
    idempotency_key="key-1",
)


def test_the_same_fields_are_the_same_request_whatever_the_key_order_or_the_fields_name() -> None:
    reordered = CreateTask(
        schedule=ScheduleInput(at="2026-12-01T09:00:00Z", at_field="timestamp"),
        name="n",
        message={"b": [1, 2], "a": 1},
        metadata={"k": "v"},
        idempotency_key="key-2",  # the key names the request; it is not part of it
    )

    assert request_fingerprint(reordered) == request_fingerprint(BASE)


@pytest.mark.parametrize(
    "other",
    [
        CreateTask(
            schedule=ScheduleInput(at="2026-12-01T09:00:01Z"),
            name="n",
            message=BASE.message,
            metadata={"k": "v"},
        ),
        CreateTask(schedule=BASE.schedule, name="m", message=BASE.message, metadata={"k": "v"}),
        CreateTask(schedule=BASE.schedule, name="n", message={"a": 2, "b": [1, 2]}, metadata={"k": "v"}),
        CreateTask(schedule=BASE.schedule, name="n", message=BASE.message, metadata={"k": "w"}),
        CreateTask(
            schedule=BASE.schedule, name="n", message=BASE.message, metadata={"k": "v"}, misfire="skip"
        ),
        CreateTask(
            schedule=ScheduleInput(every="1 hour"), name="n", message=BASE.message, metadata={"k": "v"}
        ),
    ],
)
def test_any_other_field_is_another_request(other: CreateTask) -> None:
    assert request_fingerprint(other) != request_fingerprint(BASE)


def test_only_a_different_stored_fingerprint_is_refused() -> None:
    fingerprint = request_fingerprint(BASE)

    check_same_request(fingerprint, fingerprint)
    check_same_request(None, fingerprint)  # a reservation from before fingerprints replays as it did
    with pytest.raises(UnprocessableError) as refused:
        check_same_request("0" * 64, fingerprint)
    assert refused.value.details[0].field == "idempotency_key"
