"""Environment parsing, secrets from Secrets Manager (moto), and the lazily built container."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import boto3
import pydantic
import pytest
from punctual import bootstrap
from punctual.adapters.signing_secrets import derive, derive_cursor_secret
from punctual.bootstrap import SecretSource
from punctual.domain.errors import DependencyError
from punctual.handlers.env import HandlerEnv

from tests.integration.api.harness import REGION, Stack, call_api


def test_env_reads_the_lambda_variables_and_builds_settings() -> None:
    env = HandlerEnv.from_environ(
        {
            "TABLE_NAME": "t",
            "TOPIC_FIFO": "true",
            "DUE_SHARDS": "8",
            "LEAD_SECONDS": "90",
            "HORIZON_DAYS": "30",
            "MIN_INTERVAL_SECONDS": "60",
            "MAX_ATTEMPTS": "3",
            "RUN_RETENTION_DAYS": "7",
            "SHARED_SECRET": "",  # CloudFormation cannot omit a variable: empty means unset
            "PATH": "/usr/bin",
        }
    )

    assert env.TOPIC_FIFO is True
    assert env.DUE_SHARDS == 8
    assert env.SHARED_SECRET is None
    settings = env.service_settings(b"k")
    assert settings.lead == timedelta(seconds=90)
    assert settings.limits.horizon == timedelta(days=30)
    assert settings.limits.min_interval == timedelta(seconds=60)
    assert settings.max_attempts == 3
    assert settings.run_retention == timedelta(days=7)
    assert settings.cursor_secret == b"k"


@pytest.mark.parametrize("bad", [{"DUE_SHARDS": "0"}, {"LEAD_SECONDS": "soon"}, {"TOPIC_FIFO": "perhaps"}])
def test_env_rejects_nonsense(bad: dict[str, str]) -> None:
    with pytest.raises(pydantic.ValidationError):
        HandlerEnv.from_environ(bad)


@pytest.fixture
def secrets(aws: None) -> Any:
    return boto3.client("secretsmanager", region_name=REGION)


def test_secret_source_reads_plain_values_or_secrets_manager(secrets: Any) -> None:
    arn = secrets.create_secret(Name="punctual/test/shared", SecretString="from-secrets-manager")["ARN"]

    assert SecretSource(value="plain", arn=None).get() == "plain"
    assert SecretSource(value=None, arn=None).get() is None
    assert not SecretSource(value=None, arn=None).configured
    source = SecretSource(value="ignored", arn=arn, client=secrets)
    assert source.get() == "from-secrets-manager"
    assert source.matches("from-secrets-manager")
    assert not source.matches("from-secrets-manage")
    assert not source.matches(None)
    with pytest.raises(DependencyError):
        SecretSource(value=None, arn=arn + "-missing", client=secrets).get()


@pytest.mark.stack_env(SHARED_SECRET_ARN="punctual/test/api-secret")
def test_the_api_checks_a_shared_secret_kept_in_secrets_manager(stack: Stack) -> None:
    client = boto3.client("secretsmanager", region_name=REGION)
    client.create_secret(Name="punctual/test/api-secret", SecretString="rotate-me")

    assert call_api("GET", "/tasks").status == 401
    assert call_api("GET", "/tasks", headers={"X-Punctual-Secret": "rotate-me"}).status == 200


@pytest.mark.stack_env(SHARED_SECRET_ARN="punctual/test/never-created")
def test_an_unreadable_secret_is_503_not_a_crash(stack: Stack) -> None:
    response = call_api("GET", "/tasks", headers={"X-Punctual-Secret": "x"})

    assert response.status == 503
    assert response.error_code == "dependency_unavailable"


def test_the_container_is_built_once_and_only_when_first_needed(stack: Stack) -> None:
    built: list[int] = []

    def factory() -> bootstrap.Punctual:
        built.append(1)
        return stack.app

    bootstrap.use_app(None)
    assert built == []
    assert bootstrap.current_app(factory) is stack.app
    assert bootstrap.current_app(factory) is stack.app
    assert built == [1]


def test_importing_the_handlers_calls_no_aws() -> None:
    """Every AWS call made while importing would raise; importing must still succeed."""
    code = (
        "import botocore.client\n"
        "def refuse(*args, **kwargs):\n"
        "    raise SystemExit('AWS called at import')\n"
        "botocore.client.BaseClient._make_api_call = refuse\n"
        "import punctual.handlers.api, punctual.handlers.executor, punctual.handlers.sweeper, punctual.bootstrap\n"
        "print('imported')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": "functions", "AWS_DEFAULT_REGION": REGION},
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"


# --- the list-cursor key a stage derives from its signing key ----------------------------------------------
def _rebuilt(stack: Stack, **env: Any) -> bootstrap.Punctual:
    """The same moto resources, wired again with ``env`` changed (a new Lambda container of another config)."""
    app = bootstrap.build_app(
        stack.env.model_copy(update=env),
        clock=stack.clock,
        clients=bootstrap.AwsClients(
            dynamodb=stack.dynamodb,
            sns=stack.sns,
            sqs=stack.sqs,
            scheduler=stack.scheduler,
            secretsmanager=boto3.client("secretsmanager", region_name=REGION),
        ),
        metrics=stack.metrics,
    )
    bootstrap.use_app(app)
    return app


def _second_page(cursor: str) -> int:
    return call_api("GET", "/tasks", query={"limit": "1", "cursor": cursor}).status


@pytest.mark.stack_env(CURSOR_SECRET_FROM_SIGNING_KEY="true", CURSOR_SECRET="not-read-when-derived")
def test_a_stage_signs_list_cursors_with_a_key_derived_from_its_signing_key(stack: Stack) -> None:
    for hour in (13, 14):
        call_api("POST", "/tasks", body={"at": f"2026-01-01T{hour}:00:00Z"})
    cursor = call_api("GET", "/tasks", query={"limit": "1"}).json["next_cursor"]
    assert cursor and _second_page(cursor) == 200

    # Another container with the same signing key accepts it, whatever its CURSOR_SECRET says.
    _rebuilt(stack, CURSOR_SECRET="something-else")
    assert _second_page(cursor) == 200
    # A different signing key is a different cursor key: the old cursor is refused, as after a rotation.
    _rebuilt(stack, SIGNING_SECRET="another-stage-key")
    assert _second_page(cursor) == 400
    # Without the flag (punctual dev, tests) CURSOR_SECRET is the key, and the derived one is not.
    _rebuilt(stack, CURSOR_SECRET_FROM_SIGNING_KEY=False)
    assert _second_page(cursor) == 400


def test_the_derived_cursor_key_reads_the_signing_key_from_secrets_manager(stack: Stack) -> None:
    client = boto3.client("secretsmanager", region_name=REGION)
    arn = client.create_secret(Name="punctual/test/signing-key", SecretString="stage-key")["ARN"]

    _rebuilt(stack, CURSOR_SECRET_FROM_SIGNING_KEY=True, SIGNING_SECRET_ARN=arn, SIGNING_SECRET=None)
    call_api("POST", "/tasks", body={"at": "2026-01-01T13:00:00Z"})
    call_api("POST", "/tasks", body={"at": "2026-01-01T14:00:00Z"})
    cursor = call_api("GET", "/tasks", query={"limit": "1"}).json["next_cursor"]
    assert _second_page(cursor) == 200
    _rebuilt(stack, CURSOR_SECRET_FROM_SIGNING_KEY=True, SIGNING_SECRET="stage-key")  # the same key, in plain
    assert _second_page(cursor) == 200


def test_a_derived_cursor_key_needs_a_signing_key(stack: Stack) -> None:
    with pytest.raises(ValueError, match="no signing key"):
        _rebuilt(stack, CURSOR_SECRET_FROM_SIGNING_KEY=True, SIGNING_SECRET=None, SIGNING_SECRET_ARN=None)


def test_the_cursor_key_is_no_tenants_signing_secret() -> None:
    cursor_key = derive_cursor_secret("stage-key")
    assert cursor_key == derive_cursor_secret("stage-key")
    assert cursor_key != derive_cursor_secret("other-stage-key")
    # Tenant inputs are "<tenant>|<generation>"; the cursor key's input has no "|", so no tenant gets it.
    assert cursor_key.decode() not in {derive("stage-key", tenant, 1) for tenant in ("", "list-cursor-key")}
