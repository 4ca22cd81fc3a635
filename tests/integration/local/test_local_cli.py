"""``punctual dev``'s flags and their environment variables (flags win)."""

from __future__ import annotations

import pytest
from punctual.local.cli import build_parser


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
