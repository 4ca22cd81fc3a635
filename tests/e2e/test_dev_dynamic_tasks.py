"""The dynamic-tasks flow against ``punctual dev``, over HTTP only: ``runEvery(5, "minutes")`` and the Quartz
cron ``0 0/5 0 ? * * *`` in a time zone, listed with the right next run; per-user contexts that cannot see
or touch each other; deleting everything in one context."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from punctual.domain.timefmt import format_instant, parse_instant

from tests.e2e.harness import DevProcess, unique_key

pytestmark = pytest.mark.e2e

QUARTZ = "0 0/5 0 ? * * *"  # second 0 of every fifth minute of hour 0, every day
# Two zones whose local hour 0 never overlaps: the test picks one that is not in (or about to enter) hour 0,
# so no occurrence falls due while the test runs and next_run_at stays put.
ZONES = ("Asia/Kolkata", "America/New_York")


def quiet_zone(now: datetime) -> str:
    for name in ZONES:
        local = (now + timedelta(minutes=2)).astimezone(ZoneInfo(name))
        if local.hour not in (23, 0) and now.astimezone(ZoneInfo(name)).hour != 0:
            return name
    raise AssertionError("unreachable: the zones' midnight hours do not overlap")


def next_quartz_run(after: datetime, zone: ZoneInfo) -> datetime:
    """The first instant at or after ``after`` whose wall clock in ``zone`` reads 00:MM:00 with MM a multiple
    of five: worked out by listing today's and tomorrow's twelve candidates, not by any cron parser."""
    today = after.astimezone(zone).date()
    candidates = [
        datetime(day.year, day.month, day.day, 0, minute, tzinfo=zone).astimezone(UTC)
        for day in (today, today + timedelta(days=1))
        for minute in range(0, 60, 5)
    ]
    return min(c for c in candidates if c >= after)


def user_headers(user: str) -> dict[str, str]:
    return {"X-Punctual-User": user}


def create(dev: DevProcess, key: str, user: str | None = None, **body: Any) -> dict[str, Any]:
    headers = user_headers(user) if user else {}
    response = dev.request("POST", "/tasks", key=key, headers=headers, json=body)
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


def list_tasks(dev: DevProcess, key: str, user: str | None = None, **query: str) -> list[dict[str, Any]]:
    headers = user_headers(user) if user else {}
    response = dev.request("GET", "/tasks", key=key, headers=headers, params=query)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    tasks: list[dict[str, Any]] = response.json()["tasks"]
    return tasks


def test_every_five_minutes_and_a_quartz_cron_are_listed_with_their_next_run(dev: DevProcess) -> None:
    key = unique_key("dynamic")
    before = datetime.now(UTC)
    zone = quiet_zone(before)
    every = create(dev, key, name="poll", every="5 minutes", message={"op": "poll"})
    cron = create(dev, key, name="sweep", cron=QUARTZ, timezone=zone, message={"op": "sweep"})
    after = datetime.now(UTC)

    for task in (every, cron):
        created_at = parse_instant(task["created_at"], "created_at")
        # The server's clock and ours are the same machine's: created_at lies within the request.
        assert before - timedelta(milliseconds=1) <= created_at <= after
        assert task["status"] == "scheduled"
        assert "at" not in task

    # every: the first run is one interval after creation (whole seconds), as runEvery(5, "minutes") does.
    every_created = parse_instant(every["created_at"], "created_at")
    expected_every = every_created.replace(microsecond=0) + timedelta(minutes=5)
    assert every["every"] == "5 minutes"
    assert "cron" not in every
    assert parse_instant(every["next_run_at"], "next_run_at") == expected_every

    # The Quartz cron: the next 00:MM:00 (MM = 0, 5, ... 55) on the zone's wall clock.
    cron_created = parse_instant(cron["created_at"], "created_at")
    expected_cron = next_quartz_run(cron_created, ZoneInfo(zone))
    assert cron["cron"] == QUARTZ
    assert cron["timezone"] == zone
    assert "every" not in cron
    assert parse_instant(cron["next_run_at"], "next_run_at") == expected_cron
    local = expected_cron.astimezone(ZoneInfo(zone))
    assert (local.hour, local.minute % 5, local.second) == (0, 0, 0)
    assert expected_cron - cron_created <= timedelta(days=1)

    # listTasks shows both, with the same schedules and next runs as the create answers.
    listed = {task["id"]: task for task in list_tasks(dev, key)}
    assert set(listed) == {every["id"], cron["id"]}
    assert listed[every["id"]]["every"] == "5 minutes"
    assert listed[every["id"]]["next_run_at"] == format_instant(expected_every)
    assert listed[cron["id"]]["cron"] == QUARTZ
    assert listed[cron["id"]]["timezone"] == zone
    assert listed[cron["id"]]["next_run_at"] == format_instant(expected_cron)
    assert listed[cron["id"]]["message"] == {"op": "sweep"}


def test_user_contexts_are_invisible_to_each_other(dev: DevProcess) -> None:
    key = unique_key("dynamic-users")
    mine = [
        create(dev, key, "alice", every="5 minutes", name="a-every"),
        create(dev, key, "alice", cron=QUARTZ, timezone=quiet_zone(datetime.now(UTC)), name="a-cron"),
    ]
    theirs = [
        create(dev, key, "bob", every="5 minutes", name="b-every"),
        create(dev, key, "bob", at=format_instant(datetime.now(UTC) + timedelta(hours=1)), name="b-once"),
    ]
    alice_ids = {t["id"] for t in mine}
    bob_ids = {t["id"] for t in theirs}
    assert {t["id"] for t in list_tasks(dev, key, "alice")} == alice_ids
    assert {t["id"] for t in list_tasks(dev, key, "bob")} == bob_ids
    assert list_tasks(dev, key) == []  # the tenant without a user is a context of its own
    assert list_tasks(dev, key, "alice", name="b-every") == []

    alice = user_headers("alice")
    for task in theirs:
        path = f"/tasks/{task['id']}"
        assert dev.request("GET", path, key=key, headers=alice).status_code == 404
        assert dev.request("DELETE", path, key=key, headers=alice).status_code == 404
        assert dev.request("PATCH", path, key=key, headers=alice, json={"paused": True}).status_code == 404
        assert dev.request("GET", f"{path}/runs", key=key, headers=alice).status_code == 404
    by_ids = dev.request(
        "POST", "/tasks/bulk-delete", key=key, headers=alice, json={"ids": [theirs[0]["id"]]}
    ).json()
    assert [(r["id"], r["status_code"]) for r in by_ids["results"]] == [(theirs[0]["id"], 404)]
    for task in theirs:  # untouched by everything alice tried
        got = dev.request("GET", f"/tasks/{task['id']}", key=key, headers=user_headers("bob"))
        assert got.status_code == 200, got.text
        assert (got.json()["status"], got.json()["version"]) == ("scheduled", task["version"])

    # delete(uuid) in one's own context works; an unknown id is a 404 too.
    gone = dev.request("DELETE", f"/tasks/{mine[0]['id']}", key=key, headers=alice)
    assert gone.status_code == 200, gone.text
    assert gone.json()["status"] == "cancelled"
    assert dev.request("DELETE", f"/tasks/{uuid.uuid4().hex}", key=key, headers=alice).status_code == 404
    assert {t["id"] for t in list_tasks(dev, key, "alice")} == {mine[1]["id"]}


def test_deleting_everything_in_one_context_leaves_the_other_users_tasks(dev: DevProcess) -> None:
    key = unique_key("dynamic-wipe")
    alice = [
        create(dev, key, "alice", every="5 minutes"),
        create(dev, key, "alice", cron=QUARTZ, timezone=quiet_zone(datetime.now(UTC))),
        create(dev, key, "alice", at=format_instant(datetime.now(UTC) + timedelta(hours=1))),
    ]
    bob = [create(dev, key, "bob", every="10 minutes"), create(dev, key, "bob", cron="*/5 * * * *")]
    tenant_wide = create(dev, key, every="1 hour")

    wiped = dev.request(
        "POST", "/tasks/bulk-delete", key=key, headers=user_headers("alice"), json={"filter": {}}
    )
    assert wiped.status_code == 200, wiped.text
    results = wiped.json()["results"]
    assert sorted(r["id"] for r in results) == sorted(t["id"] for t in alice)
    assert all(r["status_code"] == 200 and r["task"]["status"] == "cancelled" for r in results)

    assert list_tasks(dev, key, "alice") == []
    assert {t["id"] for t in list_tasks(dev, key, "alice", status="cancelled")} == {t["id"] for t in alice}
    remaining = list_tasks(dev, key, "bob")
    assert {t["id"] for t in remaining} == {t["id"] for t in bob}
    assert all(t["status"] == "scheduled" and t["next_run_at"] for t in remaining)
    assert [t["id"] for t in list_tasks(dev, key)] == [tenant_wide["id"]]
