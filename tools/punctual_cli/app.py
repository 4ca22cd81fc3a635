"""The ``punctual`` commands beyond ``punctual dev``: tasks, runs and fired events, over punctual-client, and
``tenants`` (API keys of a deployed stage, with boto3).

``punctual.local.cli:main`` hands every command line that does not start with ``dev`` to ``run`` here (a lazy
import, so nothing of typer or rich is loaded by ``punctual dev`` or by a Lambda)."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import httpx
import typer
from punctual_client import Conflict, CreatedItem, FiredEvent, NotFound, Punctual, PunctualError, Task

from punctual_cli import parsing, render, tail, tenants

DEFAULT_URL = "http://127.0.0.1:8000"

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_CONFLICT = 0, 1, 2, 3, 4
BULK_PER_REQUEST = 100  # POST /tasks/bulk's limit

EPILOG = (
    "Target: --url / PUNCTUAL_URL (default http://127.0.0.1:8000, punctual dev), --api-key / PUNCTUAL_API_KEY, "
    "--user / PUNCTUAL_USER (PUNCTUAL_SECRET for a stage with a shared secret).\n\n"
    "Exit codes: 0 ok; 1 an API error (its code and message on stderr), a failed run or a timeout; "
    "2 bad usage; 3 not found; 4 conflict (the task changed state)."
)


def transport() -> httpx.BaseTransport | None:
    """The HTTP transport of every request (None: the network). Tests replace this with a MockTransport."""
    return None


def sqs_client(queue_url: str, endpoint_url: str | None) -> Any:
    """The SQS client ``events tail --queue-url`` polls with. Tests replace this with a fake."""
    return tail.sqs_client(queue_url, endpoint_url)


@dataclass(frozen=True)
class Settings:
    url: str
    api_key: str | None
    user: str | None
    as_json: bool
    stage: str | None = None
    region: str | None = None

    def client(self) -> Punctual:
        url, api_key = self.url, self.api_key
        if self.stage is not None:
            url, stage_key = tenants.stage_target(self.stage, self.region)
            api_key = api_key or stage_key
        return Punctual(url=url, api_key=api_key, user=self.user, transport=transport())


app = typer.Typer(
    name="punctual",
    help="punctual: a task scheduler that fires on the second.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
tasks_app = typer.Typer(help="Create, list, change and run tasks.", no_args_is_help=True, epilog=EPILOG)
runs_app = typer.Typer(help="Follow a run (a run-now's tracking id).", no_args_is_help=True, epilog=EPILOG)
events_app = typer.Typer(help="Watch fired events.", no_args_is_help=True, epilog=EPILOG)
app.add_typer(tasks_app, name="tasks")
app.add_typer(runs_app, name="runs")
app.add_typer(events_app, name="events")
app.add_typer(tenants.tenants_app, name="tenants")


@app.callback()
def _root(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Option(envvar="PUNCTUAL_URL", metavar="URL", help="the API's base URL")
    ] = DEFAULT_URL,
    api_key: Annotated[
        str | None, typer.Option(envvar="PUNCTUAL_API_KEY", metavar="KEY", help="x-api-key")
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(envvar="PUNCTUAL_USER", metavar="USER", help="narrow to one user of the tenant"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON for scripts")] = False,
    stage: Annotated[
        str | None,
        typer.Option(
            envvar="PUNCTUAL_STAGE",
            metavar="NAME",
            help="a deployed stage: the URL and the stack's API key from stack punctual-NAME's outputs",
        ),
    ] = None,
    region: Annotated[
        str | None, typer.Option(envvar="AWS_REGION", metavar="REGION", help="the stage's region")
    ] = None,
) -> None:
    ctx.obj = Settings(
        url=url,
        api_key=api_key or None,
        user=user or None,
        as_json=as_json,
        stage=stage or None,
        region=region or None,
    )


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.find_root().obj
    assert isinstance(settings, Settings)
    return settings


@contextlib.contextmanager
def _api(settings: Settings) -> Iterator[Punctual]:
    """A client; an API error ends the command with its exit code and the server's code and message."""
    try:
        with settings.client() as client:
            yield client
    except PunctualError as failure:
        render.error(failure, settings.as_json)
        code = EXIT_NOT_FOUND if isinstance(failure, NotFound) else EXIT_ERROR
        raise typer.Exit(EXIT_CONFLICT if isinstance(failure, Conflict) else code) from None
    except ValueError as failure:  # the SDK refused the arguments before sending anything
        typer.echo(f"punctual: {failure}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


def _one_of(**given: Any) -> str:
    named = [name for name, value in given.items() if value is not None]
    if len(named) != 1:
        options = ", ".join(f"--{name.rstrip('_').replace('_', '-')}" for name in given)
        raise typer.BadParameter(f"give exactly one of {options}")
    return named[0]


class Misfire(StrEnum):
    skip = "skip"
    fire_once = "fire_once"


TaskId = Annotated[str, typer.Argument(metavar="ID", help="the task's id")]
MetaOption = Annotated[
    list[str] | None, typer.Option("--meta", metavar="KEY=VALUE", help="metadata (repeatable)")
]
InOption = Annotated[
    str | None, typer.Option("--in", metavar="DURATION", help="after 10s, 5m, 2h, 1d, 1h30m, ...")
]


# --- tasks ----------------------------------------------------------------------------------------
@tasks_app.command("create")
def tasks_create(
    ctx: typer.Context,
    at: Annotated[
        str | None,
        typer.Option(metavar="INSTANT", help="once, at an ISO-8601 instant (2026-12-01T09:00:00Z)"),
    ] = None,
    in_: InOption = None,
    every: Annotated[
        str | None, typer.Option(metavar="INTERVAL", help='repeating: "30 seconds", "5 minutes", "1 hour"')
    ] = None,
    cron: Annotated[
        str | None, typer.Option(metavar="EXPR", help="repeating: Unix, EventBridge or Quartz cron")
    ] = None,
    tz: Annotated[
        str | None, typer.Option("--tz", metavar="ZONE", help="IANA time zone of --at/--cron")
    ] = None,
    name: Annotated[str | None, typer.Option(metavar="NAME", help="the task's name")] = None,
    message: Annotated[
        str | None, typer.Option(metavar="JSON|@FILE", help="the message: JSON, @file or @- (stdin)")
    ] = None,
    meta: MetaOption = None,
    misfire: Annotated[Misfire | None, typer.Option(help="after downtime: skip or fire_once")] = None,
    start_at: Annotated[
        str | None, typer.Option(metavar="INSTANT", help="repeating from this instant")
    ] = None,
    end_at: Annotated[
        str | None, typer.Option(metavar="INSTANT", help="repeating until this instant")
    ] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(metavar="KEY", help="the same key never makes two tasks")
    ] = None,
) -> None:
    """Schedule a task: exactly one of --at, --in, --every, --cron."""
    settings = _settings(ctx)
    _one_of(at=at, in_=in_, every=every, cron=cron)
    body = parsing.message(message)
    with _api(settings) as client:
        task = client.tasks.create(
            at=at,
            in_=None if in_ is None else parsing.duration(in_),
            every=every,
            cron=cron,
            timezone=tz,
            start_at=start_at,
            end_at=end_at,
            name=name,
            message=body,
            metadata=parsing.metadata(meta),
            misfire=None if misfire is None else misfire.value,
            idempotency_key=idempotency_key,
        )
    render.task(task, "task created", settings.as_json)


