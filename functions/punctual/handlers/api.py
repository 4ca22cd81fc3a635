"""The HTTP API behind API Gateway (REST proxy integration): parse, call one use case, present.

Before routing, two checks that must not depend on the body's shape: the size limit (413) and the
optional shared secret (401). Everything else is routes; errors become JSON in handlers/http_errors.py.
Powertools routes; each route's query, headers and body are checked by handlers/request_inputs.py, and the
OpenAPI document is built on its first request (handlers/openapi_document.py), never at a cold start.
"""

from __future__ import annotations

from punctual.handlers.coldstart import collector_paused

# Imported with the garbage collector paused, then frozen: see handlers/coldstart.py.
with collector_paused():
    import base64
    import binascii
    import functools
    import json
    from collections.abc import Callable
    from http import HTTPStatus
    from typing import Any, TypeVar

    import pydantic
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
    from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
    from aws_lambda_powertools.logging import correlation_paths
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from pydantic import BaseModel

    from punctual import bootstrap
    from punctual.domain.errors import (
        ErrorDetail,
        PayloadTooLargeError,
        PunctualError,
        UnauthorizedError,
        ValidationError,
    )
    from punctual.domain.model import Context
    from punctual.domain.timefmt import format_optional
    from punctual.handlers import http_errors
    from punctual.handlers.cors import cors_config
    from punctual.handlers.observability import logger, metrics
    from punctual.handlers.openapi_document import DocumentedRoute, build_document
    from punctual.handlers.presenters import bulk_create_json, bulk_json, preview_json, run_json, task_json
    from punctual.handlers.request_inputs import Inputs, Param, read_inputs, read_json_body
    from punctual.handlers.request_models import (
        BulkCreateBody,
        BulkDeleteBody,
        BulkRescheduleBody,
        CreateTaskBody,
        PipedreamCancel,
        PipedreamSchedule,
        SchedulePreviewBody,
        UpdateTaskBody,
    )
    from punctual.handlers.route_table import RouteTable
    from punctual.service.commands import (
        BulkCreate,
        BulkDelete,
        BulkReschedule,
        CreateTask,
        ListTasks,
        RescheduleItem,
        ScheduleInput,
        TaskFilterInput,
        UpdateTask,
    )
    from punctual.service.previews import PreviewSchedule
    from punctual.service.settings import ServiceSettings

MAX_BODY_BYTES = 256 * 1024
# POST /tasks/bulk carries up to 100 tasks: four times the single limit (each task's message still has its own
# limit). Its answer echoes every task, so it stays far below Lambda's 6 MB response payload.
BULK_CREATE_PATH = "/tasks/bulk"
BULK_MAX_BODY_BYTES = 4 * MAX_BODY_BYTES
USER_HEADER = "X-Punctual-User"
SECRET_HEADERS = ("X-Punctual-Secret", "x-pd-secret")  # the second is what Pipedream's own clients send
IDEMPOTENCY_HEADER = "Idempotency-Key"
METADATA_QUERY_PREFIX = "metadata."
MAX_PAGE_SIZE = ServiceSettings().max_page_size  # the document's bound on ?limit=; the service enforces it
# Reachable without the shared secret: load balancer / uptime checks and API discovery.
OPEN_PATHS = frozenset({"/health", "/openapi.json"})
# API Gateway requires an API key on every route but these (infra/api.py).
KEYLESS_PATHS = frozenset({"/health"})
# Pipedream clients send the secret in the body.
BODY_SECRET_PATHS = frozenset({"/schedule", "/cancel"})

# Routing only: inputs are read by each route (request_inputs.read_inputs), so Powertools' OpenAPI
# validation, and the model tree it needs, stay out of cold starts.
app = APIGatewayRestResolver(cors=cors_config())  # CORS only when a stage names its dashboard's origin
http_errors.register(app)

F = TypeVar("F", bound=Callable[..., Any])
_ROUTES: list[DocumentedRoute] = []
_TABLE = RouteTable()


