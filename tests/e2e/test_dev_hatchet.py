"""The Hatchet scheduled-runs flow against ``punctual dev``, over HTTP only: create with metadata, list with
filters and pages, reschedule one and many (per-item results), bulk delete by filter, and a rescheduled
task firing at its new instant only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from punctual.domain.timefmt import format_instant, parse_instant

from tests.e2e.harness import DevProcess, unique_key

pytestmark = pytest.mark.e2e


def ahead(**delta: float) -> str:
    return format_instant(datetime.now(UTC) + timedelta(**delta))


def create(dev: DevProcess, key: str, **body: Any) -> dict[str, Any]:
    response = dev.request("POST", "/tasks", key=key, json=body)
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


def listed(dev: DevProcess, key: str, **query: str | int) -> list[str]:
    response = dev.request("GET", "/tasks", key=key, params=query)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None, "expected a single page"
    return [task["id"] for task in response.json()["tasks"]]


def test_list_filters_by_metadata_status_and_name_and_pages_through_everything(dev: DevProcess) -> None:
    key = unique_key("hatchet-list")
    at = ahead(hours=1)
    prod_a = [create(dev, key, at=at, name="report", metadata={"env": "prod", "team": "a"}) for _ in range(2)]
    prod_b = create(dev, key, at=at, name="report", metadata={"env": "prod", "team": "b"})
    staging = [create(dev, key, at=at, name="cleanup", metadata={"env": "staging"}) for _ in range(2)]
    everything = [*prod_a, prod_b, *staging]
    assert prod_a[0]["metadata"] == {"env": "prod", "team": "a"}
    assert prod_a[0]["status"] == "scheduled"
    assert prod_a[0]["next_run_at"] == at

    ids = {task["id"] for task in everything}
    assert set(listed(dev, key, **{"metadata.env": "prod"})) == {t["id"] for t in [*prod_a, prod_b]}
    assert set(listed(dev, key, **{"metadata.env": "prod", "metadata.team": "a"})) == {
        t["id"] for t in prod_a
    }
    assert listed(dev, key, **{"metadata.env": "nowhere"}) == []
    assert set(listed(dev, key, name="cleanup")) == {t["id"] for t in staging}
    assert set(listed(dev, key, name="report", **{"metadata.team": "b"})) == {prod_b["id"]}

    # Pages of two: every task exactly once, newest first, and the last page says there is no more.
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = dev.request("GET", "/tasks", key=key, params=params)
        assert response.status_code == 200, response.text
        pages.append(response.json()["tasks"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 10, "pagination does not end"
    assert [len(page) for page in pages] == [2, 2, 1]
    paged = [task["id"] for page in pages for task in page]
    assert sorted(paged) == sorted(ids)
    assert paged == [task["id"] for task in reversed(everything)]  # created one after another
    # A cursor is tamper-proof and bound to its context.
    first_cursor = dev.request("GET", "/tasks", key=key, params={"limit": 2}).json()["next_cursor"]
    tampered = ("f" if first_cursor[0] != "f" else "e") + first_cursor[1:]  # the signed payload changed
    assert dev.request("GET", "/tasks", key=key, params={"cursor": tampered}).status_code == 400
    other = unique_key("hatchet-other")
    assert dev.request("GET", "/tasks", key=other, params={"cursor": first_cursor}).status_code == 400

    # Status: a cancelled task leaves the default (live) listing and shows under its status and "all".
    cancelled = dev.request("DELETE", f"/tasks/{staging[0]['id']}", key=key)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert set(listed(dev, key)) == ids - {staging[0]["id"]}
    assert listed(dev, key, status="cancelled") == [staging[0]["id"]]
    assert set(listed(dev, key, status="all")) == ids
    assert set(listed(dev, key, status="scheduled,cancelled")) == ids
    assert dev.request("GET", "/tasks", key=key, params={"status": "bogus"}).status_code == 400


def test_reschedule_one_and_many_then_bulk_delete_by_filter(dev: DevProcess) -> None:
    key = unique_key("hatchet-bulk")
    batch = {"batch": "nightly"}
    one, two, three = (create(dev, key, at=ahead(hours=1), metadata=batch) for _ in range(3))
    kept = create(dev, key, at=ahead(hours=1), metadata={"batch": "weekly"})

    # One task, PATCH at: a new instant and a new version.
    new_at = ahead(hours=2)
    patched = dev.request("PATCH", f"/tasks/{one['id']}", key=key, json={"at": new_at})
    assert patched.status_code == 200, patched.text
    assert patched.json()["at"] == patched.json()["next_run_at"] == new_at
    assert patched.json()["version"] == one["version"] + 1
    assert dev.request("GET", f"/tasks/{one['id']}", key=key).json()["next_run_at"] == new_at

    # Many at once: one result per item, in order, an unknown id a 404 that does not stop the others.
    missing = uuid.uuid4().hex
    at_two, at_three = ahead(hours=3), ahead(hours=4)
    bulk = dev.request(
        "POST",
        "/tasks/bulk-reschedule",
        key=key,
        json={
            "updates": [
                {"id": two["id"], "at": at_two},
                {"id": missing, "at": at_two},
                {"id": three["id"], "at": at_three},
            ]
        },
    )
    assert bulk.status_code == 200, bulk.text
    answer = bulk.json()
    assert (answer["succeeded"], answer["failed"]) == (2, 1)
    results = answer["results"]
    assert [(r["id"], r["status_code"]) for r in results] == [
        (two["id"], 200),
        (missing, 404),
        (three["id"], 200),
    ]
    assert results[0]["task"]["next_run_at"] == at_two
    assert results[2]["task"]["next_run_at"] == at_three
    assert results[1]["error"]["code"] == "not_found"
    assert dev.request("GET", f"/tasks/{two['id']}", key=key).json()["at"] == at_two
    assert dev.request("GET", f"/tasks/{three['id']}", key=key).json()["at"] == at_three

    # Bulk delete by a metadata filter: exactly the batch, each one cancelled; the other task stays.
    deleted = dev.request("POST", "/tasks/bulk-delete", key=key, json={"filter": {"metadata": batch}})
    assert deleted.status_code == 200, deleted.text
    outcome = deleted.json()
    assert sorted(r["id"] for r in outcome["results"]) == sorted(t["id"] for t in (one, two, three))
    assert all(r["status_code"] == 200 and r["task"]["status"] == "cancelled" for r in outcome["results"])
    assert (outcome["succeeded"], outcome["failed"]) == (3, 0)
    assert listed(dev, key) == [kept["id"]]
    assert listed(dev, key, **{"metadata.batch": "nightly"}) == []
    assert set(listed(dev, key, status="cancelled")) == {one["id"], two["id"], three["id"]}
    # Cancelled tasks cannot be rescheduled any more.
    late = dev.request(
        "POST", "/tasks/bulk-reschedule", key=key, json={"updates": [{"id": one["id"], "at": at_two}]}
    )
    assert late.status_code == 200, late.text
    assert late.json()["results"][0]["status_code"] == 409


def test_a_rescheduled_task_fires_at_its_new_instant_only(dev: DevProcess) -> None:
    key = unique_key("hatchet-fire")
    with dev.sse() as stream:
        # Pushed later: armed for 1.5 s from now, moved to 3.5 s.
        later = create(dev, key, at=ahead(seconds=1.5), message="later")
        later_at = ahead(seconds=3.5)
        moved = dev.request("PATCH", f"/tasks/{later['id']}", key=key, json={"at": later_at})
        assert moved.status_code == 200, moved.text
        # Pulled earlier, in bulk: armed an hour ahead, moved to 2.5 s from now.
        sooner = create(dev, key, at=ahead(hours=1), message="sooner")
        sooner_at = ahead(seconds=2.5)
        bulk = dev.request(
            "POST",
            "/tasks/bulk-reschedule",
            key=key,
            json={"updates": [{"id": sooner["id"], "at": sooner_at}]},
        )
        assert bulk.status_code == 200, bulk.text
        assert bulk.json()["results"][0]["status_code"] == 200

        fired: dict[str, tuple[dict[str, Any], datetime]] = {}
        for _ in range(2):
            _, event = stream.wait_for(lambda e: e["task_id"] in (later["id"], sooner["id"]), timeout=15)
            fired[event["task_id"]] = (event, datetime.now(UTC))
        for task_id, new_at in ((later["id"], later_at), (sooner["id"], sooner_at)):
            event, arrived = fired[task_id]
            instant = parse_instant(new_at, "at")
            assert parse_instant(event["scheduled_for"], "scheduled_for") == instant
            assert parse_instant(event["fired_at"], "fired_at") >= instant
            assert arrived >= instant
            assert 0 <= event["lateness_ms"] < 1000
        # Past the old instants and the new ones: one event each, never one for the old instant.
        seen = stream.drain(1.0)
    assert sorted(e["task_id"] for e in seen if e["task_id"] in fired) == sorted(fired)
    for task_id, new_at in ((later["id"], later_at), (sooner["id"], sooner_at)):
        runs = dev.request("GET", f"/tasks/{task_id}/runs", key=key).json()["runs"]
        assert [run["scheduled_for"] for run in runs] == [new_at]
        assert dev.request("GET", f"/tasks/{task_id}", key=key).json()["status"] == "completed"
