"""In-memory ports of the runner (service/runner.py) and services wired with a delivery queue and a runner."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from punctual.domain.model import OutcomeEvent
from punctual.domain.targets import Target, TargetType
from punctual.service.arming import Arming
from punctual.service.firing import FiringService
from punctual.service.ports import CallOutcome
from punctual.service.runner import RunnerPorts, RunnerService
from punctual.service.runs import RunService
from punctual.service.settings import ServiceSettings
from punctual.service.target_policy import TargetPolicy
from punctual.service.tasks import TaskService

from tests.fakes import DEFAULT_START, Services, make_services


class FakeDeliveries:
    """The delivery queue: ``messages`` holds (tracking id, attempt, delay) in send order."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, int, int]] = []
        self.failures = 0

    def send(self, tracking_id: str, attempt: int, *, delay_seconds: int) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("SQS is down")
        assert 0 <= delay_seconds <= 900
        self.messages.append((tracking_id, attempt, delay_seconds))

    def drain(self) -> list[tuple[str, int, int]]:
        drained, self.messages = self.messages, []
        return drained


@dataclass
class ScriptedInvoker:
    """Answers calls from a script (the last answer repeats); records (target, body, headers) and lets a
    test advance the clock during a call, as a slow target would."""

    answers: list[CallOutcome] = field(
        default_factory=lambda: [CallOutcome(ok=True, status=200, result="ok")]
    )
    calls: list[tuple[Target, bytes, dict[str, str]]] = field(default_factory=list)
    during_call: Callable[[], None] | None = None

    def call(self, target: Target, body: bytes, headers: Mapping[str, str]) -> CallOutcome:
        self.calls.append((target, body, dict(headers)))
        if self.during_call is not None:
            self.during_call()
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


class FakeOutcomes:
    def __init__(self) -> None:
        self.published: list[OutcomeEvent] = []
        self.failures = 0

    def publish_outcome(self, event: OutcomeEvent) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("SNS is down")
        self.published.append(event)


class FakeSecrets:
    def __init__(self) -> None:
        self.generation: dict[str, int] = {}

    def secret_for(self, tenant: str) -> str:
        return f"secret-{tenant}-{self.generation.get(tenant, 1)}"

    def rotate(self, tenant: str) -> str:
        self.generation[tenant] = self.generation.get(tenant, 1) + 1
        return self.secret_for(tenant)


class FakeResolver:
    """Host names -> addresses; an IP literal resolves to itself; others do not resolve."""

    def __init__(self, names: dict[str, list[str]] | None = None) -> None:
        self.names = names or {"hooks.example.com": ["93.184.216.34"]}

    def addresses(self, host: str) -> list[str]:
        import ipaddress

        try:
            return [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            return list(self.names.get(host, []))


@dataclass
class TargetServices:
    s: Services
    deliveries: FakeDeliveries
    https: ScriptedInvoker
    lambdas: ScriptedInvoker
    outcomes: FakeOutcomes
    secrets: FakeSecrets
    resolver: FakeResolver
    runner: RunnerService
    extra: dict[str, Any] = field(default_factory=dict)

    def deliver_all(self, *, until: datetime | None = None) -> list[str]:
        """Run every queued delivery whose delay has passed, advancing the fake clock to each one (up to
        ``until``), until the queue is empty; the outcomes in order."""
        outcomes: list[str] = []
        pending = [(self.s.clock.now(), message) for message in self.deliveries.drain()]
        while pending:
            pending.sort(key=lambda item: item[0])
            due, (tracking_id, attempt, _) = pending.pop(0)
            if until is not None and due > until:
                break
            if due > self.s.clock.now():
                self.s.clock.set(due)
            outcomes.append(self.runner.deliver(tracking_id, attempt).value)
            now = self.s.clock.now()
            from datetime import timedelta

            pending += [
                (now + timedelta(seconds=delay), (t, a, delay)) for t, a, delay in self.deliveries.drain()
            ]
        return outcomes


def make_target_services(**setting_overrides: Any) -> TargetServices:
    settings = ServiceSettings(
        cursor_secret=b"test",
        lambda_targets=("arn:aws:lambda:*:*:function:allowed-*",),
        lambda_arn_prefix="arn:aws:lambda:eu-west-1:111122223333:function:",
        **setting_overrides,
    )
    s = make_services(DEFAULT_START, settings=settings)
    deliveries, outcomes, secrets, resolver = FakeDeliveries(), FakeOutcomes(), FakeSecrets(), FakeResolver()
    https, lambdas = ScriptedInvoker(), ScriptedInvoker()
    policy = TargetPolicy(settings, resolver)
    arming = Arming(s.scheduler, s.queue, settings)
    s.tasks = TaskService(s.store, arming, s.clock, s.ids, settings, s.metrics, policy)
    s.runs = RunService(s.store, s.queue, s.clock, s.ids, settings, s.metrics, deliveries)
    s.firing = FiringService(s.store, arming, s.queue, s.publisher, s.clock, settings, s.metrics, deliveries)
    runner = RunnerService(
        s.store,
        RunnerPorts({TargetType.HTTPS: https, TargetType.LAMBDA: lambdas}, deliveries, outcomes, secrets),
        s.clock,
        s.metrics,
        rng=random.Random(7),
    )
    return TargetServices(s, deliveries, https, lambdas, outcomes, secrets, resolver, runner)
