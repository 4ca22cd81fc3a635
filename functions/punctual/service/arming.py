"""Arming an occurrence: the decision between an EBS wake-up and the SQS delay queue.

EBS fires anywhere inside the scheduled minute, so it is never asked for the instant itself: an
occurrence more than ``max_delay`` away gets an EBS wake-up at ``T - lead``; when that fires (or when
T is already within SQS's 900 s), the link goes to the delay queue with ``DelaySeconds = floor(T - now)``
and the executor waits out the sub-second remainder.
"""

from __future__ import annotations

import math
from datetime import datetime

from punctual.domain.model import Link
from punctual.service.ports import DelayQueue, LinkScheduler
from punctual.service.settings import ServiceSettings


class Arming:
    def __init__(self, scheduler: LinkScheduler, queue: DelayQueue, settings: ServiceSettings) -> None:
        self._scheduler = scheduler
        self._queue = queue
        self._settings = settings

    def arm(self, link: Link, now: datetime) -> None:
        remaining = (link.occurrence - now).total_seconds()
        if remaining > self._settings.max_delay_seconds:
            self._scheduler.wake_at(link, link.occurrence - self._settings.lead)
        else:
            self._queue.enqueue(link, delay_seconds=max(0, math.floor(remaining)))

    def disarm(self, link: Link, now: datetime) -> None:
        """Remove an EBS wake-up that will never be needed. Queue messages cannot be recalled; they are
        no-ops because the link's version is stale."""
        if (link.occurrence - now).total_seconds() > self._settings.max_delay_seconds:
            self._scheduler.cancel_wake(link)
