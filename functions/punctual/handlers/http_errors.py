"""The one place that turns errors into HTTP answers: ``{"error": {"code", "message", "details"}}``.

Domain errors map by class; request-shape errors (bad JSON, pydantic validation, wrong content type; see
handlers/request_inputs.py) are 400 with one detail per field. Anything unexpected is logged and answered with a generic 500 that leaks
nothing; bad input never reaches that branch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

import pydantic
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from punctual.domain.errors import (
    ConflictError,
    DependencyError,
    ErrorDetail,
    NotFoundError,
    PayloadTooLargeError,
    PunctualError,
    ThrottledError,
    UnauthorizedError,
    UnprocessableError,
    ValidationError,
)
from punctual.handlers.observability import logger

STATUS_BY_ERROR: Mapping[type[PunctualError], HTTPStatus] = {
    ValidationError: HTTPStatus.BAD_REQUEST,
    UnauthorizedError: HTTPStatus.UNAUTHORIZED,
    NotFoundError: HTTPStatus.NOT_FOUND,
    ConflictError: HTTPStatus.CONFLICT,
    PayloadTooLargeError: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    UnprocessableError: HTTPStatus.UNPROCESSABLE_ENTITY,
    ThrottledError: HTTPStatus.TOO_MANY_REQUESTS,
    DependencyError: HTTPStatus.SERVICE_UNAVAILABLE,
}
# Both answers invite a retry; a short hint keeps clients from hammering.
_RETRY_AFTER_SECONDS = "1"

JSON_HEADERS = {"Content-Type": content_types.APPLICATION_JSON}


def status_for(error: PunctualError) -> HTTPStatus:
    for cls in type(error).__mro__:
        status = STATUS_BY_ERROR.get(cls)
        if status is not None:
            return status
    return HTTPStatus.BAD_REQUEST


def error_body(error: PunctualError) -> dict[str, Any]:
    return {
        "error": {
            "code": error.code,
            "message": error.message,
            "details": [detail.as_dict() for detail in error.details],
        }
    }


def error_response(error: PunctualError, headers: Mapping[str, str] | None = None) -> Response[str]:
    status = status_for(error)
    all_headers = dict(headers or {})
    if status in (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE):
        all_headers["Retry-After"] = _RETRY_AFTER_SECONDS
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(error_body(error)),
        headers=all_headers,
    )


def proxy_error(
    error: PunctualError, status: HTTPStatus | None = None, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The same answer as a raw API Gateway proxy result, for checks made before routing (``status``
    overrides the error's own for the routing answers 404 and 405)."""
    return {
        "statusCode": (status or status_for(error)).value,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "body": json.dumps(error_body(error)),
        "isBase64Encoded": False,
    }


def _field_name(location: Sequence[Any]) -> str:
    """``("body", "updates", 0, "at")`` -> ``updates[0].at``; ``("query", "limit")`` -> ``limit``."""
    parts = (
        list(location[1:])
        if location and location[0] in ("body", "query", "path", "header")
        else list(location)
    )
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or (str(location[0]) if location else "body")


def _message(error: Mapping[str, Any]) -> str:
    kind = error.get("type")
    if kind == "json_invalid":
        return "the request body is not valid JSON"
    if kind == "missing":
        return "this field is required"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind in ("model_type", "dict_type"):
        return "expected a JSON object"
    text = str(error.get("msg") or kind or "invalid value")
    return text.removeprefix("Value error, ")


def validation_error_from(errors: Iterable[Mapping[str, Any]]) -> ValidationError:
    """A 400 with one detail per pydantic error (``loc`` starting with body, query or header), naming the field
    as the caller wrote it."""
    details: list[ErrorDetail] = []
    for error in errors:
        location = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            location = ("body",)
        details.append(ErrorDetail(_field_name(location), _message(error)))
    if any(error.message == "the request body is not valid JSON" for error in details):
        return ValidationError("the request body is not valid JSON", details)
    fields = ", ".join(dict.fromkeys(detail.field for detail in details))
    return ValidationError(f"invalid request: {fields}", details)


def domain_error_response(error: PunctualError) -> Response[str]:
    status = status_for(error)
    log = logger.warning if status >= HTTPStatus.INTERNAL_SERVER_ERROR else logger.info
    log("request refused", status=status.value, code=error.code, reason=error.message)
    return error_response(error)


def not_json_error() -> ValidationError:
    return ValidationError(
        "the request body must be JSON", [ErrorDetail("Content-Type", "expected application/json")]
    )


def model_invalid_response(error: pydantic.ValidationError) -> Response[str]:
    return domain_error_response(validation_error_from(error.errors()))


def unexpected_error_response(error: Exception) -> Response[str]:
    logger.exception("unexpected error")
    body = {"error": {"code": "internal_error", "message": "internal error", "details": []}}
    return Response(
        status_code=HTTPStatus.INTERNAL_SERVER_ERROR.value,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body),
    )


def register(app: APIGatewayRestResolver) -> None:
    """Install the error mapping on a resolver (the most specific class wins, as in ``except``)."""
    app.exception_handler(PunctualError)(domain_error_response)
    app.exception_handler(pydantic.ValidationError)(model_invalid_response)
    app.exception_handler(Exception)(unexpected_error_response)
