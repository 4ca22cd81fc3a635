"""The Lambda environment as a pydantic model. Defaults suit tests and ``punctual dev``; the stack sets all."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from punctual.domain.schedules import ScheduleLimits
from punctual.domain.targets import DEFAULT_RETRY, RetryPolicy
from punctual.service.settings import ServiceSettings


class HandlerEnv(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    TABLE_NAME: str = "punctual"
    TOPIC_ARN: str = "arn:aws:sns:us-east-1:123456789012:punctual-events"
    TOPIC_FIFO: bool = False
    DELAY_QUEUE_URL: str = "https://sqs.us-east-1.amazonaws.com/123456789012/punctual-delay"
    SCHEDULE_GROUP: str = "punctual"
    SCHEDULER_ROLE_ARN: str = "arn:aws:iam::123456789012:role/punctual-scheduler"
    SCHEDULE_DLQ_ARN: str = "arn:aws:sqs:us-east-1:123456789012:punctual-schedule-dlq"
    # The api and sweeper arm wake-ups that target the executor; the executor falls back to its own ARN.
    EXECUTOR_ARN: str | None = None
    CURSOR_SECRET_ARN: str | None = None
    CURSOR_SECRET: str = "punctual-dev-cursor-secret"
    # The stack's api: the cursor secret is derived from the signing key (SIGNING_SECRET_ARN), so the stage
    # pays for one Secrets Manager secret fewer ($0.40 a month); CURSOR_SECRET(_ARN) are then not read.
    CURSOR_SECRET_FROM_SIGNING_KEY: bool = False
    SHARED_SECRET_ARN: str | None = None
    SHARED_SECRET: str | None = None
    # The dashboard's origin on a stage (CloudFront); read when the api module loads, by handlers/cors.py.
    CORS_ALLOW_ORIGIN: str | None = None
    # 32 partitions of the due index: at 10,000 recurring fires a second (each moves its entry: 2 writes) that
    # is ~625 writes a second a partition (DynamoDB takes ~1,000). Only ever raise it: see due_shard.
    DUE_SHARDS: int = Field(default=32, ge=1, le=64)
    MAX_ATTEMPTS: int = Field(default=5, ge=1, le=100)
    LEAD_SECONDS: int = Field(default=120, ge=1, le=840)
    HORIZON_DAYS: int = Field(default=365, ge=1)
    MIN_INTERVAL_SECONDS: int = Field(default=10, ge=1)
    RUN_RETENTION_DAYS: int = Field(default=30, ge=1)
    STAGE: str = "dev"
    # Requests without an API key identity (``punctual dev``, or a stage without keys) act as this tenant.
    DEFAULT_TENANT: str = "default"
    # Targets. Without a delivery queue the stage has no runner and tasks can only target the topic.
    DELIVERY_QUEUE_URL: str | None = None
    LAMBDA_TARGETS: str = ""  # comma-separated fnmatch patterns of Lambda ARNs tasks may call (cdk.json)
    LAMBDA_ARN_PREFIX: str = "arn:aws:lambda:us-east-1:123456789012:function:"
    ALLOW_INSECURE_TARGETS: bool = False  # http:// and loopback targets: development stages only
    SIGNING_SECRET_ARN: str | None = None
    SIGNING_SECRET: str | None = None
    RETRY_MAX_ATTEMPTS: int = Field(default=DEFAULT_RETRY.max_attempts, ge=1, le=20)
    RETRY_INITIAL_DELAY_SECONDS: float = Field(default=DEFAULT_RETRY.initial_delay_seconds, ge=1, le=900)
    RETRY_MAX_DELAY_SECONDS: float = Field(default=DEFAULT_RETRY.max_delay_seconds, ge=1, le=900)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> HandlerEnv:
        source = os.environ if environ is None else environ
        # Empty strings mean "unset" (CloudFormation cannot omit a variable conditionally).
        return cls.model_validate({key: value for key, value in source.items() if value != ""})

    def service_settings(self, cursor_secret: bytes) -> ServiceSettings:
        return ServiceSettings(
            limits=ScheduleLimits(
                horizon=timedelta(days=self.HORIZON_DAYS),
                min_interval=timedelta(seconds=self.MIN_INTERVAL_SECONDS),
            ),
            lead=timedelta(seconds=self.LEAD_SECONDS),
            max_attempts=self.MAX_ATTEMPTS,
            run_retention=timedelta(days=self.RUN_RETENTION_DAYS),
            cursor_secret=cursor_secret,
            default_retry=RetryPolicy(
                max_attempts=self.RETRY_MAX_ATTEMPTS,
                initial_delay_seconds=self.RETRY_INITIAL_DELAY_SECONDS,
                max_delay_seconds=max(self.RETRY_MAX_DELAY_SECONDS, self.RETRY_INITIAL_DELAY_SECONDS),
            ),
            lambda_targets=tuple(p.strip() for p in self.LAMBDA_TARGETS.split(",") if p.strip()),
            lambda_arn_prefix=self.LAMBDA_ARN_PREFIX,
            allow_insecure_targets=self.ALLOW_INSECURE_TARGETS,
        )
