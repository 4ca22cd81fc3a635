"""A black-box race against ``punctual dev``: cancels, reschedules and run-nows sent from many threads within
±1 s of the instant their tasks fire at. On the events stream, no event may break P1 (one publish per
occurrence and run) or P2 (nothing of a task is published after its cancel answered 200, and an instant a
reschedule replaced is never published after the reschedule answered 200)."""

from __future__ import annotations

import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from punctual.domain.timefmt import format_instant, parse_instant

from tests.e2e.harness import DevProcess, unique_key

pytestmark = pytest.mark.e2e

ROUNDS = 3
TASKS_PER_ROUND = 60
OPERATIONS_PER_TASK = 3  # 3 x 60 x 3 = 540 racing operations
LEAD = timedelta(seconds=4)  # the shared instant, from the round's start (time to create the tasks)
SPREAD = 1.0  # seconds either side of the instant
ALLOWED = {"cancel": {200, 409}, "delete": {200, 409}, "reschedule": {200, 409}, "run_now": {202, 409}}


@dataclass
class Answer:
    kind: str
    task_id: str
    status: int
    body: dict[str, Any]
    answered_at: datetime
    old_instant: datetime


def _send(dev: DevProcess, key: str, kind: str, task_id: str, when: float, instant: datetime) -> Answer:
    time.sleep(max(0.0, when - time.time()))
    if kind == "cancel":
        response = dev.request("POST", "/cancel", key=key, json={"id": task_id})
    elif kind == "delete":
        response = dev.request("DELETE", f"/tasks/{task_id}", key=key)
    elif kind == "reschedule":
        later = format_instant(instant + timedelta(seconds=random.uniform(2, 4)))
        response = dev.request("PATCH", f"/tasks/{task_id}", key=key, json={"at": later})
    else:
        response = dev.request("POST", f"/tasks/{task_id}/runs", key=key)
    answered = datetime.now(UTC)
    return Answer(kind, task_id, response.status_code, response.json(), answered, instant)


def _race_round(dev: DevProcess, pool: ThreadPoolExecutor) -> tuple[list[Answer], dict[str, str], datetime]:
    key = unique_key("race")
    instant = (datetime.now(UTC) + LEAD).replace(microsecond=0)
    tasks: dict[str, str] = {}
    for number in range(TASKS_PER_ROUND):
        created = dev.request(
            "POST", "/tasks", key=key, json={"at": format_instant(instant), "name": f"r{number}"}
        )
        assert created.status_code == 201, created.text
        tasks[created.json()["id"]] = key
    assert datetime.now(UTC) < instant - timedelta(seconds=SPREAD), "creating the tasks took too long"
    kinds = ("cancel", "delete", "reschedule", "run_now")
    futures = [
        pool.submit(
            _send,
            dev,
            key,
            random.choice(kinds),
            task_id,
            instant.timestamp() + random.uniform(-SPREAD, SPREAD),
            instant,
        )
        for task_id in tasks
        for _ in range(OPERATIONS_PER_TASK)
    ]
    return [future.result() for future in futures], tasks, instant


def test_racing_changes_never_break_p1_or_p2(dev: DevProcess) -> None:
    random.seed(7)
    answers: list[Answer] = []
    tasks: dict[str, str] = {}
    with dev.sse() as stream, ThreadPoolExecutor(max_workers=24) as pool:
        for _ in range(ROUNDS):
            round_answers, round_tasks, _ = _race_round(dev, pool)
            answers += round_answers
            tasks |= round_tasks
        events = [event for event in stream.drain(8) if event.get("task_id") in tasks]

    assert len(answers) >= 500
    unexpected = [(a.kind, a.status, a.body) for a in answers if a.status not in ALLOWED[a.kind]]
    assert not unexpected, unexpected

    # P1: each occurrence and each manual run published once (no process dies here, so no exception).
    published = Counter(event["dedup_key"] for event in events)
    assert [key for key, count in published.items() if count > 1] == []

    # P2: nothing of a task after its cancel answered 200; no replaced instant after a reschedule's 200.
    by_task: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_task.setdefault(event["task_id"], []).append(event)
    broken = []
    for answer in answers:
        if answer.status != 200 or answer.kind == "run_now":
            continue
        for event in by_task.get(answer.task_id, []):
            if parse_instant(event["fired_at"], "fired_at") <= answer.answered_at:
                continue
            replaced = event["run_kind"] == "scheduled" and event["scheduled_for"] == format_instant(
                answer.old_instant
            )
            if answer.kind != "reschedule" or replaced:
                broken.append((answer.kind, answer.answered_at.isoformat(), event))
    assert broken == []

    # And the race was real: some changes won, some lost to a claim, and things fired.
    statuses = Counter((a.kind, a.status) for a in answers)
    assert statuses[("reschedule", 200)] + statuses[("cancel", 200)] + statuses[("delete", 200)] > 0
    assert any(event["run_kind"] == "scheduled" for event in events)
    assert any(event["run_kind"] == "manual" for event in events)