def route(
    method: str,
    rule: str,
    *,
    summary: str,
    tag: str,
    answer: tuple[int, str | None, str],
    errors: tuple[int, ...] = (),
    body: type[BaseModel] | None = None,
    query: tuple[Param, ...] = (),
    headers: tuple[Param, ...] = (),
    also: tuple[tuple[int, str | None, str], ...] = (),
) -> Callable[[F], F]:
    """Register a route: the function gets its path parameters and its validated inputs as keywords
    (``body`` for the body). ``answer`` names a model of handlers/response_models.py for the document.
    (method, rule) is remembered so that a wrong method is a 405 and a path of no route's shape a 404."""
    inputs = Inputs(body=body, query=query, headers=headers)
    _TABLE.add(method, rule)

    def register(function: F) -> F:
        _ROUTES.append(
            DocumentedRoute(
                method,
                rule,
                function.__name__,
                summary,
                tag,
                answer,
                errors,
                inputs,
                open=rule in KEYLESS_PATHS,
                also=also,
            )
        )

        def with_inputs(**path: str) -> Any:
            return function(**path, **read_inputs(app.current_event, inputs))

        app.route(rule, method)(with_inputs)
        return function

    return register


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body),
        headers=headers,
    )


def _punctual() -> bootstrap.Punctual:
    return bootstrap.current_app()


def _caller() -> Context:
    """The tenant is API Gateway's API key identity; ``X-Punctual-User`` narrows it to one user."""
    event = app.current_event
    tenant = event.request_context.identity.api_key_id or _punctual().env.DEFAULT_TENANT
    # An empty header is an invalid user, not an absent one (Context.of refuses it).
    return Context.of(tenant, event.headers.get(USER_HEADER))


# --- Pipedream-compatible ---------------------------------------------------------------------------
@route(
    "POST",
    "/schedule",
    summary="Schedule a one-time task (Pipedream-compatible)",
    tag="pipedream",
    answer=(200, "ScheduledOut", "Scheduled"),
    errors=(413, 422),
    body=PipedreamSchedule,
)
def pipedream_schedule(body: PipedreamSchedule) -> Response[str]:
    command = CreateTask(
        schedule=ScheduleInput(at=body.timestamp, at_field="timestamp"), message=body.message
    )
    task, _ = _punctual().tasks.create(_caller(), command)
    return _json(
        HTTPStatus.OK,
        {
            "id": task.id,
            "message": f"Scheduled task at {format_optional(task.schedule.at)}",
            "task": task_json(task),
        },
    )


def _cancelled(task_id: str) -> Response[str]:
    task = _punctual().tasks.cancel(_caller(), task_id)
    return _json(HTTPStatus.OK, {"id": task.id, "status": task.status.value})


@route(
    "POST",
    "/cancel",
    summary="Cancel a task (Pipedream-compatible)",
    tag="pipedream",
    answer=(200, "CancelledOut", "Cancelled (also when it already was)"),
    errors=(404, 409),
    body=PipedreamCancel,
)
def pipedream_cancel(body: PipedreamCancel) -> Response[str]:
    return _cancelled(body.id)


@route(
    "DELETE",
    "/cancel",
    summary="Cancel a task by ?id= or a JSON body {id}",
    tag="pipedream",
    answer=(200, "CancelledOut", "Cancelled (also when it already was)"),
    errors=(404, 409),
    query=(Param("task_id", alias="id", min_length=1, max_length=64),),
)
def pipedream_cancel_delete(task_id: str | None) -> Response[str]:
    if task_id is None:
        document = read_json_body(app.current_event)
        if document is None:
            raise ValidationError("id is required", [ErrorDetail("id", "this field is required")])
        task_id = PipedreamCancel.model_validate(document).id
    return _cancelled(task_id)


# --- tasks ------------------------------------------------------------------------------------------
@route(
    "POST",
    "/tasks",
    summary="Create a task: once (at), by interval (every) or by cron",
    tag="tasks",
    answer=(201, "TaskOut", "Created"),
    also=(
        (200, "TaskOut", "The same request with an idempotency key already seen: the first task, unchanged"),
    ),
    errors=(409, 413, 422),
    body=CreateTaskBody,
    headers=(Param("idempotency_header", alias=IDEMPOTENCY_HEADER, max_length=255),),
)
def create_task(body: CreateTaskBody, idempotency_header: str | None) -> Response[str]:
    key = body.idempotency_key
    if idempotency_header is not None and key is not None and idempotency_header != key:
        raise ValidationError(
            "the Idempotency-Key header and idempotency_key differ",
            [ErrorDetail("idempotency_key", "must equal the Idempotency-Key header when both are given")],
        )
    task, created = _punctual().tasks.create(_caller(), _create_command(body, key or idempotency_header))
    return _json(HTTPStatus.CREATED if created else HTTPStatus.OK, task_json(task))


