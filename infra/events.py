"""Where fired events go: the SNS topic (optionally FIFO) and the ``events`` queue subscribed to it.

The events queue keeps a fired event ``events_queue_retention_days`` (a stage setting), since nothing of
punctual consumes it. Its subscription dead-letters what SNS could not deliver to it (the queue deleted,
its policy or key broken) into the same events DLQ its consumers' failures go to, where the DLQ alarm sees it.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import StageConfig
from infra.lambdas import PunctualFunction
from infra.nag import acknowledge
from infra.queues import dead_letter_queue, encrypted_queue

# A consumer that fails a message this many times has a bug; the DLQ keeps the event for inspection.
EVENTS_MAX_RECEIVE_COUNT = 5


class Events(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        # A customer-managed key: SNS encryption with the AWS-managed key cannot be granted to other
        # publishers (CloudWatch alarms use it too, see Monitoring).
        self.key = kms.Key(
            self,
            "TopicKey",
            description=f"punctual {config.name}: SNS topics at rest",
            enable_key_rotation=True,
            removal_policy=config.removal_policy,
        )
        self.fifo = config.fifo_topic
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=f"punctual {config.name} fired events",
            fifo=config.fifo_topic or None,
            master_key=self.key,
            enforce_ssl=True,
        )
        # A FIFO topic delivers in order only to FIFO queues, and a FIFO queue's DLQ must be FIFO too.
        self.dead_letter_queue = dead_letter_queue(self, "EventsDeadLetters", fifo=config.fifo_topic)
        self.queue = encrypted_queue(
            self,
            "EventsQueue",
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=EVENTS_MAX_RECEIVE_COUNT, queue=self.dead_letter_queue
            ),
            fifo=config.fifo_topic,
            retention_period=Duration.days(config.events_queue_retention_days),
        )
        # Raw delivery: the queue's consumers read the fired event JSON itself, not an SNS envelope.
        self.topic.add_subscription(
            subscriptions.SqsSubscription(
                self.queue, raw_message_delivery=True, dead_letter_queue=self.dead_letter_queue
            )
        )

    def grant_publish(self, function: PunctualFunction) -> None:
        """sns:Publish on the topic, and the data keys of its KMS key that publishing needs."""
        self.topic.grant_publish(function.role)
        acknowledge(
            function.policy,
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "Publishing to the encrypted topic needs GenerateDataKey (and its variants) on that one key only.",
        )
