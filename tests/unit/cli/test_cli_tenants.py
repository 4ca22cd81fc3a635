"""``tenants create | list | revoke`` against moto's API Gateway and CloudFormation (never real AWS)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from click.testing import Result
from moto import mock_aws
from punctual_cli import app as cli_app
from punctual_cli import tenants
from typer.testing import CliRunner

from tests.unit.client.sdk_fakes import URL, Api, ok, task

REGION = "eu-west-1"
API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/test/"


@dataclass
class Aws:
    apigateway: Any
    usage_plan_id: str


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """A REST API and its usage plan, and a stack punctual-test whose outputs name them."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_REGION", "AWS_PROFILE", "PUNCTUAL_URL", "PUNCTUAL_API_KEY", "PUNCTUAL_USER"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        apigateway = boto3.client("apigateway", region_name=REGION)
        api = apigateway.create_rest_api(name="punctual-test")
        plan = apigateway.create_usage_plan(name="punctual-test")
        template = {
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {
                "UsagePlanId": {"Value": plan["id"]},
                "ApiUrl": {"Value": API_URL},
                "ApiKeyId": {"Value": "k-stack"},
            },
        }
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName="punctual-test", TemplateBody=json.dumps(template)
        )
        assert api["id"]
        yield Aws(apigateway, plan["id"])


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli_app.app, list(args))


def plan_key_ids(aws: Aws) -> set[str]:
    return {item["id"] for item in aws.apigateway.get_usage_plan_keys(usagePlanId=aws.usage_plan_id)["items"]}


def test_create_adds_an_enabled_key_to_the_stage_usage_plan_and_prints_it(aws: Aws) -> None:
    result = invoke("tenants", "create", "acme", "--stage", "test")
    assert result.exit_code == 0, result.output
    [key] = aws.apigateway.get_api_keys(includeValues=True)["items"]
    assert key["name"] == "punctual-test-acme"
    assert key["enabled"] is True
    assert plan_key_ids(aws) == {key["id"]}
    assert key["id"] in result.stdout and key["value"] in result.stdout
    assert result.stdout.count(key["value"]) == 2  # the panel and the one-line example
    assert f"punctual --url {API_URL} --api-key {key['value']} tasks list" in result.stdout


def test_create_json_is_one_object_with_the_key_value_and_the_url(aws: Aws) -> None:
    result = invoke("tenants", "create", "acme", "--stage", "test", "--region", REGION, "--json")
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    [key] = aws.apigateway.get_api_keys(includeValues=True)["items"]
    assert created == {
        "id": key["id"],
        "name": "punctual-test-acme",
        "enabled": True,
        "created": created["created"],
        "value": key["value"],
        "tenant": key["id"],
        "usage_plan_id": aws.usage_plan_id,
        "stage": "test",
        "api_url": API_URL,
        "example": f"punctual --url {API_URL} --api-key {key['value']} tasks list",
    }
    assert created["created"].endswith("Z")
    # The root --json works the same way.
    again = invoke("--json", "tenants", "create", "globex", "--stage", "test")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["name"] == "punctual-test-globex"


def test_usage_plan_option_needs_no_stack_and_names_keys_after_the_plan(aws: Aws) -> None:
    result = invoke("tenants", "create", "acme", "--usage-plan", aws.usage_plan_id, "--json")
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["name"] == "punctual-test-acme" and created["stage"] is None
    assert created["api_url"] is None and "--url <ApiUrl>" in created["example"]
    assert plan_key_ids(aws) == {created["id"]}


