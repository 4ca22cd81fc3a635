"""The sweeper, run every minute by EventBridge Scheduler: re-arms lost chains and applies misfire policies."""

from __future__ import annotations

from punctual.handlers.coldstart import collector_paused

# Imported with the garbage collector paused, then frozen: see handlers/coldstart.py.
with collector_paused():
    import dataclasses
    from typing import Any

    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from punctual import bootstrap
    from punctual.handlers.observability import logger, metrics

METRIC_PREFIX = "sweep_"


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    report = dataclasses.asdict(bootstrap.current_app().firing.sweep())
    for name, value in report.items():
        metrics.add_metric(name=METRIC_PREFIX + name, unit=MetricUnit.Count, value=value)
    logger.info("sweep finished", **report)
    return report