def _create_command(body: CreateTaskBody, idempotency_key: str | None) -> CreateTask:
    return CreateTask(
        schedule=ScheduleInput(
            at=body.at,
            every=body.every,
            cron=body.cron,
            timezone=body.timezone,
            start_at=body.start_at,
            end_at=body.end_at,
        ),
        name=body.name,
        message=body.message,
        metadata=dict(body.metadata),
        idempotency_key=idempotency_key,
        misfire=body.misfire,
        target=body.target,
        retry=body.retry,
        overlap=body.overlap,
    )


@route(
    "POST",
    BULK_CREATE_PATH,
    summary="Create up to 100 tasks, each as the body of POST /tasks (idempotency_key per item)",
    tag="bulk",
    answer=(200, "BulkCreateOut", "One result per item, in order: 201, 200 (key seen) or the item's error"),
    errors=(413,),
    body=BulkCreateBody,
)
def bulk_create(body: BulkCreateBody) -> Response[str]:
    command = BulkCreate(items=[_bulk_item(item) for item in body.tasks])
    return _json(HTTPStatus.OK, bulk_create_json(_punctual().tasks.create_many(_caller(), command)))


def _bulk_item(item: dict[str, Any]) -> CreateTask | PunctualError:
    """One item read as POST /tasks reads its body; an unreadable one becomes its own 400, fields named
    within the item."""
    try:
        body = CreateTaskBody.model_validate(item)
    except pydantic.ValidationError as error:
        return http_errors.validation_error_from(
            {**detail, "loc": ("body", *detail["loc"])} for detail in error.errors()
        )
    return _create_command(body, body.idempotency_key)


@route(
    "GET",
    "/tasks",
    summary="List the caller's tasks (filter by status, name, metadata.KEY=VALUE)",
    tag="tasks",
    answer=(200, "TaskPageOut", "One page, newest first"),
    query=(
        Param("status", max_length=128),
        Param("name", max_length=256),
        Param("limit", int, ge=1, le=MAX_PAGE_SIZE),
        Param("cursor", max_length=4096),
    ),
)
def list_tasks(status: str | None, name: str | None, limit: int | None, cursor: str | None) -> Response[str]:
    query = app.current_event.query_string_parameters or {}
    metadata = {
        key.removeprefix(METADATA_QUERY_PREFIX): value
        for key, value in query.items()
        if key.startswith(METADATA_QUERY_PREFIX)
    }
    if "" in metadata:
        raise ValidationError(
            "metadata filters need a key", [ErrorDetail("metadata.", "expected metadata.KEY=VALUE")]
        )
    page = _punctual().tasks.list(
        _caller(), ListTasks(status=status, name=name, metadata=metadata, limit=limit, cursor=cursor)
    )
    return _json(
        HTTPStatus.OK, {"tasks": [task_json(task) for task in page.items], "next_cursor": page.next_cursor}
    )


@route(
    "POST",
    "/tasks/bulk-delete",
    summary="Cancel tasks by ids or by filter",
    tag="bulk",
    answer=(200, "BulkOut", "One result per task"),
    body=BulkDeleteBody,
)
def bulk_delete(body: BulkDeleteBody) -> Response[str]:
    task_filter = None
    if body.filter is not None:
        task_filter = TaskFilterInput(
            status=body.filter.status, name=body.filter.name, metadata=dict(body.filter.metadata)
        )
    results = _punctual().tasks.bulk_delete(_caller(), BulkDelete(ids=body.ids, filter=task_filter))
    return _json(HTTPStatus.OK, bulk_json(results))


@route(
    "POST",
    "/tasks/bulk-reschedule",
    summary="Move one-time tasks to new instants",
    tag="bulk",
    answer=(200, "BulkOut", "One result per update"),
    body=BulkRescheduleBody,
)
def bulk_reschedule(body: BulkRescheduleBody) -> Response[str]:
    command = BulkReschedule(updates=[RescheduleItem(id=item.id, at=item.at) for item in body.updates])
    return _json(HTTPStatus.OK, bulk_json(_punctual().tasks.bulk_reschedule(_caller(), command)))


@route(
    "GET",
    "/tasks/<task_id>",
    summary="Get a task",
    tag="tasks",
    answer=(200, "TaskOut", "The task"),
    errors=(404,),
)
def get_task(task_id: str) -> Response[str]:
    return _json(HTTPStatus.OK, task_json(_punctual().tasks.get(_caller(), task_id)))


