"""The runner: consumes the delivery queue, one message per call of a run's Lambda or HTTPS target.

Thin: decode each record, hand it to the runner use case (service/runner.py), report the records to redeliver
(``batchItemFailures``). A record that is not a delivery message is logged and dropped: retrying it could
never succeed. The calls of a batch are made one after another; the queue's event source runs batches of
one, so a slow target holds up no other run.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from punctual import bootstrap
from punctual.adapters.sqs_delivery_queue import decode_delivery
from punctual.handlers.observability import logger, metrics
from punctual.service.runner import AttemptBusy


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    runner = bootstrap.current_app().runner
    failures: list[dict[str, str]] = []
    for record in event.get("Records") or []:
        try:
            tracking_id, attempt = decode_delivery(record.get("body", ""))
        except ValueError as error:
            logger.error(
                "dropping a record that is not a delivery",
                message_id=record.get("messageId"),
                reason=str(error),
            )
            continue
        if runner is None:
            logger.error("this stage has no runner configured; the delivery will be retried")
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        try:
            outcome = runner.deliver(tracking_id, attempt)
        except AttemptBusy:
            logger.info("attempt in progress elsewhere; the record will be retried", tracking_id=tracking_id)
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        except Exception as error:
            logger.error(
                "delivery failed; the record will be retried",
                tracking_id=tracking_id,
                attempt=attempt,
                error=repr(error),
            )
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        logger.debug("delivered", tracking_id=tracking_id, attempt=attempt, outcome=outcome.value)
    return {"batchItemFailures": failures}
