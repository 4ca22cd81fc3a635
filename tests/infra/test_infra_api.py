"""The REST API: routes, API keys, usage plan per stage, logging, and the stack outputs."""

from __future__ import annotations

import json
from typing import Any

from tests.infra.synth import Synthesized, cdk_json_stages


def _methods(stack: Synthesized) -> dict[tuple[str, str], dict[str, Any]]:
    """(resource path, HTTP method) -> method properties."""
    paths = {stack.logical_id("Api/RestApi"): ""}
    for key, resource in stack.of_type("AWS::ApiGateway::Resource").items():
        paths[key] = resource["Properties"]["PathPart"]
    methods = {}
    for method in stack.of_type("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        parent = props["ResourceId"]
        path = "/" if "Fn::GetAtt" in parent else "/" + paths[parent["Ref"]]
        methods[(path, props["HttpMethod"])] = props
    return methods


def test_routes_require_an_api_key_except_health(dev: Synthesized) -> None:
    methods = _methods(dev)
    assert set(methods) == {
        ("/", "ANY"),
        ("/{proxy+}", "ANY"),
        ("/health", "GET"),
        ("/", "OPTIONS"),  # CORS preflights for the dashboard's origin (test_infra_dashboard)
        ("/{proxy+}", "OPTIONS"),
    }
    assert methods[("/", "ANY")]["ApiKeyRequired"] is True
    assert methods[("/{proxy+}", "ANY")]["ApiKeyRequired"] is True
    assert methods[("/health", "GET")]["ApiKeyRequired"] is False


def test_every_route_proxies_to_the_api_function(dev: Synthesized) -> None:
    api_function = dev.logical_id("Api/Handler/Function")
    for (_, method), props in _methods(dev).items():
        if method == "OPTIONS":  # answered by API Gateway itself (MOCK), without the key a preflight lacks
            continue
        integration = props["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert integration["IntegrationHttpMethod"] == "POST"
        assert api_function in str(integration["Uri"])


def test_usage_plan_throttles_and_caps_per_stage(dev: Synthesized, prod: Synthesized) -> None:
    for stack, settings in ((dev, cdk_json_stages()["dev"]), (prod, cdk_json_stages()["prod"])):
        plan = stack.props("Api/RestApi/UsagePlan")
        assert plan["Throttle"] == {
            "RateLimit": settings["throttle_rate"],
            "BurstLimit": settings["throttle_burst"],
        }
        assert plan["Quota"] == {"Limit": settings["quota_per_day"], "Period": "DAY"}
        [api_stage] = plan["ApiStages"]
        assert api_stage["ApiId"] == stack.ref("Api/RestApi")
        assert api_stage["Stage"] == stack.ref(f"Api/RestApi/DeploymentStage.{settings_stage(stack)}")
    assert cdk_json_stages()["prod"]["throttle_rate"] > cdk_json_stages()["dev"]["throttle_rate"]


def settings_stage(stack: Synthesized) -> str:
    return stack.stack_name.removeprefix("punctual-")


def test_the_api_key_belongs_to_the_usage_plan(dev: Synthesized) -> None:
    [plan_key] = dev.of_type("AWS::ApiGateway::UsagePlanKey").values()
    assert plan_key["Properties"]["KeyId"] == dev.ref("Api/RestApi/ApiKey")
    assert plan_key["Properties"]["UsagePlanId"] == dev.ref("Api/RestApi/UsagePlan")
    assert plan_key["Properties"]["KeyType"] == "API_KEY"
    assert len(dev.of_type("AWS::ApiGateway::ApiKey")) == 1


def test_stage_throttling_logging_and_tracing(prod: Synthesized) -> None:
    stage = prod.props("Api/RestApi/DeploymentStage.prod")
    assert stage["StageName"] == "prod"
    assert stage["TracingEnabled"] is True
    assert prod.ref("Api/AccessLogs") in stage["AccessLogSetting"]["DestinationArn"]["Fn::Join"][1]
    [settings] = stage["MethodSettings"]
    assert settings["HttpMethod"] == "*" and settings["ResourcePath"] == "/*"
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["ThrottlingRateLimit"] == cdk_json_stages()["prod"]["throttle_rate"]
    assert settings["ThrottlingBurstLimit"] == cdk_json_stages()["prod"]["throttle_burst"]


def test_xray_on_the_api_stage_is_the_stage_setting(dev: Synthesized, variant: Synthesized) -> None:
    assert dev.props("Api/RestApi/DeploymentStage.dev").get("TracingEnabled") in (None, False)
    assert variant.props("Api/RestApi/DeploymentStage.dev")["TracingEnabled"] is True


def test_access_log_names_the_api_key_so_a_request_traces_to_its_tenant(every_stack: Synthesized) -> None:
    stage = every_stack.props(f"Api/RestApi/DeploymentStage.{settings_stage(every_stack)}")
    fields = json.loads(stage["AccessLogSetting"]["Format"])
    assert fields["apiKeyId"] == "$context.identity.apiKeyId"
    assert fields["requestId"] == "$context.requestId"
    assert fields["status"] == "$context.status"


def test_execution_logs_expire_with_the_stage_retention(dev: Synthesized, prod: Synthesized) -> None:
    for stack, days in ((dev, 14), (prod, 90)):
        stage_name = settings_stage(stack)
        logs = stack.props("Api/ExecutionLogs")
        # The very name API Gateway writes execution logs to, created first so that it has a retention.
        assert logs["LogGroupName"] == {
            "Fn::Join": ["", ["API-Gateway-Execution-Logs_", stack.ref("Api/RestApi"), f"/{stage_name}"]]
        }
        assert logs["RetentionInDays"] == days
        assert (
            stack.logical_id("Api/ExecutionLogs")
            in stack.resource(f"Api/RestApi/DeploymentStage.{stage_name}")["DependsOn"]
        )


def test_no_stage_claims_the_regions_api_gateway_cloudwatch_role(every_stack: Synthesized) -> None:
    assert every_stack.of_type("AWS::ApiGateway::Account") == {}
    assert not [r for r in every_stack.of_type("AWS::IAM::Role") if "CloudWatchRole" in r]


def test_the_region_stack_holds_that_role_once_and_keeps_it(region: dict[str, Any]) -> None:
    [account] = [r for r in region["Resources"].values() if r["Type"] == "AWS::ApiGateway::Account"]
    [(role_id, role)] = [(k, r) for k, r in region["Resources"].items() if r["Type"] == "AWS::IAM::Role"]
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert account["DeletionPolicy"] == role["DeletionPolicy"] == "Retain"
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"
    }


def test_outputs(every_stack: Synthesized) -> None:
    outputs = every_stack.template["Outputs"]
    optional = {"SharedSecretArn"} if "SharedSecretArn" in outputs else set()
    assert set(outputs) == {
        "ApiUrl",
        "TopicArn",
        "ApiKeyId",
        "UsagePlanId",
        "EventsQueueUrl",
        "AlarmTopicArn",
        "DashboardName",
        "DashboardUrl",
        *optional,
    }
    assert outputs["TopicArn"]["Value"] == every_stack.ref("Events/Topic")
    assert outputs["ApiKeyId"]["Value"] == every_stack.ref("Api/RestApi/ApiKey")
    assert outputs["EventsQueueUrl"]["Value"] == every_stack.ref("Events/EventsQueue")
    url = str(outputs["ApiUrl"]["Value"])
    assert every_stack.logical_id("Api/RestApi") in url and "execute-api" in url


def test_the_usage_plan_id_is_an_output_for_onboarding_tenants(every_stack: Synthesized) -> None:
    """``punctual tenants create --stage`` reads UsagePlanId to add each new tenant's key to the plan."""
    output = every_stack.template["Outputs"]["UsagePlanId"]
    assert output["Value"] == every_stack.ref("Api/RestApi/UsagePlan")
    assert every_stack.resource("Api/RestApi/UsagePlan")["Type"] == "AWS::ApiGateway::UsagePlan"


def test_the_shared_secret_arn_is_an_output_with_the_option(dev: Synthesized, variant: Synthesized) -> None:
    assert "SharedSecretArn" not in dev.template["Outputs"]
    assert variant.template["Outputs"]["SharedSecretArn"]["Value"] == variant.ref("Api/SharedSecret")
