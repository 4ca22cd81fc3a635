"""Stage configuration (cdk.json) and the CLI pin (package.json), without synthesizing."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import aws_cdk
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


def test_a_setting_is_overridden_with_c_as_the_cli_passes_it() -> None:
    # The CDK CLI passes -c values as strings; each is read by the setting's own type.
    config = load_stage_config(
        _app(
            stage="prod",
            alarm_email="ops@example.com",
            executor_reserved_concurrency="50",
            executor_max_concurrency="20",
            xray="false",
            log_level="WARN",
            events_queue_retention_days="2",
            api_5xx_rate_alarm="0.05",
        ).node
    )
    assert config.alarm_email == "ops@example.com"
    assert config.executor_reserved_concurrency == 50
    assert config.executor_max_concurrency == 20
    assert config.xray is False
    assert config.log_level == "WARN"
    assert config.events_queue_retention_days == 2
    assert config.api_5xx_rate_alarm == 0.05
    assert config.retain_data is True  # the rest stays prod's


def test_c_null_clears_an_optional_setting() -> None:
    config = load_stage_config(_app(stage="dev", alarm_email="a@b.c").node)
    assert config.alarm_email == "a@b.c"
    cleared = load_stage_config(_app(stage="dev", api_reserved_concurrency="null").node)
    assert cleared.api_reserved_concurrency is None


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("xray", "yes", "expected bool"),
        ("executor_max_concurrency", "many", "expected int"),
        ("executor_max_concurrency", "1", "between 2 and 1000"),
        ("api_reserved_concurrency", "0", "at least 1"),
        ("log_level", "VERBOSE", "log_level"),
        ("events_queue_retention_days", "15", "between 1 and 14"),
        ("alarm_topic_arn", "ops-alarms", "not an SNS ARN"),
    ],
)
def test_a_bad_override_is_refused_with_its_name(setting: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_stage_config(_app(stage="dev", **{setting: value}).node)


def test_alarm_email_and_alarm_topic_arn_exclude_each_other() -> None:
    with pytest.raises(ValueError, match="not both"):
        StageConfig.from_mapping(
            "dev",
            {
                **_dev_settings(),
                "alarm_email": "ops@example.com",
                "alarm_topic_arn": "arn:aws:sns:eu-west-1:123456789012:ops-alarms",
            },
        )


def test_the_event_source_cannot_outrun_the_executors_reservation() -> None:
    with pytest.raises(ValueError, match="must not exceed"):
        StageConfig.from_mapping(
            "dev", {**_dev_settings(), "executor_reserved_concurrency": 4, "executor_max_concurrency": 5}
        )


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_committed_stages_deploy_on_a_new_account_with_a_quota_of_10(stage: str) -> None:
    """Lambda keeps 10 executions unreserved: with a quota of 10 nothing may be reserved, and the executor's
    event source must leave room below 10 for the API and the sweeper."""
    config = load_stage_config(_app(stage=stage).node)
    reserved = [
        config.api_reserved_concurrency,
        config.executor_reserved_concurrency,
        config.sweeper_reserved_concurrency,
    ]
    assert reserved == [None, None, None]
    assert config.executor_max_concurrency < 10


def test_every_setting_is_written_in_each_committed_stage() -> None:
    """cdk.json is the place an operator reads the settings (alarm_email and the rest), so each stage lists
    every operator setting, null where unset."""
    operator_settings = {
        "alarm_email",
        "alarm_topic_arn",
        "log_level",
        "xray",
        "api_reserved_concurrency",
        "executor_reserved_concurrency",
        "sweeper_reserved_concurrency",
        "executor_max_concurrency",
        "events_queue_retention_days",
    }
    stages = json.loads(CDK_JSON.read_text())["context"]["stages"]
    for name, settings in stages.items():
        assert operator_settings <= set(settings), name
    assert stages["dev"]["xray"] is False  # traces cost money; dev does without


def test_cdk_json_sets_the_installed_cdk_libs_recommended_feature_flags() -> None:
    """What ``cdk init`` writes for this aws-cdk-lib: every flag at its recommended value (read from the
    library's own recommended-feature-flags.json)."""
    jsii_dir = Path(aws_cdk.__file__).parent / "_jsii"
    [tarball] = jsii_dir.glob("aws-cdk-lib@*.jsii.tgz")
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("package/recommended-feature-flags.json")
        assert member is not None
        recommended = json.loads(member.read())
    context = json.loads(CDK_JSON.read_text())["context"]
    assert len(recommended) > 80
    assert {flag: context.get(flag) for flag in recommended} == recommended
