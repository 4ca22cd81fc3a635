"""The ``punctual`` command. ``punctual dev`` runs everything locally; Ctrl-C (or SIGTERM) stops it. Every
other command (``punctual tasks ...``, ``runs ...``, ``events tail``) is ``punctual_cli`` (tools/), imported
only then: it needs typer and rich, which neither ``punctual dev`` nor any Lambda loads."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from types import FrameType

_FALSE = frozenset({"0", "false", "no", "off"})
_TRUE = frozenset({"1", "true", "yes", "on"})


def _env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    return default


def _env_int(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"punctual: {name} must be an integer, got {raw!r}") from None


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="punctual", description="punctual: a task scheduler that fires on the second"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    dev = commands.add_parser(
        "dev",
        help="run all of punctual on this machine with emulated AWS",
        description="Emulated AWS, the API, EventBridge Scheduler and SQS event sources in one process.",
    )
    dev.add_argument(
        "--host", default=env.get("PUNCTUAL_HOST", "127.0.0.1"), help="address to bind (127.0.0.1)"
    )
    dev.add_argument(
        "--api-port",
        type=int,
        default=_env_int(env, "PUNCTUAL_API_PORT", 8000),
        help="API port (env PUNCTUAL_API_PORT, default 8000)",
    )
    dev.add_argument(
        "--aws-port",
        type=int,
        default=_env_int(env, "PUNCTUAL_AWS_PORT", 4566),
        help="emulated AWS endpoint port (env PUNCTUAL_AWS_PORT, default 4566)",
    )
    dev.add_argument(
        "--jitter",
        dest="jitter",
        action="store_true",
        default=_env_bool(env, "PUNCTUAL_EBS_JITTER", True),
        help="fire EventBridge Scheduler schedules at a random second of their minute, as EBS does (default; "
        "env PUNCTUAL_EBS_JITTER=0 turns it off)",
    )
    dev.add_argument(
        "--no-jitter", dest="jitter", action="store_false", help="fire schedules at their exact instant"
    )
    dev.add_argument(
        "--seed",
        type=int,
        default=_env_int(env, "PUNCTUAL_SEED", None),
        help="seed of the EBS jitter, to reproduce a run (env PUNCTUAL_SEED; default random, printed)",
    )
    dev.add_argument(
        "--sweep-interval",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="seconds between sweeper runs (default 60, the stack's rate(1 minute))",
    )
    dev.add_argument(
        "--log-level",
        default=env.get("PUNCTUAL_LOG_LEVEL", "WARNING").upper(),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="the handlers' LOG_LEVEL (env PUNCTUAL_LOG_LEVEL, default WARNING)",
    )
    dev.add_argument(
        "--function",
        dest="functions",
        action="append",
        default=[],
        metavar="NAME=module:callable",
        help="register a Python callable(event, context) as the Lambda function NAME, for tasks with "
        '{"type": "lambda", "function": "NAME"} (repeatable)',
    )
    dev.add_argument(
        "--resolve",
        action="append",
        default=[],
        metavar="NAME=IP",
        help="answer NAME with IP for HTTPS targets, before DNS (repeatable; as curl --resolve)",
    )
    dev.add_argument(
        "--strict-targets",
        action="store_true",
        help="refuse http:// and loopback targets, as a stage on AWS does (default: allowed, for local receivers)",
    )
    return parser


def run_dev(args: argparse.Namespace) -> int:
    from punctual.local.dev import DevOptions, DevServer, StartupError, configure_logging

    configure_logging()
    server = DevServer(
        DevOptions(
            host=args.host,
            api_port=args.api_port,
            aws_port=args.aws_port,
            jitter=args.jitter,
            seed=args.seed,
            log_level=args.log_level,
            sweep_interval_seconds=max(0.1, args.sweep_interval),
            functions=tuple(args.functions),
            resolve=tuple(args.resolve),
            strict_targets=args.strict_targets,
        )
    )
    signals_seen = 0

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal signals_seen
        signals_seen += 1
        if signals_seen > 1:
            os._exit(128 + signum)  # a second Ctrl-C while stopping: leave now
        server.request_stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        server.start()
        print(server.banner(), flush=True)
        server.wait()
        print(f"punctual dev: stopping ({server.metrics.summary()})", flush=True)
    except StartupError as error:
        print(f"punctual dev: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["dev"]:
        return run_dev(build_parser(os.environ).parse_args(argv))
    try:
        from punctual_cli.app import run
    except ImportError as error:  # typer and rich come with the project's dev dependencies
        if argv and argv[0] not in ("-h", "--help"):
            print(
                f"punctual: {argv[0]} needs the punctual_cli package, typer and rich ({error})",
                file=sys.stderr,
            )
            return 2
        build_parser(os.environ).parse_args(argv)  # `punctual dev` alone: its usage
        return 2
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
