"""Least privilege, role by role: the actions AND the resources each one may touch."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.synth import Synthesized

API_ROLE = "Api/Handler/Role"
EXECUTOR_ROLE = "Firing/Executor/Role"
SWEEPER_ROLE = "Firing/Sweeper/Role"
SCHEDULER_ROLE = "Firing/SchedulerRole"
SWEEP_SCHEDULE_ROLE = "Firing/SweepScheduleRole"
FUNCTION_ROLES = (API_ROLE, EXECUTOR_ROLE, SWEEPER_ROLE)

TABLE_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
}


def _wake_up_arns(stack: Synthesized) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":scheduler:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":schedule/punctual-dev/*",
            ],
        ]
    }


def _index_arns(stack: Synthesized) -> dict[str, Any]:
    return {"Fn::Join": ["", [stack.att("Storage/Table"), "/index/*"]]}


def _statement(stack: Synthesized, role: str, action: str) -> dict[str, Any]:
    matching = [statement for statement in stack.statements(role) if action in statement["Action"]]
    assert len(matching) == 1, matching
    return matching[0]


def test_every_function_has_its_own_role(dev: Synthesized) -> None:
    roles = {
        dev.props(f"{path}/Function")["Role"]["Fn::GetAtt"][0]
        for path in ("Api/Handler", "Firing/Executor", "Firing/Sweeper")
    }
    assert roles == {dev.logical_id(role) for role in FUNCTION_ROLES}
    for role in FUNCTION_ROLES:
        assert dev.props(role)["AssumeRolePolicyDocument"]["Statement"] == [
            {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
        ]
        assert "ManagedPolicyArns" not in dev.props(role)


def test_no_role_may_scan_or_use_wildcard_actions(every_stack: Synthesized) -> None:
    for role in (*FUNCTION_ROLES, SCHEDULER_ROLE, SWEEP_SCHEDULE_ROLE):
        actions = every_stack.actions(role)
        assert "dynamodb:Scan" not in actions
        assert not any(action.endswith(":*") or action == "*" for action in actions), (role, actions)


def test_only_the_executor_publishes_fired_events(every_stack: Synthesized) -> None:
    assert "sns:Publish" not in every_stack.actions(API_ROLE)
    assert "sns:Publish" not in every_stack.actions(SWEEPER_ROLE)
    assert every_stack.resources_for(EXECUTOR_ROLE, "sns:Publish") == [every_stack.ref("Events/Topic")]
    assert every_stack.resources_for(EXECUTOR_ROLE, "kms:GenerateDataKey*") == [
        every_stack.att("Events/TopicKey")
    ]


def test_table_access_per_function(dev: Synthesized) -> None:
    table = dev.att("Storage/Table")
    for role, resources in (
        (API_ROLE, [table, _index_arns(dev)]),
        (SWEEPER_ROLE, [table, _index_arns(dev)]),
        (EXECUTOR_ROLE, [table]),  # the fire path reads and writes items by key only
    ):
        statement = _statement(dev, role, "dynamodb:PutItem")
        assert set(statement["Action"]) == TABLE_ACTIONS
        assert statement["Resource"] == resources


@pytest.mark.parametrize("role", FUNCTION_ROLES)
def test_arming_grants(dev: Synthesized, role: str) -> None:
    schedules = _statement(dev, role, "scheduler:CreateSchedule")
    assert set(schedules["Action"]) == {"scheduler:CreateSchedule", "scheduler:DeleteSchedule"}
    assert schedules["Resource"] == [_wake_up_arns(dev)]

    pass_role = _statement(dev, role, "iam:PassRole")
    assert pass_role["Resource"] == [dev.att(SCHEDULER_ROLE)]
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}

    assert dev.att("Firing/DelayQueue") in dev.resources_for(role, "sqs:SendMessage")


def test_only_the_executor_may_send_to_the_schedule_dlq_besides_ebs(dev: Synthesized) -> None:
    """The executor's on-failure destination: what its failed asynchronous invocations are sent to."""
    delivery = dev.att("Targets/DeliveryQueue")  # the executor's hand-off, the API's replays
    assert sorted(dev.resources_for(API_ROLE, "sqs:SendMessage"), key=str) == sorted(
        [dev.att("Firing/DelayQueue"), delivery], key=str
    )
    assert dev.resources_for(SWEEPER_ROLE, "sqs:SendMessage") == [dev.att("Firing/DelayQueue")]
    assert sorted(dev.resources_for(EXECUTOR_ROLE, "sqs:SendMessage"), key=str) == sorted(
        [dev.att("Firing/DelayQueue"), dev.att("Firing/ScheduleDeadLetters"), delivery], key=str
    )
    [destination] = [
        statement
        for statement in dev.statements(EXECUTOR_ROLE)
        if statement["Resource"] == [dev.att("Firing/ScheduleDeadLetters")]
    ]
    assert destination["Effect"] == "Allow"
    assert "sqs:SendMessage" in destination["Action"]
    assert not any(
        action.startswith("sqs:Receive") or action.startswith("sqs:Delete")
        for action in destination["Action"]
    )


