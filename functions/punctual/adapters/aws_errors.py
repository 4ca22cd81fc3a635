"""Translate AWS failures into domain errors by error *code* (never by message text).

Every adapter wraps its boto3 calls in ``with aws_errors():``. A failed condition becomes
``StaleWriteError``; the caller turns it into ``AlreadyExistsError`` where a put-if-absent lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from punctual.domain.errors import DependencyError, StaleWriteError, ThrottledError

CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELLED = "TransactionCanceledException"
# The code a TransactionCanceledException reports per item whose condition failed.
REASON_CONDITION_FAILED = "ConditionalCheckFailed"

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "Throttling",
        "Throttled",  # SNS
        "RequestThrottled",  # SQS
        "KMSThrottling",  # SNS/SQS with KMS-encrypted topics and queues
        "KmsThrottled",
    }
)
# Per-item cancellation reasons that mean "try again shortly": capacity, or another transaction in flight.
_RETRYABLE_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"})


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def cancellation_codes(error: ClientError) -> list[str | None]:
    """Per-operation reason codes of a cancelled transaction, in request order (None where it was fine)."""
    reasons: list[dict[str, Any]] = list(error.response.get("CancellationReasons", []))  # type: ignore[arg-type]
    codes: list[str | None] = []
    for reason in reasons:
        code = reason.get("Code")
        codes.append(None if code in (None, "None") else str(code))
    return codes


def translate(error: Exception) -> Exception:
    """The domain error for an AWS failure; unknown failures become DependencyError."""
    if isinstance(error, ClientError):
        code = error_code(error)
        operation = error.operation_name
        if code == CONDITION_FAILED:
            return StaleWriteError(f"{operation}: condition not met")
        if code in THROTTLING_CODES:
            return ThrottledError(f"AWS throttled {operation}; retry shortly")
        if code == TRANSACTION_CANCELLED:
            return cancellation_error(operation, cancellation_codes(error))
        return DependencyError(f"AWS {operation} failed ({code or 'unknown error'})")
    if isinstance(error, BotoCoreError):
        return DependencyError(f"AWS request failed ({type(error).__name__})")
    return error


def cancellation_error(operation: str, codes: list[str | None]) -> Exception:
    """The domain error for a transaction cancelled with these per-operation reason codes."""
    if REASON_CONDITION_FAILED in codes:
        return StaleWriteError(f"{operation}: condition not met")
    if any(code in _RETRYABLE_REASONS for code in codes):
        return ThrottledError(f"AWS throttled {operation}; retry shortly")
    return DependencyError(f"AWS {operation} failed (transaction cancelled)")


@contextmanager
def aws_errors() -> Iterator[None]:
    """Re-raise ClientError / BotoCoreError raised inside the block as domain errors (chained)."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise translate(error) from error
