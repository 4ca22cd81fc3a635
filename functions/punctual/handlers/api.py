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
    import dataclasses
    import functools
    import json
    import re
    from collections.abc import Callable
    from http import HTTPStatus
    from typing import Any, TypeVar

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
    from punctual.handlers.observability import logger, metrics
    from punctual.handlers.openapi_document import DocumentedRoute, build_document
    from punctual.handlers.presenters import bulk_json, run_json, task_json
    from punctual.handlers.request_inputs import Inputs, Param, read_inputs
    from punctual.handlers.request_models import (
        BulkDeleteBody,
        BulkRescheduleBody,
        CreateTaskBody,
        PipedreamCancel,
        PipedreamSchedule,
        UpdateTaskBody,
    )
    from punctual.service.commands import (
        BulkDelete,
        BulkReschedule,
        CreateTask,
        ListTasks,
        RescheduleItem,
        ScheduleInput,
        TaskFilterInput,
        UpdateTask,
    )

MAX_BODY_BYTES = 256 * 1024
USER_HEADER = "X-Punctual-User"
SECRET_HEADERS = ("X-Punctual-Secret", "x-pd-secret")  # the second is what Pipedream's own clients send
IDEMPOTENCY_HEADER = "Idempotency-Key"
METADATA_QUERY_PREFIX = "metadata."
# Reachable without the shared secret: load balancer / uptime checks and API discovery.
OPEN_PATHS = frozenset({"/health", "/openapi.json"})
# Pipedream clients send the secret in the body.
BODY_SECRET_PATHS = frozenset({"/schedule", "/cancel"})

# Routing only: inputs are read by each route (request_inputs.read_inputs), so Powertools' OpenAPI
# validation, and the model tree it needs, stay out of cold starts.
app = APIGatewayRestResolver()
http_errors.register(app)

F = TypeVar("F", bound=Callable[..., Any])
_ROUTES: list[DocumentedRoute] = []
_PATTERNS: list[tuple[str, re.Pattern[str]]] = []


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
) -> Callable[[F], F]:
    """Register a route: the function gets its path parameters and its validated inputs as keywords
    (``body`` for the body). ``answer`` names a model of handlers/response_models.py for the document.
    (method, path) is remembered so a wrong method is a 405."""
    inputs = Inputs(body=body, query=query, headers=headers)
    _PATTERNS.append((method, re.compile("^" + re.sub(r"<\w+>", "[^/]+", rule) + "$")))

    def register(function: F) -> F:
        _ROUTES.append(DocumentedRoute(method, rule, function.__name__, summary, tag, answer, errors, inputs))

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
    return Context.of(tenant, event.headers.get(USER_HEADER) or None)


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
    command = CreateTask(schedule=ScheduleInput(at=body.timestamp), message=body.message)
    try:
        task, _ = _punctual().tasks.create(_caller(), command)
    except PunctualError as error:
        # The service names the instant "at"; a Pipedream client sent it as "timestamp".
        details = [ErrorDetail("timestamp", d.message) if d.field == "at" else d for d in error.details]
        raise dataclasses.replace(error, details=details) from error
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
        raw = app.current_event.body
        body = PipedreamCancel.model_validate_json(raw) if raw else None
        if body is None:
            raise ValidationError("id is required", [ErrorDetail("id", "this field is required")])
        task_id = body.id
    return _cancelled(task_id)


# --- tasks ------------------------------------------------------------------------------------------
@route(
    "POST",
    "/tasks",
    summary="Create a task: once (at), by interval (every) or by cron",
    tag="tasks",
    answer=(201, "TaskOut", "Created; 200 with the first task when the idempotency key was seen"),
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
    command = CreateTask(
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
        idempotency_key=key or idempotency_header,
        misfire=body.misfire,
        target=body.target,
        retry=body.retry,
        overlap=body.overlap,
    )
    task, created = _punctual().tasks.create(_caller(), command)
    return _json(HTTPStatus.CREATED if created else HTTPStatus.OK, task_json(task))


@route(
    "GET",
    "/tasks",
    summary="List the caller's tasks (filter by status, name, metadata.KEY=VALUE)",
    tag="tasks",
    answer=(200, "TaskPageOut", "One page, newest first"),
    query=(
        Param("status", max_length=128),
        Param("name", max_length=256),
        Param("limit", int),
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


# PATCH fields whose explicit null means nothing (not "clear"): dropped from what the caller changes.
_NULL_MEANS_ABSENT = frozenset({"at", "every", "cron", "paused", "misfire", "overlap"})


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
    provided = frozenset(
        name
        for name in body.model_fields_set
        if not (name in _NULL_MEANS_ABSENT and getattr(body, name) is None)
    )
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
    query=(Param("limit", int), Param("cursor", max_length=4096)),
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
    path = app.current_event.path
    allowed = sorted({method for method, pattern in _PATTERNS if pattern.match(path)})
    if allowed:
        error = PunctualError(
            f"{app.current_event.http_method} is not allowed on {path}",
            [ErrorDetail("method", f"allowed: {', '.join(allowed)}")],
            code="method_not_allowed",
        )
        return _json(
            HTTPStatus.METHOD_NOT_ALLOWED, http_errors.error_body(error), {"Allow": ", ".join(allowed)}
        )
    error = PunctualError(f"no route {path}", [ErrorDetail("path", "no such route")], code="route_not_found")
    return _json(HTTPStatus.NOT_FOUND, http_errors.error_body(error))


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
    if len(body) > MAX_BODY_BYTES:
        return http_errors.proxy_error(
            PayloadTooLargeError(
                f"the request body is over {MAX_BODY_BYTES} bytes",
                [ErrorDetail("body", f"{len(body)} bytes; the limit is {MAX_BODY_BYTES}")],
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
    if refused is not None:
        logger.info("request refused before routing", status=refused["statusCode"])
        return refused
    return app.resolve(event, context)
