"""Target runs end to end over fakes: fire -> delivery queue -> runner -> attempts, retries, outcome events."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import pytest
from punctual.domain.errors import ConflictError, UnprocessableError
from punctual.domain.ids import occurrence_tracking_id
from punctual.domain.model import Context, Link, OutcomeType, Run, RunStatus, Task, TaskStatus
from punctual.domain.timefmt import format_instant
from punctual.service.commands import CreateTask, ScheduleInput, UpdateTask
from punctual.service.firing import FireOutcome
from punctual.service.ports import CallOutcome

from tests.target_fakes import TargetServices, make_target_services

ALICE = Context("tenant-a")
HOOK = {
    "type": "https",
    "url": "https://hooks.example.com/run",
    "headers": {"Authorization": "Bearer s3cret"},
}
FAST_RETRY = {"max_attempts": 3, "initial_delay": "1s", "max_delay": "4s"}
FAIL_500 = CallOutcome(ok=False, status=500, result="boom", error="the target answered 500")
OK = CallOutcome(ok=True, status=200, result='{"done": true}')


@pytest.fixture
def t() -> TargetServices:
    return make_target_services()


def create(t: TargetServices, **fields: Any) -> Task:
    at = t.s.clock.now() + timedelta(seconds=30)
    task, _ = t.s.tasks.create(
        ALICE, CreateTask(ScheduleInput(at=format_instant(at)), message={"n": 1}, **fields)
    )
    return task


def fire(t: TargetServices, task: Task) -> Run:
    assert task.next_run_at is not None
    t.s.clock.set(task.next_run_at)
    outcome = t.s.firing.fire(Link(task.id, task.version, task.next_run_at))
    assert outcome is FireOutcome.PUBLISHED
    run = t.s.store.get_run(occurrence_tracking_id(task.id, task.next_run_at))
    assert run is not None
    return run


def test_a_fired_https_run_is_pending_and_queued_for_the_runner_and_the_task_is_done(
    t: TargetServices,
) -> None:
    task = create(t, target=HOOK)
    run = fire(t, task)

    assert run.status is RunStatus.PENDING and run.fired_at is not None and run.completed_at is None
    assert t.deliveries.messages == [(run.tracking_id, 1, 0)]
    assert len(t.s.publisher.published) == 1  # task.fired, as for a topic task
    stored = t.s.store.get_task(task.id)
    assert stored is not None and stored.status is TaskStatus.COMPLETED and stored.in_flight is None


def test_a_topic_task_completes_on_publish_and_queues_nothing(t: TargetServices) -> None:
    run = fire(t, create(t))

    assert run.status is RunStatus.COMPLETED
    assert t.deliveries.messages == []


def test_500_twice_then_200_is_three_attempts_completed_and_one_completed_event(t: TargetServices) -> None:
    t.https.answers = [FAIL_500, FAIL_500, OK]
    run = fire(t, create(t, target=HOOK, retry=FAST_RETRY))

    assert t.deliver_all() == ["retrying", "retrying", "completed"]

    done = t.s.store.get_run(run.tracking_id)
    assert done is not None and done.status is RunStatus.COMPLETED
    assert [d.attempt for d in done.deliveries] == [1, 2, 3]
    assert [d.response_status for d in done.deliveries] == [500, 500, 200]
    assert done.delivery_attempt == 3 and done.result == '{"done": true}' and done.error is None
    assert [e.type for e in t.outcomes.published] == [OutcomeType.COMPLETED]
    assert t.outcomes.published[0].run.delivery_attempt == 3
    assert len(t.https.calls) == 3  # one call per attempt


def test_an_always_failing_target_fails_after_max_attempts_with_one_failed_event(t: TargetServices) -> None:
    t.https.answers = [FAIL_500]
    run = fire(t, create(t, target=HOOK, retry=FAST_RETRY))

    assert t.deliver_all() == ["retrying", "retrying", "failed"]

    done = t.s.store.get_run(run.tracking_id)
    assert done is not None and done.status is RunStatus.FAILED and done.completed_at is not None
    assert "after 3 attempts" in (done.error or "")
    assert [e.type for e in t.outcomes.published] == [OutcomeType.FAILED]


def test_retry_waits_stay_within_the_policy(t: TargetServices) -> None:
    t.https.answers = [FAIL_500]
    run = fire(t, create(t, target=HOOK, retry={"max_attempts": 5, "initial_delay": "2s", "max_delay": "5s"}))
    delays = []
    assert t.deliveries.drain() == [(run.tracking_id, 1, 0)]
    t.runner.deliver(run.tracking_id, 1)
    for attempt in range(2, 6):
        ((_, sent_attempt, delay),) = t.deliveries.drain()
        assert sent_attempt == attempt
        delays.append(delay)
        t.runner.deliver(run.tracking_id, attempt)
    assert all(0 <= d <= 5 for d in delays)
    assert t.deliveries.messages == []


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_a_4xx_is_not_retried(t: TargetServices, status: int) -> None:
    t.https.answers = [CallOutcome(ok=False, status=status, error=f"the target answered {status}")]
    run = fire(t, create(t, target=HOOK, retry=FAST_RETRY))

    assert t.deliver_all() == ["failed"]
    assert len(t.https.calls) == 1
    done = t.s.store.get_run(run.tracking_id)
    assert done is not None and done.response_status == status


def test_a_4xx_is_retried_when_the_task_says_so(t: TargetServices) -> None:
    t.https.answers = [CallOutcome(ok=False, status=404), OK]
    fire(t, create(t, target=HOOK, retry={**FAST_RETRY, "retry_4xx": True}))

    assert t.deliver_all() == ["retrying", "completed"]


@pytest.mark.parametrize("status", [408, 429, 503])
def test_408_429_503_are_retried(t: TargetServices, status: int) -> None:
    t.https.answers = [CallOutcome(ok=False, status=status), OK]
    fire(t, create(t, target=HOOK, retry=FAST_RETRY))

    assert t.deliver_all() == ["retrying", "completed"]


def test_429_honours_retry_after(t: TargetServices) -> None:
    t.https.answers = [CallOutcome(ok=False, status=429, retry_after="120"), OK]
    run = fire(t, create(t, target=HOOK, retry=FAST_RETRY))
    t.deliveries.drain()

    t.runner.deliver(run.tracking_id, 1)
    assert t.deliveries.messages == [(run.tracking_id, 2, 120)]


def test_a_redelivered_message_makes_no_second_call(t: TargetServices) -> None:
    run = fire(t, create(t, target=HOOK))

    assert t.runner.deliver(run.tracking_id, 1).value == "completed"
    assert t.runner.deliver(run.tracking_id, 1).value == "duplicate"
    assert len(t.https.calls) == 1 and len(t.outcomes.published) == 1


def test_a_cancel_stops_future_attempts(t: TargetServices) -> None:
    t.https.answers = [FAIL_500]
    task, _ = t.s.tasks.create(
        ALICE, CreateTask(ScheduleInput(every="1 minute"), target=HOOK, retry=FAST_RETRY)
    )
    run = fire(t, task)
    t.deliveries.drain()
    t.runner.deliver(run.tracking_id, 1)  # fails; attempt 2 queued
    t.s.tasks.cancel(ALICE, task.id)

    ((_, attempt, _),) = t.deliveries.drain()
    assert t.runner.deliver(run.tracking_id, attempt).value == "failed"

    assert len(t.https.calls) == 1
    done = t.s.store.get_run(run.tracking_id)
    assert done is not None and done.status is RunStatus.FAILED and "cancelled" in (done.error or "")
    assert [e.type for e in t.outcomes.published] == [OutcomeType.FAILED]


def test_no_outcome_event_before_the_outcome_is_recorded(t: TargetServices) -> None:
    run = fire(t, create(t, target=HOOK))
    t.s.store.fail_next("save_delivery", ConnectionError("DynamoDB is down"), times=2)

    with pytest.raises(ConnectionError):
        t.runner.deliver(run.tracking_id, 1)  # could not even mark it running: no call, no event

    assert t.https.calls == [] and t.outcomes.published == []


def test_an_outcome_that_could_not_be_published_is_published_by_the_redelivery(t: TargetServices) -> None:
    run = fire(t, create(t, target=HOOK))
    t.outcomes.failures = 1

    with pytest.raises(ConnectionError):
        t.runner.deliver(run.tracking_id, 1)
    recorded = t.s.store.get_run(run.tracking_id)
    assert recorded is not None and recorded.status is RunStatus.COMPLETED and not recorded.outcome_published

    assert t.runner.deliver(run.tracking_id, 1).value == "duplicate"
    assert len(t.https.calls) == 1 and len(t.outcomes.published) == 1


def test_a_runner_that_died_mid_call_counts_the_attempt_failed_once_its_lease_lapses(
    t: TargetServices,
) -> None:
    run = fire(t, create(t, target=HOOK, retry=FAST_RETRY))
    t.deliveries.drain()
    running = run.evolve(
        status=RunStatus.RUNNING,
        delivery_attempt=1,
        started_at=t.s.clock.now(),
        lease_until=t.s.clock.now() + timedelta(seconds=40),
    )
    t.s.store.save_delivery(running, expected_delivery_attempt=0)  # as a runner that then died

    t.s.clock.advance(seconds=41)
    assert t.runner.deliver(run.tracking_id, 1).value == "retrying"

    assert t.deliver_all() == ["completed"]
    done = t.s.store.get_run(run.tracking_id)
    assert done is not None and done.deliveries[0].error == "the runner stopped during the call"


def test_https_calls_are_signed_with_the_tenants_secret_and_carry_the_fired_event(t: TargetServices) -> None:
    run = fire(t, create(t, target=HOOK))
    t.runner.deliver(run.tracking_id, 1)

    ((_, body, headers),) = t.https.calls
    timestamp, digest = (part.split("=", 1)[1] for part in headers["Punctual-Signature"].split(","))
    expected = hmac.new(b"secret-tenant-a-1", f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert digest == expected
    assert headers["Authorization"] == "Bearer s3cret"
    event = json.loads(body)
    assert event["type"] == "task.fired" and event["tracking_id"] == run.tracking_id
    assert event["message"] == {"n": 1} and event["attempt"] == 1


def test_a_slow_lambda_target_reports_its_duration(t: TargetServices) -> None:
    t.lambdas.during_call = lambda: t.s.clock.advance(seconds=0.2)
    run = fire(t, create(t, target={"type": "lambda", "function": "allowed-hello"}))

    t.runner.deliver(run.tracking_id, 1)

    done = t.s.store.get_run(run.tracking_id)
    assert done is not None and done.status is RunStatus.COMPLETED
    assert done.started_at is not None and done.completed_at is not None
    assert done.completed_at - done.started_at >= timedelta(milliseconds=200)
    assert done.duration_ms == 200


def test_overlap_skip_records_a_skipped_run_while_the_previous_one_runs(t: TargetServices) -> None:
    task, _ = t.s.tasks.create(
        ALICE, CreateTask(ScheduleInput(every="1 minute"), target=HOOK, overlap="skip")
    )
    first = fire(t, task)  # queued for the runner, not yet called: still unfinished
    current = t.s.store.get_task(task.id)
    assert current is not None and current.next_run_at is not None
    t.s.clock.set(current.next_run_at)
    t.s.firing.fire(Link(task.id, current.version, current.next_run_at))

    second = t.s.store.get_run(occurrence_tracking_id(task.id, current.next_run_at))
    assert second is not None and second.status is RunStatus.SKIPPED
    assert "overlap" in (second.error or "")
    assert t.deliveries.messages == [(first.tracking_id, 1, 0)]  # the skipped one calls nothing


def test_overlap_allow_runs_every_occurrence(t: TargetServices) -> None:
    task, _ = t.s.tasks.create(ALICE, CreateTask(ScheduleInput(every="1 minute"), target=HOOK))
    fire(t, task)
    current = t.s.store.get_task(task.id)
    assert current is not None and current.next_run_at is not None
    t.s.clock.set(current.next_run_at)
    t.s.firing.fire(Link(task.id, current.version, current.next_run_at))

    assert len(t.deliveries.messages) == 2


def test_a_failed_run_can_be_replayed_with_a_fresh_round_of_attempts(t: TargetServices) -> None:
    t.https.answers = [FAIL_500, FAIL_500, OK]
    run = fire(t, create(t, target=HOOK, retry={"max_attempts": 2, "initial_delay": "1s", "max_delay": "1s"}))
    assert t.deliver_all() == ["retrying", "failed"]

    replayed = t.s.runs.retry(ALICE, run.tracking_id)

    assert replayed.status is RunStatus.PENDING
    assert t.deliver_all() == ["completed"]
    done = t.s.store.get_run(run.tracking_id)
    assert done is not None and done.status is RunStatus.COMPLETED and len(done.deliveries) == 3
    assert [e.type for e in t.outcomes.published] == [OutcomeType.FAILED, OutcomeType.COMPLETED]


def test_only_failed_target_runs_can_be_replayed(t: TargetServices) -> None:
    topic_run = fire(t, create(t))
    with pytest.raises(ConflictError):
        t.s.runs.retry(ALICE, topic_run.tracking_id)
    pending = fire(t, create(t, target=HOOK))
    with pytest.raises(ConflictError):
        t.s.runs.retry(ALICE, pending.tracking_id)


def test_a_failed_hand_off_fails_the_run_without_an_outcome_event(t: TargetServices) -> None:
    t.deliveries.failures = 1
    run = fire(t, create(t, target=HOOK))

    stored = t.s.store.get_run(run.tracking_id)
    assert stored is not None and stored.status is RunStatus.FAILED and "queued" in (stored.error or "")
    assert t.outcomes.published == []


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/", "https"),
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("https://[fd00:ec2::254]/", "metadata"),
        ("https://[::1]/", "loopback"),
        ("https://127.0.0.1:8443/", "loopback"),
        ("https://10.0.0.1/", "private"),
        ("https://internal.example.com/", "private"),
        ("https://0.0.0.0/", "unspecified"),
        ("https://[::ffff:10.0.0.1]/", "private"),
        ("https://nowhere.invalid/", "does not resolve"),
    ],
)
def test_ssrf_targets_are_422_at_create(t: TargetServices, url: str, why: str) -> None:
    t.resolver.names["internal.example.com"] = ["10.0.0.1"]
    with pytest.raises(UnprocessableError) as raised:
        create(t, target={"type": "https", "url": url})
    assert raised.value.details[0].field == "target.url"
    assert why in raised.value.details[0].message
    assert t.s.store.tasks == {}


def test_a_name_that_rebinds_to_a_private_address_is_refused_at_call_time() -> None:
    from punctual.adapters.https_invoker import HttpsInvoker
    from punctual.domain.targets import parse_target
    from punctual.service.settings import ServiceSettings
    from punctual.service.target_policy import TargetPolicy

    from tests.target_fakes import FakeResolver

    resolver = FakeResolver()
    invoker = HttpsInvoker(TargetPolicy(ServiceSettings(), resolver))
    resolver.names["hooks.example.com"] = ["169.254.169.254"]  # after create, DNS now answers the metadata IP

    outcome = invoker.call(parse_target(HOOK), b"{}", {})

    assert not outcome.ok and "metadata" in (outcome.error or "")


def test_lambda_targets_only_from_the_stage_allow_list(t: TargetServices) -> None:
    create(t, target={"type": "lambda", "function": "allowed-job"})
    create(
        t, target={"type": "lambda", "function": "arn:aws:lambda:eu-west-1:111122223333:function:allowed-x"}
    )
    with pytest.raises(UnprocessableError) as raised:
        create(t, target={"type": "lambda", "function": "other-job"})
    assert raised.value.details[0].field == "target.function"


def test_http_and_loopback_are_allowed_only_on_an_insecure_stage() -> None:
    dev = make_target_services(allow_insecure_targets=True)
    create(dev, target={"type": "https", "url": "http://127.0.0.1:9000/hook"})
    with pytest.raises(UnprocessableError):
        create(dev, target={"type": "https", "url": "http://169.254.169.254/"})
    with pytest.raises(UnprocessableError):
        create(dev, target={"type": "https", "url": "http://10.1.2.3/"})


def test_patch_sets_and_clears_the_target(t: TargetServices) -> None:
    task, _ = t.s.tasks.create(ALICE, CreateTask(ScheduleInput(every="1 minute")))
    changed = t.s.tasks.update(
        ALICE,
        task.id,
        UpdateTask(
            provided=frozenset({"target", "retry", "overlap"}), target=HOOK, retry=FAST_RETRY, overlap="skip"
        ),
    )
    assert changed.target.url == HOOK["url"] and changed.retry.max_attempts == 3
    assert changed.overlap.value == "skip"
    back = t.s.tasks.update(ALICE, task.id, UpdateTask(provided=frozenset({"target"}), target=None))
    assert back.target.type.value == "topic"
    with pytest.raises(UnprocessableError):
        t.s.tasks.update(ALICE, task.id, UpdateTask(provided=frozenset({"retry"}), retry={"max_attempts": 0}))


class _Died(BaseException):
    """The executor process died (not an error it could handle)."""


def test_a_fire_redelivered_after_dying_before_the_hand_off_queues_the_call(t: TargetServices) -> None:
    task = create(t, target=HOOK)
    assert task.next_run_at is not None
    t.s.clock.set(task.next_run_at)
    link = Link(task.id, task.version, task.next_run_at)
    original_send = t.deliveries.send

    def die(*args: Any, **kwargs: Any) -> None:
        raise _Died

    t.deliveries.send = die  # type: ignore[method-assign]
    with pytest.raises(_Died):
        t.s.firing.fire(link)  # recorded as handed over, then died before queueing the call
    t.deliveries.send = original_send  # type: ignore[method-assign]
    run = t.s.store.get_run(occurrence_tracking_id(task.id, task.next_run_at))
    assert run is not None and run.handed_to_runner and t.deliveries.messages == []

    assert t.s.firing.fire(link) is FireOutcome.DUPLICATE  # SQS brings the fire back: no second publish

    assert t.deliveries.messages == [(run.tracking_id, 1, 0)]
    assert len(t.s.publisher.published) == 1
    assert t.deliver_all() == ["completed"]
