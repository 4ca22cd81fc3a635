"""Per-stage settings: cdk.json context ``stages.<name>``, selected with ``-c stage=<name>``.

The Lambda tunables default to the handlers' own defaults (``HandlerEnv``), so the stack and the code
cannot disagree unless a stage overrides one on purpose. The Powertools service name and metrics
namespace are the handlers' own (``punctual.handlers.observability``): the alarms read what they emit.
"""

from __future__ import annotations

import dataclasses
import json
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
    alarm_email: str | None = None
    lateness_alarm_ms: int = 1000  # p99 lateness above this alarms: punctual promises the second
    log_level: str = "INFO"
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

    @classmethod
    def from_mapping(cls, name: str, raw: Mapping[str, Any]) -> StageConfig:
        known = {f.name for f in dataclasses.fields(cls)} - {"name"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"stage {name}: unknown settings {unknown}")
        return cls(name=name, **raw)

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
    return StageConfig.from_mapping(stage, stages[stage])