@route(
    "PATCH",
    "/tasks/<task_id>",
    summary="Reschedule, change recurrence, pause or resume",
    tag="tasks",
    answer=(200, "TaskOut", "The task after the change"),
    errors=(404, 409, 413, 422),
    body=UpdateTaskBody,
)
def update_task(task_id: str, body: UpdateTaskBody) -> Response[str]:
    provided = frozenset(body.model_fields_set)
    command = UpdateTask(
        provided=provided,
        schedule=ScheduleInput(
            at=body.at,
            every=body.every,
            cron=body.cron,
            timezone=body.timezone,
            start_at=body.start_at,
            end_at=body.end_at,
        ),
        paused=body.paused,
        name=body.name,
        message=body.message,
        metadata=None if "metadata" not in provided else dict(body.metadata or {}),
        misfire=body.misfire,
        target=body.target,  # null: back to the topic
        retry=body.retry,  # null: the stage's defaults
        overlap=body.overlap,
    )
    return _json(HTTPStatus.OK, task_json(_punctual().tasks.update(_caller(), task_id, command)))


@route(
    "DELETE",
    "/tasks/<task_id>",
    summary="Cancel a task",
    tag="tasks",
    answer=(200, "TaskOut", "The cancelled task"),
    errors=(404, 409),
)
def delete_task(task_id: str) -> Response[str]:
    return _json(HTTPStatus.OK, task_json(_punctual().tasks.cancel(_caller(), task_id)))


# --- runs -------------------------------------------------------------------------------------------
@route(
    "POST",
    "/tasks/<task_id>/runs",
    summary="Run a task now; answers a tracking id",
    tag="runs",
    answer=(202, "RunOut", "Accepted: the run is pending"),
    errors=(404, 409),
)
def run_now(task_id: str) -> Response[str]:
    return _json(HTTPStatus.ACCEPTED, run_json(_punctual().runs.run_now(_caller(), task_id)))


@route(
    "GET",
    "/tasks/<task_id>/runs",
    summary="A task's runs, newest first",
    tag="runs",
    answer=(200, "RunPageOut", "One page of runs"),
    errors=(404,),
    query=(Param("limit", int, ge=1, le=MAX_PAGE_SIZE), Param("cursor", max_length=4096)),
)
def list_runs(task_id: str, limit: int | None, cursor: str | None) -> Response[str]:
    page = _punctual().runs.history(_caller(), task_id, limit=limit, cursor=cursor)
    return _json(
        HTTPStatus.OK, {"runs": [run_json(run) for run in page.items], "next_cursor": page.next_cursor}
    )


@route(
    "GET",
    "/runs/<tracking_id>",
    summary="A run's status by tracking id",
    tag="runs",
    answer=(200, "RunOut", "The run"),
    errors=(404,),
)
def get_run(tracking_id: str) -> Response[str]:
    return _json(HTTPStatus.OK, run_json(_punctual().runs.get(_caller(), tracking_id)))


# --- schedules --------------------------------------------------------------------------------------
@route(
    "POST",
    "/schedules/preview",
    summary="The next occurrences of a schedule (validated as POST /tasks would), without creating a task",
    tag="schedules",
    answer=(200, "SchedulePreviewOut", "The normalized schedule and its next occurrences"),
    errors=(422,),
    body=SchedulePreviewBody,
)
def preview_schedule(body: SchedulePreviewBody) -> Response[str]:
    schedule = ScheduleInput(
        at=body.at,
        every=body.every,
        cron=body.cron,
        timezone=body.timezone,
        start_at=body.start_at,
        end_at=body.end_at,
    )
    preview = _punctual().previews.preview(PreviewSchedule(schedule=schedule, count=body.count))
    return _json(HTTPStatus.OK, preview_json(preview))


@route(
    "POST",
    "/runs/<tracking_id>/retry",
    summary="Replay a failed lambda/https run (a fresh round of its retry policy)",
    tag="runs",
    answer=(202, "RunOut", "Accepted: the run is pending again"),
    errors=(404, 409),
)
def retry_run(tracking_id: str) -> Response[str]:
    return _json(HTTPStatus.ACCEPTED, run_json(_punctual().runs.retry(_caller(), tracking_id)))


# --- signing ----------------------------------------------------------------------------------------
@route(
    "GET",
    "/signing-secret",
    summary="The caller's secret for verifying Punctual-Signature on HTTPS target calls",
    tag="signing",
    answer=(200, "SigningSecretOut", "The current secret"),
)
def get_signing_secret() -> Response[str]:
    secret = _punctual().signing.secret_for(_caller().tenant)
    return _json(HTTPStatus.OK, {"secret": secret, "header": "Punctual-Signature"})


