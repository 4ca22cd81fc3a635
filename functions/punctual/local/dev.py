"""``punctual dev``: the emulated AWS account, the three functions and the glue AWS would provide.

Two processes: moto's server on the AWS port (a child process, provisioned like the CDK stack), and this
one: the API behind a local gateway, EventBridge Scheduler firing one-time schedules, the delay queue's
event source feeding the executor, the sweeper every minute, and a tap on the topic printing and
streaming fired events.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from punctual.local.emulator_process import EmulatorProcess, EmulatorStartError, ensure_port_free
from punctual.local.event_source import QueuePoller
from punctual.local.fired_events import EventHub, FiredEventSink
from punctual.local.functions import HANDLER_MODULES, LocalFunction
from punctual.local.gateway import Gateway, ServingThread
from punctual.local.host_overrides import OverridingResolver, parse_override
from punctual.local.lambda_functions import FunctionSpecError, LocalLambdaInvoker, load
from punctual.local.resources import (
    FAKE_CREDENTIALS,
    REGION,
    Provisioned,
    StackShape,
    handler_environment,
    provision,
)
from punctual.local.scheduler import SchedulerEmulator

log = logging.getLogger("punctual_dev")

# Variables that could point boto3 at a real account; the dev process must never use them.
_REAL_AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


# How each port is chosen instead of its default (punctual.local.cli reads both).
PORT_SETTINGS = {
    "API": ("--api-port", "PUNCTUAL_API_PORT"),
    "AWS emulator": ("--aws-port", "PUNCTUAL_AWS_PORT"),
}


def port_clash_message(what: str, host: str, port: int, reason: str | None) -> str:
    """What to do about a port in use (another punctual dev, a localstack...): name both ports' settings."""
    flag, variable = PORT_SETTINGS[what]
    others = "; ".join(f"{name}: {f} or {v}" for name, (f, v) in PORT_SETTINGS.items() if name != what)
    return (
        f"{what} port {host}:{port} is not available ({reason or 'in use'}). "
        f"Pick another with {flag} N or {variable}=N ({others})."
    )


@dataclass(frozen=True)
class DevOptions:
    host: str = "127.0.0.1"
    api_port: int = 8000
    aws_port: int = 4566
    jitter: bool = True
    seed: int | None = None  # the EBS jitter's random seed; None picks one (printed, to reproduce a run)
    log_level: str = "WARNING"  # the handlers' LOG_LEVEL
    executor_concurrency: int = 4  # executor invocations the delay queue may run at once
    cursor_secret: str = "punctual-dev-cursor-secret"
    sweep_interval_seconds: float = 60.0  # the stack runs the sweeper at rate(1 minute)
    functions: tuple[str, ...] = ()  # --function NAME=module:callable: local Lambda targets
    runner_concurrency: int = 8  # target calls the delivery queue may run at once
    resolve: tuple[str, ...] = ()  # --resolve NAME=IP: host names answered before DNS
    strict_targets: bool = False  # --strict-targets: https:// only and no loopback, as on AWS


class StartupError(RuntimeError):
    """punctual dev could not start (a port in use, a handler that does not import)."""


