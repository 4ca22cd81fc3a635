"""The Lambda functions, run in-process: a handler plus the context object Lambda would pass it.

Each invocation gets the event as Lambda would deliver it, a JSON round trip (so a handler can neither
share nor mutate the caller's objects), and a fresh context with a request id and a deadline.
"""

from __future__ import annotations

import importlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[Any, Any], Any]

HANDLER_MODULES = {
    "api": "punctual.handlers.api",
    "executor": "punctual.handlers.executor",
    "sweeper": "punctual.handlers.sweeper",
    "runner": "punctual.handlers.runner",
}


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    timeout_seconds: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalFunction:
    """One Lambda function. The handler module is imported on first use (its cold start), after the
    environment variables are in place."""

    def __init__(
        self,
        name: str,
        arn: str,
        handler: Handler | str,
        *,
        timeout_seconds: float = 30.0,
    ) -> None:
        self.name = name
        self.arn = arn
        self._handler: Handler | None = None if isinstance(handler, str) else handler
        self._module = handler if isinstance(handler, str) else None
        self._timeout = timeout_seconds
        self._load_lock = threading.Lock()

    def load(self) -> Handler:
        with self._load_lock:
            if self._handler is None:
                assert self._module is not None
                self._handler = importlib.import_module(self._module).handler
            return self._handler

    def invoke(self, event: Any) -> Any:
        """Call the handler as Lambda would. Exceptions propagate: the caller decides (retry, 502, ...)."""
        handler = self.load()
        context = LambdaContext(self.name, self.arn, self._timeout)
        result = handler(json.loads(json.dumps(event)), context)
        return json.loads(json.dumps(result)) if result is not None else None
