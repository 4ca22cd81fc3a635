"""What a route reads besides its path: query parameters, headers and a JSON body, checked with pydantic.

Each route declares its inputs (``Inputs``); ``read_inputs`` returns them as the route function's keyword
arguments or raises one 400 naming every bad field, through ``http_errors.validation_error_from``. The
rules are the ones Powertools' OpenAPI validation applied, kept here so that cold starts do not build
Powertools' OpenAPI model tree: errors are collected from the query, then the headers, then the body; a
body that is not JSON is refused at once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import pydantic
import pydantic.fields

from punctual.handlers import http_errors, json_body

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

JSON_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class Param:
    """An optional query parameter or header: ``name`` is the route function's keyword, ``alias`` the name
    in the request (``name`` when omitted)."""

    name: str
    type: type[str] | type[int] = str
    alias: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    ge: int | None = None
    le: int | None = None

    @property
    def request_name(self) -> str:
        return self.alias or self.name

    def annotated(self, field: pydantic.fields.FieldInfo) -> Any:
        """``Annotated[type | None, field]``: how pydantic (and the OpenAPI document) sees the parameter."""
        return Annotated[self.type | None, field]


@dataclass(frozen=True)
class Inputs:
    """A route's inputs; the body, when there is one, is passed as the keyword ``body``."""

    body: type[pydantic.BaseModel] | None = None
    query: tuple[Param, ...] = ()
    headers: tuple[Param, ...] = ()

    @property
    def empty(self) -> bool:
        return self.body is None and not self.query and not self.headers


def read_inputs(event: APIGatewayProxyEvent, inputs: Inputs) -> dict[str, Any]:
    """The validated inputs as keyword arguments; raises ``ValidationError`` (400) when any is bad."""
    if inputs.empty:
        return {}
    values: dict[str, Any] = {}
    errors: list[Mapping[str, Any]] = []
    if inputs.query:
        query = _query_values(event)
        multi_valued = frozenset(event.multi_value_query_string_parameters)
        for param in inputs.query:
            _read_param(param, "query", param.request_name, query, multi_valued, values, errors)
    if inputs.headers:
        # Header names are case-insensitive: errors name them in lower case.
        headers: Mapping[str, Any] = event.multi_value_headers or event.headers
        multi_valued = frozenset(name.lower() for name in event.get("multiValueHeaders") or {})
        for param in inputs.headers:
            name = param.request_name.lower()
            _read_param(param, "header", name, headers, multi_valued, values, errors)
    if inputs.body is not None:
        values["body"] = _read_body(event, inputs.body, errors)
    if errors:
        raise http_errors.validation_error_from(errors)
    return values


def _query_values(event: APIGatewayProxyEvent) -> dict[str, list[str]]:
    """Every query parameter as a list: REST events carry both a single-value map (a repeated name keeps its
    last value) and a multi-value map; the multi-value one wins."""
    single = {name: value.split(",") for name, value in event.query_string_parameters.items()}
    return {**single, **event.multi_value_query_string_parameters}


def _read_param(
    param: Param,
    location: str,
    name: str,
    source: Mapping[str, Any],
    multi_valued: frozenset[str],
    values: dict[str, Any],
    errors: list[Mapping[str, Any]],
) -> None:
    raw = source.get(name)
    if isinstance(raw, list):
        if len(raw) > 1 and name not in multi_valued:
            raw = ",".join(raw)  # one value that contained commas, not a repeated parameter
        elif len(raw) == 1:
            raw = raw[0]
    if raw is None:
        values[param.name] = None
        return
    try:
        values[param.name] = _adapter(param).validate_python(raw)
    except pydantic.ValidationError as error:
        errors.extend({**detail, "loc": (location, name, *detail["loc"])} for detail in error.errors())


@functools.cache
def _adapter(param: Param) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(
        param.annotated(
            pydantic.Field(min_length=param.min_length, max_length=param.max_length, ge=param.ge, le=param.le)
        )
    )


def _read_body(
    event: APIGatewayProxyEvent, model: type[pydantic.BaseModel], errors: list[Mapping[str, Any]]
) -> pydantic.BaseModel | None:
    document = read_json_body(event)
    if document is None:  # no body, or the JSON null
        errors.append({"type": "missing", "loc": ("body",)})
        return None
    try:
        return model.model_validate(document)
    except pydantic.ValidationError as error:
        errors.extend({**detail, "loc": ("body", *detail["loc"])} for detail in error.errors())
        return None


def read_json_body(event: APIGatewayProxyEvent) -> Any:
    """The body's JSON document (None without a body); a 400 at once for a body that is not JSON, or is sent
    as another media type. No Content-Type is read as JSON (what most clients mean)."""
    if not is_json_media_type(event.headers.get("content-type")):
        raise http_errors.not_json_error()
    text = json_body.body_text(event.body, base64_encoded=bool(event.is_base64_encoded))
    return None if text is None else json_body.parse_json(text)


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json``, any case, with parameters (``; charset=utf-8``); an absent header counts."""
    if content_type is None or not content_type.strip():
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == JSON_CONTENT_TYPE
