"""A request body as JSON, strictly: what Python's ``json`` would let through is refused here with a 400.

- The body must be UTF-8. API Gateway declares no binary media types for this API, so it hands the handler
  text, and bytes that are not UTF-8 arrive as U+FFFD: a literal U+FFFD in the body is refused as such (a
  caller who means the character escapes it, ``\\ufffd``). A base64 body is decoded and must be UTF-8.
- Duplicate keys (``json`` keeps the last one silently), ``NaN``/``Infinity`` and numbers that overflow a
  float are not JSON; integers beyond Python's digit limit (4300) raise a bare ``ValueError`` in ``json``.
- A lone surrogate (``"\\ud800"``) is valid JSON text but no Unicode string: it could never be stored or
  published, so it is refused here, naming the field, instead of failing at DynamoDB.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import sys
from collections.abc import Iterator
from typing import Any

from punctual.domain.errors import ErrorDetail, ValidationError

REPLACEMENT_CHARACTER = "\ufffd"
_NOT_JSON = "the request body is not valid JSON"


def body_text(body: str | None, *, base64_encoded: bool) -> str | None:
    """The body as text, as API Gateway passed it (``isBase64Encoded``); None when there is none."""
    if not body:
        return None
    if not base64_encoded:
        if REPLACEMENT_CHARACTER in body:
            raise _not_utf8("contains U+FFFD, the mark of bytes that were not UTF-8; escape it as \\ufffd")
        return body
    try:
        return base64.b64decode(body, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
        raise _not_utf8("the bytes are not UTF-8") from None


def parse_json(text: str) -> Any:
    """The JSON document in ``text``; ``ValidationError`` (400) for anything that is not strict JSON."""
    try:
        document = json.loads(
            text,
            object_pairs_hook=_object_without_duplicates,
            parse_constant=_refuse_constant,
            parse_int=_bounded_int,
            parse_float=_finite_float,
        )
    except _Refused as refused:
        raise ValidationError(_NOT_JSON, [ErrorDetail(refused.field, refused.reason)]) from None
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError; RecursionError: nested too deep
        raise ValidationError(_NOT_JSON, [ErrorDetail("body", _NOT_JSON)]) from None
    lone = _first_lone_surrogate(document)
    if lone is not None:
        raise ValidationError(
            f"invalid request: {lone}",
            [ErrorDetail(lone, "contains a lone surrogate (\\ud800-\\udfff): not a Unicode string")],
        )
    return document


class _Refused(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


def _not_utf8(reason: str) -> ValidationError:
    return ValidationError("the request body is not valid UTF-8", [ErrorDetail("body", reason)])


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _Refused(key, "this key appears more than once")
        document[key] = value
    return document


def _refuse_constant(name: str) -> Any:
    raise _Refused("body", f"{name} is not a JSON number")


def _bounded_int(digits: str) -> int:
    try:
        return int(digits)
    except ValueError:  # over sys.get_int_max_str_digits()
        raise _Refused("body", f"an integer has more than {sys.get_int_max_str_digits()} digits") from None


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("body", f"the number {text[:32]} overflows a double")
    return value


def _first_lone_surrogate(document: Any) -> str | None:
    """The field path (``metadata.k``, ``updates[0].at``) of the first string holding a lone surrogate."""
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return next(_surrogate_paths(document, ""), "body")
    return None


def _surrogate_paths(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        if not _encodes(value):
            yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if not _encodes(key):
                yield path or "body"
            yield from _surrogate_paths(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _surrogate_paths(item, f"{path}[{index}]")


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
