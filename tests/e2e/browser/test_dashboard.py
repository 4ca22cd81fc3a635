"""The dashboard in real headless Chromium against ``punctual dev``: what a person does, checked on the page
and against the API. Each test signs in with its own API key, so it sees only its own tasks."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect
from punctual.domain.timefmt import format_instant

from tests.e2e.browser.conftest import TIMEZONE
from tests.e2e.harness import DevProcess

pytestmark = pytest.mark.e2e

FIRE_TIMEOUT_MS = 30_000


def create_via_api(dev: DevProcess, key: str, body: dict[str, Any]) -> dict[str, Any]:
    response = dev.request("POST", "/tasks", key=key, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def list_via_api(dev: DevProcess, key: str) -> list[dict[str, Any]]:
    """Every task of the key, whatever its status, page after page."""
    tasks: list[dict[str, Any]] = []
    params: dict[str, str] = {"status": "all", "limit": "100"}
    while True:
        response = dev.request("GET", "/tasks", key=key, params=params)
        assert response.status_code == 200, response.text
        tasks += response.json()["tasks"]
        if not response.json()["next_cursor"]:
            return tasks
        params["cursor"] = response.json()["next_cursor"]


def local_input(moment: datetime, zone: str = TIMEZONE) -> str:
    """What a person types into a datetime-local input: the wall clock of a zone (the browser's, by default)."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M:%S")


def row(page: Page, task_id: str) -> Locator:
    return page.locator(f'tr[data-task-id="{task_id}"]')


def open_new_task(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New task").click()
    page.get_by_role("heading", name="New task").wait_for()


def created_task_id(page: Page) -> str:
    expect(page.locator("[data-status]")).to_be_visible()
    match = re.search(r"#/task/([0-9a-f]+)", page.url)
    assert match, page.url
    return match.group(1)


def test_create_a_one_time_and_a_cron_task_with_their_preview_and_watch_the_one_time_fire(
    signed_in: Page, dev: DevProcess, api_key: str
) -> None:
    page = signed_in
    fires_at = (datetime.now(UTC) + timedelta(seconds=6)).replace(microsecond=0)

    open_new_task(page)
    page.get_by_label("Name").fill("one-time from the form")
    expect(page.get_by_label("Time zone")).to_have_value(TIMEZONE)  # the browser's zone by default
    page.get_by_label("Date and time").fill(local_input(fires_at))
    preview = page.locator("[data-preview] li")
    expect(preview).to_have_count(1)
    expect(preview.first).to_contain_text(format_instant(fires_at))  # the wall-clock time, read on Paris time
    page.get_by_label("Message (JSON)").fill('{"hello": "browser"}')
    page.get_by_role("button", name="Create task").click()
    one_time_id = created_task_id(page)

    open_new_task(page)
    page.get_by_label("Name").fill("cron from the form")
    page.get_by_role("radio", name="Cron").check()
    page.get_by_label("Cron expression").fill("*/5 * * * *")
    expect(preview).to_have_count(5)
    instants = [
        datetime.fromisoformat(text.split(" — ")[1].replace("Z", "+00:00"))
        for text in preview.all_inner_texts()
    ]
    assert [later - earlier for earlier, later in itertools.pairwise(instants)] == [timedelta(minutes=5)] * 4
    assert all(instant.minute % 5 == 0 and instant.second == 0 for instant in instants)
    page.get_by_role("button", name="Create task").click()
    cron_id = created_task_id(page)

    created = {task["id"]: task for task in list_via_api(dev, api_key)}
    assert created[one_time_id]["at"] == format_instant(fires_at)
    assert created[one_time_id]["message"] == {"hello": "browser"}
    assert created[cron_id]["cron"] == "*/5 * * * *" and created[cron_id]["timezone"] == TIMEZONE

    # Every status, so the fired task stays in the table; the row changes without a reload (events stream).
    page.goto(f"{dev.api}/ui/#/tasks?status=all")
    expect(page.locator("#live")).to_have_text("Live: events stream")
    expect(row(page, cron_id).locator('[data-col="schedule"]')).to_contain_text("every 5 minutes")
    one_time = row(page, one_time_id)
    expect(one_time.locator('[data-col="status"]')).to_have_text("scheduled")
    expect(one_time.locator('[data-col="status"]')).to_have_text("completed", timeout=FIRE_TIMEOUT_MS)
    expect(one_time.locator('[data-col="last"]')).not_to_have_text("—")
    reschedule = one_time.get_by_role("button", name="Reschedule")
    expect(reschedule).to_be_disabled()
    expect(one_time.locator(".reason")).to_have_text("The task is completed; it can no longer change.")


def test_reschedule_a_task_from_its_row(signed_in: Page, dev: DevProcess, api_key: str) -> None:
    page = signed_in
    task = create_via_api(
        dev, api_key, {"name": "move me", "at": format_instant(datetime.now(UTC) + timedelta(hours=1))}
    )
    new_time = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    page.reload()

    row(page, task["id"]).get_by_role("button", name="Reschedule").click()
    dialog = page.get_by_role("dialog")
    # The dialog starts on the task's own zone and time; the time is typed on New York's clock instead.
    expect(dialog.get_by_label("Time zone")).to_have_value("UTC")
    expect(dialog.get_by_label("New time")).to_have_value(
        local_input(datetime.fromisoformat(task["at"]), "UTC")
    )
    dialog.get_by_label("Time zone").select_option("America/New_York")
    dialog.get_by_label("New time").fill(local_input(new_time, "America/New_York"))
    dialog.get_by_role("button", name="Reschedule").click()

    expect(dialog).to_be_hidden()
    shown = new_time.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M:%S")
    expect(row(page, task["id"]).locator('[data-col="next"]')).to_contain_text(shown)
    expect(row(page, task["id"]).locator('[data-col="timezone"]')).to_have_text("America/New_York")
    after = dev.request("GET", f"/tasks/{task['id']}", key=api_key).json()
    assert after["at"] == after["next_run_at"] == format_instant(new_time)
    assert after["version"] == task["version"] + 1


def test_bulk_delete_by_a_metadata_filter_loops_over_full_pages_and_shows_the_summary(
    signed_in: Page, dev: DevProcess, api_key: str
) -> None:
    page = signed_in
    at = format_instant(datetime.now(UTC) + timedelta(hours=2))
    # More than the API's 100 per filtered call: the dashboard must call again after a full page.
    doomed = [create_via_api(dev, api_key, {"at": at, "metadata": {"batch": "b1"}})["id"] for _ in range(103)]
    kept = create_via_api(dev, api_key, {"at": at, "name": "other batch", "metadata": {"batch": "b2"}})

    page.get_by_label("Metadata").fill("batch=b1")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"metadata\.batch=b1"))
    expect(page.locator("tr[data-task-id]")).to_have_count(25)  # one page of the filtered list
    expect(page.get_by_role("link", name="Next page")).to_be_visible()

    page.get_by_role("button", name="Delete all matching").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete all").click()
    summary = page.locator("[data-summary]")
    expect(summary.locator('[data-count="succeeded"]')).to_have_text("Succeeded: 103 deleted", timeout=20_000)
    expect(summary.locator('[data-count="failed"]')).to_have_text("Failed: 0")
    page.get_by_role("dialog").get_by_role("button", name="Close").click()
    expect(page.get_by_text("No tasks match.")).to_be_visible()

    statuses = {task["id"]: task["status"] for task in list_via_api(dev, api_key)}
    assert {statuses[task_id] for task_id in doomed} == {"cancelled"}
    assert statuses[kept["id"]] == "scheduled"


