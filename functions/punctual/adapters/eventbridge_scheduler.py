"""LinkScheduler on EventBridge Scheduler: one one-time schedule per armed occurrence, deleted after it runs.

The schedule's name is derived from the link, so arming the same link twice finds the first schedule
(ConflictException) and cancelling looks it up without a stored reference.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from punctual.adapters.aws_errors import aws_errors, error_code
from punctual.adapters.link_codec import link_to_json
from punctual.domain.model import Link, LinkKind

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient

NAME_MAX_LENGTH = 64
_NAME_PATTERN = re.compile(r"^[0-9a-zA-Z_.-]{1,64}$")
# EBS limits for a target's retry policy.
_MAX_RETRIES_RANGE = range(0, 186)
_EVENT_AGE_RANGE = range(60, 86401)


def schedule_name(link: Link) -> str:
    """``p-<task_id>-<version>-<epoch seconds of the occurrence>``; a manual link (never armed via EBS in
    practice) is named by its tracking id instead so it cannot collide with the occurrence chain."""
    epoch = math.floor(link.occurrence.timestamp())
    if link.kind is LinkKind.MANUAL and link.tracking_id:
        name = f"m-{link.tracking_id}-{epoch}"
    else:
        name = f"p-{link.task_id}-{link.version}-{epoch}"
    if not _NAME_PATTERN.match(name):
        raise ValueError(f"schedule name {name!r} is not 1-{NAME_MAX_LENGTH} characters of [0-9a-zA-Z-_.]")
    return name


def at_expression(instant: datetime) -> str:
    """``at(yyyy-mm-ddThh:mm:ss)`` in UTC; EBS has no sub-second part, so it is truncated."""
    return instant.astimezone(UTC).strftime("at(%Y-%m-%dT%H:%M:%S)")


class EventBridgeLinkScheduler:
    def __init__(
        self,
        group_name: str,
        target_arn: str,
        role_arn: str,
        dead_letter_arn: str,
        *,
        client: EventBridgeSchedulerClient | None = None,
        max_retries: int = 185,
        max_event_age_seconds: int = 86400,
    ) -> None:
        if max_retries not in _MAX_RETRIES_RANGE:
            raise ValueError("max_retries must be 0..185 (EventBridge Scheduler's limit)")
        if max_event_age_seconds not in _EVENT_AGE_RANGE:
            raise ValueError("max_event_age_seconds must be 60..86400 (EventBridge Scheduler's limit)")
        self._group_name = group_name
        self._target_arn = target_arn
        self._role_arn = role_arn
        self._dead_letter_arn = dead_letter_arn
        self._client = client or boto3.client("scheduler")
        self._retry_policy = {
            "MaximumRetryAttempts": max_retries,
            "MaximumEventAgeInSeconds": max_event_age_seconds,
        }

    def wake_at(self, link: Link, instant: datetime) -> None:
        with aws_errors():
            try:
                self._client.create_schedule(**self._schedule_request(link, instant))
            except ClientError as error:
                # The name is derived from the link: an existing schedule is this very wake-up.
                if error_code(error) != "ConflictException":
                    raise

    def cancel_wake(self, link: Link) -> None:
        with aws_errors():
            try:
                self._client.delete_schedule(Name=schedule_name(link), GroupName=self._group_name)
            except ClientError as error:
                # Already ran (ActionAfterCompletion=DELETE), already cancelled, or never armed.
                if error_code(error) != "ResourceNotFoundException":
                    raise

    def _schedule_request(self, link: Link, instant: datetime) -> dict[str, Any]:
        return {
            "Name": schedule_name(link),
            "GroupName": self._group_name,
            "ScheduleExpression": at_expression(instant),
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "Target": {
                "Arn": self._target_arn,
                "RoleArn": self._role_arn,
                "Input": link_to_json(link),
                "RetryPolicy": dict(self._retry_policy),
                "DeadLetterConfig": {"Arn": self._dead_letter_arn},
            },
        }
