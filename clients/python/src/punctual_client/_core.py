"""What the sync and the async client share: configuration, each operation as a transport-free ``Call``
(method, path, query, body, headers, whether it is safe to repeat, how to parse its answer), error
mapping and the retry policy. The two clients only send a ``Call`` and sleep between attempts."""

from __future__ import annotations

import email.utils
import os
import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from punctual_client.errors import ErrorDetail, PunctualError, RateLimited, Unavailable, error_class
from punctual_client.models import Cancelled, CreatedItem, ItemResult, Run, Task

T = TypeVar("T")

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_BACKOFF = 0.5  # seconds: the first retry waits up to this, each next one up to twice as long
DEFAULT_MAX_BACKOFF = 20.0
RETRY_STATUSES = frozenset({429, 503})
BULK_DELETE_PAGE = 100  # a filtered bulk delete cancels at most this many tasks per call
BULK_CREATE_MAX = 100  # tasks per POST /tasks/bulk
CREATE_FIELDS = frozenset(
    {
        "at",
        "in_",
        "every",
        "cron",
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

USER_HEADER = "X-Punctual-User"
SECRET_HEADER = "X-Punctual-Secret"
IDEMPOTENCY_HEADER = "Idempotency-Key"

UPDATE_FIELDS = frozenset(
    {
        "at",
        "every",
        "cron",
        "timezone",
        "start_at",
        "end_at",
        "paused",
        "name",
        "message",
        "metadata",
        "misfire",
    }
)
_INSTANT_FIELDS = frozenset({"at", "start_at", "end_at"})

Instant = datetime | str
Every = tuple[int, str] | str | timedelta


@dataclass(frozen=True)
class Config:
    url: str
    api_key: str | None = None
    user: str | None = None
    secret: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    backoff: float = DEFAULT_BACKOFF
    max_backoff: float = DEFAULT_MAX_BACKOFF
    rand: Callable[[], float] = random.random
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def resolve(
        cls,
        url: str | None,
        api_key: str | None,
        user: str | None,
        secret: str | None,
        timeout: float,
        max_retries: int,
        backoff: float,
        max_backoff: float,
        rand: Callable[[], float] | None,
        clock: Callable[[], float] | None,
    ) -> Config:
        """Arguments first, then PUNCTUAL_URL, PUNCTUAL_API_KEY, PUNCTUAL_USER, PUNCTUAL_SECRET."""
        url = url or os.environ.get("PUNCTUAL_URL")
        if not url:
            raise ValueError("no url: pass url= or set PUNCTUAL_URL")
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        return cls(
            url=url.rstrip("/"),
            api_key=api_key if api_key is not None else os.environ.get("PUNCTUAL_API_KEY") or None,
            user=user if user is not None else os.environ.get("PUNCTUAL_USER") or None,
            secret=secret if secret is not None else os.environ.get("PUNCTUAL_SECRET") or None,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            max_backoff=max_backoff,
            rand=rand or random.random,
            clock=clock or time.monotonic,
        )

    def headers(self) -> dict[str, str]:
        headers = {"accept": "application/json", "user-agent": "punctual-client-python/0.1.0"}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        if self.user:
            headers[USER_HEADER] = self.user
        if self.secret:
            headers[SECRET_HEADER] = self.secret
        return headers


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API request, independent of the transport. ``retry_safe``: repeating it cannot do twice
    what was meant once (reads, creates under an idempotency key, cancels, absolute updates)."""

    method: str
    path: str
    parse: Callable[[Any], T]
    retry_safe: bool
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    def request(self, http: httpx.Client | httpx.AsyncClient, config: Config) -> httpx.Request:
        return http.build_request(
            self.method,
            config.url + self.path,
            params=self.params or None,
            json=self.body if self.has_body else None,
            headers={**config.headers(), **self.headers},
            timeout=config.timeout,
        )


# --- answers --------------------------------------------------------------------------------------
def parse_response(call: Call[T], response: httpx.Response) -> T:
    if response.status_code >= 400:
        raise error_from(response)
    try:
        data = response.json() if response.content else None
    except ValueError as error:
        raise PunctualError(
            response.status_code, "invalid_response", f"the answer is not JSON: {response.text[:200]!r}"
        ) from error
    return call.parse(data)


def error_from(response: httpx.Response) -> PunctualError:
    status = response.status_code
    code, message, details = f"http_{status}", response.reason_phrase or f"HTTP {status}", []
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or code)
        message = str(error.get("message") or message)
        details = [
            ErrorDetail(str(d.get("field", "")), str(d.get("message", "")))
            for d in error.get("details") or []
            if isinstance(d, dict)
        ]
    cls = error_class(status)
    if cls is RateLimited:
        return RateLimited(status, code, message, details, retry_after(response.headers.get("Retry-After")))
    return cls(status, code, message, details)


def connection_error(error: httpx.TransportError) -> Unavailable:
    return Unavailable(0, "connection_error", f"{type(error).__name__}: {error}")


def retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def retry_delay(config: Config, call: Call[Any], attempt: int, error: PunctualError) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or None when the error is final: exponential
    backoff with full jitter, or the server's Retry-After when it gave one."""
    if not call.retry_safe or attempt >= config.max_retries:
        return None
    if not (error.status == 0 or error.status in RETRY_STATUSES):
        return None
    hinted = error.retry_after if isinstance(error, RateLimited) else None
    if hinted is not None:
        return hinted
    return config.rand() * min(config.max_backoff, config.backoff * 2.0**attempt)


# --- values ---------------------------------------------------------------------------------------
def instant(value: Instant, name: str) -> str:
    """An aware datetime as UTC ISO-8601 with Z; a string as given (the server reads it)."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be an aware datetime (with tzinfo), got a naive one: {value!r}")
        text = value.astimezone(UTC).isoformat(timespec="milliseconds" if value.microsecond else "seconds")
        return text.replace("+00:00", "Z")
    if isinstance(value, str):
        return value
    raise TypeError(f"{name} must be a datetime or an ISO-8601 string, got {type(value).__name__}")


def every_text(value: Every) -> str:
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        if seconds <= 0 or seconds != int(seconds):
            raise ValueError(f"every must be a positive whole number of seconds, got {value!r}")
        return f"{int(seconds)} seconds"
    if isinstance(value, tuple):
        count, unit = value
        return f"{count} {unit}"
    return value


def looks_like_cron(text: str) -> bool:
    return text.startswith("@") or len(text.split()) >= 5


def _task(data: Any) -> Task:
    return Task.from_json(data)


def _run(data: Any) -> Run:
    return Run.from_json(data)


def _results(data: Any) -> list[ItemResult]:
    return [ItemResult.from_json(item) for item in data["results"]]


def _task_page(data: Any) -> Page[Task]:
    return Page([Task.from_json(item) for item in data["tasks"]], data.get("next_cursor"))


def _run_page(data: Any) -> Page[Run]:
    return Page([Run.from_json(item) for item in data["runs"]], data.get("next_cursor"))


def _id(value: str) -> str:
    if not value:
        raise ValueError("an id must not be empty")
    return quote(value, safe="")


# --- operations -----------------------------------------------------------------------------------
def create_task(
    *,
    at: Instant | None = None,
    in_: timedelta | None = None,
    every: Every | None = None,
    cron: str | None = None,
    timezone: str | None = None,
    start_at: Instant | None = None,
    end_at: Instant | None = None,
    name: str | None = None,
    message: Any = None,
    metadata: Mapping[str, str] | None = None,
    misfire: str | None = None,
    idempotency_key: str | None = None,
) -> Call[Task]:
    body = task_body(
        at=at,
        in_=in_,
        every=every,
        cron=cron,
        timezone=timezone,
        start_at=start_at,
        end_at=end_at,
        name=name,
        message=message,
        metadata=metadata,
        misfire=misfire,
    )
    # Generated here, once: every retry of this call carries the same key, so it never makes two tasks.
    key = idempotency_key or str(uuid.uuid4())
    return Call("POST", "/tasks", _task, True, body=body, has_body=True, headers={IDEMPOTENCY_HEADER: key})


def task_body(
    *,
    at: Instant | None = None,
    in_: timedelta | None = None,
    every: Every | None = None,
    cron: str | None = None,
    timezone: str | None = None,
    start_at: Instant | None = None,
    end_at: Instant | None = None,
    name: str | None = None,
    message: Any = None,
    metadata: Mapping[str, str] | None = None,
    misfire: str | None = None,
) -> dict[str, Any]:
    """The JSON body of one task to create (POST /tasks, or an item of POST /tasks/bulk)."""
    given = [
        label
        for label, value in (("at", at), ("in_", in_), ("every", every), ("cron", cron))
        if value is not None
    ]
    if len(given) != 1:
        raise ValueError(f"give exactly one of at, in_, every, cron (got {', '.join(given) or 'none'})")
    body: dict[str, Any] = {}
    if at is not None:
        body["at"] = instant(at, "at")
    elif in_ is not None:
        body["at"] = instant(datetime.now(UTC) + in_, "at")
    elif every is not None:
        body["every"] = every_text(every)
    else:
        body["cron"] = cron
    for key, value in (("start_at", start_at), ("end_at", end_at)):
        if value is not None:
            body[key] = instant(value, key)
    for key, value in (("timezone", timezone), ("name", name), ("misfire", misfire)):
        if value is not None:
            body[key] = value
    if message is not None:
        body["message"] = message
    if metadata:
        body["metadata"] = dict(metadata)
    return body


def _created(data: Any) -> list[CreatedItem]:
    return [CreatedItem.from_json(item) for item in data["results"]]


def bulk_create(tasks: Sequence[Mapping[str, Any]]) -> Call[list[CreatedItem]]:
    """Each of ``tasks`` holds ``create``'s keyword arguments. Every item gets an idempotency key (its own,
    or one generated here once), so a retry of the request creates nothing twice."""
    if not 1 <= len(tasks) <= BULK_CREATE_MAX:
        raise ValueError(f"give 1 to {BULK_CREATE_MAX} tasks, got {len(tasks)}")
    items = []
    for index, fields in enumerate(tasks):
        unknown = sorted(set(fields) - CREATE_FIELDS)
        if unknown:
            raise TypeError(f"tasks[{index}]: unknown task fields: {', '.join(unknown)}")
        given = {key: value for key, value in fields.items() if key != "idempotency_key"}
        item = task_body(**given)
        item["idempotency_key"] = fields.get("idempotency_key") or str(uuid.uuid4())
        items.append(item)
    return Call("POST", "/tasks/bulk", _created, True, body={"tasks": items}, has_body=True)


def get_task(task_id: str) -> Call[Task]:
    return Call("GET", f"/tasks/{_id(task_id)}", _task, True)


def list_tasks(
    *,
    status: str | Sequence[str] | None = None,
    name: str | None = None,
    metadata: Mapping[str, str] | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Call[Page[Task]]:
    params: dict[str, str] = {}
    if status is not None:
        params["status"] = status if isinstance(status, str) else ",".join(status)
    if name is not None:
        params["name"] = name
    for key, value in (metadata or {}).items():
        params[f"metadata.{key}"] = value
    if limit is not None:
        params["limit"] = str(limit)
    if cursor is not None:
        params["cursor"] = cursor
    return Call("GET", "/tasks", _task_page, True, params=params)


def update_task(task_id: str, fields: Mapping[str, Any]) -> Call[Task]:
    unknown = sorted(set(fields) - UPDATE_FIELDS)
    if unknown:
        raise TypeError(
            f"unknown task fields: {', '.join(unknown)} (known: {', '.join(sorted(UPDATE_FIELDS))})"
        )
    if not fields:
        raise ValueError("give at least one field to change")
    body: dict[str, Any] = {}
    for key, value in fields.items():
        if key in _INSTANT_FIELDS and value is not None:
            body[key] = instant(value, key)
        elif key == "every" and value is not None:
            body[key] = every_text(value)
        else:
            body[key] = value
    # Absolute values: applying the same PATCH twice leaves the task as once.
    return Call("PATCH", f"/tasks/{_id(task_id)}", _task, True, body=body, has_body=True)


def cancel_task(task_id: str) -> Call[Task]:
    return Call("DELETE", f"/tasks/{_id(task_id)}", _task, True)


def run_now(task_id: str) -> Call[Run]:
    # Not safe to repeat: a second POST would be a second run.
    return Call("POST", f"/tasks/{_id(task_id)}/runs", _run, False)


def list_runs(task_id: str, *, limit: int | None = None, cursor: str | None = None) -> Call[Page[Run]]:
    params: dict[str, str] = {}
    if limit is not None:
        params["limit"] = str(limit)
    if cursor is not None:
        params["cursor"] = cursor
    return Call("GET", f"/tasks/{_id(task_id)}/runs", _run_page, True, params=params)


def get_run(tracking_id: str) -> Call[Run]:
    return Call("GET", f"/runs/{_id(tracking_id)}", _run, True)


def bulk_delete(
    ids: Sequence[str] | None = None, filter: Mapping[str, Any] | None = None
) -> Call[list[ItemResult]]:
    if (ids is None) == (filter is None):
        raise ValueError("give exactly one of ids or filter")
    body: dict[str, Any] = {"ids": list(ids)} if ids is not None else {"filter": dict(filter or {})}
    return Call("POST", "/tasks/bulk-delete", _results, True, body=body, has_body=True)


def bulk_reschedule(updates: Sequence[tuple[str, Instant]]) -> Call[list[ItemResult]]:
    if not updates:
        raise ValueError("give at least one (id, at) pair")
    body = {"updates": [{"id": task_id, "at": instant(at, "at")} for task_id, at in updates]}
    return Call("POST", "/tasks/bulk-reschedule", _results, True, body=body, has_body=True)


def _scheduled(data: Any) -> Task:
    return Task.from_json(data["task"])


def _cancelled(data: Any) -> Cancelled:
    return Cancelled(str(data["id"]), str(data["status"]))


def pipedream_schedule(timestamp: Instant, message: Any = None) -> Call[Task]:
    # POST /schedule takes no idempotency key, so a retry could schedule twice: never repeated.
    body = {"timestamp": instant(timestamp, "timestamp"), "message": message}
    return Call("POST", "/schedule", _scheduled, False, body=body, has_body=True)


def pipedream_cancel(task_id: str) -> Call[Cancelled]:
    if not task_id:
        raise ValueError("an id must not be empty")
    return Call("POST", "/cancel", _cancelled, True, body={"id": task_id}, has_body=True)


def health() -> Call[dict[str, Any]]:
    return Call("GET", "/health", lambda data: dict(data), True)


def more_to_delete(results: list[ItemResult]) -> bool:
    """A filtered bulk delete that returned a full page may have left more; stop when nothing moved."""
    return len(results) >= BULK_DELETE_PAGE and any(result.ok for result in results)
