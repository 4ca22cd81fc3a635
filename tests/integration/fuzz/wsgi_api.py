"""The API handler as a WSGI application, for schemathesis in-process.

The request goes through the same translation ``punctual dev`` applies (local/gateway.py: ``proxy_event`` in,
``http_response`` out), so what is fuzzed here is the handler exactly as API Gateway would call it, without
a socket. The path arrives percent-decoded, as uvicorn and API Gateway hand it over.

API Gateway's key check (``apiKeyRequired`` on every route but ``GET /health``, infra/api.py) is played
here as on AWS: a missing or unknown ``x-api-key`` is its 403 ``{"message": "Forbidden"}`` before the
handler runs. ``punctual dev`` accepts any key and none, so this is where the document's security is tested.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from punctual.handlers import api
from punctual.local.gateway import gateway_error, http_response, proxy_event

from tests.integration.api.harness import FakeLambdaContext

# WSGI puts these two in the environ without the HTTP_ prefix.
_UNPREFIXED_HEADERS = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}


KEYLESS_PATHS = frozenset({"/health", "/health/"})


class WsgiApi:
    """Counts the requests it answered and the statuses, for the test's report."""

    def __init__(self, api_keys: frozenset[str]) -> None:
        self.api_keys = api_keys
        self.requests = 0
        self.statuses: dict[int, int] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        event = proxy_event(
            method=environ["REQUEST_METHOD"],
            # PEP 3333 carries the path's bytes as latin-1; uvicorn decodes them as UTF-8, replacing errors.
            path=environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace") or "/",
            query=parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True),
            headers=_headers(environ),
            body=body,
        )
        if event["path"] not in KEYLESS_PATHS and environ.get("HTTP_X_API_KEY") not in self.api_keys:
            status, headers, payload = gateway_error(403, "Forbidden")
        else:
            status, headers, payload = http_response(api.handler(event, FakeLambdaContext()))
        self.requests += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        start_response(f"{status} {_phrase(status)}", headers)
        return [payload]


def _headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    headers = [
        (key[5:].replace("_", "-").title(), str(value))
        for key, value in environ.items()
        if key.startswith("HTTP_")
    ]
    headers += [(name, str(environ[key])) for key, name in _UNPREFIXED_HEADERS.items() if environ.get(key)]
    return headers


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
