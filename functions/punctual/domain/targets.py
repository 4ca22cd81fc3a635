"""What a task runs when it fires, how it is retried, and whether runs may overlap. Pure values and parsing.

A ``target`` is where the fired event goes: the stage's SNS topic (``topic``, the default: the run completes
once published), a Lambda function called synchronously (``lambda``), or an HTTPS endpoint (``https``). A
``retry`` policy says how often and how far apart a failed call is tried again (full jitter, as AWS's
backoff guidance). Parsing checks shapes and bounds and raises 422 with one detail per bad field; which
functions and hosts a stage accepts is the service's to check (service/target_policy.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from punctual.domain.errors import ErrorDetail, UnprocessableError


class TargetType(StrEnum):
    TOPIC = "topic"
    LAMBDA = "lambda"
    HTTPS = "https"


class Backoff(StrEnum):
    EXPONENTIAL = "exponential"
    FIXED = "fixed"


class Overlap(StrEnum):
    ALLOW = "allow"  # every occurrence runs, even while the previous run is still going
    SKIP = "skip"  # an occurrence that meets an unfinished previous run is recorded as skipped


HTTP_METHODS = ("POST", "PUT", "PATCH", "GET", "DELETE")
MAX_HEADERS = 20
MAX_HEADER_VALUE_CHARS = 1024
MAX_URL_CHARS = 2048
MAX_FUNCTION_CHARS = 170  # a full Lambda ARN with a qualifier
DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_TIMEOUT_SECONDS = 60.0  # the runner's own timeout leaves room for one call and its bookkeeping
MAX_ATTEMPTS = 20
# SQS delays a message by at most 15 minutes; a retry is one delayed message, so no delay is longer.
MAX_RETRY_DELAY_SECONDS = 900.0
MIN_RETRY_DELAY_SECONDS = 1.0  # SQS delays in whole seconds
# Headers punctual sets itself (or the transport does): a task may not override them.
RESERVED_HEADERS = frozenset({"punctual-signature", "host", "content-length", "content-type", "connection"})
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
_FUNCTION = re.compile(r"^[A-Za-z0-9_:.$-]{1,170}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
MASK = "********"


@dataclass(frozen=True)
class Target:
    type: TargetType = TargetType.TOPIC
    function: str | None = None  # lambda: a name or an ARN
    url: str | None = None  # https
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    @property
    def runs_something(self) -> bool:
        """Whether a run goes on after its event is published: a call whose outcome decides the run."""
        return self.type is not TargetType.TOPIC


TOPIC = Target()


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    initial_delay_seconds: float = 10.0
    max_delay_seconds: float = 600.0
    backoff: Backoff = Backoff.EXPONENTIAL
    retry_4xx: bool = False  # retry client errors other than 408/429 too


DEFAULT_RETRY = RetryPolicy()


def _fail(field_name: str, message: str) -> UnprocessableError:
    return UnprocessableError(message, [ErrorDetail(field_name, message)])


def parse_duration(text: object, field_name: str) -> float:
    """'10s', '500ms', '2m', '1h' (or a number of seconds) as seconds."""
    if isinstance(text, bool):
        raise _fail(field_name, "expected a duration such as '10s', '500ms' or '2m'")
    if isinstance(text, int | float):
        seconds = float(text)
    elif isinstance(text, str) and (match := _DURATION.match(text)):
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        raise _fail(field_name, "expected a duration such as '10s', '500ms' or '2m'")
    if seconds <= 0:
        raise _fail(field_name, "must be a positive duration")
    return seconds


def format_duration(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    if seconds == int(seconds):
        return f"{int(seconds)}s"
    return f"{round(seconds * 1000)}ms"


def _object(value: object, field_name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(field_name, "expected an object")
    return value


def _unknown(given: dict[str, Any], allowed: set[str], prefix: str) -> list[ErrorDetail]:
    return [ErrorDetail(f"{prefix}.{key}", "unknown field") for key in sorted(set(given) - allowed)]


def parse_target(value: object) -> Target:
    """A target from its JSON form; None (or absent) means the topic."""
    if value is None:
        return TOPIC
    given = _object(value, "target")
    kind = given.get("type", TargetType.TOPIC.value)
    if kind not in {t.value for t in TargetType}:
        raise _fail("target.type", "expected topic, lambda or https")
    target_type = TargetType(kind)
    if target_type is TargetType.TOPIC:
        details = _unknown(given, {"type"}, "target")
        if details:
            raise UnprocessableError("a topic target takes no other field", details)
        return TOPIC
    if target_type is TargetType.LAMBDA:
        details = _unknown(given, {"type", "function", "timeout"}, "target")
        function = given.get("function")
        if not isinstance(function, str) or not _FUNCTION.match(function):
            details.append(ErrorDetail("target.function", "expected a function name or ARN"))
        timeout = _timeout(given, details)
        if details:
            raise UnprocessableError("the lambda target is not valid", details)
        assert isinstance(function, str)
        return Target(TargetType.LAMBDA, function=function, timeout_seconds=timeout)
    return _parse_https(given)


def _timeout(given: dict[str, Any], details: list[ErrorDetail]) -> float:
    if "timeout" not in given:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        seconds = parse_duration(given["timeout"], "target.timeout")
    except UnprocessableError as error:
        details.extend(error.details)
        return DEFAULT_TIMEOUT_SECONDS
    if seconds > MAX_TIMEOUT_SECONDS:
        details.append(ErrorDetail("target.timeout", f"at most {format_duration(MAX_TIMEOUT_SECONDS)}"))
    return seconds


def _parse_https(given: dict[str, Any]) -> Target:
    details = _unknown(given, {"type", "url", "method", "headers", "timeout"}, "target")
    url = given.get("url")
    if not isinstance(url, str) or len(url) > MAX_URL_CHARS:
        details.append(ErrorDetail("target.url", f"expected a URL of at most {MAX_URL_CHARS} characters"))
    else:
        details += _url_shape(url)
    method = given.get("method", "POST")
    if not isinstance(method, str) or method.upper() not in HTTP_METHODS:
        details.append(ErrorDetail("target.method", f"expected one of {', '.join(HTTP_METHODS)}"))
    headers = given.get("headers") or {}
    if not isinstance(headers, dict):
        details.append(ErrorDetail("target.headers", "expected an object of strings"))
        headers = {}
    elif len(headers) > MAX_HEADERS:
        details.append(ErrorDetail("target.headers", f"at most {MAX_HEADERS} headers"))
    for name, header in headers.items():
        where = f"target.headers.{name}"
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            details.append(ErrorDetail(where, "not a valid header name"))
        elif name.lower() in RESERVED_HEADERS:
            details.append(ErrorDetail(where, "set by punctual; a task may not override it"))
        if (
            not isinstance(header, str)
            or len(header) > MAX_HEADER_VALUE_CHARS
            or "\r" in header
            or "\n" in header
        ):
            details.append(
                ErrorDetail(
                    where, f"expected a string of at most {MAX_HEADER_VALUE_CHARS} characters, one line"
                )
            )
    timeout = _timeout(given, details)
    if details:
        raise UnprocessableError("the https target is not valid", details)
    assert isinstance(url, str) and isinstance(method, str)
    return Target(
        TargetType.HTTPS, url=url, method=method.upper(), headers=dict(headers), timeout_seconds=timeout
    )


def _url_shape(url: str) -> list[ErrorDetail]:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return [ErrorDetail("target.url", "not a valid URL")]
    if parts.scheme not in ("https", "http"):
        return [ErrorDetail("target.url", "expected an https:// URL")]
    if not parts.hostname:
        return [ErrorDetail("target.url", "the URL has no host")]
    if parts.username or parts.password:
        return [ErrorDetail("target.url", "credentials in the URL are not allowed; use headers")]
    return []


def parse_retry(value: object, default: RetryPolicy = DEFAULT_RETRY) -> RetryPolicy:
    """A retry policy from its JSON form; missing fields take the stage's defaults."""
    if value is None:
        return default
    given = _object(value, "retry")
    details = _unknown(given, {"max_attempts", "initial_delay", "max_delay", "backoff", "retry_4xx"}, "retry")
    attempts = given.get("max_attempts", default.max_attempts)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= MAX_ATTEMPTS:
        details.append(ErrorDetail("retry.max_attempts", f"expected a whole number from 1 to {MAX_ATTEMPTS}"))
    delays: dict[str, float] = {}
    for name, fallback in (
        ("initial_delay", default.initial_delay_seconds),
        ("max_delay", default.max_delay_seconds),
    ):
        try:
            seconds = parse_duration(given[name], f"retry.{name}") if name in given else fallback
        except UnprocessableError as error:
            details.extend(error.details)
            continue
        if not MIN_RETRY_DELAY_SECONDS <= seconds <= MAX_RETRY_DELAY_SECONDS:
            details.append(
                ErrorDetail(
                    f"retry.{name}",
                    f"expected {format_duration(MIN_RETRY_DELAY_SECONDS)} to "
                    f"{format_duration(MAX_RETRY_DELAY_SECONDS)}",
                )
            )
        delays[name] = seconds
    backoff = given.get("backoff", default.backoff.value)
    if backoff not in {b.value for b in Backoff}:
        details.append(ErrorDetail("retry.backoff", "expected exponential or fixed"))
    retry_4xx = given.get("retry_4xx", default.retry_4xx)
    if not isinstance(retry_4xx, bool):
        details.append(ErrorDetail("retry.retry_4xx", "expected true or false"))
    if not details and delays["initial_delay"] > delays["max_delay"]:
        details.append(ErrorDetail("retry.initial_delay", "must not exceed max_delay"))
    if details:
        raise UnprocessableError("the retry policy is not valid", details)
    return RetryPolicy(
        max_attempts=attempts,
        initial_delay_seconds=delays["initial_delay"],
        max_delay_seconds=delays["max_delay"],
        backoff=Backoff(backoff),
        retry_4xx=retry_4xx,
    )


def parse_overlap(value: object) -> Overlap:
    if value is None:
        return Overlap.ALLOW
    if value not in {o.value for o in Overlap}:
        raise _fail("overlap", "expected allow or skip")
    return Overlap(value)


def target_json(target: Target) -> dict[str, Any]:
    """The target as the API shows it: header values masked (they often carry credentials)."""
    if target.type is TargetType.TOPIC:
        return {"type": "topic"}
    timeout = format_duration(target.timeout_seconds)
    if target.type is TargetType.LAMBDA:
        return {"type": "lambda", "function": target.function, "timeout": timeout}
    return {
        "type": "https",
        "url": target.url,
        "method": target.method,
        "headers": dict.fromkeys(target.headers, MASK),
        "timeout": timeout,
    }


def retry_json(policy: RetryPolicy) -> dict[str, Any]:
    return {
        "max_attempts": policy.max_attempts,
        "initial_delay": format_duration(policy.initial_delay_seconds),
        "max_delay": format_duration(policy.max_delay_seconds),
        "backoff": policy.backoff.value,
        "retry_4xx": policy.retry_4xx,
    }
