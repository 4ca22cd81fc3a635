"""POST /schedules/preview over the real handler: occurrences, the normalized schedule, errors by field."""

from __future__ import annotations

from punctual.handlers.response_models import ErrorOut, SchedulePreviewOut

from tests.integration.api.harness import Stack, call_api


def test_preview_lists_the_next_occurrences_in_utc_and_on_the_zone_clock(stack: Stack) -> None:
    response = call_api(
        "POST",
        "/schedules/preview",
        body={"cron": "30 9 * * MON-FRI", "timezone": "Europe/Paris", "count": 3},
    )

    assert response.status == 200, response.raw_body
    SchedulePreviewOut.model_validate(response.json)
    assert response.json["schedule"] == {
        "cron": "30 9 * * MON-FRI",
        "timezone": "Europe/Paris",
        "start_at": None,
        "end_at": None,
    }
    assert response.json["computed_at"] == "2026-01-01T12:00:00Z"  # a Thursday
    assert response.json["occurrences"] == [
        {"at": "2026-01-02T08:30:00Z", "local": "2026-01-02T09:30:00+01:00"},
        {"at": "2026-01-05T08:30:00Z", "local": "2026-01-05T09:30:00+01:00"},
        {"at": "2026-01-06T08:30:00Z", "local": "2026-01-06T09:30:00+01:00"},
    ]


def test_preview_writes_nothing(stack: Stack) -> None:
    before = stack.table_items()

    assert call_api("POST", "/schedules/preview", body={"every": "10 minutes"}).status == 200
    assert len(call_api("POST", "/schedules/preview", body={"every": "10 minutes"}).json["occurrences"]) == 5
    assert stack.table_items() == before
    assert stack.schedules() == []


def test_unacceptable_schedule_is_a_422_naming_its_field(stack: Stack) -> None:
    response = call_api("POST", "/schedules/preview", body={"every": "2 seconds"})

    assert response.status == 422
    ErrorOut.model_validate(response.json)
    assert response.error_fields == ["every"]


def test_malformed_schedule_and_unknown_fields_are_400s(stack: Stack) -> None:
    bad_cron = call_api("POST", "/schedules/preview", body={"cron": "every tuesday"})
    typo = call_api("POST", "/schedules/preview", body={"cronn": "* * * * *"})
    bad_count = call_api("POST", "/schedules/preview", body={"every": "1 hour", "count": 500})

    assert (bad_cron.status, bad_cron.error_fields) == (400, ["cron"])
    assert typo.status == 400
    assert (bad_count.status, bad_count.error_fields) == (400, ["count"])
