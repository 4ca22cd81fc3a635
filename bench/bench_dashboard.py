"""The dashboard's first load under ``punctual dev``, in headless Chromium (Debian's, as the browser tests).

Measures, over fresh browser contexts (empty cache, so every byte is fetched):
- page weight: bytes transferred (headers + encoded bodies) for the sign-in page, and for the signed-in
  tasks view with N tasks (its API calls included; the events stream's open response has no end and is left
  out);
- time to first render: first-contentful-paint of /ui/, and navigation start -> the tasks table drawn.

Run: .venv/bin/python bench/bench_dashboard.py [--tasks 25] [--runs 5] [--screenshots docs]
With --screenshots it also saves the main views as PNG (the README shows them).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from playwright.sync_api import Browser, Page, Request, sync_playwright  # noqa: E402
from punctual.domain.timefmt import format_instant  # noqa: E402

from tests.e2e.browser.chromium import chromium_path  # noqa: E402
from tests.e2e.harness import DevProcess, running_dev_with_temporary_log  # noqa: E402

KEY = "bench-dashboard"
VIEWPORT = {"width": 1300, "height": 860}


def seed(dev: DevProcess, count: int) -> str:
    """``count`` tasks of every kind, with metadata; returns one recurring task that has a few runs."""
    now = datetime.now(UTC)
    shapes: list[dict[str, Any]] = [
        {
            "name": "invoice reminder",
            "at": format_instant(now + timedelta(hours=5)),
            "timezone": "Europe/Paris",
        },
        {"name": "weekday report", "cron": "30 9 * * MON-FRI", "timezone": "America/New_York"},
        {"name": "cache warmup", "every": "15 minutes"},
        {"name": "monthly invoices", "cron": "0 6 1 * *", "timezone": "Europe/London"},
    ]
    for index in range(count):
        body = dict(shapes[index % len(shapes)])
        body["metadata"] = {"customer": f"c-{index % 3 + 1}", "team": "billing" if index % 2 else "ops"}
        body["message"] = {"n": index}
        response = dev.request("POST", "/tasks", key=KEY, json=body)
        assert response.status_code == 201, response.text
    recurring = dev.request("POST", "/tasks", key=KEY, json={"name": "heartbeat", "every": "1 hour"}).json()
    for _ in range(8):
        dev.request("POST", f"/tasks/{recurring['id']}/runs", key=KEY)
    return str(recurring["id"])


def transferred(requests: list[Request]) -> tuple[int, int]:
    """(bytes, request count) for finished requests: response headers and encoded body, plus request headers."""
    total, counted = 0, 0
    for request in requests:
        if request.url.endswith("/events"):
            continue
        response = request.response()
        if response is None:
            continue
        response.finished()
        sizes = request.sizes()
        total += sizes["requestHeadersSize"] + sizes["responseHeadersSize"] + sizes["responseBodySize"]
        counted += 1
    return total, counted


def sign_in(page: Page, dev: DevProcess) -> None:
    page.evaluate(
        "([url, key]) => sessionStorage.setItem('punctual.session', JSON.stringify({apiUrl: url, apiKey: key}))",
        [dev.api, KEY],
    )


def measure(browser: Browser, dev: DevProcess) -> dict[str, float]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    seen: list[Request] = []
    page.on("requestfinished", lambda request: seen.append(request))
    page.goto(f"{dev.api}/ui/", wait_until="load")
    page.get_by_label("API key").wait_for()
    fcp = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1")
    signin_bytes, signin_requests = transferred(seen)

    # Signed in, in a fresh context (empty cache): the session is put in place on a page of the origin that
    # loads no script, then the tasks view is loaded and timed to the moment its table holds rows.
    fresh = browser.new_context(viewport=VIEWPORT)
    tasks_page = fresh.new_page()
    tasks_page.goto(f"{dev.api}/ui/favicon.svg")
    sign_in(tasks_page, dev)
    loaded: list[Request] = []
    tasks_page.on("requestfinished", lambda request: loaded.append(request))
    tasks_page.goto(f"{dev.api}/ui/#/tasks", wait_until="commit")
    tasks_page.locator("tr[data-task-id]").first.wait_for()
    table_ms = tasks_page.evaluate("performance.getEntriesByName('punctual:tasks-rendered')[0].startTime")
    list_ms = tasks_page.evaluate(
        "(() => { const call = performance.getEntriesByType('resource').find(e => e.name.includes('/tasks?'));"
        " return call.responseEnd - call.startTime; })()"
    )
    tasks_page.wait_for_load_state("networkidle")
    tasks_bytes, tasks_requests = transferred(loaded)
    context.close()
    fresh.close()
    return {
        "signin_kb": signin_bytes / 1024,
        "signin_requests": signin_requests,
        "fcp_ms": fcp,
        "tasks_kb": tasks_bytes / 1024,
        "tasks_requests": tasks_requests,
        "table_ms": table_ms,
        "list_ms": list_ms,
    }


def screenshots(browser: Browser, dev: DevProcess, folder: Path, task_id: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=VIEWPORT, timezone_id="Europe/Paris", locale="en-GB")
    page = context.new_page()
    page.goto(f"{dev.api}/ui/")
    page.get_by_label("API key").wait_for()
    page.screenshot(path=str(folder / "dashboard-signin.png"))
    sign_in(page, dev)
    page.goto(f"{dev.api}/ui/#/tasks")
    page.locator("tr[data-task-id]").first.wait_for()
    page.wait_for_timeout(300)
    page.screenshot(path=str(folder / "dashboard-tasks.png"))
    page.goto(f"{dev.api}/ui/#/new")
    page.get_by_label("Name").fill("weekday report")
    page.get_by_role("radio", name="Cron").check()
    page.get_by_label("Cron expression").fill("30 9 * * MON-FRI")
    page.get_by_label("Message (JSON)").fill('{"report": "daily"')
    page.get_by_role("button", name="Add metadata").click()
    page.get_by_label("Metadata key 1").fill("customer")
    page.get_by_label("Metadata value 1").fill("c-1")
    page.locator("[data-preview] li").nth(4).wait_for()
    page.screenshot(path=str(folder / "dashboard-create.png"), full_page=True)
    page.goto(f"{dev.api}/ui/#/task/{task_id}")
    page.locator("[data-chart]").wait_for()
    page.screenshot(path=str(folder / "dashboard-detail.png"), full_page=True)
    context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=25)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--screenshots", type=Path)
    args = parser.parse_args()
    with (
        running_dev_with_temporary_log("--no-jitter") as dev,
        sync_playwright() as driver,
    ):
        task_id = seed(dev, args.tasks)
        browser = driver.chromium.launch(executable_path=chromium_path(), headless=True)
        measure(browser, dev)  # warm-up: the server's first gzip of each file, Python's first imports
        results = [measure(browser, dev) for _ in range(args.runs)]
        if args.screenshots:
            screenshots(browser, dev, args.screenshots, task_id)
        browser.close()

    def median(name: str) -> float:
        return statistics.median(result[name] for result in results)

    print(f"dashboard under punctual dev, {args.tasks} tasks, median of {args.runs} cold loads")
    print(
        f"  sign-in page, first load: {median('signin_kb'):.1f} KB transferred in "
        f"{median('signin_requests'):.0f} requests; first contentful paint {median('fcp_ms'):.0f} ms"
    )
    print(
        f"  tasks view, signed in, empty cache: {median('tasks_kb'):.1f} KB in {median('tasks_requests'):.0f} "
        f"requests (API calls included); table drawn {median('table_ms'):.0f} ms after navigation start, "
        f"of which {median('list_ms'):.0f} ms waiting for GET /tasks"
    )
    if args.screenshots:
        print(f"  screenshots in {args.screenshots}/dashboard-*.png")


if __name__ == "__main__":
    main()
