"""The sweeper handler on moto, and the Powertools-backed Metrics port."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from punctual.handlers import sweeper
from punctual.handlers.observability import LATENESS_METRIC, SKIPPED_LATENESS_METRIC, PowertoolsMetrics

from tests.integration.api.harness import FakeLambdaContext, Stack, call_api


def test_the_sweeper_rearms_a_lost_link_and_reports(stack: Stack) -> None:
    task = call_api("POST", "/tasks", body={"at": "2026-01-01T12:00:05Z"}).json
    stack.sent_messages.clear()  # the delay-queue message is lost
    stack.clock.set(datetime(2026, 1, 1, 12, 5, tzinfo=UTC))  # past the sweep grace (240 s)

    report = sweeper.handler({}, FakeLambdaContext(function_name="punctual-test-sweeper"))

    assert report["examined"] == 1
    assert report["rearmed"] == 1
    [(link, delay)] = stack.delayed()
    assert link["task_id"] == task["id"]
    assert delay == 0


def test_the_sweeper_with_nothing_to_do(stack: Stack) -> None:
    call_api("POST", "/tasks", body={"at": "2026-01-01T13:00:00Z"})

    report = sweeper.handler({}, FakeLambdaContext())

    assert report == {"examined": 0, "rearmed": 0, "skipped": 0, "resumed": 0, "errors": 0}
    assert stack.delayed() == []


def _emf_blobs(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if '"_aws"' in line]


def test_an_idle_sweep_emits_no_metric(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    """A custom metric is billed for every month it gets a data point: five zeros a minute cost $1.50."""
    call_api("POST", "/tasks", body={"at": "2026-01-01T13:00:00Z"})
    capsys.readouterr()

    report = sweeper.handler({}, FakeLambdaContext())

    assert not any(report.values())
    # The metric lines go to stdout (the next test sees them there); an idle sweep prints none.
    assert _emf_blobs(capsys.readouterr().out) == []


def test_a_sweep_that_repairs_emits_its_non_zero_counts(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    call_api("POST", "/tasks", body={"at": "2026-01-01T12:00:05Z"})
    stack.sent_messages.clear()  # the delay-queue message is lost
    stack.clock.set(datetime(2026, 1, 1, 12, 5, tzinfo=UTC))
    capsys.readouterr()

    sweeper.handler({}, FakeLambdaContext())

    [blob] = _emf_blobs(capsys.readouterr().out)
    names = {metric["Name"] for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names == {sweeper.METRIC_PREFIX + "examined", sweeper.METRIC_PREFIX + "rearmed"}
    assert blob["sweep_examined"] in (1.0, [1.0])
    assert blob["sweep_rearmed"] in (1.0, [1.0])


def _emitted(capsys: pytest.CaptureFixture[str], sink: Metrics) -> dict[str, Any]:
    sink.flush_metrics()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    [blob] = lines
    return dict(blob)


def test_powertools_metrics_emit_counts_and_lateness_in_milliseconds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sink = Metrics(namespace="PunctualTest", service="punctual")
    adapter = PowertoolsMetrics(sink)

    adapter.count("fired")
    adapter.count("fired")
    adapter.count("late", 3)
    adapter.lateness(250)

    blob = _emitted(capsys, sink)
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "PunctualTest"
    units = {metric["Name"]: metric["Unit"] for metric in directive["Metrics"]}
    assert units == {"fired": "Count", "late": "Count", "lateness_ms": "Milliseconds"}
    assert blob["fired"] == [1.0, 1.0]
    assert blob["late"] in (3.0, [3.0])
    assert blob["lateness_ms"] in (250.0, [250.0])


def test_a_skipped_misfire_is_not_a_fired_lateness(capsys: pytest.CaptureFixture[str]) -> None:
    """The lateness p99 alarm reads lateness_ms: a skip's (outage-sized) lateness goes to its own metric."""
    sink = Metrics(namespace="PunctualTest", service="punctual")
    adapter = PowertoolsMetrics(sink)

    adapter.lateness(40)
    adapter.skipped_lateness(7_200_000)

    blob = _emitted(capsys, sink)
    names = {metric["Name"] for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names == {LATENESS_METRIC, SKIPPED_LATENESS_METRIC}
    assert blob[LATENESS_METRIC] in (40.0, [40.0])
    assert blob[SKIPPED_LATENESS_METRIC] in (7_200_000.0, [7_200_000.0])
