"""Count the AWS API calls boto3 clients make, e.g. ``{"dynamodb.TransactWriteItems": 1, "sns.Publish": 1}``.

A botocore ``before-call`` hook sees each logical API call once (retries of the same call are not
counted again), whether the answer comes from AWS, moto or a botocore Stubber.

    with count_aws_calls(store_client, sns_client) as calls:
        service.fire(...)
    assert calls.counts == {"dynamodb.TransactWriteItems": 1, "sns.Publish": 1}

``watch_session`` covers every client a boto3 session creates *after* it is watched (botocore copies the
session's hooks into each new client). As a pytest fixture, add ``pytest_plugins = ["tests.support.aws_calls"]``
to the root conftest (or import ``aws_calls`` into a test module) and take ``aws_calls`` as an argument.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

_EVENT = "before-call.*.*"  # as specific as a Stubber's hook, so ours runs first
_ids = itertools.count()


class AwsCallCounter:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._unique_id = f"punctual-aws-call-counter-{next(_ids)}"
        self._emitters: list[Any] = []
        self._active = True

    def watch(self, *clients: Any) -> AwsCallCounter:
        """Count calls made by these existing clients."""
        for client in clients:
            self._register(client.meta.events)
        return self

    def watch_session(self, session: boto3.Session | None = None) -> AwsCallCounter:
        """Count calls of every client ``session`` (default: boto3's default session) creates from now on."""
        if session is None:
            session = boto3._get_default_session()
        self._register(session.events)
        return self

    @property
    def counts(self) -> dict[str, int]:
        """Calls so far by ``service.Operation``, only operations that were called."""
        return dict(self.calls)

    def total(self, service: str | None = None) -> int:
        """All calls, or those of one service (``"dynamodb"``)."""
        if service is None:
            return sum(self.calls.values())
        return sum(n for key, n in self.calls.items() if key.split(".", 1)[0] == service)

    def reset(self) -> None:
        self.calls.clear()

    def close(self) -> None:
        """Stop counting. Clients created from a watched session keep the hook, which now ignores calls."""
        self._active = False
        for emitter in self._emitters:
            emitter.unregister(_EVENT, unique_id=self._unique_id)
        self._emitters.clear()

    def __enter__(self) -> AwsCallCounter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _register(self, emitter: Any) -> None:
        # First, so a botocore Stubber (which answers before-call) cannot hide the call. The unique id makes
        # watching a client whose session is already watched a no-op instead of a double count.
        emitter.register_first(_EVENT, self._on_call, unique_id=self._unique_id)
        self._emitters.append(emitter)

    def _on_call(self, model: Any, **_: Any) -> None:
        if self._active:
            self.calls[f"{model.service_model.service_name}.{model.name}"] += 1


@contextmanager
def count_aws_calls(*clients: Any, session: boto3.Session | None = None) -> Iterator[AwsCallCounter]:
    """Count the calls of ``clients`` (and of clients ``session`` creates) inside the block."""
    counter = AwsCallCounter().watch(*clients)
    if session is not None:
        counter.watch_session(session)
    with counter:
        yield counter


@pytest.fixture
def aws_calls() -> Iterator[AwsCallCounter]:
    """An unattached counter, closed after the test; call ``.watch(client)`` / ``.watch_session()`` on it."""
    with AwsCallCounter() as counter:
        yield counter
