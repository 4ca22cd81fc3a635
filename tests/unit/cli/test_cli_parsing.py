"""``--in`` durations, ``--message`` JSON or @file, ``--meta`` pairs."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from punctual_cli import parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10s", timedelta(seconds=10)),
        ("5m", timedelta(minutes=5)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("90", timedelta(seconds=90)),
        ("0s", timedelta(0)),
        (" 2M ", timedelta(minutes=2)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parsing.duration(text) == expected


@pytest.mark.parametrize("text", ["", "s", "10x", "5m1h", "1.5h", "-5s", "10 s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(typer.BadParameter, match="not a duration"):
        parsing.duration(text)


def test_messages_are_json_or_a_file(tmp_path: Path) -> None:
    assert parsing.message(None) is None
    assert parsing.message('"hi"') == "hi"
    assert parsing.message('{"invoice": 42}') == {"invoice": 42}
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"from": "file"}))
    assert parsing.message(f"@{path}") == {"from": "file"}
    with pytest.raises(typer.BadParameter, match="is not JSON"):
        parsing.message("hi")
    with pytest.raises(typer.BadParameter, match="cannot read"):
        parsing.message(f"@{tmp_path / 'missing.json'}")


def test_metadata_pairs() -> None:
    assert parsing.metadata(None) is None
    assert parsing.metadata(["customer=c-17", "q=a=b", "empty="]) == {
        "customer": "c-17",
        "q": "a=b",
        "empty": "",
    }
    for bad in ("novalue", "=v"):
        with pytest.raises(typer.BadParameter, match="KEY=VALUE"):
            parsing.metadata([bad])
