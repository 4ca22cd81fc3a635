"""``punctual dev``'s flags and their environment variables (flags win)."""

from __future__ import annotations

import socket

import pytest
from punctual.local.cli import build_parser
from punctual.local.dev import DevOptions, DevServer, StartupError


def parse(*argv: str, **env: str) -> dict[str, object]:
    return vars(build_parser(env).parse_args(["dev", *argv]))


def test_defaults_match_the_readme() -> None:
    args = parse()
    assert (args["host"], args["api_port"], args["aws_port"]) == ("127.0.0.1", 8000, 4566)
    assert args["jitter"] is True
    assert args["seed"] is None
    assert args["sweep_interval"] == 60.0


def test_environment_variables_set_ports_jitter_and_seed() -> None:
    args = parse(
        PUNCTUAL_API_PORT="9000", PUNCTUAL_AWS_PORT="5000", PUNCTUAL_EBS_JITTER="off", PUNCTUAL_SEED="3"
    )
    assert (args["api_port"], args["aws_port"], args["jitter"], args["seed"]) == (9000, 5000, False, 3)


def test_flags_win_over_the_environment() -> None:
    args = parse(
        "--api-port", "9100", "--jitter", "--seed", "11", PUNCTUAL_API_PORT="9000", PUNCTUAL_EBS_JITTER="0"
    )
    assert (args["api_port"], args["jitter"], args["seed"]) == (9100, True, 11)
    assert parse("--no-jitter")["jitter"] is False


def test_a_malformed_port_variable_is_reported() -> None:
    with pytest.raises(SystemExit, match="PUNCTUAL_API_PORT"):
        parse(PUNCTUAL_API_PORT="eighty")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.parametrize(
    ("busy", "flag", "variable"),
    [("api", "--api-port", "PUNCTUAL_API_PORT"), ("aws", "--aws-port", "PUNCTUAL_AWS_PORT")],
)
def test_a_port_clash_names_the_flags_and_variables_that_move_it(busy: str, flag: str, variable: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        ports = {"api_port": _free_port(), "aws_port": _free_port(), f"{busy}_port": taken}
        server = DevServer(DevOptions(**ports))
        with pytest.raises(StartupError) as raised:
            server.start()
    message = str(raised.value)
    assert f"127.0.0.1:{taken} is not available" in message
    assert f"Pick another with {flag} N or {variable}=N" in message
    # The other port's settings too: both are punctual dev's to choose.
    for name in ("--api-port", "--aws-port", "PUNCTUAL_API_PORT", "PUNCTUAL_AWS_PORT"):
        assert name in message
