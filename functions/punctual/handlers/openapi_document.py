"""The OpenAPI document of the API, built by Powertools on the first ``GET /openapi.json`` of a container.

Powertools' OpenAPI models are a large pydantic tree (~100 ms to import); the API's routing does not need
them, so they are imported only inside ``build_document``. Routes are described by ``DocumentedRoute``
(what ``api.route`` records), replayed on a validation-enabled resolver whose handlers are never called.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from punctual.handlers.request_inputs import Inputs, Param

TITLE = "punctual"
DESCRIPTION = "Schedule a message to an SNS topic at an instant, by interval or by cron."
ERROR_DESCRIPTIONS = {
    400: "Malformed input: wrong type, missing or unknown field, bad expression, invalid cursor",
    401: "The shared secret is configured and was missing or wrong",
    403: "API Gateway: the x-api-key header is missing or names no key of the stage's usage plan",
    404: "No such record in the caller's context",
    409: "The task's state does not allow this (already fired, being fired, cancelled)",
    405: "The path does not take this method (e.g. GET /tasks/bulk-delete); the Allow header lists those it takes",
    413: "The body or the message is too large",
    422: "Well-formed but not acceptable: beyond the horizon, interval too short, no occurrence left",
    429: "Throttled; retry after a moment",
    503: "An AWS dependency failed; nothing was half-written",
}
# Every route can answer these: 405 before routing, 413 before reading any body.
ALWAYS = (400, 401, 405, 413, 429, 503)
SERVICE_TAG = "service"
# The header that narrows the caller's tenant to one user (domain/model.py Context.of checks it).
USER_PARAMETER = {
    "name": "X-Punctual-User",
    "in": "header",
    "required": False,
    "description": "Narrows the API key's tenant to one user: each user sees only the tasks created with "
    "the same header. Without it, the tenant's own tasks.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._@:+=-]{1,128}$"},
}
_PATH_PARAM = re.compile(r"<(\w+)>")


@dataclass(frozen=True)
class DocumentedRoute:
    """One route as the document shows it. ``answer`` is (status, name of a model in
    handlers/response_models.py or None for any object, description)."""

    method: str
    rule: str
    name: str
    summary: str
    tag: str
    answer: tuple[int, str | None, str]
    errors: tuple[int, ...]
    inputs: Inputs
    # Reachable without an API key (/health): no security, no user, no 403.
    open: bool = False
    # Other successful answers: (status, model name, description), e.g. the 200 replay of an idempotent create.
    also: tuple[tuple[int, str | None, str], ...] = ()


def _openapi_path(rule: str) -> str:
    return _PATH_PARAM.sub(r"{\1}", rule)


def build_document(routes: Sequence[DocumentedRoute]) -> str:
    """The OpenAPI 3.1 document as JSON."""
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    resolver = APIGatewayRestResolver(enable_validation=True)
    for route in routes:
        resolver.route(
            route.rule, route.method, summary=route.summary, tags=[route.tag], responses=_responses(route)
        )(_signature_of(route))
    document = json.loads(
        resolver.get_openapi_json_schema(
            title=TITLE,
            version="1",
            description=DESCRIPTION,
            security_schemes={"apiKey": APIKey.model_validate({"name": "x-api-key", "in": APIKeyIn.header})},
            security=[{"apiKey": []}],
        )
    )
    open_operations = {(_openapi_path(route.rule), route.method.lower()) for route in routes if route.open}
    # The service routes (/health, /openapi.json) read no caller, so no user either.
    caller_operations = {(_openapi_path(r.rule), r.method.lower()) for r in routes if r.tag != SERVICE_TAG}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            # Powertools documents its own 422 validation body on every route; ours are 400s with ErrorOut.
            answer = operation["responses"].get("422")
            if answer is not None and "HTTPValidationError" in json.dumps(answer):
                del operation["responses"]["422"]
            if (path, method) in open_operations:
                operation["security"] = []
            if (path, method) in caller_operations:
                operation.setdefault("parameters", []).append(USER_PARAMETER)
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return json.dumps(document)


def _responses(route: DocumentedRoute) -> dict[int, Any]:
    from aws_lambda_powertools.event_handler import content_types

    from punctual.handlers import response_models

    responses: dict[int, Any] = {}
    for status, model_name, description in (route.answer, *route.also):
        content = (
            {"model": getattr(response_models, model_name)}
            if model_name is not None
            else {"schema": {"type": "object"}}
        )
        responses[status] = {"description": description, "content": {content_types.APPLICATION_JSON: content}}
    keyed = () if route.open else (403,)
    for code in sorted(set(ALWAYS + keyed + route.errors)):
        # API Gateway's own refusals have its body, not the handler's.
        model = response_models.GatewayErrorOut if code == 403 else response_models.ErrorOut
        responses[code] = {
            "description": ERROR_DESCRIPTIONS[code],
            "content": {content_types.APPLICATION_JSON: {"model": model}},
        }
    return responses


def _signature_of(route: DocumentedRoute) -> Callable[..., Any]:
    """A stand-in for the route function whose signature tells Powertools the route's inputs."""
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.openapi.params import Header, Query

    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter(name, keyword, annotation=str) for name in _PATH_PARAM.findall(route.rule)
    ]
    parameters += [_parameter(param, Query) for param in route.inputs.query]
    parameters += [_parameter(param, Header) for param in route.inputs.headers]
    if route.inputs.body is not None:
        parameters.append(inspect.Parameter("body", keyword, annotation=route.inputs.body))

    def documented(**_: Any) -> None:
        raise NotImplementedError("only documents a route")

    documented.__name__ = route.name
    documented.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        parameters, return_annotation=Response[str]
    )
    return documented


def _parameter(param: Param, location: Callable[..., Any]) -> inspect.Parameter:
    annotation = param.annotated(
        location(
            alias=param.alias,
            min_length=param.min_length,
            max_length=param.max_length,
            ge=param.ge,
            le=param.le,
        )
    )
    return inspect.Parameter(param.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=None)
