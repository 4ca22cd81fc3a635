"""When a failed call is tried again: which failures are worth retrying, and how long to wait.

Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): the wait is uniform in
[0, min(max_delay, initial_delay * 2^(n-1))] for exponential backoff, or [0, initial_delay] for fixed. A
``Retry-After`` the target sent on a 429 or 503 is honoured as a floor. Waits are whole seconds (SQS
delays are) within SQS's 15 minutes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from email.utils import parsedate_to_datetime

from punctual.domain.targets import MAX_RETRY_DELAY_SECONDS, Backoff, RetryPolicy

# Client errors that mean "try again later" rather than "this request is wrong".
_RETRYABLE_4XX = frozenset({408, 429})
_HONOURS_RETRY_AFTER = frozenset({429, 503})


def worth_retrying(status: int | None, policy: RetryPolicy) -> bool:
    """A call that failed with ``status`` (None: no HTTP answer — a timeout, a connection error, a Lambda
    error) may be retried: everything except 4xx other than 408/429, unless the policy retries 4xx too."""
    if status is None or status >= 500 or status in _RETRYABLE_4XX:
        return True
    if 400 <= status < 500:
        return policy.retry_4xx
    return True  # 1xx/3xx: an endpoint that did not answer with success


def retry_after_seconds(status: int | None, header: str | None, now: datetime) -> float | None:
    """The wait a 429/503 asked for, in seconds (delta-seconds or an HTTP date), if any."""
    if status not in _HONOURS_RETRY_AFTER or not header:
        return None
    text = header.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def retry_delay_seconds(
    policy: RetryPolicy, failed_attempt: int, *, random: Callable[[], float], retry_after: float | None
) -> int:
    """Whole seconds to wait after attempt ``failed_attempt`` (1-based) failed."""
    if policy.backoff is Backoff.FIXED:
        ceiling = policy.initial_delay_seconds
    else:
        ceiling = min(policy.max_delay_seconds, policy.initial_delay_seconds * 2 ** (failed_attempt - 1))
    wait = random() * ceiling
    if retry_after is not None:
        wait = max(wait, retry_after)
    return min(int(MAX_RETRY_DELAY_SECONDS), math.ceil(wait))
