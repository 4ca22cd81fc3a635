"""CORS for the dashboard's origin: only when a stage names it (CORS_ALLOW_ORIGIN), and only for it."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from punctual.handlers import api
from punctual.handlers.cors import CORS_ORIGIN_ENV, cors_config

from tests.integration.api.harness import Stack, call_api

DASHBOARD = "https://d111111abcdef8.cloudfront.net"


@pytest.fixture
def with_dashboard_origin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The resolver reads the origin when the module loads (a Lambda container's start).
    monkeypatch.setenv(CORS_ORIGIN_ENV, DASHBOARD)
    importlib.reload(api)
    yield
    monkeypatch.delenv(CORS_ORIGIN_ENV)
    importlib.reload(api)


@pytest.mark.usefixtures("with_dashboard_origin")
def test_answers_name_the_dashboards_origin_and_its_headers(stack: Stack) -> None:
    listed = call_api("GET", "/tasks", headers={"Origin": DASHBOARD})
    refused = call_api("POST", "/tasks", body={"every": "1 second"}, headers={"Origin": DASHBOARD})

    assert listed.status == 200
    assert listed.headers["access-control-allow-origin"] == DASHBOARD
    assert refused.status == 422
    assert refused.headers["access-control-allow-origin"] == DASHBOARD  # the dashboard can read its errors


@pytest.mark.usefixtures("with_dashboard_origin")
def test_another_origin_gets_no_cors_header(stack: Stack) -> None:
    answer = call_api("GET", "/tasks", headers={"Origin": "https://evil.example"})

    assert answer.status == 200
    assert "access-control-allow-origin" not in answer.headers


def test_without_a_dashboard_origin_there_is_no_cors_at_all(stack: Stack) -> None:
    answer = call_api("GET", "/tasks", headers={"Origin": DASHBOARD})

    assert answer.status == 200
    assert not any(name.startswith("access-control-") for name in answer.headers)


def test_the_config_allows_what_the_dashboard_sends() -> None:
    config = cors_config({CORS_ORIGIN_ENV: DASHBOARD})

    assert config is not None
    headers = config.to_dict(DASHBOARD)
    assert headers["Access-Control-Allow-Origin"] == DASHBOARD
    assert {"x-api-key", "X-Punctual-User", "Content-Type"} <= set(
        headers["Access-Control-Allow-Headers"].split(",")
    )
    assert "Access-Control-Allow-Origin" not in config.to_dict("https://evil.example")
    assert cors_config({CORS_ORIGIN_ENV: " "}) is None
    assert cors_config({}) is None
