"""A punctual Lambda function: python3.12 on arm64, its own log group and its own role.

The role starts with nothing but its log group (and X-Ray when the stage traces); the constructs grant
exactly what each function needs (and acknowledge, on the role's policy, the cdk-nag findings those grants
raise). Logs are Lambda's JSON format: the application level is the stage's ``log_level``, Lambda's own
platform lines only from WARN (no START/END/REPORT line per invocation to pay for).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CfnResource, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.bundling import ARCHITECTURE, RUNTIME
from infra.checkov import skip_checkov
from infra.config import StageConfig
from infra.nag import acknowledge, default_policy

# Lambda's application log level names for the stage's log_level (the same names Python logging accepts).
_APPLICATION_LOG_LEVELS = {
    "DEBUG": lambda_.ApplicationLogLevel.DEBUG,
    "INFO": lambda_.ApplicationLogLevel.INFO,
    "WARN": lambda_.ApplicationLogLevel.WARN,
    "ERROR": lambda_.ApplicationLogLevel.ERROR,
}


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
        reserved_concurrency: int | None = None,
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
            tracing=lambda_.Tracing.ACTIVE if config.xray else lambda_.Tracing.DISABLED,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=_APPLICATION_LOG_LEVELS[config.log_level],
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            role=self.role,
            retry_attempts=retry_attempts,
            on_failure=on_failure,
            reserved_concurrent_executions=reserved_concurrency,
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        if config.xray:
            acknowledge(
                default_policy(self.role),
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions.",
            )
        if reserved_concurrency is None:
            # checkov CKV_AWS_115 asks for a function-level limit; see StageConfig: a new account cannot
            # reserve any, so the stage decides (and the executor is bounded by its event source instead).
            skip_checkov(
                self.function,
                "CKV_AWS_115",
                "Reserved concurrency is a stage setting (<function>_reserved_concurrency), unset by default: "
                "Lambda keeps 10 executions unreserved and a new account's quota is 10.",
            )
        skip_checkov(
            self.function,
            "CKV_AWS_173",
            "The environment holds names, ARNs and tunables only (secrets are read from Secrets Manager at run "
            "time); Lambda encrypts it at rest with its service key.",
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "punctual targets python3.12, the runtime its dependencies and tests are pinned to; moving to a "
            "newer runtime is a deliberate upgrade.",
        )

    @property
    def policy(self) -> CfnResource:
        """The role's grants (one IAM policy resource), where the grants' cdk-nag findings are acknowledged."""
        return default_policy(self.role)

    @property
    def function_arn(self) -> str:
        return self.function.function_arn
