"""The one place that wires adapters into use cases (cf. cosmicpython's bootstrap.py).

Handlers call ``current_app()``: the container is built on the first invocation of a Lambda container and
reused after that, never at import. Tests build their own with ``build_app`` (moto clients, a fake clock)
and install it with ``use_app``.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from punctual.adapters.dynamodb_store import DynamoDbTaskStore
from punctual.adapters.eventbridge_scheduler import EventBridgeLinkScheduler
from punctual.adapters.host_resolver import SocketResolver
from punctual.adapters.https_invoker import HttpsInvoker
from punctual.adapters.lambda_invoker import LambdaInvoker
from punctual.adapters.signing_secrets import DynamoDbSigningSecrets, derive_cursor_secret
from punctual.adapters.sns_outcome_publisher import SnsOutcomePublisher
from punctual.adapters.sns_publisher import SnsEventPublisher
from punctual.adapters.sqs_delay_queue import SqsDelayQueue
from punctual.adapters.sqs_delivery_queue import SqsDeliveryQueue
from punctual.domain.errors import DependencyError
from punctual.domain.ids import RandomIds
from punctual.domain.targets import TargetType
from punctual.handlers.env import HandlerEnv
from punctual.handlers.observability import PowertoolsMetrics
from punctual.service.arming import Arming
from punctual.service.firing import FiringService
from punctual.service.ports import Clock, HostResolver, IdGenerator, Metrics, SigningSecrets, TargetInvoker
from punctual.service.previews import SchedulePreviewService
from punctual.service.runner import RunnerPorts, RunnerService
from punctual.service.runs import RunService
from punctual.service.target_policy import TargetPolicy
from punctual.service.tasks import TaskService

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

# Secrets are re-read at most this often, so a rotated shared secret takes effect without a redeploy.
SECRET_MAX_AGE_SECONDS = 300


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass(frozen=True)
class AwsClients:
    """boto3 clients to use instead of the default ones (moto in tests, the emulator in ``punctual dev``)."""

    dynamodb: DynamoDBClient | None = None
    sns: SNSClient | None = None
    sqs: SQSClient | None = None
    scheduler: EventBridgeSchedulerClient | None = None
    secretsmanager: SecretsManagerClient | None = None


class SecretSource:
    """A secret given in plain text (dev, tests) or by Secrets Manager ARN, read lazily and cached.

    Powertools' parameters utility is imported only when an ARN is read: functions without one (the
    executor and the sweeper read no secret) do not pay for it at a cold start."""

    def __init__(
        self, *, value: str | None, arn: str | None, client: SecretsManagerClient | None = None
    ) -> None:
        self._value, self._arn, self._client = value, arn, client
        self._provider: SecretsProvider | None = None

    @property
    def configured(self) -> bool:
        return bool(self._arn) or bool(self._value)

    def get(self) -> str | None:
        if not self._arn:
            return self._value or None
        from aws_lambda_powertools.utilities.parameters import SecretsProvider
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        if self._provider is None:
            self._provider = SecretsProvider(boto3_client=self._client)
        try:
            secret = self._provider.get(self._arn, max_age=SECRET_MAX_AGE_SECONDS)
        except GetParameterError as error:
            raise DependencyError("could not read a secret from Secrets Manager") from error
        if isinstance(secret, bytes):
            return secret.decode()
        if not isinstance(secret, str):
            raise DependencyError("a secret in Secrets Manager is not a string")
        return secret

    def matches(self, candidate: str | None) -> bool:
        """Constant-time comparison; a missing candidate never matches a configured secret."""
        expected = self.get()
        if expected is None:
            return True
        if candidate is None:
            return False
        return hmac.compare_digest(candidate.encode(), expected.encode())


@dataclass
class Punctual:
    """Everything a handler needs: the use-case services and the bits of environment the API reads."""

    env: HandlerEnv
    tasks: TaskService
    runs: RunService
    firing: FiringService
    previews: SchedulePreviewService
    shared_secret: SecretSource
    signing: SigningSecrets
    runner: RunnerService | None = None  # None: the stage has no delivery queue (topic targets only)
    metrics: Metrics = field(default_factory=PowertoolsMetrics)


def _cursor_secret(env: HandlerEnv, signing_key: SecretSource, clients: AwsClients) -> bytes:
    """Derived from the stage's signing key (the stack's api), or a secret of its own (``punctual dev``, tests).
    Functions that list nothing (executor, sweeper) are given neither and read no secret."""
    if env.CURSOR_SECRET_FROM_SIGNING_KEY:
        stage_key = signing_key.get()
        if not stage_key:
            raise ValueError("CURSOR_SECRET_FROM_SIGNING_KEY is set but the stage has no signing key")
        return derive_cursor_secret(stage_key)
    source = SecretSource(value=env.CURSOR_SECRET, arn=env.CURSOR_SECRET_ARN, client=clients.secretsmanager)
    return (source.get() or "").encode()


def build_app(
    env: HandlerEnv,
    *,
    clock: Clock | None = None,
    clients: AwsClients | None = None,
    ids: IdGenerator | None = None,
    metrics: Metrics | None = None,
    executor_arn: str | None = None,
    resolver: HostResolver | None = None,
    lambda_invoker: TargetInvoker | None = None,
) -> Punctual:
    """Wire the real adapters. ``executor_arn`` is the EBS target when the env has no EXECUTOR_ARN (the
    executor passes its own ARN)."""
    clients = clients or AwsClients()
    clock = clock or SystemClock()
    ids = ids or RandomIds()
    metrics = metrics or PowertoolsMetrics()
    signing_key = SecretSource(
        value=env.SIGNING_SECRET, arn=env.SIGNING_SECRET_ARN, client=clients.secretsmanager
    )
    settings = env.service_settings(cursor_secret=_cursor_secret(env, signing_key, clients))

    store = DynamoDbTaskStore(
        env.TABLE_NAME,
        client=clients.dynamodb,
        due_shards=env.DUE_SHARDS,
        run_retention=settings.run_retention,
    )
    target_arn = env.EXECUTOR_ARN or executor_arn
    if not target_arn:
        raise ValueError("EXECUTOR_ARN is not set and no executor ARN was given")
    scheduler = EventBridgeLinkScheduler(
        env.SCHEDULE_GROUP,
        target_arn,
        env.SCHEDULER_ROLE_ARN,
        env.SCHEDULE_DLQ_ARN,
        client=clients.scheduler,
    )
    queue = SqsDelayQueue(env.DELAY_QUEUE_URL, client=clients.sqs)
    publisher = SnsEventPublisher(env.TOPIC_ARN, fifo=env.TOPIC_FIFO, client=clients.sns)
    arming = Arming(scheduler, queue, settings)
    signing = DynamoDbSigningSecrets(env.TABLE_NAME, signing_key.get, client=clients.dynamodb)
    deliveries = (
        SqsDeliveryQueue(env.DELIVERY_QUEUE_URL, client=clients.sqs) if env.DELIVERY_QUEUE_URL else None
    )
    policy = TargetPolicy(settings, resolver or SocketResolver()) if deliveries is not None else None
    runner = None
    if deliveries is not None and policy is not None:
        invokers: dict[TargetType, TargetInvoker] = {
            TargetType.HTTPS: HttpsInvoker(policy),
            TargetType.LAMBDA: lambda_invoker or _LazyLambdaInvoker(policy),
        }
        outcomes = SnsOutcomePublisher(env.TOPIC_ARN, fifo=env.TOPIC_FIFO, client=clients.sns)
        runner = RunnerService(store, RunnerPorts(invokers, deliveries, outcomes, signing), clock, metrics)
    return Punctual(
        env=env,
        tasks=TaskService(store, arming, clock, ids, settings, metrics, policy),
        runs=RunService(store, queue, clock, ids, settings, metrics, deliveries),
        firing=FiringService(store, arming, queue, publisher, clock, settings, metrics, deliveries),
        previews=SchedulePreviewService(clock, settings),
        shared_secret=SecretSource(
            value=env.SHARED_SECRET, arn=env.SHARED_SECRET_ARN, client=clients.secretsmanager
        ),
        signing=signing,
        runner=runner,
        metrics=metrics,
    )


class _LazyLambdaInvoker:
    """The Lambda client is made on the first Lambda call: functions that never call one do not pay for it."""

    def __init__(self, policy: TargetPolicy) -> None:
        self._policy = policy
        self._invoker: LambdaInvoker | None = None

    def call(self, *args: Any, **kwargs: Any) -> Any:
        if self._invoker is None:
            self._invoker = LambdaInvoker(self._policy)
        return self._invoker.call(*args, **kwargs)


_current: Punctual | None = None


def current_app(factory: Callable[[], Punctual] | None = None) -> Punctual:
    """The container of this Lambda container, built on first use from the environment (or ``factory``)."""
    global _current
    if _current is None:
        _current = factory() if factory is not None else build_app(HandlerEnv.from_environ())
    return _current


def use_app(app: Punctual | None) -> None:
    """Install a container (tests), or forget the current one (``None``) so the next call rebuilds it."""
    global _current
    _current = app