@route(
    "POST",
    "/signing-secret/rotate",
    summary="Replace the caller's signing secret (calls are signed with the new one at once)",
    tag="signing",
    answer=(200, "SigningSecretOut", "The new secret"),
)
def rotate_signing_secret() -> Response[str]:
    secret = _punctual().signing.rotate(_caller().tenant)
    return _json(HTTPStatus.OK, {"secret": secret, "header": "Punctual-Signature"})


# --- service ----------------------------------------------------------------------------------------
@route("GET", "/health", summary="Liveness", tag="service", answer=(200, "HealthOut", "Up"))
def health() -> Response[str]:
    return _json(HTTPStatus.OK, {"status": "ok"})


@route(
    "GET",
    "/openapi.json",
    summary="This document",
    tag="service",
    answer=(200, None, "The OpenAPI 3.1 document"),
)
def openapi_document() -> Response[str]:
    return Response(
        status_code=HTTPStatus.OK.value, content_type=content_types.APPLICATION_JSON, body=_openapi()
    )


@functools.cache
def _openapi() -> str:
    return build_document(_ROUTES)


@app.not_found
def unknown_route(_: RouteNotFound) -> Response[str]:
    """The path has a route's shape and the method is allowed (``misrouted`` let it through), but Powertools
    would not route it: a path parameter holds a character no id has (a quote, NUL, a non-breaking space,
    U+FFFD for bytes that were not UTF-8). No record has such an id."""
    path = app.current_event.path
    error = PunctualError(f"nothing at {path}", [ErrorDetail("path", "no such record")], code="not_found")
    return _json(HTTPStatus.NOT_FOUND, http_errors.error_body(error))


def misrouted(event: dict[str, Any]) -> dict[str, Any] | None:
    """A 404 for a path of no route's shape, a 405 (with ``Allow``) for a method its route does not take."""
    path, method = str(event.get("path") or ""), str(event.get("httpMethod") or "").upper()
    allowed = _TABLE.allowed(path)
    if not allowed:
        error = PunctualError(
            f"no route {path}", [ErrorDetail("path", "no such route")], code="route_not_found"
        )
        return http_errors.proxy_error(error, HTTPStatus.NOT_FOUND)
    if method in allowed:
        return None
    listed = ", ".join(sorted(allowed))
    error = PunctualError(
        f"{method} is not allowed on {path}",
        [ErrorDetail("method", f"allowed: {listed}")],
        code="method_not_allowed",
    )
    return http_errors.proxy_error(error, HTTPStatus.METHOD_NOT_ALLOWED, {"Allow": listed})


# --- before routing ---------------------------------------------------------------------------------
def _body_bytes(event: dict[str, Any]) -> bytes:
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            return raw.encode("utf-8", "surrogatepass")
    return raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else b""


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _presented_secret(event: dict[str, Any], body: bytes) -> str | None:
    for name in SECRET_HEADERS:
        value = _header(event, name)
        if value:
            return value
    if event.get("path") in BODY_SECRET_PATHS and body:
        try:
            parsed = json.loads(body)
        except ValueError:
            return None
        secret = parsed.get("secret") if isinstance(parsed, dict) else None
        return secret if isinstance(secret, str) else None
    return None


def refusal(event: dict[str, Any]) -> dict[str, Any] | None:
    """A 413 or 401 answer for a request that must not reach a route, else None."""
    body = _body_bytes(event)
    limit = BULK_MAX_BODY_BYTES if event.get("path") == BULK_CREATE_PATH else MAX_BODY_BYTES
    if len(body) > limit:
        return http_errors.proxy_error(
            PayloadTooLargeError(
                f"the request body is over {limit} bytes",
                [ErrorDetail("body", f"{len(body)} bytes; the limit is {limit}")],
            )
        )
    if event.get("path") in OPEN_PATHS:
        return None
    secret = _punctual().shared_secret
    if secret.configured and not secret.matches(_presented_secret(event, body)):
        return http_errors.proxy_error(
            UnauthorizedError("missing or wrong secret", [ErrorDetail("secret", "missing or wrong secret")])
        )
    return None


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        refused = refusal(event)
    except PunctualError as error:  # the secret could not be read: Secrets Manager failed or throttled
        logger.warning("could not check the shared secret", reason=error.message)
        return http_errors.proxy_error(error)
    refused = refused or misrouted(event)
    if refused is not None:
        logger.info("request refused before routing", status=refused["statusCode"])
        return refused
    return app.resolve(event, context)
