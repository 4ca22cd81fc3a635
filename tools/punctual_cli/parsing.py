"""What the command line gives, as the SDK takes it: ``--in`` durations, ``--message`` JSON (or ``@file``),
``--meta k=v`` pairs. Each raises ``typer.BadParameter`` (exit 2) on bad input."""

from __future__ import annotations

import json
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import typer

_DURATION = re.compile(r"(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?")


def duration(text: str) -> timedelta:
    """``10s``, ``5m``, ``2h``, ``1d`` and combinations in that order (``1h30m``, ``1d2h3m4s``); a bare
    number is seconds."""
    raw = text.strip().lower()
    if raw.isdigit():
        return timedelta(seconds=int(raw))
    match = _DURATION.fullmatch(raw)
    if not raw or match is None:
        raise typer.BadParameter(f"{text!r} is not a duration: use e.g. 10s, 5m, 2h, 1d or 1h30m")
    parts = {unit: int(value or 0) for unit, value in match.groupdict().items()}
    return timedelta(days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"])


def message(text: str | None) -> Any:
    """JSON text, ``@path`` (a file holding JSON) or ``@-`` (JSON on standard input); None stays None."""
    if text is None:
        return None
    source = "--message"
    if text.startswith("@"):
        where = text[1:]
        if where == "-":
            text, source = sys.stdin.read(), "standard input"
        else:
            try:
                text, source = Path(where).read_text(encoding="utf-8"), where
            except OSError as error:
                raise typer.BadParameter(f"cannot read {where}: {error.strerror or error}") from error
    try:
        return json.loads(text)
    except ValueError as error:
        raise typer.BadParameter(
            f"{source} is not JSON ({error}); a text message is a JSON string: --message '\"hi\"'"
        ) from error


def metadata(pairs: list[str] | None) -> dict[str, str] | None:
    """``["customer=c-17", "env=dev"]`` -> ``{"customer": "c-17", "env": "dev"}``; none -> None."""
    if not pairs:
        return None
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not KEY=VALUE")
        result[key] = value
    return result


# The fields of one task in a bulk file: POST /tasks's body.
SCHEDULE_FIELDS = ("at", "every", "cron")
TASK_FIELDS = frozenset(
    {
        *SCHEDULE_FIELDS,
        "timezone",
        "start_at",
        "end_at",
        "name",
        "message",
        "metadata",
        "misfire",
        "idempotency_key",
    }
)


def task_list(source: str) -> list[dict[str, Any]]:
    """A JSON file (``-``: standard input) holding a list of tasks as ``POST /tasks`` takes them, or
    ``{"tasks": [...]}`` as ``POST /tasks/bulk`` does."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise typer.BadParameter(f"cannot read {source}: {error.strerror or error}") from error
    try:
        document = json.loads(text)
    except ValueError as error:
        raise typer.BadParameter(f"{source} is not JSON ({error})") from error
    if isinstance(document, dict) and set(document) == {"tasks"}:
        document = document["tasks"]
    if not isinstance(document, list) or not document:
        raise typer.BadParameter(f'{source} must hold a non-empty JSON list of tasks (or {{"tasks": [...]}})')
    for index, item in enumerate(document):
        if not isinstance(item, dict):
            raise typer.BadParameter(f"{source}: task {index} is not a JSON object")
        unknown = sorted(set(item) - TASK_FIELDS)
        if unknown:
            raise typer.BadParameter(f"{source}: task {index} has unknown fields: {', '.join(unknown)}")
        if sum(item.get(name) is not None for name in SCHEDULE_FIELDS) != 1:
            raise typer.BadParameter(f"{source}: task {index} needs exactly one of at, every, cron")
    return document
