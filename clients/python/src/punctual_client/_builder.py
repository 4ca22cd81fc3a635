"""The fluent form, for both clients: ``client.task("billOnDemand").message({...}).run_once(at)``.
Generic over what submitting returns: a ``Task`` for ``Punctual``, an awaitable one for ``AsyncPunctual``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Generic, Self, TypeVar

from punctual_client import _core
from punctual_client.models import Task

R = TypeVar("R")


class TaskBuilder(Generic[R]):
    def __init__(self, submit: Callable[[_core.Call[Task]], R], name: str | None = None) -> None:
        self._submit = submit
        self._fields: dict[str, Any] = {"name": name}
        self._metadata: dict[str, str] = {}

    def message(self, message: Any) -> Self:
        self._fields["message"] = message
        return self

    def metadata(self, values: Mapping[str, str] | None = None, /, **more: str) -> Self:
        self._metadata.update(values or {})
        self._metadata.update(more)
        return self

    def timezone(self, timezone: str) -> Self:
        self._fields["timezone"] = timezone
        return self

    def between(self, start_at: _core.Instant | None = None, end_at: _core.Instant | None = None) -> Self:
        self._fields["start_at"] = start_at
        self._fields["end_at"] = end_at
        return self

    def misfire(self, policy: str) -> Self:
        self._fields["misfire"] = policy
        return self

    def idempotency_key(self, key: str) -> Self:
        self._fields["idempotency_key"] = key
        return self

    def run_once(self, at: _core.Instant | timedelta) -> R:
        """At an instant (aware datetime or ISO string), or after a timedelta from now."""
        if isinstance(at, timedelta):
            return self._create(in_=at)
        return self._create(at=at)

    def run_every(self, every: int | str | timedelta, unit: str | None = None) -> R:
        """``run_every(5, "minutes")``, ``run_every("5 minutes")``, ``run_every(timedelta(...))``, or a cron
        expression: ``run_every("0 0/5 0 ? * * *")``."""
        if isinstance(every, int):
            if unit is None:
                raise ValueError("run_every(n, unit): give the unit, e.g. run_every(5, 'minutes')")
            return self._create(every=(every, unit))
        if unit is not None:
            raise ValueError("a unit goes only with a count: run_every(5, 'minutes')")
        if isinstance(every, str) and _core.looks_like_cron(every):
            return self._create(cron=every)
        return self._create(every=every)

    def _create(self, **schedule: Any) -> R:
        fields = {key: value for key, value in self._fields.items() if value is not None}
        return self._submit(_core.create_task(**schedule, **fields, metadata=self._metadata or None))
