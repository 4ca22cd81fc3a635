"""Powertools logger and metrics shared by the three handlers, and the Metrics port over them.

No Powertools Tracer: it imports the X-Ray SDK (~100 ms of every cold start, measured by
bench/bench_import_time.py). The functions keep Lambda's active tracing, which traces each invocation and
its AWS calls' latency from the service side.

Creating these objects makes no AWS call; metrics are flushed as EMF log lines by ``@metrics.log_metrics``.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

# Fixed, not read from the environment: the stack's alarms and dashboard import these, so a synth must not
# depend on the shell it runs in (the functions get the same values as POWERTOOLS_* variables).
SERVICE_NAME = "punctual"
METRICS_NAMESPACE = "Punctual"

logger = Logger(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)

# Fired occurrences only: the lateness p99 alarm reads this one. A skipped misfire's lateness (hours, after an
# outage) is its own metric, so an intended skip cannot trip the alarm. Distinct names rather than a
# dimension: Powertools flushes one dimension set per EMF blob, and the alarm then needs no dimension filter.
LATENESS_METRIC = "lateness_ms"
SKIPPED_LATENESS_METRIC = "skipped_lateness_ms"


class PowertoolsMetrics:
    """The service's Metrics port: counts (scheduled, cancelled, fired, late, failed, skipped...) and lateness."""

    def __init__(self, sink: Metrics = metrics) -> None:
        self._sink = sink

    def count(self, name: str, value: int = 1) -> None:
        self._sink.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def lateness(self, milliseconds: int) -> None:
        self._sink.add_metric(name=LATENESS_METRIC, unit=MetricUnit.Milliseconds, value=milliseconds)

    def skipped_lateness(self, milliseconds: int) -> None:
        self._sink.add_metric(name=SKIPPED_LATENESS_METRIC, unit=MetricUnit.Milliseconds, value=milliseconds)
