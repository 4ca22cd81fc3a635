"""One punctual environment: ``punctual-<stage>``."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.api import Api
from infra.bundling import lambda_code
from infra.config import StageConfig
from infra.dashboard import Dashboard
from infra.events import Events
from infra.firing import Firing
from infra.monitoring import Monitoring
from infra.storage import Storage
from infra.targets import Targets


class PunctualStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        code: lambda_.Code | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        code = code or lambda_code()
        storage = Storage(self, "Storage", config=config)
        events = Events(self, "Events", config=config)
        targets = Targets(self, "Targets", config=config)
        base_environment = {
            **config.tunables_environment(),
            **targets.environment,
            "TABLE_NAME": storage.table.table_name,
        }
        firing = Firing(
            self,
            "Firing",
            config=config,
            code=code,
            storage=storage,
            events=events,
            base_environment=base_environment,
        )
        api = Api(
            self,
            "Api",
            config=config,
            code=code,
            storage=storage,
            firing=firing,
            base_environment=base_environment,
        )
        runner = targets.add_runner(
            code=code,
            storage=storage,
            events=events,
            base_environment=base_environment,
            wiring_environment={**firing.arming_environment, "EXECUTOR_ARN": firing.executor.function_arn},
        )
        targets.grant_delivery(firing.executor)  # the hand-off of a fired lambda/https run
        targets.grant_delivery(api.function)  # POST /runs/{id}/retry
        targets.signing_key.grant_read(api.function.role)  # GET/rotate /signing-secret
        monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            key=events.key,
            dead_letter_queues={
                **firing.dead_letter_queues,
                "Events": events.dead_letter_queue,
                **targets.dead_letter_queues,
            },
            functions={
                "Api": api.function.function,
                "Executor": firing.executor.function,
                "Sweeper": firing.sweeper.function,
                "Runner": runner.function,
            },
            sweeper=firing.sweeper.function,
            rest_api=api.rest_api,
        )

        if config.dashboard:
            dashboard = Dashboard(self, "Dashboard", config=config, api=api)
            CfnOutput(
                self,
                "DashboardUrl",
                value=dashboard.origin + "/",
                description="The web dashboard: sign in with the ApiUrl and an API key",
            )

        CfnOutput(self, "ApiUrl", value=api.rest_api.url, description="Base URL of the punctual API")
        CfnOutput(
            self, "TopicArn", value=events.topic.topic_arn, description="Subscribe here for fired events"
        )
        CfnOutput(
            self,
            "ApiKeyId",
            value=api.api_key.key_id,
            description="aws apigateway get-api-key --include-value --api-key <id> reveals the key",
        )
        CfnOutput(
            self,
            "UsagePlanId",
            value=api.usage_plan.usage_plan_id,
            description="punctual tenants create NAME --stage <stage> adds a tenant's API key to this plan",
        )
        CfnOutput(
            self, "EventsQueueUrl", value=events.queue.queue_url, description="Fired events, raw JSON bodies"
        )
        CfnOutput(
            self,
            "AlarmTopicArn",
            value=monitoring.alarm_topic.topic_arn,
            description="The alarms publish here: subscribe an address, a queue or a chat integration",
        )
        CfnOutput(
            self,
            "DashboardName",
            value=monitoring.dashboard.dashboard_name,
            description="CloudWatch dashboard of this stage",
        )
        if api.shared_secret is not None:
            CfnOutput(
                self,
                "SharedSecretArn",
                value=api.shared_secret.secret_arn,
                description="aws secretsmanager get-secret-value --secret-id <arn> reveals the shared secret",
            )
