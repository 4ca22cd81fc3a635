"""The simulated pieces of lambda/https targets (opt-in: ``run_simulation(..., targets=True)``): the delivery
queue, a target that fails at random, and the outcome topic, each recording what the oracle checks."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from punctual.domain.model import OutcomeEvent
from punctual.domain.targets import Target
from punctual.service.ports import CallOutcome

if TYPE_CHECKING:
    from tests.simulation.world import World

DELIVERY_VISIBILITY = timedelta(seconds=90)  # infra/targets.py


@dataclass
class Delivery:
    id: int
    tracking_id: str
    attempt: int
    visible_at: datetime


class SimDeliveries:
    def __init__(self, world: World) -> None:
        self._world = world
        self.messages: dict[int, Delivery] = {}
        self._ids = itertools.count(1)

    def send(self, tracking_id: str, attempt: int, *, delay_seconds: int) -> None:
        if not 0 <= delay_seconds <= 900:
            raise ValueError(f"DelaySeconds must be 0..900, got {delay_seconds}")
        visible = self._world.clock.now() + timedelta(seconds=delay_seconds)
        message_id = next(self._ids)
        self.messages[message_id] = Delivery(message_id, tracking_id, attempt, visible)

    def visible(self) -> list[Delivery]:
        now = self._world.clock.now()
        return sorted((m for m in self.messages.values() if m.visible_at <= now), key=lambda m: m.id)


@dataclass(frozen=True)
class TargetCall:
    task_id: str
    tracking_id: str
    attempt: int
    cancelled_before_the_delivery: bool  # the task's cancel had returned 200 before this delivery began


class SimTarget:
    """An HTTPS endpoint that answers 200 or 500 at random; every call is recorded."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.calls: list[TargetCall] = []
        self.cancelled_at_delivery_start = False

    def call(self, target: Target, body: bytes, headers: Mapping[str, str]) -> CallOutcome:
        event = json.loads(body)
        self.calls.append(
            TargetCall(
                event["task_id"], event["tracking_id"], event["attempt"], self.cancelled_at_delivery_start
            )
        )
        self._world.log(f"called the target for {event['tracking_id'][-6:]} attempt {event['attempt']}")
        if self._world.rng.random() < 0.5:
            return CallOutcome(ok=True, status=200, result="ok")
        return CallOutcome(ok=False, status=500, error="the target answered 500")


class SimOutcomes:
    def __init__(self, world: World) -> None:
        self._world = world
        self.published: list[OutcomeEvent] = []

    def publish_outcome(self, event: OutcomeEvent) -> None:
        self.published.append(event)
        self._world.log(
            f"outcome {event.type.value} {event.run.tracking_id[-6:]} attempt {event.run.delivery_attempt}"
        )
        if self._world.on_outcome is not None:
            self._world.on_outcome(event)