class LocalMetrics:
    """The handlers' metrics sink here: no CloudWatch, so counts and latenesses are kept for the summary
    printed on exit (Powertools would print an EMF blob every 100 values instead)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.latenesses: list[int] = []

    def count(self, name: str, value: int = 1) -> None:
        with self._lock:
            self.counts[name] = self.counts.get(name, 0) + value

    def lateness(self, milliseconds: int) -> None:
        with self._lock:
            self.latenesses.append(milliseconds)

    def skipped_lateness(self, milliseconds: int) -> None:
        """Not part of the fired summary: a skipped misfire published nothing (it is in counts["skipped"])."""

    def summary(self) -> str:
        with self._lock:
            latenesses = sorted(self.latenesses)
        if not latenesses:
            return "no task fired"

        def pct(q: float) -> int:
            return latenesses[min(len(latenesses) - 1, int(q * len(latenesses)))]

        return f"{len(latenesses)} fired; lateness p50 {pct(0.5)} ms, p99 {pct(0.99)} ms, max {latenesses[-1]} ms"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DevServer:
    def __init__(self, options: DevOptions, printer: Callable[[str], None] | None = None) -> None:
        self.options = options
        self.seed = options.seed if options.seed is not None else random.SystemRandom().randrange(1, 10**6)
        self._print = printer or (lambda line: print(line, flush=True))
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._emulator: EmulatorProcess | None = None
        self.metrics = LocalMetrics()
        self._gateway: ServingThread | None = None
        self.hub = EventHub()
        self.resources: Provisioned | None = None

    @property
    def _connect_host(self) -> str:
        # Bound to every interface: reach it over loopback.
        return "127.0.0.1" if self.options.host in ("0.0.0.0", "") else self.options.host

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self._connect_host}:{self.options.aws_port}"

    @property
    def api_endpoint(self) -> str:
        return f"http://{self._connect_host}:{self.options.api_port}"

    # -- start ----------------------------------------------------------------------------------------

    def start(self) -> None:
        options = self.options
        for what, port in (("AWS emulator", options.aws_port), ("API", options.api_port)):
            try:
                ensure_port_free(options.host, port)
            except OSError as error:
                raise StartupError(port_clash_message(what, options.host, port, error.strerror)) from None
        for name in _REAL_AWS_VARIABLES:
            os.environ.pop(name, None)
        os.environ.update(
            {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": self.aws_endpoint}
        )

        self._emulator = EmulatorProcess(options.host, options.aws_port)
        try:
            self._emulator.start()
        except EmulatorStartError as error:
            raise StartupError(f"the AWS emulator did not start: {error}") from None

        session = boto3.session.Session(region_name=REGION)

        def client(service: str) -> Any:
            return session.client(service, endpoint_url=self.aws_endpoint)  # type: ignore[call-overload]

        try:
            local_functions = dict(load(spec) for spec in options.functions)
            overrides: dict[str, list[str]] = {}
            for spec in options.resolve:
                name, address = parse_override(spec)
                overrides.setdefault(name, []).append(address)
        except (FunctionSpecError, ValueError) as error:
            raise StartupError(str(error)) from None
        self.resources = resources = provision(client, StackShape(), self.aws_endpoint)
        os.environ.update(
            handler_environment(
                resources,
                log_level=options.log_level,
                cursor_secret=options.cursor_secret,
                functions=tuple(local_functions),
            )
        )
        if options.strict_targets:
            os.environ["ALLOW_INSECURE_TARGETS"] = "false"

        shape = resources.shape
        functions = {
            role: LocalFunction(shape.function_name(role), shape.function_arn(role), module)
            for role, module in HANDLER_MODULES.items()
        }
        for function in functions.values():  # cold starts now: a broken handler fails here, not mid-request
            try:
                function.load()
            except Exception as error:
                raise StartupError(f"handler {function.name} does not import: {error!r}") from error
        self._install_container(
            LocalLambdaInvoker(local_functions, resources.shape.lambda_arn_prefix),
            OverridingResolver(overrides),
        )

        scheduler = SchedulerEmulator(
            client("scheduler"),
            client("sqs"),
            shape.schedule_group_name,
            {functions["executor"].arn: functions["executor"].invoke},
            now=_utcnow,
            rng=random.Random(self.seed),
            jitter=options.jitter,
        )
        self._spawn("scheduler", scheduler.run, self._stop)
        delay_queue = QueuePoller(
            client("sqs"),
            resources.delay_queue_url,
            functions["executor"].invoke,
            batch_size=shape.executor_batch_size,
            concurrency=options.executor_concurrency,
        )
        self._spawn("delay-queue", delay_queue.run, self._stop)
        # The runner's event source: batches of one, so a slow target holds up no other call; short-polled,
        # as retries are delayed messages.
        deliveries = QueuePoller(
            client("sqs"),
            resources.delivery_queue_url,
            functions["runner"].invoke,
            batch_size=1,
            concurrency=options.runner_concurrency,
        )
        self._spawn("delivery-queue", deliveries.run, self._stop)
        sink = FiredEventSink(self.hub, self._print, _utcnow)
        tap = QueuePoller(client("sqs"), resources.tap_queue_url, sink, wait_seconds=1)
        self._spawn("fired-events", tap.run, self._stop)
        self._spawn("sweeper", self._sweep_forever, functions["sweeper"], options.sweep_interval_seconds)
        self._start_gateway(functions["api"])

    def _install_container(self, lambdas: LocalLambdaInvoker, resolver: OverridingResolver) -> None:
        """The functions share this process, so they share one container (as one Lambda container's
        invocations do), wired by build_app from the environment set above, with the local metrics sink and
        the --function callables as the Lambda targets."""
        from punctual import bootstrap
        from punctual.handlers.env import HandlerEnv

        bootstrap.use_app(
            bootstrap.build_app(
                HandlerEnv.from_environ(), metrics=self.metrics, lambda_invoker=lambdas, resolver=resolver
            )
        )

    def _spawn(self, name: str, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=f"punctual-dev-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _sweep_forever(self, sweeper: LocalFunction, interval: float) -> None:
        # EBS rate(1 minute) invokes the sweeper with the schedule's (empty) input.
        while not self._stop.wait(interval):
            try:
                report = sweeper.invoke({})
            except Exception:
                log.exception("sweeper failed")
                continue
            if isinstance(report, dict) and any(v for k, v in report.items() if k != "examined"):
                log.info("sweep: %s", ", ".join(f"{k}={v}" for k, v in report.items()))

    def _start_gateway(self, api: LocalFunction) -> None:
        try:
            self._gateway = ServingThread(
                Gateway(api.invoke, self.hub), self.options.host, self.options.api_port
            )
        except OSError as error:
            raise StartupError(
                port_clash_message("API", self.options.host, self.options.api_port, error.strerror)
            ) from error

    # -- run / stop -----------------------------------------------------------------------------------

    def banner(self) -> str:
        assert self.resources is not None
        resources, aws = self.resources, self.aws_endpoint
        jitter = f"on (seed {self.seed})" if self.options.jitter else "off"
        return "\n".join(
            [
                "punctual dev: all of punctual on this machine, no AWS account",
                f"  API              {self.api_endpoint}",
                f"  API docs         {self.api_endpoint}/docs   (OpenAPI: {self.api_endpoint}/openapi.json)",
                f"  dashboard        {self.api_endpoint}/ui/   (sign in with any API key)",
                f"  fired events     {self.api_endpoint}/events   (Server-Sent Events)",
                f"  AWS emulator     {aws}   (credentials: testing/testing, region {REGION})",
                f"  events queue     {resources.events_queue_url}",
                f"  topic            {resources.topic_arn}",
                f"  delay queue DLQ  {resources.delay_dlq_url}",
                f"  delivery DLQ     {resources.delivery_dlq_url}",
                f"  functions        {', '.join(self.options.functions) or '(none; --function NAME=module:callable)'}",
                f"  EBS jitter       {jitter}",
                "",
                "  curl -s -X POST "
                + self.api_endpoint
                + "/schedule -H 'content-type: application/json' \\\n"
                + '       -d "{\\"timestamp\\": \\"$(date -u -d \'+5 seconds\' +%FT%TZ)\\", \\"message\\": \\"hi\\"}"',
                f"  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION={REGION} \\\n"
                f"    aws --endpoint-url {aws} sqs receive-message --queue-url {resources.events_queue_url}",
                "",
                "Ctrl-C stops.",
            ]
        )

    def wait(self) -> None:
        """Block until stop() is called (the signal handlers call it)."""
        while not self._stop.wait(0.5):
            pass

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        self.hub.close()
        if self._gateway is not None:
            self._gateway.stop()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._emulator is not None:
            self._emulator.stop()


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    dev_log = logging.getLogger("punctual_dev")
    dev_log.addHandler(handler)
    dev_log.setLevel(logging.INFO)
    dev_log.propagate = False
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator logs every request at INFO
    # Metrics are disabled locally; Powertools still warns on every invocation that none were published.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