def test_list_shows_the_keys_of_the_plan(aws: Aws) -> None:
    ids = [
        json.loads(invoke("tenants", "create", name, "--stage", "test", "--json").stdout)["id"]
        for name in ("acme", "globex")
    ]
    outsider = aws.apigateway.create_api_key(name="not-in-the-plan", enabled=True)
    result = invoke("tenants", "list", "--stage", "test", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert {k["id"] for k in listed} == set(ids)
    assert outsider["id"] not in result.stdout
    assert {k["name"] for k in listed} == {"punctual-test-acme", "punctual-test-globex"}
    assert all(
        k["enabled"] is True and k["created"] and set(k) == {"id", "name", "enabled", "created"}
        for k in listed
    )
    table = invoke("tenants", "list", "--stage", "test")
    assert table.exit_code == 0, table.output
    assert "punctual-test-acme" in table.stdout and "2 keys in usage plan" in table.stdout
    assert "value" not in table.stdout  # list never shows key values


def test_revoke_removes_the_key_from_the_plan_and_disables_it(aws: Aws) -> None:
    created = json.loads(invoke("tenants", "create", "acme", "--stage", "test", "--json").stdout)
    result = invoke("tenants", "revoke", created["id"], "--stage", "test", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "id": created["id"],
        "name": "punctual-test-acme",
        "enabled": False,
        "deleted": False,
        "removed_from_usage_plan": True,
        "usage_plan_id": aws.usage_plan_id,
    }
    assert plan_key_ids(aws) == set()
    assert aws.apigateway.get_api_key(apiKey=created["id"])["enabled"] is False
    listed = json.loads(invoke("tenants", "list", "--stage", "test", "--json").stdout)
    assert listed == []


def test_revoke_delete_deletes_the_key(aws: Aws) -> None:
    created = json.loads(invoke("tenants", "create", "acme", "--stage", "test", "--json").stdout)
    result = invoke("tenants", "revoke", created["id"], "--stage", "test", "--delete")
    assert result.exit_code == 0, result.output
    assert "deleted" in result.stdout
    assert plan_key_ids(aws) == set()
    assert aws.apigateway.get_api_keys()["items"] == []


def test_revoke_an_unknown_key_exits_3(aws: Aws) -> None:
    result = invoke("tenants", "revoke", "nope", "--stage", "test")
    assert result.exit_code == 3
    assert "no API key nope" in result.stderr


def test_an_unknown_stage_exits_3_with_a_hint(aws: Aws) -> None:
    result = invoke("tenants", "list", "--stage", "staging")
    assert result.exit_code == 3
    assert "no stack punctual-staging" in result.stderr
    assert "cdk deploy -c stage=staging" in result.stderr


@pytest.mark.parametrize("args", [["create", "acme"], ["list"], ["revoke", "k-1"]])
def test_without_stage_or_usage_plan_it_explains_punctual_dev_and_exits_2(aws: Aws, args: list[str]) -> None:
    result = invoke("tenants", *args)
    assert result.exit_code == 2
    assert "any x-api-key" in result.stderr and "nothing to create" in result.stderr
    assert aws.apigateway.get_api_keys()["items"] == []


def test_a_bad_name_exits_2(aws: Aws) -> None:
    result = invoke("tenants", "create", "acme corp", "--stage", "test")
    assert result.exit_code == 2
    assert aws.apigateway.get_api_keys()["items"] == []


class StubCloudFormation:
    """A stack without the UsagePlanId output (deployed before it existed)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def describe_stacks(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"Stacks": [{"Outputs": [{"OutputKey": "ApiUrl", "OutputValue": API_URL}]}]}


def test_an_old_stack_without_the_output_asks_for_a_redeploy(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub = StubCloudFormation()
    regions: list[str | None] = []

    def factory(region: str | None) -> StubCloudFormation:
        regions.append(region)
        return stub

    monkeypatch.setattr(tenants, "cloudformation_client", factory)
    result = CliRunner().invoke(
        cli_app.app, ["tenants", "list", "--stage", "old"], env={"AWS_REGION": "us-west-2"}
    )
    assert result.exit_code == 1
    assert "no UsagePlanId output" in result.stderr
    assert stub.calls == [{"StackName": "punctual-old"}]
    assert regions == ["us-west-2"]
    # --usage-plan overrides the stack's outputs but keeps its ApiUrl.
    result = invoke(
        "tenants", "create", "acme", "--stage", "old", "--usage-plan", aws.usage_plan_id, "--json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["api_url"] == API_URL


def test_stage_targets_the_deployed_url_with_the_stack_key(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    key = aws.apigateway.create_api_key(name="punctual-live", enabled=True, value="live-key-value-0123456789")
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"ApiUrl": {"Value": URL + "/live/"}, "ApiKeyId": {"Value": key["id"]}},
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="punctual-live", TemplateBody=json.dumps(template)
    )
    api = Api().script(ok(task()))
    monkeypatch.setattr(cli_app, "transport", lambda: api.transport)

    result = invoke("--stage", "live", "--json", "tasks", "get", "t-1")

    assert result.exit_code == 0, result.output
    [request] = api.requests
    assert str(request.url) == URL + "/live/tasks/t-1"
    assert request.headers["x-api-key"] == "live-key-value-0123456789"
    assert json.loads(result.stdout)["id"] == "t-1"


def test_stage_without_a_deployed_stack_exits_3(aws: Aws) -> None:
    result = invoke("--stage", "nowhere", "tasks", "get", "t-1")
    assert result.exit_code == 3
    assert "punctual-nowhere" in result.stderr
