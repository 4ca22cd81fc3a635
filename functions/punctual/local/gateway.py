"""The local API Gateway: HTTP requests become REST API proxy events for the real api handler.

As API Gateway does, the ``x-api-key`` header is resolved to an API key id in
``requestContext.identity.apiKeyId`` (the tenant); any key is accepted locally, each one its own tenant,
and a request without a key has no key identity, so the handler's default tenant applies. A handler that raises, or answers
something that is not a proxy response, becomes API Gateway's 502; bodies beyond API Gateway's 10 MB
get 413 without reaching the handler. ``GET /events`` (fired events as Server-Sent Events), ``GET /docs``
(Swagger UI) and ``GET /ui/`` (the dashboard) are served here, not by the handler (local/static_files.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import anyio.to_thread
import uvicorn
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.types import Receive, Scope, Send

from punctual.local.fired_events import EventHub
from punctual.local.resources import ACCOUNT_ID
from punctual.local.static_files import (
    SWAGGER_UI_MISSING,
    SWAGGER_UI_PAGE,
    StaticFolder,
    dashboard_folder,
    swagger_ui_folder,
)

log = logging.getLogger("punctual_dev.gateway")

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
STAGE = "local"

Invoke = Callable[[Any], Any]


def api_key_id(api_key: str | None) -> str | None:
    """The id API Gateway would report for a key: stable per key value, never the secret itself. Without a
    key there is no identity and the handler uses its default tenant."""
    if not api_key:
        return None
    return "key-" + hashlib.sha256(api_key.encode()).hexdigest()[:16]


def proxy_event(
    *,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str = "127.0.0.1",
    now_ms: int | None = None,
) -> dict[str, Any]:
    """An API Gateway REST API (v1) proxy integration event for a ``/{proxy+}`` resource."""
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {}
    for name, value in query:
        multi_query.setdefault(name, []).append(value)
    single_headers = {name: values[-1] for name, values in multi_headers.items()}
    lowered = {name.lower(): value for name, value in single_headers.items()}
    api_key = lowered.get("x-api-key") or None

    # The stack declares no binary media types, so API Gateway hands every body over as text, bytes that are
    # not UTF-8 as U+FFFD; the handler refuses such a body (handlers/json_body.py), here as on AWS.
    text = body.decode("utf-8", errors="replace") if body else None

    request_time = now_ms if now_ms is not None else int(time.time() * 1000)
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method.upper(),
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": path.lstrip("/")} if path.strip("/") else None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": "/{proxy+}",
            "httpMethod": method.upper(),
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(request_time / 1000)),
            "requestTimeEpoch": request_time,
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": lowered.get("host", "localhost"),
            "identity": {
                "apiKey": api_key,
                "apiKeyId": api_key_id(api_key),
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent"),
                "accountId": None,
                "caller": None,
                "user": None,
                "userArn": None,
            },
        },
        "body": text,
        "isBase64Encoded": False,
    }


def gateway_error(status: int, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """API Gateway's own error responses (not the handler's envelope): ``{"message": ...}``."""
    return status, [("content-type", "application/json")], json.dumps({"message": message}).encode()


def http_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Translate a proxy integration response; anything malformed is API Gateway's 502."""
    if not isinstance(result, Mapping):
        return gateway_error(502, "Internal server error")
    status = result.get("statusCode")
    if not isinstance(status, int) or not 100 <= status <= 599:
        return gateway_error(502, "Internal server error")
    headers: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values or []:
            headers.append((str(name).lower(), str(value)))
        seen.add(str(name).lower())
    for name, value in (result.get("headers") or {}).items():
        if str(name).lower() not in seen:
            headers.append((str(name).lower(), str(value)))
    body = result.get("body") or ""
    if not isinstance(body, str):
        return gateway_error(502, "Internal server error")
    try:
        payload = (
            base64.b64decode(body, validate=True) if result.get("isBase64Encoded") else body.encode("utf-8")
        )
    except ValueError:
        return gateway_error(502, "Internal server error")
    headers = [
        (name, value) for name, value in headers if name not in ("content-length", "transfer-encoding")
    ]
    return status, headers, payload


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


# The dashboard's pages may call an API on another origin (the URL given at sign-in) but load nothing else.
DASHBOARD_HEADERS = {
    "content-security-policy": "default-src 'self'; connect-src 'self' http: https:; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
}


def static_response(folder: StaticFolder, relative: str, request: Request) -> Response:
    found = folder.get(relative)
    if found is None:
        return PlainTextResponse("not found", status_code=404)
    headers = dict(DASHBOARD_HEADERS)
    body = found.body
    if found.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        body = found.gzipped
        headers["content-encoding"] = "gzip"
        headers["vary"] = "accept-encoding"
    return Response(body, media_type=found.content_type, headers=headers)


class Gateway:
    """The ASGI application."""

    def __init__(self, api: Invoke, hub: EventHub, *, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self._api, self._hub, self._max_body = api, hub, max_body_bytes
        self._dashboard, self._swagger_ui = dashboard_folder(), swagger_ui_folder()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response: Response
        if request.method == "GET" and scope["path"] == "/events":
            response = StreamingResponse(
                self._hub.stream(),
                media_type="text/event-stream",
                headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
            )
        elif request.method == "GET" and (static := self._static(scope["path"], request)) is not None:
            response = static
        else:
            status, headers, payload = await self._proxy(request)
            response = Response(payload, status_code=status)
            for name, value in headers:
                response.headers.append(name, value)
        await response(scope, receive, send)

    def _static(self, path: str, request: Request) -> Response | None:
        """The dashboard (``/ui/``) and Swagger UI (``/docs``), or None for a path of the API."""
        if path == "/ui":
            return RedirectResponse("/ui/", status_code=308)
        if path == "/ui/config.json":  # a stage deploys its own, naming its API; here the API is this origin
            origin = f"{request.url.scheme}://{request.url.netloc}"
            return JSONResponse({"apiUrl": origin}, headers=DASHBOARD_HEADERS)
        if path.startswith("/ui/"):
            return static_response(self._dashboard, path.removeprefix("/ui/") or "index.html", request)
        if path in ("/docs", "/docs/"):
            if not self._swagger_ui.available:
                return HTMLResponse(SWAGGER_UI_MISSING, status_code=503)
            return HTMLResponse(SWAGGER_UI_PAGE)
        if path.startswith("/docs/"):
            return static_response(self._swagger_ui, path.removeprefix("/docs/"), request)
        return None

    async def _proxy(self, request: Request) -> tuple[int, list[tuple[str, str]], bytes]:
        try:
            body = await _read_body(request, self._max_body)
        except _TooLarge:
            return gateway_error(413, "Request Too Long")
        event = proxy_event(
            method=request.method,
            path=request.url.path,
            query=request.query_params.multi_items(),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]],
            body=body,
            source_ip=request.client.host if request.client else "127.0.0.1",
        )
        try:
            result = await anyio.to_thread.run_sync(self._api, event)
        except Exception:
            log.exception("api handler failed on %s %s", request.method, request.url.path)
            return gateway_error(502, "Internal server error")
        return http_response(result)

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


class ServingThread:
    """An ASGI app served by uvicorn on a background thread (signals stay with the main thread).
    Port 0 picks a free port; ``port`` tells which."""

    def __init__(self, app: Any, host: str, port: int, *, startup_timeout: float = 10.0) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"gateway-{port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + startup_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise OSError(f"could not serve on {host}:{port}")
            time.sleep(0.01)
        self.port: int = self._server.servers[0].sockets[0].getsockname()[1]

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
