"""Per-stage settings: cdk.json context ``stages.<name>``, selected with ``-c stage=<name>``.

Every setting can be overridden for one command with ``-c <setting>=<value>`` (for example
``cdk deploy -c stage=prod -c alarm_email=ops@example.com``): a top-level context value of a setting's name
wins over the stage's. The CLI passes ``-c`` values as strings; they are read by the setting's type.

The Lambda tunables default to the handlers' own defaults (``HandlerEnv``), so the stack and the code
cannot disagree unless a stage overrides one on purpose. The Powertools service name and metrics
namespace are the handlers' own (``punctual.handlers.observability``): the alarms read what they emit.
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Node
from punctual.handlers.env import HandlerEnv
from punctual.handlers.observability import METRICS_NAMESPACE, SERVICE_NAME

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"
DEFAULT_STAGE = "dev"

_HANDLER_DEFAULTS = HandlerEnv()

_RETENTION_BY_DAYS = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
# SQS's bounds for a queue's retention, and for an event source mapping's maximum concurrency.
QUEUE_RETENTION_DAYS = range(1, 15)
EVENT_SOURCE_MAX_CONCURRENCY = range(2, 1001)
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")


@dataclass(frozen=True)
class StageConfig:
    name: str
    # True: the table keeps deletion protection and RETAIN (and so do the secrets); False: DESTROY.
    retain_data: bool
    throttle_rate: float  # requests per second, for the stage and the usage plan
    throttle_burst: int
    quota_per_day: int  # requests per API key per day
    fifo_topic: bool  # a FIFO topic dedups on ``task_id#occurrence``; it only delivers to SQS subscribers
    shared_secret: bool  # Pipedream-compatible ``secret`` on POST /schedule, kept in Secrets Manager
    log_retention_days: int
    # Alarms notify this address (it must confirm the subscription e-mail), or publish to an existing topic
    # (whose policy must let cloudwatch.amazonaws.com publish); neither: the alarms still show on the dashboard.
    alarm_email: str | None = None
    alarm_topic_arn: str | None = None
    lateness_alarm_ms: int = 1000  # p99 lateness above this alarms: punctual promises the second
    # API 5XX responses above this share of requests (5-minute periods) alarm.
    api_5xx_rate_alarm: float = 0.01
    # The functions' application log level (Lambda's JSON log format; the system log level is WARN).
    log_level: str = "INFO"
    dashboard: bool = True  # the web dashboard on CloudFront, with CORS on the API for its origin only
    xray: bool = True  # active tracing on the functions and the API stage (a traced request costs extra)
    # Reserved concurrency per function: None reserves nothing, and that is the default on purpose. Lambda keeps
    # at least 10 executions of the account's quota unreserved, and a new account's quota is 10, so any
    # reservation there fails the deploy. On an account with a raised quota, reserve for the executor so the API
    # cannot starve it, and cap the API so it cannot starve the account.
    api_reserved_concurrency: int | None = None
    executor_reserved_concurrency: int | None = None
    sweeper_reserved_concurrency: int | None = None
    # The delay queue's event source may run at most this many executors at once (SQS polls no faster). It
    # reserves nothing, so it deploys anywhere, and it bounds the executor below a quota of 10: the API and the
    # sweeper keep the rest. EBS wake-ups invoke the executor directly and are not counted here.
    executor_max_concurrency: int = 5
    # How long the events queue keeps a fired event nobody consumed (SQS's own default is 4 days).
    events_queue_retention_days: int = 4
    due_shards: int = _HANDLER_DEFAULTS.DUE_SHARDS
    max_attempts: int = _HANDLER_DEFAULTS.MAX_ATTEMPTS
    lead_seconds: int = _HANDLER_DEFAULTS.LEAD_SECONDS
    horizon_days: int = _HANDLER_DEFAULTS.HORIZON_DAYS
    min_interval_seconds: int = _HANDLER_DEFAULTS.MIN_INTERVAL_SECONDS
    run_retention_days: int = _HANDLER_DEFAULTS.RUN_RETENTION_DAYS
    # Lambda ARN patterns (IAM wildcards * and ?) tasks may target; the runner may invoke only these.
    lambda_targets: tuple[str, ...] = ()
    allow_insecure_targets: bool = False  # http:// and loopback HTTPS targets: never on a real stage

    def __post_init__(self) -> None:
        object.__setattr__(self, "lambda_targets", tuple(self.lambda_targets))
        for pattern in self.lambda_targets:
            if (
                not pattern.startswith("arn:")
                or ":function:" not in pattern
                or any(c in pattern for c in "[],")
            ):
                raise ValueError(
                    f"stage {self.name}: lambda_targets entry {pattern!r} is not a Lambda function ARN pattern"
                )
        if self.log_retention_days not in _RETENTION_BY_DAYS:
            allowed = ", ".join(str(days) for days in _RETENTION_BY_DAYS)
            raise ValueError(f"stage {self.name}: log_retention_days must be one of {allowed}")
        if self.alarm_email is not None and "@" not in self.alarm_email:
            raise ValueError(f"stage {self.name}: alarm_email {self.alarm_email!r} is not an e-mail address")
        if self.alarm_topic_arn is not None:
            if not _TOPIC_ARN.match(self.alarm_topic_arn):
                raise ValueError(
                    f"stage {self.name}: alarm_topic_arn {self.alarm_topic_arn!r} is not an SNS ARN"
                )
            if self.alarm_email is not None:
                raise ValueError(
                    f"stage {self.name}: set alarm_email or alarm_topic_arn, not both "
                    "(subscribe the address to your own topic)"
                )
        if self.log_level not in LOG_LEVELS:
            raise ValueError(f"stage {self.name}: log_level must be one of {', '.join(LOG_LEVELS)}")
        for function in ("api", "executor", "sweeper"):
            reserved = getattr(self, f"{function}_reserved_concurrency")
            if reserved is not None and reserved < 1:
                raise ValueError(
                    f"stage {self.name}: {function}_reserved_concurrency must be at least 1 "
                    "(0 would stop the function); leave it null to reserve nothing"
                )
        if self.executor_max_concurrency not in EVENT_SOURCE_MAX_CONCURRENCY:
            raise ValueError(f"stage {self.name}: executor_max_concurrency must be between 2 and 1000")
        reserved = self.executor_reserved_concurrency
        if reserved is not None and self.executor_max_concurrency > reserved:
            # More pollers than executions: SQS batches would be throttled and come back only after a timeout.
            raise ValueError(
                f"stage {self.name}: executor_max_concurrency ({self.executor_max_concurrency}) must not exceed "
                f"executor_reserved_concurrency ({reserved})"
            )
        if self.events_queue_retention_days not in QUEUE_RETENTION_DAYS:
            raise ValueError(f"stage {self.name}: events_queue_retention_days must be between 1 and 14")
        if not 0 < self.api_5xx_rate_alarm < 1:
            raise ValueError(f"stage {self.name}: api_5xx_rate_alarm is a share of requests, between 0 and 1")

    @classmethod
    def settings(cls) -> frozenset[str]:
        return frozenset(f.name for f in dataclasses.fields(cls)) - {"name"}

    @classmethod
    def from_mapping(cls, name: str, raw: Mapping[str, Any]) -> StageConfig:
        unknown = sorted(set(raw) - cls.settings())
        if unknown:
            raise ValueError(f"stage {name}: unknown settings {unknown}")
        return cls(name=name, **raw)

    @property
    def alarms_notify(self) -> bool:
        return self.alarm_email is not None or self.alarm_topic_arn is not None

    @property
    def removal_policy(self) -> RemovalPolicy:
        return RemovalPolicy.RETAIN if self.retain_data else RemovalPolicy.DESTROY

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _RETENTION_BY_DAYS[self.log_retention_days]

    def tunables_environment(self) -> dict[str, str]:
        """The variables every function reads the same way (names fixed by handlers/env.py)."""
        return {
            "STAGE": self.name,
            "LOG_LEVEL": self.log_level,
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "DUE_SHARDS": str(self.due_shards),
            "MAX_ATTEMPTS": str(self.max_attempts),
            "LEAD_SECONDS": str(self.lead_seconds),
            "HORIZON_DAYS": str(self.horizon_days),
            "MIN_INTERVAL_SECONDS": str(self.min_interval_seconds),
            "RUN_RETENTION_DAYS": str(self.run_retention_days),
        }


def load_stage_config(node: Node) -> StageConfig:
    """The stage named by context ``stage`` (default dev). ``stages`` comes from the context the CDK CLI
    passes, or from cdk.json when the app runs as plain ``python app.py``."""
    stage = node.try_get_context("stage") or DEFAULT_STAGE
    stages = node.try_get_context("stages")
    if stages is None:
        stages = json.loads(CDK_JSON.read_text())["context"]["stages"]
    if stage not in stages:
        raise ValueError(f"unknown stage {stage!r}; cdk.json defines {sorted(stages)}")
    settings = dict(stages[stage])
    hints = typing.get_type_hints(StageConfig)
    for setting in sorted(StageConfig.settings()):
        value = node.try_get_context(setting)
        if value is not None:
            settings[setting] = _from_context(setting, value, hints[setting])
    return StageConfig.from_mapping(stage, settings)


def _from_context(setting: str, value: Any, hint: Any) -> Any:
    """A ``-c`` value (a string from the CLI, or already typed from cdk.json/tests) as the setting's type."""
    if not isinstance(value, str):
        return value
    optional = type(None) in typing.get_args(hint)
    if optional and value.strip().lower() in ("", "null", "none"):
        return None
    kinds = [kind for kind in (typing.get_args(hint) or (hint,)) if kind is not type(None)]
    kind = kinds[0]
    try:
        if kind is bool:
            lowered = value.strip().lower()
            if lowered not in ("true", "false"):
                raise ValueError(value)
            return lowered == "true"
        if kind in (int, float):
            return kind(value)
    except ValueError:
        raise ValueError(f"-c {setting}={value!r}: expected {kind.__name__}") from None
    return value