def test_run_now_shows_a_toast_that_follows_the_run_to_completed(
    signed_in: Page, dev: DevProcess, api_key: str
) -> None:
    page = signed_in
    task = create_via_api(dev, api_key, {"name": "hourly", "every": "1 hour", "message": {"n": 1}})
    page.reload()

    row(page, task["id"]).get_by_role("button", name="Run now").click()
    page.get_by_role("dialog").get_by_role("button", name="Run now").click()

    toast = page.locator(".toast", has_text="Run of “hourly”")
    expect(toast).to_be_visible()
    expect(toast.locator(".status")).to_have_text("completed", timeout=20_000)
    tracking_id = toast.get_attribute("data-tracking-id")
    run = dev.request("GET", f"/runs/{tracking_id}", key=api_key).json()
    assert (run["task_id"], run["kind"], run["status"]) == (task["id"], "manual", "completed")


def test_a_422_is_shown_next_to_its_field_and_nothing_is_created(
    signed_in: Page, dev: DevProcess, api_key: str
) -> None:
    page = signed_in
    open_new_task(page)
    page.get_by_role("radio", name="Interval").check()
    every = page.get_by_label("Every")
    every.fill("5 seconds")
    page.get_by_role("button", name="Create task").click()

    expect(page.locator("[data-form-error]")).to_contain_text("Not created (422)")
    expect(every).to_have_attribute("aria-invalid", "true")
    error = page.locator(f"#{every.get_attribute('id')}-error")
    expect(error).to_have_text("the minimum interval is 10 seconds")
    expect(every).to_be_focused()
    assert list_via_api(dev, api_key) == []

    every.fill("5 minutes")  # fixed, the same form creates it and leaves the page
    page.get_by_role("button", name="Create task").click()
    created_task_id(page)
    assert [task["every"] for task in list_via_api(dev, api_key)] == ["5 minutes"]


