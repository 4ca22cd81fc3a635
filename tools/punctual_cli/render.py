"""Output: rich tables and panels for people, JSON for scripts (``--json``)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import typer
from punctual_client import CreatedItem, FiredEvent, PunctualError, Run, Task
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text


def instant(value: datetime | None) -> str:
    if value is None:
        return ""
    text = value.astimezone(UTC).isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return instant(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def print_json(value: Any, *, compact: bool = False) -> None:
    text = (
        json.dumps(jsonable(value), separators=(",", ":"))
        if compact
        else json.dumps(jsonable(value), indent=2)
    )
    typer.echo(text)


def console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def schedule(task: Task) -> str:
    if task.at is not None:
        return f"at {instant(task.at)}"
    if task.every is not None:
        return f"every {task.every}"
    return f"cron {task.cron}" + (f" ({task.timezone})" if task.timezone != "UTC" else "")


def _metadata(values: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def _fields(title: str, rows: Iterable[tuple[str, str]], style: str = "cyan") -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for key, value in rows:
        if value:
            grid.add_row(key, Text(value))
    return Panel(grid, title=title, title_align="left", border_style=style, expand=False)


def task(value: Task, title: str, as_json: bool) -> None:
    if as_json:
        print_json(value)
        return
    rows = [
        ("id", value.id),
        ("name", value.name or ""),
        ("status", value.status),
        ("schedule", schedule(value)),
        ("timezone", value.timezone),
        ("start_at", instant(value.start_at)),
        ("end_at", instant(value.end_at)),
        ("next_run_at", instant(value.next_run_at)),
        ("last_run_at", instant(value.last_run_at)),
        ("misfire", value.misfire),
        ("message", "" if value.message is None else _compact(value.message)),
        ("metadata", _metadata(value.metadata)),
        ("version", str(value.version)),
        ("created_at", instant(value.created_at)),
    ]
    console().print(_fields(title, rows))


def tasks(values: list[Task], as_json: bool) -> None:
    if as_json:
        print_json(values)
        return
    table = Table(header_style="bold")
    for column in ("id", "name", "status", "schedule", "next_run_at", "metadata"):
        table.add_column(column, overflow="fold", no_wrap=column == "id")
    for value in values:
        table.add_row(
            value.id,
            value.name or "",
            value.status,
            schedule(value),
            instant(value.next_run_at),
            _metadata(value.metadata),
        )
    out = console()
    out.print(table)
    out.print(f"{len(values)} task{'s' if len(values) != 1 else ''}")


def created(values: list[CreatedItem], as_json: bool) -> None:
    """A bulk create's results: one row per task of the file, created or not and why."""
    if as_json:
        print_json(values)
        return
    table = Table(header_style="bold")
    for column in ("#", "status", "id", "schedule / error"):
        table.add_column(column, overflow="fold", no_wrap=column in ("#", "id"))
    for value in values:
        if value.task is not None:
            outcome = "created" if value.created else "exists"
            table.add_row(str(value.index), outcome, value.task.id, schedule(value.task))
        else:
            error = value.error
            reason = "" if error is None else error.message
            if error is not None and error.details:
                reason += " (" + "; ".join(f"{d.field}: {d.message}" for d in error.details) + ")"
            table.add_row(str(value.index), Text(str(value.status_code), style="red"), "", reason)
    out = console()
    out.print(table)
    failed = sum(1 for value in values if not value.ok)
    out.print(
        f"{len(values) - failed} of {len(values)} task{'s' if len(values) != 1 else ''} created or found"
    )


_RUN_STYLES = {"completed": "green", "failed": "red", "skipped": "yellow"}


def run(value: Run, title: str, as_json: bool) -> None:
    if as_json:
        print_json(value)
        return
    rows = [
        ("tracking_id", value.tracking_id),
        ("task_id", value.task_id),
        ("task_name", value.task_name or ""),
        ("status", value.status),
        ("kind", value.kind),
        ("scheduled_for", instant(value.scheduled_for)),
        ("triggered_at", instant(value.triggered_at)),
        ("started_at", instant(value.started_at)),
        ("completed_at", instant(value.completed_at)),
        ("fired_at", instant(value.fired_at)),
        ("lateness_ms", "" if value.lateness_ms is None else str(value.lateness_ms)),
        ("attempt", str(value.attempt) if value.attempt else ""),
        ("missed", str(value.missed_occurrences) if value.missed_occurrences else ""),
        ("error", value.error or ""),
    ]
    console().print(_fields(title, rows, _RUN_STYLES.get(value.status, "cyan")))


def event(value: FiredEvent, as_json: bool) -> None:
    """One line per fired event (``--json``: one compact JSON object per line)."""
    if as_json:
        print_json(value, compact=True)
        return
    line = Text()
    line.append(instant(value.fired_at), style="dim")
    line.append("  fired  ", style="bold green")
    line.append(value.name or "-", style="bold")
    line.append(f"  task {value.task_id}  run {value.tracking_id}  {value.run_kind}")
    line.append(f"  +{value.lateness_ms} ms", style="yellow" if value.lateness_ms >= 1000 else "dim")
    if value.missed_occurrences:
        line.append(f"  missed {value.missed_occurrences}", style="yellow")
    if value.message is not None:
        line.append(f"  message {_compact(value.message)}")
    if value.metadata:
        line.append(f"  metadata {_metadata(value.metadata)}")
    console().print(line, soft_wrap=True)


def error(failure: PunctualError, as_json: bool) -> None:
    """The server's code and message (and each field detail) on standard error."""
    if as_json:
        body = {
            "error": {
                "status": failure.status,
                "code": failure.code,
                "message": failure.message,
                "details": [{"field": d.field, "message": d.message} for d in failure.details],
            }
        }
        typer.echo(json.dumps(body), err=True)
        return
    typer.echo(f"punctual: {failure.code}: {failure.message}", err=True)
    for detail in failure.details:
        typer.echo(f"  {detail.field}: {detail.message}", err=True)
