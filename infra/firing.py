"""Firing on the second: the executor and its delay queue, the EBS wake-up plumbing, and the sweeper.

- The delay queue feeds the executor (batches of 10, no batching window: a window would add lateness).
- One-time wake-ups live in a schedule group; EBS assumes the scheduler role, which may only invoke the
  executor and dead-letter into the schedule DLQ.
- EBS invokes the executor asynchronously: the schedule's DLQ only catches failures to invoke, so a
  wake-up the executor itself kept failing on goes to that same DLQ as the executor's on-failure
  destination (after Lambda's retries), where the DLQ-depth alarm sees it.
- The sweeper runs on a recurring EBS schedule ``rate(1 minute)`` in the default group, so the callers
  that may delete wake-ups in punctual's group can never delete it.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from punctual.service.settings import ServiceSettings

from infra.checkov import skip_checkov
from infra.config import StageConfig
from infra.events import Events
from infra.lambdas import PunctualFunction
from infra.nag import acknowledge, default_policy
from infra.queues import dead_letter_queue, encrypted_queue
from infra.storage import Storage

EXECUTOR_TIMEOUT = Duration.seconds(30)
# Receives that are not publish attempts (waiting on an earlier in-flight occurrence) before dead-lettering.
DELAY_QUEUE_RECEIVE_HEADROOM = 5
# At least six executor timeouts, as AWS advises for an SQS event source: Lambda may retry a throttled batch
# (reserved or maximum concurrency reached) within that time without the message reappearing meanwhile.
# Also at least the lease plus one timeout: a failed delivery comes back only after the lease its attempt
# took has lapsed (the attempt claimed the run at most one timeout after receiving it), so a retry never
# finds its own stale lease. The sweeper's grace (ServiceSettings.sweep_grace) must stay above this plus a
# sweep, so that a redelivery lands before the sweeper counts the occurrence as missed.
DELAY_QUEUE_VISIBILITY = Duration.seconds(
    max(
        6 * int(EXECUTOR_TIMEOUT.to_seconds()),
        int(ServiceSettings().lease.total_seconds()) + int(EXECUTOR_TIMEOUT.to_seconds()),
    )
)
EXECUTOR_BATCH_SIZE = 10
# Lambda's own retries of an asynchronous (EBS wake-up) invocation the executor failed, before the
# on-failure destination. Lambda waits about one, then two minutes: the first retry still lands inside a
# wake-up's ~2-minute lead; the sweeper repairs an occurrence that the second finds already late.
EXECUTOR_ASYNC_RETRY_ATTEMPTS = 2
SWEEPER_TIMEOUT = Duration.seconds(60)
SWEEP_INTERVAL = Duration.minutes(1)
SWEEP_RETRY_ATTEMPTS = 2
SWEEP_MAX_EVENT_AGE = Duration.minutes(1)  # an older sweep is superseded by the next minute's


class Firing(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        code: lambda_.Code,
        storage: Storage,
        events: Events,
        base_environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)

        self.schedule_dead_letter_queue = dead_letter_queue(self, "ScheduleDeadLetters")
        self.delay_dead_letter_queue = dead_letter_queue(self, "DelayDeadLetters")
        # The executor counts publish attempts on the run record and marks it failed itself on the
        # MAX_ATTEMPTS-th. Some receives are not attempts (a later occurrence waiting while an earlier one of
        # the same task is retried), hence the headroom; the redrive catches deliveries that kept crashing.
        self.delay_queue = encrypted_queue(
            self,
            "DelayQueue",
            visibility_timeout=DELAY_QUEUE_VISIBILITY,
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=config.max_attempts + DELAY_QUEUE_RECEIVE_HEADROOM,
                queue=self.delay_dead_letter_queue,
            ),
        )
        self.schedule_group_name = f"punctual-{config.name}"
        self.schedule_group = scheduler.ScheduleGroup(
            self,
            "WakeUps",
            schedule_group_name=self.schedule_group_name,
            # Wake-ups are derived state: the sweeper re-arms every live task from the table.
            removal_policy=RemovalPolicy.DESTROY,
        )
        # Only schedules of this account, in punctual's own group, may assume it.
        self.scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            description=f"punctual {config.name}: EventBridge Scheduler invokes the executor",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": stack.account,
                        "aws:SourceArn": self.schedule_group.schedule_group_arn,
                    }
                },
            ),
        )
        self._wake_up_arns = stack.format_arn(
            service="scheduler",
            resource="schedule",
            resource_name=f"{self.schedule_group_name}/*",
        )
        self.arming_environment: dict[str, str] = {
            "DELAY_QUEUE_URL": self.delay_queue.queue_url,
            "SCHEDULE_GROUP": self.schedule_group_name,
            "SCHEDULER_ROLE_ARN": self.scheduler_role.role_arn,
            "SCHEDULE_DLQ_ARN": self.schedule_dead_letter_queue.queue_arn,
        }

        self.executor = PunctualFunction(
            self,
            "Executor",
            config=config,
            code=code,
            handler="punctual.handlers.executor.handler",
            description="fires occurrences from the delay queue and EBS wake-ups",
            environment={
                **base_environment,
                **self.arming_environment,
                "TOPIC_ARN": events.topic.topic_arn,
                "TOPIC_FIFO": "true" if events.fifo else "false",
            },
            timeout=EXECUTOR_TIMEOUT,
            # Most of an executor's time is the wait for the instant (up to a second a batch), billed by memory:
            # 512 MB halves that cost against 1,024 MB. CPU scales with memory, so a cold start takes a little
            # longer; a warm executor's work between waking and publishing is milliseconds at either size.
            memory_size=512,
            retry_attempts=EXECUTOR_ASYNC_RETRY_ATTEMPTS,
            # Grants the executor sqs:SendMessage on the queue. Delay-queue batches are synchronous
            # invocations: they redrive to the delay DLQ instead.
            on_failure=destinations.SqsDestination(self.schedule_dead_letter_queue),
            reserved_concurrency=config.executor_reserved_concurrency,
        )
        self.executor.function.add_event_source(
            event_sources.SqsEventSource(
                self.delay_queue,
                batch_size=EXECUTOR_BATCH_SIZE,
                report_batch_item_failures=True,
                # Bounds the executor without reserving concurrency (StageConfig.executor_max_concurrency).
                max_concurrency=config.executor_max_concurrency,
            )
        )
        skip_checkov(
            self.executor.function,
            "CKV_AWS_116",
            "Failed EBS wake-ups (asynchronous) go to the schedule DLQ as the on-failure destination, which "
            "checkov does not read; failed delay-queue batches redrive to the delay DLQ.",
        )
        storage.grant_read_write(self.executor, indexes=False)
        events.grant_publish(self.executor)
        self.grant_arming(self.executor)

        # EBS may invoke the executor and nothing else, and dead-letter what it could not deliver.
        self.scheduler_role.add_to_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[self.executor.function_arn])
        )
        self.scheduler_role.add_to_policy(
            iam.PolicyStatement(
                actions=["sqs:SendMessage"], resources=[self.schedule_dead_letter_queue.queue_arn]
            )
        )

        self.sweeper = PunctualFunction(
            self,
            "Sweeper",
            config=config,
            code=code,
            handler="punctual.handlers.sweeper.handler",
            description="re-arms lost wake-ups and applies misfire policies",
            environment={
                **base_environment,
                **self.arming_environment,
                "EXECUTOR_ARN": self.executor.function_arn,
            },
            timeout=SWEEPER_TIMEOUT,
            retry_attempts=0,  # a failed sweep is repeated by the next minute's anyway
            reserved_concurrency=config.sweeper_reserved_concurrency,
        )
        skip_checkov(
            self.sweeper.function,
            "CKV_AWS_116",
            "The sweep schedule's EBS target has the schedule DLQ; a failed sweep is not retried (retry 0) "
            "because the next minute's sweep does the same work.",
        )
        storage.grant_read_write(self.sweeper, indexes=True)
        self.grant_arming(self.sweeper)
        # Its own role: the wake-up role must stay unable to invoke anything but the executor.
        sweep_role = iam.Role(
            self,
            "SweepScheduleRole",
            description=f"punctual {config.name}: EventBridge Scheduler invokes the sweeper",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
        )
        self.sweep_schedule = scheduler.Schedule(
            self,
            "SweepEveryMinute",
            description=f"punctual {config.name}: sweep every minute",
            schedule=scheduler.ScheduleExpression.rate(SWEEP_INTERVAL),
            target=targets.LambdaInvoke(
                self.sweeper.function,
                role=sweep_role,
                retry_attempts=SWEEP_RETRY_ATTEMPTS,
                max_event_age=SWEEP_MAX_EVENT_AGE,
                dead_letter_queue=self.schedule_dead_letter_queue,
            ),
        )

        sweeper_id = stack.get_logical_id(self.sweeper.function.node.default_child)  # type: ignore[arg-type]
        acknowledge(
            default_policy(sweep_role),
            f"AwsSolutions-IAM5[Resource::<{sweeper_id}.Arn>:*]",
            "The scheduler target grant covers the sweeper's versions too; it is still the sweeper only.",
        )
        acknowledge(
            self.schedule_dead_letter_queue,
            "AwsSolutions-SQS3",
            "This is a DLQ itself: EventBridge Scheduler targets (wake-ups, the sweep) dead-letter into it, "
            "and so do the executor's failed asynchronous invocations (its on-failure destination), which "
            "cdk-nag cannot see because no queue redrives into it.",
        )

    @property
    def dead_letter_queues(self) -> dict[str, sqs.IQueue]:
        return {
            "DelayQueue": self.delay_dead_letter_queue,
            "Schedules": self.schedule_dead_letter_queue,
        }

    def grant_arming(self, function: PunctualFunction) -> None:
        """What arming an occurrence takes: create/delete wake-ups in punctual's group (passing the
        scheduler role to EBS) and send to the delay queue."""
        role = function.role
        iam.Grant.add_to_principal(
            grantee=role,
            actions=["scheduler:CreateSchedule", "scheduler:DeleteSchedule"],
            resource_arns=[self._wake_up_arns],
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.scheduler_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
            )
        )
        iam.Grant.add_to_principal(
            grantee=role, actions=["sqs:SendMessage"], resource_arns=[self.delay_queue.queue_arn]
        )
        acknowledge(
            function.policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/"
            f"{self.schedule_group_name}/*]",
            "Wake-up names are derived per task and occurrence at run time; the grant is confined to "
            "punctual's own schedule group.",
        )
