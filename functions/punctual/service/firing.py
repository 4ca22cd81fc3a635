"""Firing use cases: wake (EBS → delay queue), fire (claim → arm next → publish → finish), sweep.

INTERFACE STUB — being implemented by the lead engineer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from punctual.domain.model import Link
from punctual.service.arming import Arming
from punctual.service.ports import Clock, EventPublisher, Metrics, TaskStore
from punctual.service.settings import ServiceSettings


class FireOutcome(StrEnum):
    PUBLISHED = "published"
    REQUEUED = "requeued"  # too early: sent back to the delay queue / EBS
    STALE = "stale"  # the task moved on (cancelled, rescheduled, paused, new version): no-op
    DUPLICATE = "duplicate"  # the occurrence was already claimed/published: no-op
    FAILED = "failed"  # publish failed after the last attempt; run marked failed


@dataclass(frozen=True)
class SweepReport:
    examined: int
    rearmed: int
    fired_late: int
    skipped: int
    resumed: int


class FiringService:
    def __init__(
        self,
        store: TaskStore,
        arming: Arming,
        publisher: EventPublisher,
        clock: Clock,
        settings: ServiceSettings,
        metrics: Metrics,
    ) -> None:
        self._store, self._arming, self._publisher = store, arming, publisher
        self._clock, self._settings, self._metrics = clock, settings, metrics

    def wake(self, link: Link) -> None:
        """An EBS wake-up arrived: hand the link to the delay queue for the remaining whole seconds."""
        raise NotImplementedError

    def fire(self, link: Link, *, receive_count: int = 1) -> FireOutcome:
        """A delay-queue message arrived. Raises (so the message is retried) when publishing fails and
        attempts remain; ``receive_count`` is SQS's ApproximateReceiveCount."""
        raise NotImplementedError

    def sweep(self) -> SweepReport:
        raise NotImplementedError
