"""The three Lambda functions: runtime, architecture, tracing, logs, handlers and environment variables."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from punctual.handlers.env import HandlerEnv

from tests.infra.synth import Synthesized

FUNCTIONS = {
    "Api/Handler": "punctual.handlers.api.handler",
    "Firing/Executor": "punctual.handlers.executor.handler",
    "Firing/Sweeper": "punctual.handlers.sweeper.handler",
}
# Read by Powertools itself rather than by HandlerEnv.
POWERTOOLS_VARIABLES = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL"}
ARMING = {"DELAY_QUEUE_URL", "SCHEDULE_GROUP", "SCHEDULER_ROLE_ARN", "SCHEDULE_DLQ_ARN"}
TUNABLES = {
    "DUE_SHARDS",
    "MAX_ATTEMPTS",
    "LEAD_SECONDS",
    "HORIZON_DAYS",
    "MIN_INTERVAL_SECONDS",
    "RUN_RETENTION_DAYS",
}
TARGETS = {
    "DELIVERY_QUEUE_URL",
    "LAMBDA_TARGETS",
    "LAMBDA_ARN_PREFIX",
    "ALLOW_INSECURE_TARGETS",
    "SIGNING_SECRET_ARN",
}
COMMON = {"TABLE_NAME", "STAGE", *TUNABLES, *POWERTOOLS_VARIABLES, *ARMING, *TARGETS}


def _placeholders(environment: dict[str, Any]) -> dict[str, str]:
    """The environment as the function sees it, with CloudFormation references replaced by plain text."""
    return {key: value if isinstance(value, str) else f"resolved-{key}" for key, value in environment.items()}


@pytest.mark.parametrize("path", FUNCTIONS)
def test_runtime_architecture_and_json_logs(every_stack: Synthesized, path: str) -> None:
    props = every_stack.props(f"{path}/Function")
    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == FUNCTIONS[path]
    stage_log_level = props["Environment"]["Variables"]["LOG_LEVEL"]
    assert props["LoggingConfig"] == {
        "LogGroup": every_stack.ref(f"{path}/Logs"),
        "LogFormat": "JSON",
        "ApplicationLogLevel": stage_log_level,  # the same level Powertools is given
        "SystemLogLevel": "WARN",  # no START/END/REPORT lines
    }


@pytest.mark.parametrize("path", FUNCTIONS)
def test_xray_is_a_stage_setting(
    dev: Synthesized, prod: Synthesized, variant: Synthesized, path: str
) -> None:
    assert "TracingConfig" not in dev.props(f"{path}/Function")  # dev: "xray": false
    assert prod.props(f"{path}/Function")["TracingConfig"] == {"Mode": "Active"}
    assert variant.props(f"{path}/Function")["TracingConfig"] == {"Mode": "Active"}
    assert not any("xray:" in action for action in dev.actions(f"{path}/Role"))
    assert {"xray:PutTraceSegments", "xray:PutTelemetryRecords"} <= prod.actions(f"{path}/Role")


def test_log_levels_per_stage(dev: Synthesized, prod: Synthesized, variant: Synthesized) -> None:
    for stack, level in ((dev, "DEBUG"), (prod, "INFO"), (variant, "WARN")):
        for path in FUNCTIONS:
            assert stack.props(f"{path}/Function")["LoggingConfig"]["ApplicationLogLevel"] == level


def test_no_reserved_concurrency_by_default_so_a_new_account_can_deploy(
    dev: Synthesized, prod: Synthesized
) -> None:
    # Lambda keeps 10 executions unreserved and a new account's quota is 10: any reservation would fail.
    for stack in (dev, prod):
        for path in FUNCTIONS:
            assert "ReservedConcurrentExecutions" not in stack.props(f"{path}/Function")
            # The reason is written next to the resource, for checkov and its reader.
            skips = {
                s["id"]: s["comment"]
                for s in stack.resource(f"{path}/Function")["Metadata"]["checkov"]["skip"]
            }
            assert "quota is 10" in skips["CKV_AWS_115"]


def test_reserved_concurrency_per_function_when_set(dev: Synthesized, variant: Synthesized) -> None:
    for path in FUNCTIONS:
        assert "ReservedConcurrentExecutions" not in dev.props(f"{path}/Function")
    assert variant.props("Api/Handler/Function")["ReservedConcurrentExecutions"] == 20
    assert variant.props("Firing/Executor/Function")["ReservedConcurrentExecutions"] == 30
    assert variant.props("Firing/Sweeper/Function")["ReservedConcurrentExecutions"] == 2
    # A reserved function has nothing to explain to checkov about its concurrency.
    skips = variant.resource("Firing/Executor/Function")["Metadata"]["checkov"]["skip"]
    assert "CKV_AWS_115" not in {skip["id"] for skip in skips}


def test_log_retention_per_stage(dev: Synthesized, prod: Synthesized) -> None:
    for path in FUNCTIONS:
        assert dev.props(f"{path}/Logs")["RetentionInDays"] == 14
        assert prod.props(f"{path}/Logs")["RetentionInDays"] == 90


@pytest.mark.parametrize("handler", FUNCTIONS.values())
def test_handler_entry_points_exist(handler: str) -> None:
    module, _, attribute = handler.rpartition(".")
    assert callable(getattr(importlib.import_module(module), attribute))


def test_every_variable_is_one_the_handlers_read(every_stack: Synthesized) -> None:
    # HandlerEnv ignores unknown names, so a misspelt variable would silently fall back to a default.
    known = set(HandlerEnv.model_fields) | POWERTOOLS_VARIABLES
    for path in FUNCTIONS:
        environment = every_stack.environment(f"{path}/Function")
        assert set(environment) <= known, set(environment) - known
        HandlerEnv.from_environ(_placeholders(environment))  # types and ranges validate


def test_variables_per_function(dev: Synthesized) -> None:
    assert set(dev.environment("Api/Handler/Function")) == COMMON | {
        "EXECUTOR_ARN",
        "CURSOR_SECRET_FROM_SIGNING_KEY",
        "CORS_ALLOW_ORIGIN",
    }
    assert set(dev.environment("Firing/Executor/Function")) == COMMON | {"TOPIC_ARN", "TOPIC_FIFO"}
    assert set(dev.environment("Firing/Sweeper/Function")) == COMMON | {"EXECUTOR_ARN"}


def test_variables_point_at_the_stack_resources(dev: Synthesized) -> None:
    executor_arn = dev.att("Firing/Executor/Function")
    for path in FUNCTIONS:
        environment = dev.environment(f"{path}/Function")
        assert environment["TABLE_NAME"] == dev.ref("Storage/Table")
        assert environment["DELAY_QUEUE_URL"] == dev.ref("Firing/DelayQueue")
        assert environment["SCHEDULER_ROLE_ARN"] == dev.att("Firing/SchedulerRole")
        assert environment["SCHEDULE_DLQ_ARN"] == dev.att("Firing/ScheduleDeadLetters")
        assert environment["STAGE"] == "dev"
        assert environment["POWERTOOLS_SERVICE_NAME"] == "punctual"
        assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "Punctual"
    assert dev.environment("Api/Handler/Function")["EXECUTOR_ARN"] == executor_arn
    assert dev.environment("Firing/Sweeper/Function")["EXECUTOR_ARN"] == executor_arn
    # The list-cursor key derives from the signing key (SIGNING_SECRET_ARN): no secret of its own.
    assert dev.environment("Api/Handler/Function")["CURSOR_SECRET_FROM_SIGNING_KEY"] == "true"
    assert dev.environment("Api/Handler/Function")["SIGNING_SECRET_ARN"] == dev.ref("Targets/SigningKey")
    assert dev.environment("Firing/Executor/Function")["TOPIC_ARN"] == dev.ref("Events/Topic")


def test_tunables_default_to_the_handlers_defaults(prod: Synthesized) -> None:
    defaults = HandlerEnv()
    environment = prod.environment("Firing/Executor/Function")
    assert {name: environment[name] for name in TUNABLES} == {
        name: str(getattr(defaults, name)) for name in TUNABLES
    }
    assert environment["STAGE"] == "prod"
    assert environment["LOG_LEVEL"] == "INFO"


def test_shared_secret_variable_only_with_the_option(dev: Synthesized, variant: Synthesized) -> None:
    assert "SHARED_SECRET_ARN" not in dev.environment("Api/Handler/Function")
    assert variant.environment("Api/Handler/Function")["SHARED_SECRET_ARN"] == variant.ref("Api/SharedSecret")


def test_secrets_are_generated_not_written_in_the_template(variant: Synthesized) -> None:
    for path in ("Api/SharedSecret", "Targets/SigningKey"):
        props = variant.props(path)
        assert "SecretString" not in props
        assert props["GenerateSecretString"]["PasswordLength"] >= 32


@pytest.mark.parametrize("path", FUNCTIONS)
def test_why_a_function_has_no_lambda_dlq_is_written_next_to_it(every_stack: Synthesized, path: str) -> None:
    """checkov's DLQ finding (CKV_AWS_116) matters: each function says where its failures go instead."""
    function = every_stack.resource(f"{path}/Function")
    assert "DeadLetterConfig" not in function["Properties"]
    skips = {skip["id"]: skip["comment"] for skip in function["Metadata"]["checkov"]["skip"]}
    assert len(skips["CKV_AWS_116"].split()) >= 10
