"""Python callables that ``punctual dev --function`` registers as Lambda functions in the e2e session."""

from __future__ import annotations

import time
from typing import Any


def sleep_200ms(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Agnost flow's cloud function: some business logic that takes 200 ms."""
    time.sleep(0.2)
    return {"slept_ms": 200, "task_id": event["task_id"], "function": context.function_name}


def sleep_12s(event: dict[str, Any], context: Any) -> str:
    """Longer than the shortest interval (10 s): the next occurrence meets it still running."""
    time.sleep(12)
    return "done"


def explode(event: dict[str, Any], context: Any) -> None:
    raise RuntimeError("the business logic failed")
