"""Fired events as subscribers receive them: ``parse`` accepts any of the shapes they arrive in.

- the raw body (``str``, ``bytes`` or an already-decoded ``dict`` with ``"type": "task.fired"``);
- an SQS message or Lambda SQS record (``body``/``Body``), raw delivery or an SNS envelope
  (``{"Type": "Notification", "Message": "<the body>"}``);
- an SNS record of a Lambda event (``{"Sns": {"Message": "<the body>"}}``);
- a whole Lambda SQS or SNS event (``{"Records": [...]}``): one event per record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from punctual_client.models import FiredEvent

__all__ = ["FiredEvent", "parse"]


def parse(raw: str | bytes | bytearray | Mapping[str, Any]) -> list[FiredEvent]:
    """Every fired event in ``raw``; ValueError when it is none of the shapes above."""
    return list(_events(_decode(raw)))


def _decode(raw: Any) -> Any:
    if isinstance(raw, bytes | bytearray):
        raw = bytes(raw).decode("utf-8")
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError as error:
            raise ValueError(f"not JSON: {raw[:80]!r}") from error
    return raw


def _events(data: Any) -> list[FiredEvent]:
    if not isinstance(data, Mapping):
        raise ValueError(f"not a fired event, record or Lambda event: {type(data).__name__}")
    if isinstance(data.get("Records"), list):
        return [event for record in data["Records"] for event in _events(record)]
    sns = data.get("Sns")
    if isinstance(sns, Mapping) and "Message" in sns:  # an SNS record of a Lambda event
        return _events(_decode(sns["Message"]))
    if data.get("Type") == "Notification" and "Message" in data:  # an SNS envelope (no raw delivery)
        return _events(_decode(data["Message"]))
    for key in ("body", "Body"):  # a Lambda SQS record, or a message from ReceiveMessage
        if isinstance(data.get(key), str):
            return _events(_decode(data[key]))
    if data.get("type") == "task.fired" or ("task_id" in data and "dedup_key" in data):
        try:
            return [FiredEvent.from_json(dict(data))]
        except (KeyError, TypeError) as error:
            raise ValueError(f"a fired event without {error}") from error
    raise ValueError(f"not a fired event, record or Lambda event: keys {sorted(data)[:10]}")
