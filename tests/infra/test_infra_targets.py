"""Targets in the template: the delivery queue and its DLQ, the runner and its event source, Lambda invoke
grants only for the stage's lambda_targets, the signing key, the alarms."""

from __future__ import annotations

from typing import Any

from punctual.domain.targets import MAX_TIMEOUT_SECONDS

from tests.infra.synth import Synthesized, cdk_json_stages

RUNNER_ROLE = "Targets/Runner/Role"
FUNCTION_ROLES = ("Api/Handler/Role", "Firing/Executor/Role", "Firing/Sweeper/Role", RUNNER_ROLE)


def _runner_mapping(stack: Synthesized) -> dict[str, Any]:
    [mapping] = [
        m["Properties"]
        for m in stack.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == stack.att("Targets/DeliveryQueue")
    ]
    return mapping


def test_the_delivery_queue_redrives_to_its_dlq(every_stack: Synthesized) -> None:
    queue = every_stack.props("Targets/DeliveryQueue")
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == every_stack.att("Targets/DeliveryDeadLetters")
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 2
    assert every_stack.props("Targets/DeliveryDeadLetters")["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_a_delivery_comes_back_only_after_one_call_could_have_ended(every_stack: Synthesized) -> None:
    visibility = every_stack.props("Targets/DeliveryQueue")["VisibilityTimeout"]
    runner_timeout = every_stack.props("Targets/Runner/Function")["Timeout"]
    assert runner_timeout > MAX_TIMEOUT_SECONDS
    assert visibility >= runner_timeout


def test_the_runner_takes_one_delivery_at_a_time_reporting_failures(every_stack: Synthesized) -> None:
    mapping = _runner_mapping(every_stack)
    assert mapping["FunctionName"] == every_stack.ref("Targets/Runner/Function")
    assert mapping["BatchSize"] == 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_only_the_runner_may_invoke_and_only_the_stages_lambda_targets(dev: Synthesized) -> None:
    patterns = cdk_json_stages()["dev"]["lambda_targets"]
    assert patterns
    granted = dev.resources_for(RUNNER_ROLE, "lambda:InvokeFunction")
    assert sorted(granted) == sorted([*patterns, *(f"{p}:*" for p in patterns)])
    for role in FUNCTION_ROLES[:-1]:
        assert "lambda:InvokeFunction" not in dev.actions(role), role
    assert dev.environment("Api/Handler/Function")["LAMBDA_TARGETS"] == ",".join(patterns)


def test_a_stage_without_lambda_targets_grants_no_invoke(prod: Synthesized) -> None:
    assert cdk_json_stages()["prod"]["lambda_targets"] == []
    assert "lambda:InvokeFunction" not in prod.actions(RUNNER_ROLE)
    assert prod.environment("Targets/Runner/Function")["LAMBDA_TARGETS"] == ""


def test_no_stage_allows_insecure_targets(every_stack: Synthesized) -> None:
    for path in ("Api/Handler/Function", "Targets/Runner/Function"):
        assert every_stack.environment(path)["ALLOW_INSECURE_TARGETS"] == "false"


def test_the_runner_records_publishes_retries_and_reads_the_signing_key(dev: Synthesized) -> None:
    actions = dev.actions(RUNNER_ROLE)
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "sns:Publish", "sqs:SendMessage"} <= actions
    assert dev.resources_for(RUNNER_ROLE, "sqs:SendMessage") == [dev.att("Targets/DeliveryQueue")]
    assert dev.resources_for(RUNNER_ROLE, "secretsmanager:GetSecretValue") == [dev.ref("Targets/SigningKey")]
    assert not any(action.startswith("scheduler:") for action in actions)  # it arms nothing
    assert dev.resources_for("Firing/Executor/Role", "secretsmanager:GetSecretValue") == []


def test_alarms_watch_the_delivery_dlq_and_the_runners_errors(dev: Synthesized) -> None:
    alarms = [alarm["Properties"] for alarm in dev.of_type("AWS::CloudWatch::Alarm").values()]
    dlq = dev.logical_id("Targets/DeliveryDeadLetters")
    runner = dev.logical_id("Targets/Runner/Function")
    assert any(
        a.get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and a["Dimensions"][0]["Value"] == {"Fn::GetAtt": [dlq, "QueueName"]}
        for a in alarms
    )
    assert any(
        a.get("MetricName") == "Errors" and a["Dimensions"][0]["Value"] == {"Ref": runner} for a in alarms
    )