def test_the_message_editor_refuses_invalid_json_before_sending(
    signed_in: Page, dev: DevProcess, api_key: str
) -> None:
    page = signed_in
    open_new_task(page)
    page.get_by_role("radio", name="Interval").check()
    page.get_by_label("Every").fill("1 hour")
    message = page.get_by_label("Message (JSON)")
    message.fill('{"unclosed": ')
    expect(message).to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Create task").click()

    expect(message).to_be_focused()
    assert list_via_api(dev, api_key) == []
    message.fill('{"closed": true}')
    expect(page.get_by_text("Valid JSON")).to_be_visible()


def test_the_table_and_its_dialogs_work_from_the_keyboard(
    signed_in: Page, dev: DevProcess, api_key: str
) -> None:
    page = signed_in
    task = create_via_api(dev, api_key, {"name": "keyboard", "every": "1 hour"})
    page.reload()
    pause = row(page, task["id"]).get_by_role("button", name="Pause")
    pause.focus()

    page.keyboard.press("Enter")  # opens the confirmation, focus inside it
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Pause")).to_be_focused()
    page.keyboard.press("Escape")  # cancels: nothing changes
    expect(dialog).to_be_hidden()
    assert dev.request("GET", f"/tasks/{task['id']}", key=api_key).json()["status"] == "scheduled"

    pause.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # confirms
    expect(row(page, task["id"]).locator('[data-col="status"]')).to_have_text("paused")
    resume = row(page, task["id"]).get_by_role("button", name="Resume")
    expect(resume).to_be_focused()  # the refresh kept the focus on the same row's same action
    assert dev.request("GET", f"/tasks/{task['id']}", key=api_key).json()["status"] == "paused"


def test_every_control_of_the_create_form_has_a_label(signed_in: Page) -> None:
    page = signed_in
    open_new_task(page)
    page.get_by_role("button", name="Add metadata").click()
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('main input, main select, main textarea')]
             .filter((control) => !control.labels?.length && !control.getAttribute('aria-label'))
             .map((control) => control.outerHTML)"""
    )
    assert unlabelled == []


def test_signing_out_forgets_the_session(signed_in: Page, dev: DevProcess) -> None:
    page = signed_in
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation).to_be_visible()

    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(navigation).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    page.goto(f"{dev.api}/ui/#/tasks")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()  # no way round the sign-in


def test_a_recurring_schedules_start_bounds_its_preview(signed_in: Page) -> None:
    page = signed_in
    open_new_task(page)
    page.get_by_role("radio", name="Interval").check()
    page.get_by_label("Every").fill("1 hour")
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    page.get_by_label("Starts").fill(local_input(start))

    preview = page.locator("[data-preview] li")
    expect(preview).to_have_count(5)
    expect(preview.first).to_contain_text(format_instant(start))
    expect(preview.nth(4)).to_contain_text(format_instant(start + timedelta(hours=4)))


def test_bulk_reschedule_of_the_selection_reports_each_refusal(
    signed_in: Page, dev: DevProcess, api_key: str
) -> None:
    page = signed_in
    at = format_instant(datetime.now(UTC) + timedelta(hours=2))
    one_time = [create_via_api(dev, api_key, {"at": at, "name": f"once {n}"})["id"] for n in range(2)]
    recurring = create_via_api(dev, api_key, {"every": "1 hour", "name": "hourly"})["id"]
    page.reload()
    for task_id in [*one_time, recurring]:
        row(page, task_id).get_by_role("checkbox").check()
    expect(page.get_by_text("3 selected")).to_be_visible()
    new_time = (datetime.now(UTC) + timedelta(hours=6)).replace(microsecond=0)

    page.get_by_role("button", name="Reschedule selected").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("New time").fill(local_input(new_time))
    dialog.get_by_role("button", name="Reschedule").click()

    summary = page.locator("[data-summary]")
    expect(summary.locator('[data-count="succeeded"]')).to_have_text("Succeeded: 2 rescheduled")
    expect(summary.locator('[data-count="failed"]')).to_have_text("Failed: 1")
    expect(summary).to_contain_text("409: the task is recurring")
    for task_id in one_time:
        assert dev.request("GET", f"/tasks/{task_id}", key=api_key).json()["at"] == format_instant(new_time)


def test_swagger_ui_renders_the_api_from_this_origin_alone(page: Page, dev: DevProcess) -> None:
    elsewhere: list[str] = []
    page.on(
        "request", lambda request: None if request.url.startswith(dev.api) else elsewhere.append(request.url)
    )
    page.goto(f"{dev.api}/docs")

    expect(page.locator(".swagger-ui .title")).to_contain_text("punctual")
    expect(page.get_by_text("/schedules/preview").first).to_be_visible()
    assert elsewhere == []  # no CDN: it works offline
