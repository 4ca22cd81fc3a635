"""A punctual Lambda function: python3.12 on arm64, active tracing, its own log group and its own role.

Each function gets a role with nothing attached but its log group and X-Ray; the constructs add exactly
the grants that function needs.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.bundling import ARCHITECTURE, RUNTIME
from infra.config import StageConfig


def python_function(
    scope: Construct,
    id: str,
    *,
    config: StageConfig,
    code: lambda_.Code,
    handler: str,
    description: str,
    environment: Mapping[str, str],
    timeout: Duration,
    memory_size: int = 512,
    retry_attempts: int | None = None,
) -> lambda_.Function:
    log_group = logs.LogGroup(
        scope,
        f"{id}Logs",
        retention=config.log_retention,
        removal_policy=RemovalPolicy.DESTROY,
    )
    role = iam.Role(
        scope,
        f"{id}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"punctual {config.name}: {description}",
    )
    function = lambda_.Function(
        scope,
        id,
        code=code,
        handler=handler,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        description=f"punctual {config.name}: {description}",
        environment=dict(environment),
        timeout=timeout,
        memory_size=memory_size,
        tracing=lambda_.Tracing.ACTIVE,
        log_group=log_group,
        role=role,
        retry_attempts=retry_attempts,
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[log_group.log_group_arn],
        )
    )
    return function

