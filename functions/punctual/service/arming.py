"""Arming an occurrence: the decision between an EBS wake-up and the SQS delay queue.

EBS fires anywhere inside the scheduled minute, so it is never asked for the instant itself: an
occurrence more than ``max_delay`` away gets an EBS wake-up at ``T - lead``; when that fires (or when
T is already within SQS's 900 s), the link goes to the delay queue with ``DelaySeconds = floor(T - now)``
and the executor waits out the sub-second remainder.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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
            self._queue.enqueue(link, delay_seconds=self._delay(link, now))

    def arm_many(self, links: Sequence[Link], now: datetime) -> list[Exception | None]:
        """Arm many links (a bulk create): the near ones in delay-queue batches, the far ones one EBS wake-up
        each (EBS has no batch create). Per link, in order, None or the error that kept it unarmed."""
        outcomes: list[Exception | None] = [None] * len(links)
        near: list[int] = []
        for position, link in enumerate(links):
            if (link.occurrence - now).total_seconds() > self._settings.max_delay_seconds:
                try:
                    self._scheduler.wake_at(link, link.occurrence - self._settings.lead)
                except Exception as error:
                    outcomes[position] = error
            else:
                near.append(position)
        if near:
            entries = [(links[position], self._delay(links[position], now)) for position in near]
            try:
                sent = self._queue.enqueue_batch(entries)
            except Exception as error:  # the whole call failed: none of them is known to be sent
                sent = [error] * len(entries)
            for position, outcome in zip(near, sent, strict=True):
                outcomes[position] = outcome
        return outcomes

    @staticmethod
    def _delay(link: Link, now: datetime) -> int:
        return max(0, math.floor((link.occurrence - now).total_seconds()))

    def disarm(self, link: Link, now: datetime) -> None:
        """Remove an EBS wake-up that will never be needed. Queue messages cannot be recalled; they are
        no-ops because the link's version is stale."""
        if (link.occurrence - now).total_seconds() > self._settings.max_delay_seconds:
            self._scheduler.cancel_wake(link)