@tasks_app.command("create-bulk")
def tasks_create_bulk(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Option(
            "--file",
            metavar="FILE|-",
            help='a JSON list of tasks as POST /tasks takes them ([{"at": "...", "message": ...}, ...]); - for stdin',
        ),
    ],
) -> None:
    """Create many tasks from a JSON file, 100 per request (POST /tasks/bulk): one result per task, in the
    file's order; exit 1 if any task was refused (the others are created)."""
    settings = _settings(ctx)
    tasks = parsing.task_list(file)
    results: list[CreatedItem] = []
    with _api(settings) as client:
        for first in range(0, len(tasks), BULK_PER_REQUEST):
            for result in client.tasks.bulk_create(tasks[first : first + BULK_PER_REQUEST]):
                results.append(dataclasses.replace(result, index=first + result.index))
    render.created(results, settings.as_json)
    if not all(result.ok for result in results):
        raise typer.Exit(EXIT_ERROR)


@tasks_app.command("list")
def tasks_list(
    ctx: typer.Context,
    status: Annotated[
        list[str] | None,
        typer.Option(
            metavar="STATUS", help="scheduled, paused, completed, cancelled, failed or all (repeatable)"
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(metavar="NAME", help="only tasks of this name")] = None,
    meta: MetaOption = None,
    limit: Annotated[int | None, typer.Option(min=1, help="at most this many tasks")] = None,
) -> None:
    """List tasks (by default the live ones: scheduled and paused), following every page."""
    settings = _settings(ctx)
    metadata = parsing.metadata(meta)
    with _api(settings) as client:
        found = []
        for task in client.tasks.list(status=status or None, name=name, metadata=metadata):
            found.append(task)
            if limit is not None and len(found) >= limit:
                break
    render.tasks(found, settings.as_json)


def _one_task(ctx: typer.Context, title: str, call: Callable[[Punctual], Task]) -> None:
    """Run one call that answers a task, and show that task."""
    settings = _settings(ctx)
    with _api(settings) as client:
        task = call(client)
    render.task(task, title, settings.as_json)


@tasks_app.command("get")
def tasks_get(ctx: typer.Context, task_id: TaskId) -> None:
    """Show one task."""
    _one_task(ctx, "task", lambda client: client.tasks.get(task_id))


@tasks_app.command("cancel")
def tasks_cancel(ctx: typer.Context, task_id: TaskId) -> None:
    """Cancel a task: nothing of it fires after this returns."""
    _one_task(ctx, "task cancelled", lambda client: client.tasks.cancel(task_id))


@tasks_app.command("pause")
def tasks_pause(ctx: typer.Context, task_id: TaskId) -> None:
    """Pause a task (it keeps its schedule, and fires nothing until resumed)."""
    _one_task(ctx, "task paused", lambda client: client.tasks.pause(task_id))


@tasks_app.command("resume")
def tasks_resume(ctx: typer.Context, task_id: TaskId) -> None:
    """Resume a paused task."""
    _one_task(ctx, "task resumed", lambda client: client.tasks.resume(task_id))


@tasks_app.command("reschedule")
def tasks_reschedule(
    ctx: typer.Context,
    task_id: TaskId,
    at: Annotated[str | None, typer.Option(metavar="INSTANT", help="the new ISO-8601 instant")] = None,
    in_: InOption = None,
) -> None:
    """Move a task to a new instant: exactly one of --at, --in."""
    settings = _settings(ctx)
    _one_of(at=at, in_=in_)
    when: str | datetime = at if at is not None else datetime.now(UTC) + parsing.duration(in_ or "")
    with _api(settings) as client:
        task = client.tasks.reschedule(task_id, when)
    render.task(task, "task rescheduled", settings.as_json)


@tasks_app.command("run")
def tasks_run(
    ctx: typer.Context,
    task_id: TaskId,
    wait: Annotated[bool, typer.Option("--wait", help="wait for the run's final status")] = False,
    timeout: Annotated[float, typer.Option(min=0, help="seconds --wait waits")] = 30.0,
) -> None:
    """Run a task now (once, besides its schedule); prints the tracking id."""
    settings = _settings(ctx)
    with _api(settings) as client:
        run = client.tasks.run_now(task_id)
        if wait:
            run = _wait(client, run.tracking_id, timeout, settings)
    render.run(run, "run", settings.as_json)
    if run.status == "failed":
        raise typer.Exit(EXIT_ERROR)


# --- runs -----------------------------------------------------------------------------------------
TrackingId = Annotated[str, typer.Argument(metavar="TRACKING_ID", help="the run's tracking id")]


def _wait(client: Punctual, tracking_id: str, timeout: float, settings: Settings) -> Any:
    try:
        return client.runs.wait(tracking_id, timeout=timeout)
    except TimeoutError as error:
        render.error(PunctualError(0, "timeout", str(error)), settings.as_json)
        raise typer.Exit(EXIT_ERROR) from None


@runs_app.command("get")
def runs_get(ctx: typer.Context, tracking_id: TrackingId) -> None:
    """Show a run."""
    settings = _settings(ctx)
    with _api(settings) as client:
        run = client.runs.get(tracking_id)
    render.run(run, "run", settings.as_json)


@runs_app.command("wait")
def runs_wait(
    ctx: typer.Context,
    tracking_id: TrackingId,
    timeout: Annotated[float, typer.Option(min=0, help="seconds to wait")] = 30.0,
) -> None:
    """Wait until a run is completed, failed or skipped (exit 1 if failed or still going at --timeout)."""
    settings = _settings(ctx)
    with _api(settings) as client:
        run = _wait(client, tracking_id, timeout, settings)
    render.run(run, "run", settings.as_json)
    if run.status == "failed":
        raise typer.Exit(EXIT_ERROR)


# --- events ---------------------------------------------------------------------------------------
@events_app.command("tail")
def events_tail(
    ctx: typer.Context,
    queue_url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="long-poll this SQS queue (the stack's EventsQueueUrl) instead of punctual dev's /events",
        ),
    ] = None,
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            metavar="URL", help="the SQS endpoint (default: AWS, or the queue URL's host if not AWS)"
        ),
    ] = None,
    count: Annotated[int | None, typer.Option(min=1, help="stop after this many events")] = None,
    task: Annotated[str | None, typer.Option("--task", metavar="ID", help="only this task's events")] = None,
    name: Annotated[
        str | None, typer.Option(metavar="NAME", help="only events of tasks of this name")
    ] = None,
) -> None:
    """Print fired events as they happen, until Ctrl-C (or --count). Against punctual dev it reads the
    GET /events stream; with --queue-url it receives from that queue and deletes what it printed."""
    settings = _settings(ctx)

    def on_event(event: FiredEvent) -> bool:
        if (task is not None and event.task_id != task) or (name is not None and event.name != name):
            return False
        render.event(event, settings.as_json)
        return True

    def on_subscribed() -> None:
        source = queue_url or f"{settings.url.rstrip('/')}/events"
        typer.echo(f"punctual: listening for fired events on {source} (Ctrl-C to stop)", err=True)

    def on_bad(problem: str) -> None:
        typer.echo(f"punctual: skipped, not a fired event: {problem}", err=True)

    try:
        if queue_url is None:
            with _api(settings) as client:
                headers = client.config.headers()
                tail.tail_sse(settings.url, headers, transport(), count, on_subscribed, on_event, on_bad)
        else:
            sqs = sqs_client(queue_url, endpoint_url)
            tail.tail_sqs(sqs, queue_url, count, on_subscribed, on_event, on_bad)
    except KeyboardInterrupt:
        typer.echo("punctual: stopped", err=True)
    except httpx.TransportError as failure:
        render.error(
            PunctualError(0, "connection_error", f"{type(failure).__name__}: {failure}"), settings.as_json
        )
        raise typer.Exit(EXIT_ERROR) from None


# --- punctual dev (listed here; punctual.local.cli runs it) ---------------------------------------
@app.command(
    "dev",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def dev(ctx: typer.Context) -> None:
    """Run all of punctual on this machine with emulated AWS (punctual dev --help for its flags)."""
    from punctual.local.cli import main as local_main

    raise typer.Exit(local_main(["dev", *ctx.args]))


def run(argv: Sequence[str]) -> int:
    """Runs one command line; returns the exit code."""
    try:
        app(args=list(argv), prog_name="punctual")
    except SystemExit as exit_:
        code = exit_.code
        if code is None:
            return EXIT_OK
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK
