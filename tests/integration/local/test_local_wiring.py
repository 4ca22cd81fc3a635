"""The whole far-ahead path of ``punctual dev`` with the real handlers, on moto and a fake clock: the api
arms an EBS wake-up, the scheduler emulation fires it into the executor at T - lead, the executor hands
the link to the delay queue, and the delay queue's event source makes the executor publish at T."""

from __future__ import annotations

import json
import random
from datetime import timedelta

from punctual.domain.timefmt import format_instant, parse_instant
from punctual.local.event_source import QueuePoller
from punctual.local.functions import LocalFunction
from punctual.local.gateway import proxy_event
from punctual.local.scheduler import SchedulerEmulator

from tests.integration.api.harness import EXECUTOR_ARN, Stack


def test_a_task_an_hour_ahead_is_woken_by_the_emulated_scheduler_and_fired_from_the_delay_queue(
    stack: Stack,
) -> None:
    api = LocalFunction("api", "arn:aws:lambda:us-east-1:123456789012:function:api", "punctual.handlers.api")
    executor = LocalFunction("executor", EXECUTOR_ARN, "punctual.handlers.executor")
    clock = stack.clock
    due = clock.now() + timedelta(hours=1, seconds=30, milliseconds=250)

    body = json.dumps({"at": format_instant(due), "message": {"greeting": "hello"}}).encode()
    created = api.invoke(
        proxy_event(method="POST", path="/tasks", query=[], headers=[("x-api-key", "k")], body=body)
    )
    assert created["statusCode"] == 201, created
    task_id = json.loads(created["body"])["id"]
    (schedule,) = stack.schedules()
    assert schedule["Target"]["Arn"] == EXECUTOR_ARN

    ebs = SchedulerEmulator(
        stack.scheduler,
        stack.sqs,
        stack.env.SCHEDULE_GROUP,
        {EXECUTOR_ARN: executor.invoke},
        now=clock.now,
        rng=random.Random(0),
        jitter=False,
    )
    wake = due.replace(microsecond=0) - timedelta(minutes=2)  # at(T - lead), whole seconds
    clock.set(wake - timedelta(seconds=1))
    assert ebs.poll() == []
    clock.set(wake)
    assert [firing.ok for firing in ebs.poll()] == [True]
    assert stack.schedules() == []  # deleted after firing

    ((link, delay),) = stack.delayed()
    assert link["task_id"] == task_id
    assert delay == 120  # floor(T - now)

    # The delay is real seconds in moto; resend the same link undelayed and let the event source run.
    stack.sqs.send_message(QueueUrl=stack.env.DELAY_QUEUE_URL, MessageBody=json.dumps(link))
    clock.set(wake + timedelta(seconds=delay))
    poller = QueuePoller(stack.sqs, stack.env.DELAY_QUEUE_URL, executor.invoke)
    assert poller.poll_once() == 1

    (message,) = stack.events()
    event = json.loads(message["Body"])
    assert event["task_id"] == task_id
    assert event["message"] == {"greeting": "hello"}
    assert parse_instant(event["fired_at"], "fired_at") >= due  # the executor waited out the remainder
    assert stack.receive(stack.env.DELAY_QUEUE_URL) == []  # the record succeeded, so it was deleted
