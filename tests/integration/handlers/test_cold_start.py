"""Cold starts: what importing a handler loads (bench/bench_import_time.py measures how long it takes)."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys

import pytest
from punctual.handlers.coldstart import collector_paused

# Imported only on the code paths that need them, never when a handler module is imported.
OPENAPI_MODELS = "aws_lambda_powertools.event_handler.openapi.models"
OPENAPI_VALIDATION = "aws_lambda_powertools.event_handler.middlewares.openapi_validation"
PARAMETERS = "aws_lambda_powertools.utilities.parameters"
BATCH = "aws_lambda_powertools.utilities.batch"
RESPONSE_MODELS = "punctual.handlers.response_models"
DEFERRED = (OPENAPI_MODELS, OPENAPI_VALIDATION, PARAMETERS, BATCH, RESPONSE_MODELS)


def run_python(code: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(["functions", "."]),
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_METRICS_NAMESPACE": "Punctual",
        },
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("module", ["api", "executor", "sweeper"])
def test_importing_a_handler_loads_nothing_it_only_needs_later(module: str) -> None:
    report = run_python(
        "import gc, json, sys\n"
        f"import punctual.handlers.{module}\n"
        f"print(json.dumps({{'loaded': [m for m in {list(DEFERRED)!r} if m in sys.modules],"
        " 'gc_enabled': gc.isenabled(), 'frozen': gc.get_freeze_count()}))\n"
    )

    assert report["loaded"] == []
    # The import-time objects are frozen out of every later collection; the collector itself is back on.
    assert report["gc_enabled"] is True
    assert isinstance(report["frozen"], int) and report["frozen"] > 10_000


def test_the_openapi_document_is_built_on_its_first_request() -> None:
    report = run_python(
        "import contextlib, io, json, sys, warnings\n"
        "warnings.filterwarnings('ignore')\n"
        "from punctual.handlers import api\n"
        "from tests.integration.api.harness import FakeLambdaContext, api_event\n"
        f"before = {OPENAPI_MODELS!r} in sys.modules\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    answer = api.handler(api_event('GET', '/openapi.json'), FakeLambdaContext())\n"
        "document = json.loads(answer['body'])\n"
        "print(json.dumps({'before': before, 'status': answer['statusCode'], 'paths': len(document['paths'])}))\n"
    )

    assert report == {"before": False, "status": 200, "paths": 15}  # with bulk, preview, retry and signing


def test_collector_paused_resumes_the_collector_and_freezes_what_was_imported() -> None:
    report = run_python(
        "import gc, json\n"
        "from punctual.handlers.coldstart import collector_paused\n"
        "frozen_before = gc.get_freeze_count()\n"
        "with collector_paused():\n"
        "    during = gc.isenabled()\n"
        "    kept = [[i] for i in range(1000)]\n"
        "print(json.dumps({'during': during, 'after': gc.isenabled(),"
        " 'newly_frozen': gc.get_freeze_count() - frozen_before}))\n"
    )

    assert report["during"] is False
    assert report["after"] is True
    assert isinstance(report["newly_frozen"], int) and report["newly_frozen"] >= 1000


def test_collector_paused_leaves_a_collector_that_was_off_alone() -> None:
    frozen = gc.get_freeze_count()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
        assert gc.get_freeze_count() == frozen
    finally:
        gc.enable()
