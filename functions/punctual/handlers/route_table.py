"""Which methods a path answers, decided before Powertools routes: the source of 404 and 405.

Powertools' REST resolver ignores any number of trailing slashes (``/tasks//`` is ``/tasks``) and tries
literal routes before ``<param>`` routes per method only, so ``GET /tasks/bulk-delete`` would reach
``GET /tasks/<task_id>``. Here a path is matched segment by segment; among the rules that match, the most
literal ones win (``/tasks/bulk-delete`` over ``/tasks/<task_id>``), and their methods are the path's
``Allow``. One trailing slash is tolerated; an empty segment (``/tasks//``, or ``/tasks/%2F`` once decoded)
names nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PARAMETER = re.compile(r"^<\w+>$")


@dataclass(frozen=True)
class _Rule:
    segments: tuple[str | None, ...]  # None: a parameter segment
    methods: set[str] = field(default_factory=set, compare=False)

    @property
    def literal_count(self) -> int:
        return sum(segment is not None for segment in self.segments)

    def matches(self, segments: tuple[str, ...]) -> bool:
        return len(segments) == len(self.segments) and all(
            rule is None or rule == given for rule, given in zip(self.segments, segments, strict=True)
        )


class RouteTable:
    def __init__(self) -> None:
        self._rules: dict[tuple[str | None, ...], _Rule] = {}

    def add(self, method: str, rule: str) -> None:
        segments = tuple(None if _PARAMETER.match(part) else part for part in _segments(rule) or ())
        self._rules.setdefault(segments, _Rule(segments)).methods.add(method.upper())

    def allowed(self, path: str) -> frozenset[str]:
        """The methods ``path`` answers; empty when no route has that shape."""
        segments = _segments(path)
        if segments is None:
            return frozenset()
        matching = [rule for rule in self._rules.values() if rule.matches(segments)]
        if not matching:
            return frozenset()
        most_literal = max(rule.literal_count for rule in matching)
        return frozenset(
            method for rule in matching if rule.literal_count == most_literal for method in rule.methods
        )


def _segments(path: str) -> tuple[str, ...] | None:
    """``/tasks/x/runs`` -> ("tasks", "x", "runs"); None for a path with an empty segment."""
    if not path.startswith("/"):
        return None
    trimmed = path[1:].removesuffix("/") if len(path) > 1 else ""
    if not trimmed:
        return ()
    parts = tuple(trimmed.split("/"))
    return None if "" in parts else parts
