"""EventBridge Scheduler emulation: the emulator stores schedules but never fires them; this does.

One-time ``at()`` schedules of the group fire into their Lambda target with EBS's imprecision: at a
random point inside the scheduled minute (``jitter``, the default; the scheduled instant itself without
it), or anywhere in a FLEXIBLE window. After the invocation a schedule with ``ActionAfterCompletion=DELETE``
is deleted. A failed invocation is retried with backoff within the target's RetryPolicy, then its input
goes to the target's dead-letter queue. Recurring (``rate``/``cron``) schedules are not fired: punctual
arms only one-time schedules, and ``punctual dev`` runs the sweeper itself.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botocore.exceptions import ClientError

log = logging.getLogger("punctual_dev.scheduler")

Invoke = Callable[[Any], Any]

_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_MAX_BACKOFF_SECONDS = 60.0


def parse_at(expression: str, timezone: str | None) -> datetime | None:
    """The UTC instant of ``at(yyyy-mm-ddThh:mm:ss)`` read in ``timezone``; None for other expressions."""
    match = _AT.match(expression.strip())
    if not match:
        return None
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S")
    return local.replace(tzinfo=zone).astimezone(UTC)


def firing_instant(
    scheduled: datetime, window: Mapping[str, Any], rng: random.Random, jitter: bool
) -> datetime:
    """When EBS invokes the target of a schedule due at ``scheduled``.

    EBS has minute granularity: with jitter, a uniformly random point of the scheduled minute; a FLEXIBLE
    window widens that by ``MaximumWindowInMinutes``. Without jitter, the scheduled instant exactly.
    """
    flexible_minutes = int(window.get("MaximumWindowInMinutes", 0)) if window.get("Mode") == "FLEXIBLE" else 0
    if not jitter:
        return scheduled
    minute = scheduled.replace(second=0, microsecond=0)
    return minute + timedelta(seconds=rng.random() * 60 * (1 + flexible_minutes))


@dataclass
class _Armed:
    name: str
    modified: Any  # LastModificationDate: a changed schedule is re-read and re-timed
    scheduled: datetime
    fire_at: datetime
    target: dict[str, Any]
    delete_after: bool
    attempts: int = 0


@dataclass(frozen=True)
class Firing:
    """One invocation the emulator made (returned by ``poll`` so callers and tests can see it)."""

    name: str
    scheduled: datetime
    fired_at: datetime
    ok: bool


class SchedulerEmulator:
    def __init__(
        self,
        scheduler: Any,
        sqs: Any,
        group: str,
        targets: Mapping[str, Invoke],
        *,
        now: Callable[[], datetime],
        rng: random.Random,
        jitter: bool = True,
    ) -> None:
        self._scheduler, self._sqs, self._group = scheduler, sqs, group
        self._targets, self._now, self._rng, self._jitter = targets, now, rng, jitter
        self._armed: dict[str, _Armed] = {}
        self._done: set[tuple[str, Any]] = set()  # fired schedules that are kept (ActionAfterCompletion NONE)
        self._ignored: set[tuple[str, Any]] = set()  # recurring or disabled: never fired, read once

    # -- one pass -------------------------------------------------------------------------------------

    def poll(self) -> list[Firing]:
        """Read the group's schedules, then invoke every one that is due now."""
        self.refresh()
        return self.fire_due()

    def refresh(self) -> None:
        listed: dict[str, Any] = {}
        pages = self._scheduler.get_paginator("list_schedules").paginate(
            GroupName=self._group, PaginationConfig={"PageSize": 100}
        )
        for page in pages:
            for summary in page.get("Schedules", []):
                listed[summary["Name"]] = summary.get("LastModificationDate")
        for name in list(self._armed):
            if name not in listed:
                del self._armed[name]  # deleted by punctual (cancel, reschedule): never fires
        for name, modified in listed.items():
            armed = self._armed.get(name)
            seen = (name, modified)
            if (armed and armed.modified == modified) or seen in self._done or seen in self._ignored:
                continue
            self._arm(name)

    def _arm(self, name: str) -> None:
        try:
            schedule = self._scheduler.get_schedule(GroupName=self._group, Name=name)
        except ClientError:
            self._armed.pop(name, None)
            return
        scheduled = parse_at(schedule["ScheduleExpression"], schedule.get("ScheduleExpressionTimezone"))
        if scheduled is None or schedule.get("State", "ENABLED") != "ENABLED":
            self._armed.pop(name, None)
            self._ignored.add((name, schedule.get("LastModificationDate")))
            log.info("not firing schedule %s (%s)", name, schedule["ScheduleExpression"])
            return
        window = schedule.get("FlexibleTimeWindow") or {}
        self._armed[name] = _Armed(
            name=name,
            modified=schedule.get("LastModificationDate"),
            scheduled=scheduled,
            fire_at=firing_instant(scheduled, window, self._rng, self._jitter),
            target=schedule["Target"],
            delete_after=schedule.get("ActionAfterCompletion") == "DELETE",
        )

    def next_fire_at(self) -> datetime | None:
        return min((armed.fire_at for armed in self._armed.values()), default=None)

    def fire_due(self) -> list[Firing]:
        now = self._now()
        due = sorted((a for a in self._armed.values() if a.fire_at <= now), key=lambda a: a.fire_at)
        return [firing for armed in due if (firing := self._fire(armed)) is not None]

    # -- one invocation -------------------------------------------------------------------------------

    def _still_armed(self, armed: _Armed) -> bool:
        """The schedule as stored right now is the one being fired (not deleted or changed since the last
        refresh): a cancel just before the instant must win, as it does on EBS."""
        try:
            current = self._scheduler.get_schedule(GroupName=self._group, Name=armed.name)
        except ClientError:
            self._armed.pop(armed.name, None)
            return False
        if current.get("LastModificationDate") != armed.modified:
            self._arm(armed.name)
            return False
        return True

    def _fire(self, armed: _Armed) -> Firing | None:
        if not self._still_armed(armed):
            return None
        target = armed.target
        invoke = self._targets.get(target.get("Arn", ""))
        event = json.loads(target["Input"]) if target.get("Input") else {}
        fired_at = self._now()
        error: Exception | None = None
        if invoke is None:
            error = LookupError(f"no local function for target {target.get('Arn')}")
        else:
            try:
                invoke(event)
            except Exception as exc:
                error = exc
                log.warning(
                    "schedule %s: target failed (attempt %d): %r", armed.name, armed.attempts + 1, exc
                )
        if error is not None and invoke is not None and self._retry_later(armed, fired_at):
            return Firing(armed.name, armed.scheduled, fired_at, ok=False)
        if error is not None:
            self._dead_letter(armed, error)
        self._complete(armed)
        return Firing(armed.name, armed.scheduled, fired_at, ok=error is None)

    def _retry_later(self, armed: _Armed, now: datetime) -> bool:
        policy = armed.target.get("RetryPolicy") or {}
        max_retries = int(policy.get("MaximumRetryAttempts", 185))
        max_age = timedelta(seconds=int(policy.get("MaximumEventAgeInSeconds", 86400)))
        armed.attempts += 1
        backoff = timedelta(seconds=min(_MAX_BACKOFF_SECONDS, 2.0 ** (armed.attempts - 1)))
        retry_at = now + backoff
        if armed.attempts > max_retries or retry_at - armed.scheduled > max_age:
            return False
        armed.fire_at = retry_at
        return True

    def _dead_letter(self, armed: _Armed, error: Exception) -> None:
        dlq_arn = (armed.target.get("DeadLetterConfig") or {}).get("Arn")
        if not dlq_arn:
            log.error("schedule %s dropped after %d attempts: %r", armed.name, armed.attempts, error)
            return
        queue_url = self._sqs.get_queue_url(QueueName=dlq_arn.rsplit(":", 1)[-1])["QueueUrl"]
        attributes = {
            "ERROR_CODE": type(error).__name__,
            "ERROR_MESSAGE": str(error)[:256] or type(error).__name__,
            "RETRY_ATTEMPTS": str(armed.attempts),
            "TARGET_ARN": armed.target.get("Arn", ""),
            "SCHEDULE_ARN": f"{self._group}/{armed.name}",
        }
        self._sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=armed.target.get("Input") or "{}",
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )
        log.error("schedule %s sent to its DLQ after %d attempts: %r", armed.name, armed.attempts, error)

    def _complete(self, armed: _Armed) -> None:
        self._armed.pop(armed.name, None)
        if not armed.delete_after:
            self._done.add((armed.name, armed.modified))
            return
        with contextlib.suppress(ClientError):  # already deleted (punctual cancelled it meanwhile)
            self._scheduler.delete_schedule(GroupName=self._group, Name=armed.name)

    # -- the loop ---------------------------------------------------------------------------------------

    def run(self, stop: threading.Event, refresh_seconds: float = 1.0) -> None:
        """Until ``stop`` is set: re-read the group every ``refresh_seconds`` (punctual arms wake-ups minutes
        ahead, and a schedule is re-read just before it fires) and fire each schedule at its instant. With
        many schedules a listing takes long; the pause grows with it so listing stays a small load."""
        next_refresh = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() >= next_refresh:
                    started = time.monotonic()
                    self.refresh()
                    took = time.monotonic() - started
                    next_refresh = time.monotonic() + max(refresh_seconds, 10 * took)
                self.fire_due()
            except Exception:
                log.exception("scheduler emulation pass failed")
            wait = max(0.0, next_refresh - time.monotonic())
            upcoming = self.next_fire_at()
            if upcoming is not None:
                wait = min(wait, (upcoming - self._now()).total_seconds())
            stop.wait(max(0.005, wait))  # never spin, even when a pass keeps failing
