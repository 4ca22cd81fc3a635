"""Targets, retry policies and delivery attempts <-> the JSON text stored on task and run items.

Absent attributes decode to the defaults (topic target, the default policy, no attempts), so items written
before targets existed read back unchanged.
"""

from __future__ import annotations

import json
from typing import Any

from punctual.domain.model import DeliveryAttempt
from punctual.domain.targets import (
    DEFAULT_RETRY,
    TOPIC,
    Backoff,
    RetryPolicy,
    Target,
    TargetType,
)
from punctual.domain.timefmt import from_sortable, sortable


def target_text(target: Target) -> str | None:
    if target.type is TargetType.TOPIC:
        return None
    return json.dumps(
        {
            "type": target.type.value,
            "function": target.function,
            "url": target.url,
            "method": target.method,
            "headers": target.headers,
            "timeout_seconds": target.timeout_seconds,
        },
        separators=(",", ":"),
    )


def target_from(text: str | None) -> Target:
    if not text:
        return TOPIC
    values: dict[str, Any] = json.loads(text)
    return Target(
        type=TargetType(values["type"]),
        function=values.get("function"),
        url=values.get("url"),
        method=values.get("method") or "POST",
        headers=dict(values.get("headers") or {}),
        timeout_seconds=float(values.get("timeout_seconds") or 10.0),
    )


def retry_text(policy: RetryPolicy) -> str | None:
    if policy == DEFAULT_RETRY:
        return None
    return json.dumps(
        {
            "max_attempts": policy.max_attempts,
            "initial_delay_seconds": policy.initial_delay_seconds,
            "max_delay_seconds": policy.max_delay_seconds,
            "backoff": policy.backoff.value,
            "retry_4xx": policy.retry_4xx,
        },
        separators=(",", ":"),
    )


def retry_from(text: str | None) -> RetryPolicy:
    if not text:
        return DEFAULT_RETRY
    values: dict[str, Any] = json.loads(text)
    return RetryPolicy(
        max_attempts=int(values["max_attempts"]),
        initial_delay_seconds=float(values["initial_delay_seconds"]),
        max_delay_seconds=float(values["max_delay_seconds"]),
        backoff=Backoff(values["backoff"]),
        retry_4xx=bool(values.get("retry_4xx", False)),
    )


def deliveries_text(deliveries: tuple[DeliveryAttempt, ...]) -> str | None:
    if not deliveries:
        return None
    return json.dumps(
        [
            {
                "attempt": d.attempt,
                "started_at": sortable(d.started_at),
                "duration_ms": d.duration_ms,
                "response_status": d.response_status,
                "error": d.error,
            }
            for d in deliveries
        ],
        separators=(",", ":"),
    )


def deliveries_from(text: str | None) -> tuple[DeliveryAttempt, ...]:
    if not text:
        return ()
    return tuple(
        DeliveryAttempt(
            attempt=int(d["attempt"]),
            started_at=from_sortable(d["started_at"]),
            duration_ms=d.get("duration_ms"),
            response_status=d.get("response_status"),
            error=d.get("error"),
        )
        for d in json.loads(text)
    )
