"""Queues, DLQs and redrive; the executor's event source; the sweep schedule; the FIFO option."""

from __future__ import annotations

from typing import Any

from punctual.handlers.env import HandlerEnv
from punctual.service.settings import ServiceSettings

from infra.firing import EXECUTOR_ASYNC_RETRY_ATTEMPTS, SWEEP_INTERVAL
from tests.infra.synth import Synthesized

DLQ_RETENTION_SECONDS = 14 * 24 * 3600


def test_delay_queue_redrives_to_its_dlq_only_after_the_executor_gave_up(every_stack: Synthesized) -> None:
    queue = every_stack.props("Firing/DelayQueue")
    max_attempts = every_stack.environment("Firing/Executor/Function")["MAX_ATTEMPTS"]
    redrive = queue["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == every_stack.att("Firing/DelayDeadLetters")
    # More receives than publish attempts: the executor records the failed run before SQS dead-letters it.
    assert redrive["maxReceiveCount"] > int(max_attempts)
    assert max_attempts == str(HandlerEnv().MAX_ATTEMPTS)


def test_a_failed_delivery_returns_after_the_attempt_lease_lapsed(dev: Synthesized) -> None:
    visibility = dev.props("Firing/DelayQueue")["VisibilityTimeout"]
    executor_timeout = dev.props("Firing/Executor/Function")["Timeout"]
    assert visibility >= executor_timeout + ServiceSettings().lease.total_seconds()


def test_the_delay_queue_hides_a_batch_six_executor_timeouts(every_stack: Synthesized) -> None:
    # AWS's advice for an SQS event source: a throttled batch is retried by Lambda within that time.
    visibility = every_stack.props("Firing/DelayQueue")["VisibilityTimeout"]
    assert visibility >= 6 * every_stack.props("Firing/Executor/Function")["Timeout"]


def test_the_sweep_grace_outlasts_a_redelivery_and_a_sweep(every_stack: Synthesized) -> None:
    """A delivery that failed comes back after the visibility timeout; the sweeper must not count its
    occurrence as missed (or skip it) before then, nor before the next sweep after it."""
    visibility = every_stack.props("Firing/DelayQueue")["VisibilityTimeout"]
    [schedule] = every_stack.of_type("AWS::Scheduler::Schedule").values()
    assert schedule["Properties"]["ScheduleExpression"] == f"rate({int(SWEEP_INTERVAL.to_minutes())} minute)"
    grace = ServiceSettings().sweep_grace.total_seconds()
    assert grace >= visibility + SWEEP_INTERVAL.to_seconds()


def test_the_executors_event_source_has_a_maximum_concurrency(
    dev: Synthesized, prod: Synthesized, variant: Synthesized
) -> None:
    """It reserves nothing (so it deploys on a quota of 10) and leaves the API and the sweeper room."""
    for stack, expected in ((dev, 5), (prod, 5), (variant, 25)):
        executor = stack.logical_id("Firing/Executor/Function")
        [mapping] = [
            mapping
            for mapping in stack.of_type("AWS::Lambda::EventSourceMapping").values()
            if mapping["Properties"]["FunctionName"] == {"Ref": executor}
        ]
        assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": expected}


def test_events_queue_redrives_to_its_dlq(dev: Synthesized) -> None:
    queue = dev.props("Events/EventsQueue")
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == dev.att("Events/EventsDeadLetters")
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5


def test_dead_letter_queues_keep_messages_two_weeks(dev: Synthesized) -> None:
    for path in ("Firing/DelayDeadLetters", "Firing/ScheduleDeadLetters", "Events/EventsDeadLetters"):
        assert dev.props(path)["MessageRetentionPeriod"] == DLQ_RETENTION_SECONDS


def test_every_queue_is_encrypted_and_tls_only(every_stack: Synthesized) -> None:
    queues = every_stack.of_type("AWS::SQS::Queue")
    assert len(queues) == 7  # with the delivery queue and its DLQ (infra/targets.py)
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    guarded: set[str] = set()
    for policy in every_stack.of_type("AWS::SQS::QueuePolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement.get("Condition") == {
                "Bool": {"aws:SecureTransport": "false"}
            }:
                guarded.update(queue["Ref"] for queue in policy["Properties"]["Queues"])
    assert guarded == set(queues)


def test_events_queue_subscribes_with_raw_delivery_and_a_dlq(dev: Synthesized) -> None:
    [subscription] = [
        s for s in dev.of_type("AWS::SNS::Subscription").values() if s["Properties"]["Protocol"] == "sqs"
    ]
    assert subscription["Properties"] == {
        "Endpoint": dev.att("Events/EventsQueue"),
        "Protocol": "sqs",
        "RawMessageDelivery": True,
        "TopicArn": dev.ref("Events/Topic"),
        # What SNS cannot deliver to the queue lands in the events DLQ, where the DLQ alarm sees it.
        "RedrivePolicy": {"deadLetterTargetArn": dev.att("Events/EventsDeadLetters")},
    }
    # SNS may send to the DLQ, from this topic only.
    [policy] = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in dev.of_type("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [dev.ref("Events/EventsDeadLetters")]
    ]
    [allow] = [statement for statement in policy if statement["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "sns.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": dev.ref("Events/Topic")}}


def test_events_queue_retention_is_a_stage_setting(dev: Synthesized, variant: Synthesized) -> None:
    assert dev.props("Events/EventsQueue")["MessageRetentionPeriod"] == 4 * 24 * 3600
    assert variant.props("Events/EventsQueue")["MessageRetentionPeriod"] == 24 * 3600


def test_topic_is_encrypted_and_tls_only(every_stack: Synthesized) -> None:
    topic = every_stack.props("Events/Topic")
    assert topic["KmsMasterKeyId"] == every_stack.att("Events/TopicKey")
    assert every_stack.props("Events/TopicKey")["EnableKeyRotation"] is True
    [policy] = [
        p
        for p in every_stack.of_type("AWS::SNS::TopicPolicy").values()
        if every_stack.ref("Events/Topic") in p["Properties"]["Topics"]
    ]
    assert any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    )


def test_executor_consumes_the_delay_queue_in_batches_reporting_item_failures(
    every_stack: Synthesized,
) -> None:
    [mapping] = [
        m
        for m in every_stack.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == every_stack.att("Firing/DelayQueue")
    ]
    props = mapping["Properties"]
    assert props["FunctionName"] == every_stack.ref("Firing/Executor/Function")
    assert props["BatchSize"] == 10
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "MaximumBatchingWindowInSeconds" not in props  # a batching window would add lateness


def test_sweeper_runs_every_minute_with_retries_and_a_dlq(every_stack: Synthesized) -> None:
    [schedule] = every_stack.of_type("AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "rate(1 minute)"
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert props["State"] == "ENABLED"
    assert "GroupName" not in props  # the default group: callers that delete wake-ups cannot touch it
    target = props["Target"]
    assert target["Arn"] == every_stack.att("Firing/Sweeper/Function")
    assert target["RoleArn"] == every_stack.att("Firing/SweepScheduleRole")
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60}
    assert target["DeadLetterConfig"] == {"Arn": every_stack.att("Firing/ScheduleDeadLetters")}


def _invoke_config(stack: Synthesized, function_path: str) -> dict[str, Any]:
    [config] = [
        config["Properties"]
        for config in stack.of_type("AWS::Lambda::EventInvokeConfig").values()
        if config["Properties"]["FunctionName"] == stack.ref(function_path)
    ]
    return dict(config)


def test_a_failed_sweep_is_not_retried_by_lambda(dev: Synthesized) -> None:
    config = _invoke_config(dev, "Firing/Sweeper/Function")
    assert config["MaximumRetryAttempts"] == 0
    assert "DestinationConfig" not in config  # the next minute's sweep replaces it


def test_a_wake_up_the_executor_kept_failing_is_dead_lettered_not_dropped(every_stack: Synthesized) -> None:
    # EBS invokes asynchronously: its own DLQ only receives failures to invoke. Lambda retries the
    # executor's failures, then hands the event to the schedule DLQ (whose depth is alarmed).
    config = _invoke_config(every_stack, "Firing/Executor/Function")
    assert config["MaximumRetryAttempts"] == EXECUTOR_ASYNC_RETRY_ATTEMPTS == 2
    assert config["Qualifier"] == "$LATEST"
    assert config["DestinationConfig"] == {
        "OnFailure": {"Destination": every_stack.att("Firing/ScheduleDeadLetters")}
    }
    assert "DeadLetterConfig" not in every_stack.props("Firing/Executor/Function")
    # The two functions EBS invokes asynchronously: the executor (wake-ups) and the sweeper (its schedule).
    configured = {
        config["Properties"]["FunctionName"]["Ref"]
        for config in every_stack.of_type("AWS::Lambda::EventInvokeConfig").values()
    }
    assert configured == {
        every_stack.logical_id("Firing/Executor/Function"),
        every_stack.logical_id("Firing/Sweeper/Function"),
    }


def test_wake_up_group_is_named_per_stage(dev: Synthesized, prod: Synthesized) -> None:
    assert dev.props("Firing/WakeUps")["Name"] == "punctual-dev"
    assert prod.props("Firing/WakeUps")["Name"] == "punctual-prod"
    assert dev.environment("Firing/Executor/Function")["SCHEDULE_GROUP"] == "punctual-dev"


def test_standard_topic_and_queues_by_default(dev: Synthesized) -> None:
    assert "FifoTopic" not in dev.props("Events/Topic")
    assert all("FifoQueue" not in q["Properties"] for q in dev.of_type("AWS::SQS::Queue").values())
    assert dev.environment("Firing/Executor/Function")["TOPIC_FIFO"] == "false"


def test_fifo_option_makes_the_topic_and_events_queues_fifo(variant: Synthesized) -> None:
    assert variant.props("Events/Topic")["FifoTopic"] is True
    assert variant.props("Events/EventsQueue")["FifoQueue"] is True
    assert variant.props("Events/EventsDeadLetters")["FifoQueue"] is True
    assert "FifoQueue" not in variant.props("Firing/DelayQueue")  # DelaySeconds per message needs standard
    assert variant.environment("Firing/Executor/Function")["TOPIC_FIFO"] == "true"
