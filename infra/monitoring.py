"""Alarms and a dashboard: anything in a DLQ, executor or sweeper errors, and lateness p99.

Lateness comes from the Powertools EMF metric ``lateness_ms`` (namespace ``Punctual``, dimension
``service=punctual``) that the executor emits for every run; the names come from the handlers' own
observability module, so the alarm reads what the code writes.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from punctual.handlers.observability import LATENESS_METRIC, METRICS_NAMESPACE, SERVICE_NAME

from infra.config import StageConfig

PERIOD = Duration.minutes(5)


def lateness(statistic: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=LATENESS_METRIC,
        dimensions_map={"service": SERVICE_NAME},
        statistic=statistic,
        period=PERIOD,
    )


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        key: kms.IKey,
        dead_letter_queues: Mapping[str, sqs.IQueue],
        functions: Mapping[str, lambda_.IFunction],
        rest_api: apigateway.RestApi,
    ) -> None:
        super().__init__(scope, id)
        self.alarms: list[cloudwatch.Alarm] = []
        for name, queue in dead_letter_queues.items():
            self._alarm(
                f"{name}DeadLetters",
                f"messages are waiting in the {name} dead-letter queue",
                queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
                ),
                threshold=0,
            )
        for name in ("Executor", "Sweeper", "Runner"):
            self._alarm(
                f"{name}Errors",
                f"the {name.lower()} function failed",
                functions[name].metric_errors(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                threshold=0,
            )
        self._alarm(
            "LatenessP99",
            f"p99 lateness above {config.lateness_alarm_ms} ms",
            lateness(cloudwatch.Stats.p(99)),
            threshold=config.lateness_alarm_ms,
            evaluation_periods=3,
            datapoints_to_alarm=2,
        )

        self.alarm_topic: sns.Topic | None = None
        if config.alarm_email:
            self.alarm_topic = sns.Topic(
                self,
                "AlarmTopic",
                display_name=f"punctual {config.name} alarms",
                master_key=key,
                enforce_ssl=True,
            )
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
            # CloudWatch publishes to the encrypted topic with the topic's key.
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],
                )
            )
            for alarm in self.alarms:
                alarm.add_alarm_action(actions.SnsAction(self.alarm_topic))

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"punctual-{config.name}")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Lateness (ms)",
                left=[
                    lateness(cloudwatch.Stats.p(50)),
                    lateness(cloudwatch.Stats.p(99)),
                    lateness("Maximum"),
                ],
                width=12,
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=12),
        )
        self.dashboard.add_widgets(
            *(
                cloudwatch.GraphWidget(
                    title=f"{name} invocations and errors",
                    left=[function.metric_invocations(period=PERIOD), function.metric_errors(period=PERIOD)],
                    right=[function.metric_duration(period=PERIOD, statistic=cloudwatch.Stats.p(99))],
                    width=8,
                )
                for name, function in functions.items()
            )
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API requests and errors",
                left=[
                    rest_api.metric_count(period=PERIOD),
                    rest_api.metric_client_error(period=PERIOD),
                    rest_api.metric_server_error(period=PERIOD),
                ],
                right=[rest_api.metric_latency(period=PERIOD, statistic=cloudwatch.Stats.p(99))],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Dead-letter queue depth",
                left=[
                    queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1))
                    for queue in dead_letter_queues.values()
                ],
                width=12,
            ),
        )

    def _alarm(
        self,
        id: str,
        description: str,
        metric: cloudwatch.Metric,
        *,
        threshold: float,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
    ) -> None:
        self.alarms.append(
            metric.create_alarm(
                self,
                id,
                alarm_description=f"punctual: {description}",
                threshold=threshold,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=evaluation_periods,
                datapoints_to_alarm=datapoints_to_alarm,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )
