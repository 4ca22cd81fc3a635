"""``punctual-region``: what one AWS account and region hold once, whatever the number of stages.

API Gateway writes execution logs with one CloudWatch role per account and region (the account setting
``AWS::ApiGateway::Account``). A stage stack that set it would take it over from every other stage, and from
other apps, in the region, and its teardown would leave the setting pointing at a deleted role. This stack
holds it instead: the same for every stage (its name has no stage in it), deployed before a stage as its
dependency (a second stage finds it unchanged), and never deleted with a stage. Its role is retained.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.nag import acknowledge

REGION_STACK_NAME = "punctual-region"


class RegionStack(Stack):
    def __init__(self, scope: Construct, id: str = REGION_STACK_NAME, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.api_gateway_logging_role = iam.Role(
            self,
            "ApiGatewayLoggingRole",
            description="API Gateway writes execution logs to CloudWatch (one per account and region)",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
                )
            ],
        )
        # Stages deployed later keep logging if this stack is ever removed: the setting still names the role.
        self.api_gateway_logging_role.apply_removal_policy(RemovalPolicy.RETAIN)
        account = apigateway.CfnAccount(
            self, "ApiGatewayAccount", cloud_watch_role_arn=self.api_gateway_logging_role.role_arn
        )
        account.apply_removal_policy(RemovalPolicy.RETAIN)
        acknowledge(
            self.api_gateway_logging_role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level logging role uses the AWS policy made for exactly that purpose.",
        )
