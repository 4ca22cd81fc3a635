"""Tunables of the use cases. Handlers build this from environment variables (handlers/env.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from punctual.domain.schedules import ScheduleLimits
from punctual.domain.targets import DEFAULT_RETRY, RetryPolicy


@dataclass(frozen=True)
class ServiceSettings:
    limits: ScheduleLimits = field(default_factory=ScheduleLimits)
    # An occurrence further away than max_delay is woken by EBS at (T - lead); nearer ones go to SQS directly.
    lead: timedelta = timedelta(minutes=2)
    max_delay_seconds: int = 900  # SQS DelaySeconds ceiling
    # How long a claimed run belongs to one executor invocation before another delivery may take over.
    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = 5  # publish attempts per run before it is marked failed
    # Recording a published run is retried in process this many times, backing off by record_backoff more
    # each time: only when all fail is the message redelivered and the event published again (P1's window).
    record_attempts: int = 3
    record_backoff: timedelta = timedelta(milliseconds=100)
    run_retention: timedelta = timedelta(days=30)  # run records expire (DynamoDB TTL) after this
    # The sweeper treats a task as lost/missed once its wake-up instant is this far in the past. Longer than
    # the delay queue's 180 s visibility timeout (six executor timeouts, infra/firing.py) plus a sweep: a
    # delivery that failed transiently comes back before its occurrence counts as missed (so a skip policy
    # never turns a retry into a skip). tests/infra/test_infra_firing.py holds the two together.
    sweep_grace: timedelta = timedelta(seconds=240)
    sweep_batch: int = 100  # due tasks read per page
    sweep_max_tasks: int = 2_000  # due tasks examined per sweep (pages of sweep_batch)
    # Missed cron occurrences are counted one by one up to this many, then the count is a lower bound (the walk
    # jumps to the last one before now); intervals are counted exactly, in closed form.
    max_missed_count: int = 1_000
    default_page_size: int = 50
    max_page_size: int = 100
    max_bulk_items: int = 100
    max_message_bytes: int = 200_000  # the event must fit SNS's 256 KiB with its envelope
    max_metadata_keys: int = 5  # each becomes an SNS message attribute (SNS allows 10 in all)
    cursor_secret: bytes = b"punctual-dev-cursor-secret"
    # Targets (service/target_policy.py). The stage's retry defaults; fnmatch patterns of the Lambda ARNs
    # tasks may call (none: no Lambda target); the ARN prefix a bare function name expands with; http:// and
    # loopback for development stages (punctual dev) only.
    default_retry: RetryPolicy = DEFAULT_RETRY
    lambda_targets: tuple[str, ...] = ()
    lambda_arn_prefix: str = "arn:aws:lambda:us-east-1:123456789012:function:"
    allow_insecure_targets: bool = False
