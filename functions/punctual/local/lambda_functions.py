"""``punctual dev --function NAME=module:callable``: local Python callables standing in for Lambda functions.

A task with ``{"type": "lambda", "function": "NAME"}`` (or the function's local ARN) is called here, in
process, as Lambda would call it: the fired event (JSON round trip) and a context object; the return value
becomes the run's result, an exception fails the attempt. The target's timeout is enforced as Lambda's
would be: the call is abandoned (its thread left to finish) and the attempt fails.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from punctual.domain.targets import Target
from punctual.local.functions import LambdaContext
from punctual.service.ports import CallOutcome

Callable2 = Callable[[Any, Any], Any]
MAX_RESULT_CHARS = 16_384


class FunctionSpecError(ValueError):
    """A --function value that is not NAME=module:callable, or whose callable does not import."""


def parse_spec(spec: str) -> tuple[str, str, str]:
    """``NAME=module:callable`` as (name, module, attribute)."""
    name, _, target = spec.partition("=")
    module, _, attribute = target.partition(":")
    if not name or not module or not attribute:
        raise FunctionSpecError(f"--function {spec!r}: expected NAME=module:callable")
    return name.strip(), module.strip(), attribute.strip()


def load(spec: str) -> tuple[str, Callable2]:
    name, module, attribute = parse_spec(spec)
    if os.getcwd() not in sys.path:  # the developer's own modules, as `python -m` would find them
        sys.path.insert(0, os.getcwd())
    try:
        function = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as error:
        raise FunctionSpecError(f"--function {spec!r}: {error}") from error
    if not callable(function):
        raise FunctionSpecError(f"--function {spec!r}: {module}.{attribute} is not callable")
    return name, function


class LocalLambdaInvoker:
    """TargetInvoker over the registered callables, by name (an ARN's function name part counts too)."""

    def __init__(self, functions: Mapping[str, Callable2], arn_prefix: str) -> None:
        self._functions = dict(functions)
        self._arn_prefix = arn_prefix
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="punctual-dev-lambda")
        self._lock = threading.Lock()

    def call(self, target: Target, body: bytes, headers: Mapping[str, str]) -> CallOutcome:
        assert target.function is not None
        name = target.function.removeprefix(self._arn_prefix).split(":")[0]
        function = self._functions.get(name)
        if function is None:
            return CallOutcome(
                ok=False, error=f"no function {name!r} is registered (punctual dev --function)"
            )
        context = LambdaContext(name, self._arn_prefix + name, target.timeout_seconds)
        future = self._pool.submit(function, json.loads(body), context)
        try:
            value = future.result(timeout=target.timeout_seconds)
        except FutureTimeout:
            return CallOutcome(ok=False, error=f"the function timed out after {target.timeout_seconds:g} s")
        except Exception as error:
            return CallOutcome(ok=False, error=f"{type(error).__name__}: {error}")
        try:
            result = json.dumps(value)
        except (TypeError, ValueError) as error:
            return CallOutcome(ok=False, error=f"the return value is not JSON: {error}")
        return CallOutcome(ok=True, status=200, result=result[:MAX_RESULT_CHARS])
