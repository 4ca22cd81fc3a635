"""Lambda and HTTPS targets: the delivery queue and its DLQ, the runner, the signing key, and the grants.

- The executor hands a fired lambda/https run to the delivery queue; the runner consumes it in batches of
  one, so a slow target holds up no other call. A retry is the same queue with a delay.
- The runner may invoke only the functions the stage lists in ``lambda_targets`` (ARN patterns in cdk.json);
  nothing else in the stack may invoke anything.
- Per-tenant signing secrets derive from one stage key in Secrets Manager (adapters/signing_secrets.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from punctual.domain.targets import MAX_TIMEOUT_SECONDS

from infra.config import StageConfig
from infra.events import Events
from infra.lambdas import PunctualFunction
from infra.nag import acknowledge
from infra.queues import dead_letter_queue, encrypted_queue
from infra.storage import Storage

# One call (at most the longest target timeout) plus its bookkeeping.
RUNNER_TIMEOUT = Duration.seconds(int(MAX_TIMEOUT_SECONDS) + 15)
# A message comes back only after the runner that received it is surely gone (its attempt's lease, the
# target's timeout + 30 s, has lapsed by then too): a redelivery counts that attempt as failed.
DELIVERY_QUEUE_VISIBILITY = Duration.seconds(int(MAX_TIMEOUT_SECONDS) + 30)
# Receives per message before the DLQ: one per attempt is the rule; the rest are crashes and busy retries.
DELIVERY_MAX_RECEIVES = 5


RUNNER_MAX_CONCURRENCY = 2  # SQS event sources allow 2 at the least


class Targets(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        self._config = config
        self.delivery_dead_letter_queue = dead_letter_queue(self, "DeliveryDeadLetters")
        self.delivery_queue = encrypted_queue(
            self,
            "DeliveryQueue",
            visibility_timeout=DELIVERY_QUEUE_VISIBILITY,
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=DELIVERY_MAX_RECEIVES, queue=self.delivery_dead_letter_queue
            ),
        )
        self.signing_key = secretsmanager.Secret(
            self,
            "SigningKey",
            description=f"punctual {config.name}: derives each tenant's Punctual-Signature secret",
            removal_policy=config.removal_policy,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
        )
        acknowledge(
            self.signing_key,
            "AwsSolutions-SMG4",
            "Rotating the stage key would change every tenant's secret at once; tenants rotate their own "
            "secrets through the API (POST /signing-secret/rotate).",
        )
        # What every function reads (handlers/env.py): only the API, the executor and the runner act on it.
        self.environment: dict[str, str] = {
            "DELIVERY_QUEUE_URL": self.delivery_queue.queue_url,
            "LAMBDA_TARGETS": ",".join(config.lambda_targets),
            "LAMBDA_ARN_PREFIX": f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{Aws.ACCOUNT_ID}:function:",
            "ALLOW_INSECURE_TARGETS": "true" if config.allow_insecure_targets else "false",
            "SIGNING_SECRET_ARN": self.signing_key.secret_arn,
        }

    def add_runner(
        self,
        *,
        code: lambda_.Code,
        storage: Storage,
        events: Events,
        base_environment: Mapping[str, str],
        wiring_environment: Mapping[str, str],
    ) -> PunctualFunction:
        """The runner. ``wiring_environment``: the arming addresses build_app wires every container with; the
        runner arms nothing and is granted none of it."""
        self.runner = PunctualFunction(
            self,
            "Runner",
            config=self._config,
            code=code,
            handler="punctual.handlers.runner.handler",
            description="calls Lambda and HTTPS targets, retries them, publishes their outcomes",
            environment={
                **base_environment,
                **wiring_environment,
                "TOPIC_ARN": events.topic.topic_arn,
                "TOPIC_FIFO": "true" if events.fifo else "false",
            },
            timeout=RUNNER_TIMEOUT,
        )
        self.runner.function.add_event_source(
            event_sources.SqsEventSource(
                self.delivery_queue,
                batch_size=1,
                report_batch_item_failures=True,
                # Like the executor's (see StageConfig.executor_max_concurrency): bounded without reserving
                # anything, so target calls can never take the whole of a small account's concurrency.
                max_concurrency=RUNNER_MAX_CONCURRENCY,
            )
        )
        storage.grant_read_write(self.runner, indexes=False)
        events.grant_publish(self.runner)
        self.grant_delivery(self.runner)
        self.signing_key.grant_read(self.runner.role)
        if self._config.lambda_targets:
            # The functions themselves and their versions/aliases: nothing the stage does not list.
            patterns = [*self._config.lambda_targets, *(f"{p}:*" for p in self._config.lambda_targets)]
            self.runner.role.add_to_policy(
                iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=patterns)
            )
            for pattern in patterns:
                if "*" in pattern:
                    acknowledge(
                        self.runner.policy,
                        f"AwsSolutions-IAM5[Resource::{pattern}]",
                        "The stage's lambda_targets in cdk.json: the functions its tasks may call, by pattern.",
                    )
        return self.runner

    def grant_delivery(self, function: PunctualFunction) -> None:
        """sqs:SendMessage on the delivery queue (the executor's hand-off, the runner's retries, replays)."""
        iam.Grant.add_to_principal(
            grantee=function.role, actions=["sqs:SendMessage"], resource_arns=[self.delivery_queue.queue_arn]
        )

    @property
    def dead_letter_queues(self) -> dict[str, sqs.IQueue]:
        return {"Deliveries": self.delivery_dead_letter_queue}
