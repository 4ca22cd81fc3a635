"""The sweeper, run every minute by EventBridge Scheduler: re-arms lost chains and applies misfire policies."""

from __future__ import annotations

from punctual.handlers.coldstart import collector_paused

# Imported with the garbage collector paused, then frozen: see handlers/coldstart.py.
with collector_paused():
    import dataclasses
    import warnings
    from typing import Any

    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from punctual import bootstrap
    from punctual.handlers.observability import logger, metrics

METRIC_PREFIX = "sweep_"

# An idle sweep emits no metric at all (see handler): Powertools would warn on every such flush.
warnings.filterwarnings("ignore", message="No application metrics to publish")


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    report = dataclasses.asdict(bootstrap.current_app().firing.sweep())
    # Non-zero counts only: a custom metric is billed ($0.30) for every month it receives a data point, so
    # five zeros a minute would cost an idle stage $1.50 a month. That the sweep runs at all is the
    # SweeperHeartbeat alarm's business: it watches the function's own AWS/Lambda Invocations, which are free.
    for name, value in report.items():
        if value:
            metrics.add_metric(name=METRIC_PREFIX + name, unit=MetricUnit.Count, value=value)
    logger.info("sweep finished", **report)
    return report
