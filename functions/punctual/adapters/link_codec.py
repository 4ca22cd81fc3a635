"""Links on the wire: the JSON an EBS schedule passes as the executor's input and the delay queue's message body.

``{"source": "punctual.link", "task_id", "version", "occurrence", "kind", "tracking_id"}`` — ids only, never
the payload. Decoding is strict: anything else is a ``ValueError`` naming what is wrong, so a stray or
hand-edited message is rejected instead of firing something.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from punctual.domain.model import Link, LinkKind
from punctual.domain.timefmt import format_instant

SOURCE = "punctual.link"
_FIELDS = frozenset({"source", "task_id", "version", "occurrence", "kind", "tracking_id"})
# Ids are 32 lowercase hex in production; accept any short token that is safe in a schedule name.
_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_INSTANT_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6})?Z$")


def encode_instant(moment: datetime) -> str:
    """``format_instant``, except that an instant with sub-millisecond digits keeps all six, so the executor's
    comparison ``next_run_at == occurrence`` holds after the round trip."""
    utc = moment.astimezone(UTC)
    if utc.microsecond % 1000:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return format_instant(utc)


def link_to_dict(link: Link) -> dict[str, Any]:
    return {
        "source": SOURCE,
        "task_id": link.task_id,
        "version": link.version,
        "occurrence": encode_instant(link.occurrence),
        "kind": link.kind.value,
        "tracking_id": link.tracking_id,
    }


def link_to_json(link: Link) -> str:
    return json.dumps(link_to_dict(link), separators=(",", ":"), sort_keys=True)


def is_link_payload(payload: object) -> bool:
    """Whether ``payload`` claims to be a link (the executor uses it to tell an EBS input from other events)."""
    return isinstance(payload, Mapping) and payload.get("source") == SOURCE


def link_from_json(text: str | bytes) -> Link:
    try:
        payload = json.loads(text)
    except (ValueError, TypeError) as error:
        raise ValueError(f"link is not valid JSON: {error}") from None
    return link_from_dict(payload)


def decode_link(payload: object) -> Link:
    """A link from either form: the parsed EBS input (a mapping) or an SQS body (a JSON string)."""
    if isinstance(payload, str | bytes):
        return link_from_json(payload)
    return link_from_dict(payload)


def link_from_dict(payload: object) -> Link:
    if not isinstance(payload, Mapping):
        raise ValueError(f"link must be a JSON object, not {type(payload).__name__}")
    missing = sorted(_FIELDS - payload.keys())
    if missing:
        raise ValueError(f"link is missing {', '.join(missing)}")
    unknown = sorted(str(key) for key in payload.keys() - _FIELDS)
    if unknown:
        raise ValueError(f"link has unknown fields {', '.join(unknown)}")
    if payload["source"] != SOURCE:
        raise ValueError(f"link source must be {SOURCE!r}, not {payload['source']!r}")
    kind = _kind(payload["kind"])
    tracking_id = payload["tracking_id"]
    if tracking_id is None:
        if kind is LinkKind.MANUAL:
            raise ValueError("a manual link needs a tracking_id")
    else:
        tracking_id = _identifier(tracking_id, "tracking_id")
    return Link(
        task_id=_identifier(payload["task_id"], "task_id"),
        version=_version(payload["version"]),
        occurrence=_instant(payload["occurrence"]),
        kind=kind,
        tracking_id=tracking_id,
    )


def _identifier(value: object, field: str) -> str:
    if not isinstance(value, str) or not _ID_PATTERN.match(value):
        raise ValueError(f"link {field} must be 1-64 letters, digits, '_' or '-', not {value!r}")
    return value


def _version(value: object) -> int:
    # bool is an int subclass; a JSON true is not a version.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"link version must be a non-negative integer, not {value!r}")
    return value


def _kind(value: object) -> LinkKind:
    for kind in LinkKind:
        if value == kind.value:
            return kind
    allowed = ", ".join(kind.value for kind in LinkKind)
    raise ValueError(f"link kind must be one of {allowed}, not {value!r}")


def _instant(value: object) -> datetime:
    if not isinstance(value, str) or not _INSTANT_PATTERN.match(value):
        raise ValueError(f"link occurrence must be a UTC instant like 2026-12-01T09:00:00Z, not {value!r}")
    try:
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"link occurrence is not a valid instant: {value!r}") from None
