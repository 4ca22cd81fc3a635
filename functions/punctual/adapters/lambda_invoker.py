"""TargetInvoker for Lambda targets: a synchronous Invoke (RequestResponse) with the fired event as payload.

The function's return value completes the run; a function error (``FunctionError``) or an Invoke failure
fails the attempt. The client does not retry on its own: the task's retry policy does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from punctual.domain.targets import MAX_TIMEOUT_SECONDS, Target
from punctual.service.ports import CallOutcome
from punctual.service.target_policy import TargetPolicy

MAX_READ_BYTES = 4096


class LambdaInvoker:
    def __init__(self, policy: TargetPolicy, *, client: Any = None) -> None:
        # ``client``: a boto3 Lambda client (no type stubs for it are installed)
        self._policy = policy
        self._client = client or boto3.client(
            "lambda",
            config=Config(read_timeout=MAX_TIMEOUT_SECONDS, retries={"max_attempts": 0}),
        )

    def call(self, target: Target, body: bytes, headers: Mapping[str, str]) -> CallOutcome:
        assert target.function is not None
        try:
            response = self._client.invoke(
                FunctionName=self._policy.function_arn(target.function),
                InvocationType="RequestResponse",
                Payload=body,
            )
        except (ClientError, BotoCoreError) as error:
            return CallOutcome(ok=False, error=f"Invoke failed: {error}")
        payload = response["Payload"].read(MAX_READ_BYTES * 4).decode("utf-8", "replace")
        if response.get("FunctionError"):
            return CallOutcome(
                ok=False, status=response.get("StatusCode"), result=payload, error=payload[:1000]
            )
        return CallOutcome(ok=True, status=response.get("StatusCode", 200), result=payload)
