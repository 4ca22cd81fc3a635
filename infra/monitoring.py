"""Alarms, where they notify, and a dashboard.

The alarms (each one's runbook line is in the README's operations guide):
- ``<Queue>DeadLetters``: anything in a dead-letter queue (delay queue, EBS wake-ups/sweeps and the executor's
  failed asynchronous invocations, the events queue and its SNS subscription).
- ``<Function>Errors``: the api, executor or sweeper function failed an invocation.
- ``<Function>Throttles``: Lambda refused an invocation for lack of concurrency.
- ``Api5xxRate``: the share of API requests answered 5XX (API Gateway's own ``5XXError`` average).
- ``SweeperHeartbeat``: the sweeper was not invoked; missing data is breaching, so a stopped sweep alarms.
- ``LatenessP99``: p99 of how late fired occurrences were published (the EMF metric ``lateness_ms``, namespace
  ``Punctual``, dimension ``service=punctual``). Skipped misfires emit ``skipped_lateness_ms`` instead.

They publish to the stage's alarm topic (KMS-encrypted with the topic key; its policy lets CloudWatch publish
for alarms of this account only), to which ``alarm_email`` subscribes, or to an existing ``alarm_topic_arn``.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import ArnFormat, Duration, Stack
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
CLOUDWATCH = "cloudwatch.amazonaws.com"


def lateness(statistic: str) -> cloudwatch.Metric:
    """Fired occurrences' lateness only (skipped misfires are another metric)."""
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
        sweeper: lambda_.IFunction,
        rest_api: apigateway.RestApi,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self._prefix = f"punctual-{config.name}"
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
        for name, function in functions.items():
            self._alarm(
                f"{name}Errors",
                f"the {name.lower()} function failed",
                function.metric_errors(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                threshold=0,
            )
            self._alarm(
                f"{name}Throttles",
                f"the {name.lower()} function was throttled (no concurrency left)",
                function.metric_throttles(period=PERIOD, statistic=cloudwatch.Stats.SUM),
                threshold=0,
            )
        # API Gateway's 5XXError is 0 or 1 per request: its average is the 5XX share of requests.
        self._alarm(
            "Api5xxRate",
            f"more than {config.api_5xx_rate_alarm:.1%} of API requests answered 5XX",
            rest_api.metric_server_error(period=PERIOD, statistic=cloudwatch.Stats.AVERAGE),
            threshold=config.api_5xx_rate_alarm,
            evaluation_periods=3,
            datapoints_to_alarm=2,
        )
        # The sweep runs every minute: a 5-minute period without one invocation means it stopped (schedule
        # deleted or disabled, the scheduler role broken). No data at all is the same: breaching.
        self._alarm(
            "SweeperHeartbeat",
            "the sweeper has not run for 10 minutes",
            sweeper.metric_invocations(period=PERIOD, statistic=cloudwatch.Stats.SUM),
            threshold=1,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=2,
            missing=cloudwatch.TreatMissingData.BREACHING,
        )
        self._alarm(
            "LatenessP99",
            f"p99 lateness of fired occurrences above {config.lateness_alarm_ms} ms",
            lateness(cloudwatch.Stats.p(99)),
            threshold=config.lateness_alarm_ms,
            evaluation_periods=3,
            datapoints_to_alarm=2,
        )

        self.alarm_topic = self._alarm_topic(config, key, stack)
        for alarm in self.alarms:
            alarm.add_alarm_action(actions.SnsAction(self.alarm_topic))

        # Dashboard names are global to the account: the region keeps two regions' stages apart.
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=f"punctual-{config.name}-{stack.region}"
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Lateness of fired occurrences (ms)",
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
                    title=f"{name} invocations, errors and throttles",
                    left=[
                        function.metric_invocations(period=PERIOD),
                        function.metric_errors(period=PERIOD),
                        function.metric_throttles(period=PERIOD),
                    ],
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

    def _alarm_topic(self, config: StageConfig, key: kms.IKey, stack: Stack) -> sns.ITopic:
        """An existing topic (``alarm_topic_arn``), or the stage's own, which ``alarm_email`` subscribes to."""
        if config.alarm_topic_arn is not None:
            return sns.Topic.from_topic_arn(self, "AlarmTopic", config.alarm_topic_arn)
        topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"punctual {config.name} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        # Alarm actions publish as CloudWatch: allowed only for this account's alarms (no confused deputy).
        from_this_accounts_alarms = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {
                "aws:SourceArn": stack.format_arn(
                    service="cloudwatch",
                    resource="alarm",
                    resource_name="*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,  # arn:...:cloudwatch:<region>:<account>:alarm:<name>
                )
            },
        }
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal(CLOUDWATCH)],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=from_this_accounts_alarms,
            )
        )
        # Publishing to the encrypted topic needs the topic key's data keys, under the same conditions.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsUseTheTopicKey",
                principals=[iam.ServicePrincipal(CLOUDWATCH)],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions=from_this_accounts_alarms,
            )
        )
        if config.alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        return topic

    def _alarm(
        self,
        id: str,
        description: str,
        metric: cloudwatch.Metric,
        *,
        threshold: float,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> None:
        self.alarms.append(
            metric.create_alarm(
                self,
                id,
                alarm_name=f"{self._prefix}-{id}",  # what the README's runbook table lists
                alarm_description=f"punctual: {description}",
                threshold=threshold,
                comparison_operator=comparison,
                evaluation_periods=evaluation_periods,
                datapoints_to_alarm=datapoints_to_alarm,
                treat_missing_data=missing,
            )
        )