def test_only_the_executor_consumes_the_delay_queue(dev: Synthesized) -> None:
    consume = _statement(dev, EXECUTOR_ROLE, "sqs:ReceiveMessage")
    assert {"sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} <= set(consume["Action"])
    assert consume["Resource"] == [dev.att("Firing/DelayQueue")]
    for role in (API_ROLE, SWEEPER_ROLE):
        assert "sqs:ReceiveMessage" not in dev.actions(role)


def test_secrets_are_read_by_the_api_only(variant: Synthesized) -> None:
    secrets = variant.resources_for(API_ROLE, "secretsmanager:GetSecretValue")
    assert sorted(secrets, key=str) == sorted(
        [variant.ref("Api/SharedSecret"), variant.ref("Targets/SigningKey")], key=str
    )
    for role in (EXECUTOR_ROLE, SWEEPER_ROLE):
        assert not any(action.startswith("secretsmanager:") for action in variant.actions(role))


def test_no_shared_secret_without_the_option(dev: Synthesized) -> None:
    assert dev.resources_for(API_ROLE, "secretsmanager:GetSecretValue") == [dev.ref("Targets/SigningKey")]
    # The signing key only: the list-cursor key derives from it ($0.40 a month less than a secret of its own).
    assert len(dev.of_type("AWS::SecretsManager::Secret")) == 1


def test_scheduler_role_is_trusted_by_scheduler_of_this_account_and_group(dev: Synthesized) -> None:
    [trust] = dev.props(SCHEDULER_ROLE)["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert trust["Condition"]["StringEquals"]["aws:SourceArn"] == dev.att("Firing/WakeUps")


def test_scheduler_role_may_only_invoke_the_executor_and_dead_letter(dev: Synthesized) -> None:
    statements = dev.statements(SCHEDULER_ROLE)
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        (["lambda:InvokeFunction"], [dev.att("Firing/Executor/Function")]),
        (["sqs:SendMessage"], [dev.att("Firing/ScheduleDeadLetters")]),
    ]
    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in statements)


def test_sweep_schedule_role_invokes_only_the_sweeper(dev: Synthesized) -> None:
    sweeper = dev.att("Firing/Sweeper/Function")
    invoke = _statement(dev, SWEEP_SCHEDULE_ROLE, "lambda:InvokeFunction")
    assert invoke["Resource"] == [sweeper, {"Fn::Join": ["", [sweeper, ":*"]]}]
    assert dev.actions(SWEEP_SCHEDULE_ROLE) == {"lambda:InvokeFunction", "sqs:SendMessage"}
    [trust] = dev.props(SWEEP_SCHEDULE_ROLE)["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}


def test_function_logs_go_to_their_own_log_group(dev: Synthesized) -> None:
    for function in ("Api/Handler", "Firing/Executor", "Firing/Sweeper"):
        logs = _statement(dev, f"{function}/Role", "logs:PutLogEvents")
        assert logs["Resource"] == [dev.att(f"{function}/Logs")]
