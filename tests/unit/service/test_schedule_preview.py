"""Schedule previews: the next occurrences, validated exactly as a create, with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from punctual.domain.errors import PunctualError, UnprocessableError, ValidationError
from punctual.domain.model import Context
from punctual.domain.timefmt import format_instant
from punctual.service.commands import CreateTask, ScheduleInput
from punctual.service.previews import MAX_PREVIEW_COUNT, PreviewSchedule, SchedulePreviewService

from tests.fakes import FakeClock, make_services

NOON = datetime(2026, 3, 27, 12, 0, 0, tzinfo=UTC)  # the Friday before Europe's spring-forward Sunday


def preview(schedule: ScheduleInput, count: int | None = None, now: datetime = NOON) -> list[str]:
    service = SchedulePreviewService(FakeClock(now), make_services().settings)
    return [
        format_instant(moment) for moment in service.preview(PreviewSchedule(schedule, count)).occurrences
    ]


def test_interval_starts_one_interval_after_now_as_a_create_would() -> None:
    assert preview(ScheduleInput(every="5 minutes"), count=3) == [
        "2026-03-27T12:05:00Z",
        "2026-03-27T12:10:00Z",
        "2026-03-27T12:15:00Z",
    ]


def test_cron_runs_on_the_zone_wall_clock_across_a_daylight_saving_change() -> None:
    # 09:00 in Paris is 08:00Z in winter and 07:00Z once summer time starts on Sunday 29 March.
    assert preview(ScheduleInput(cron="0 9 * * *", timezone="Europe/Paris")) == [
        "2026-03-28T08:00:00Z",
        "2026-03-29T07:00:00Z",
        "2026-03-30T07:00:00Z",
        "2026-03-31T07:00:00Z",
        "2026-04-01T07:00:00Z",
    ]


def test_one_time_schedule_has_its_single_instant_read_in_its_zone() -> None:
    assert preview(ScheduleInput(at="2026-04-01T09:30:00", timezone="America/New_York"), count=5) == [
        "2026-04-01T13:30:00Z"
    ]


def test_end_at_cuts_the_list_short() -> None:
    schedule = ScheduleInput(every="1 hour", start_at="2026-03-27T13:00:00Z", end_at="2026-03-27T15:00:00Z")
    assert preview(schedule) == ["2026-03-27T13:00:00Z", "2026-03-27T14:00:00Z", "2026-03-27T15:00:00Z"]


def test_the_default_is_five_and_the_most_is_fifty() -> None:
    assert len(preview(ScheduleInput(every="1 minute"))) == 5
    assert len(preview(ScheduleInput(every="1 minute"), count=MAX_PREVIEW_COUNT)) == MAX_PREVIEW_COUNT


@pytest.mark.parametrize("count", [0, -1, MAX_PREVIEW_COUNT + 1, True])
def test_a_count_out_of_range_is_refused_on_its_field(count: int) -> None:
    with pytest.raises(ValidationError) as raised:
        preview(ScheduleInput(every="1 minute"), count=count)
    assert [detail.field for detail in raised.value.details] == ["count"]


@pytest.mark.parametrize(
    ("schedule", "error", "field"),
    [
        (ScheduleInput(cron="61 * * * *"), ValidationError, "cron"),
        (ScheduleInput(every="1 second"), UnprocessableError, "every"),
        (ScheduleInput(at="2028-01-01T00:00:00Z"), UnprocessableError, "at"),
        (ScheduleInput(every="5 minutes", timezone="Mars/Olympus"), ValidationError, "timezone"),
        (ScheduleInput(), ValidationError, "at"),
    ],
)
def test_refusals_match_what_create_answers(
    schedule: ScheduleInput, error: type[PunctualError], field: str
) -> None:
    services = make_services(start=NOON)
    with pytest.raises(error) as previewed:
        SchedulePreviewService(services.clock, services.settings).preview(PreviewSchedule(schedule))
    with pytest.raises(error) as created:
        services.tasks.create(Context("tenant"), CreateTask(schedule=schedule))

    assert field in [detail.field for detail in previewed.value.details]
    assert previewed.value.details == created.value.details
    assert services.store.tasks == {}
