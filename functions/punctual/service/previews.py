"""Schedule previews: the next instants a schedule would fire, before any task exists.

The dashboard shows them beside its create form. The schedule is validated exactly as a create would
validate it (same parser, limits and clock), so a preview that succeeds is a schedule ``POST /tasks``
accepts, and a refused one fails with the same errors and ``details``. Nothing is read or written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from punctual.domain.errors import ErrorDetail, ValidationError
from punctual.domain.model import Schedule
from punctual.domain.schedules import first_occurrence, next_occurrence
from punctual.service import inputs
from punctual.service.commands import ScheduleInput
from punctual.service.ports import Clock
from punctual.service.settings import ServiceSettings

DEFAULT_PREVIEW_COUNT = 5
MAX_PREVIEW_COUNT = 50


@dataclass(frozen=True)
class PreviewSchedule:
    schedule: ScheduleInput
    count: int | None = None


@dataclass(frozen=True)
class SchedulePreview:
    """The parsed schedule, the instant it was computed at, and up to ``count`` occurrences from then
    (fewer when the schedule ends, or a single one for ``at``)."""

    schedule: Schedule
    computed_at: datetime
    occurrences: list[datetime]


class SchedulePreviewService:
    def __init__(self, clock: Clock, settings: ServiceSettings) -> None:
        self._clock, self._settings = clock, settings

    def preview(self, command: PreviewSchedule) -> SchedulePreview:
        count = _count(command.count)
        now = self._clock.now()
        given = command.schedule
        schedule = inputs.schedule_of(given, now, self._settings)
        occurrences: list[datetime] = []
        upcoming = first_occurrence(schedule, now)
        while upcoming is not None and len(occurrences) < count:
            occurrences.append(upcoming)
            upcoming = next_occurrence(schedule, upcoming)
        return SchedulePreview(schedule=schedule, computed_at=now, occurrences=occurrences)


def _count(count: object) -> int:
    if count is None:
        return DEFAULT_PREVIEW_COUNT
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_PREVIEW_COUNT:
        raise ValidationError(
            f"count must be an integer from 1 to {MAX_PREVIEW_COUNT}",
            [ErrorDetail("count", f"expected 1-{MAX_PREVIEW_COUNT}")],
        )
    return count
