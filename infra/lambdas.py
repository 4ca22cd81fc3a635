"""A punctual Lambda function: python3.12 on arm64, active tracing, its own log group and its own role.

The role starts with nothing but its log group and X-Ray; the constructs grant exactly what each function
needs (and acknowledge, on this construct, the cdk-nag findings those grants raise).
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
from infra.nag import acknowledge


class PunctualFunction(Construct):
    def __init__(
        self,
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
        on_failure: lambda_.IDestination | None = None,
    ) -> None:
        super().__init__(scope, id)
        description = f"punctual {config.name}: {description}"
        self.log_group = logs.LogGroup(
            self, "Logs", retention=config.log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=description
        )
        self.function = lambda_.Function(
            self,
            "Function",
            code=code,
            handler=handler,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            description=description,
            environment=dict(environment),
            timeout=timeout,
            memory_size=memory_size,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            role=self.role,
            retry_attempts=retry_attempts,
            on_failure=on_failure,
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        acknowledge(
            self,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions.",
        )
        acknowledge(
            self,
            "AwsSolutions-L1",
            "punctual targets python3.12, the runtime its dependencies and tests are pinned to; moving to a "
            "newer runtime is a deliberate upgrade.",
        )

    @property
    def function_arn(self) -> str:
        return self.function.function_arn
