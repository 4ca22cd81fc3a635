"""Stage configuration (cdk.json) and the CLI pin (package.json), without synthesizing."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import RemovalPolicy
from punctual.handlers.env import HandlerEnv

from infra.config import CDK_JSON, StageConfig, load_stage_config

ROOT = Path(__file__).resolve().parents[2]
CDK_CLI_VERSION = "2.1148.1"


def _app(**context: object) -> cdk.App:
    return cdk.App(context=dict(context))


def test_default_stage_is_dev_read_from_cdk_json() -> None:
    config = load_stage_config(_app().node)
    assert config.name == "dev"
    assert config.removal_policy is RemovalPolicy.DESTROY


def test_stage_from_context() -> None:
    config = load_stage_config(_app(stage="prod").node)
    assert config.name == "prod"
    assert config.retain_data is True
    assert config.removal_policy is RemovalPolicy.RETAIN


def test_unknown_stage_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown stage 'qa'"):
        load_stage_config(_app(stage="qa").node)


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown settings"):
        StageConfig.from_mapping("dev", {**_dev_settings(), "throttle_rte": 5})


def test_log_retention_must_be_a_cloudwatch_value() -> None:
    with pytest.raises(ValueError, match="log_retention_days"):
        StageConfig.from_mapping("dev", {**_dev_settings(), "log_retention_days": 10})


def test_alarm_email_must_look_like_one() -> None:
    with pytest.raises(ValueError, match="alarm_email"):
        StageConfig.from_mapping("dev", {**_dev_settings(), "alarm_email": "ops"})


def test_tunables_default_to_the_handlers_defaults() -> None:
    config = StageConfig.from_mapping("dev", _dev_settings())
    defaults = HandlerEnv()
    assert config.tunables_environment()["MAX_ATTEMPTS"] == str(defaults.MAX_ATTEMPTS)
    assert config.tunables_environment()["DUE_SHARDS"] == str(defaults.DUE_SHARDS)
    assert config.tunables_environment()["LEAD_SECONDS"] == str(defaults.LEAD_SECONDS)


def test_cdk_json_runs_the_app_with_the_project_venv() -> None:
    assert json.loads(CDK_JSON.read_text())["app"] == ".venv/bin/python app.py"


def test_cdk_cli_is_pinned_exactly() -> None:
    package = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert package["devDependencies"]["aws-cdk"] == CDK_CLI_VERSION
    assert lock["packages"]["node_modules/aws-cdk"]["version"] == CDK_CLI_VERSION


def _dev_settings() -> dict[str, object]:
    settings: dict[str, object] = json.loads(CDK_JSON.read_text())["context"]["stages"]["dev"]
    return settings
