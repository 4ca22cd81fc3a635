"""The executor: one function for two event shapes.

- An EventBridge Scheduler wake-up: the event *is* the link (``"source": "punctual.link"``); the link goes
  to the delay queue for the remaining whole seconds.
- A delay-queue batch: each record's body is a link; fire it. Records are handled in occurrence order, a
  failure is reported per record (``batchItemFailures``) so SQS retries only that one, and a record that is
  not a link is logged and dropped: retrying it could never succeed.
"""

from __future__ import annotations

from punctual.handlers.coldstart import collector_paused

# Imported with the garbage collector paused, then frozen: see handlers/coldstart.py.
with collector_paused():
    from typing import Any, TypedDict

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from punctual import bootstrap
    from punctual.adapters.link_codec import decode_link, is_link_payload
    from punctual.domain.model import Link
    from punctual.handlers.env import HandlerEnv
    from punctual.handlers.observability import logger, metrics
    from punctual.service.firing import OccurrenceBusy

# Qualified ARNs end in ":<version or alias>"; EBS must target the function itself.
_UNQUALIFIED_ARN_PARTS = 7


class BatchResponse(TypedDict):
    """Lambda's partial batch response for SQS: the records to redeliver, by message id."""

    batchItemFailures: list[dict[str, str]]


def unqualified_arn(function_arn: str) -> str:
    return ":".join(function_arn.split(":")[:_UNQUALIFIED_ARN_PARTS])


def _punctual(context: LambdaContext) -> bootstrap.Punctual:
    return bootstrap.current_app(
        lambda: bootstrap.build_app(
            HandlerEnv.from_environ(), executor_arn=unqualified_arn(context.invoked_function_arn)
        )
    )


def _decoded(record: dict[str, Any]) -> Link | None:
    try:
        return decode_link(record.get("body", ""))
    except ValueError as error:
        logger.error(
            "dropping a delay-queue record that is not a link",
            message_id=record.get("messageId"),
            reason=str(error),
        )
        return None


def _fire_records(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    firing = _punctual(context).firing
    links: dict[str, Link] = {}
    for record in event["Records"]:
        link = _decoded(record)
        if link is not None:
            links[record["messageId"]] = link
    # Occurrence order: when a burst arrives together, the earliest instants are published first.
    ordered = sorted(
        (record for record in event["Records"] if record["messageId"] in links),
        key=lambda record: links[record["messageId"]].occurrence,
    )
    # One result per record: a failure is reported in batchItemFailures and SQS redelivers only that record
    # after its visibility timeout. A batch where every record failed is still a partial response, never an
    # exception, so the records that are not links (dropped above) are not redelivered.
    results = firing.fire_batch([links[record["messageId"]] for record in ordered])
    failures: list[dict[str, str]] = []
    for record, result in zip(ordered, results, strict=True):
        link = links[record["messageId"]]
        receive_count = int(record["attributes"]["ApproximateReceiveCount"] or 1)
        if isinstance(result, OccurrenceBusy):
            # Another delivery is publishing this occurrence right now; retrying later finds its outcome.
            logger.info("occurrence busy; the record will be retried", task_id=link.task_id)
        elif isinstance(result, Exception):
            logger.error(
                "firing failed; the record will be retried",
                task_id=link.task_id,
                receive_count=receive_count,
                error=repr(result),
            )
        else:
            # DEBUG: a published run already has its one INFO line ("fired", from the service); at INFO this
            # line doubled the log bytes of every fire.
            logger.debug(
                "fired link",
                task_id=link.task_id,
                occurrence=link.occurrence.isoformat(),
                kind=link.kind.value,
                receive_count=receive_count,
                outcome=result.value,
            )
            continue
        failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse | None:
    if is_link_payload(event):
        try:
            link = decode_link(event)
        except ValueError as error:
            # Retrying cannot fix it; EBS would retry for a day before dead-lettering.
            logger.error("dropping a wake-up that is not a valid link", reason=str(error))
            return None
        _punctual(context).firing.wake(link)
        logger.info(
            "woke link", task_id=link.task_id, occurrence=link.occurrence.isoformat(), version=link.version
        )
        return None
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        return _fire_records(event, context)
    logger.error("ignoring an event that is neither a link nor an SQS batch", keys=sorted(event)[:10])
    return None
