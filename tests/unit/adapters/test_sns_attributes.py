import hashlib
from datetime import UTC, datetime

from punctual.adapters.sns_publisher import fifo_id, message_attributes
from punctual.domain.model import FiredEvent, RunKind

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)


def event(**changes: object) -> FiredEvent:
    fields: dict[str, object] = {
        "task_id": "a" * 32,
        "tracking_id": "b" * 32,
        "name": "nightly",
        "scheduled_for": AT,
        "fired_at": AT,
        "lateness_ms": 12,
        "message": {"hello": "world"},
        "metadata": {},
        "attempt": 1,
        "dedup_key": f"{'a' * 32}#2026-12-01T09:00:00Z",
        "tenant": "acme",
        "user": "alice@example.com",
    }
    fields.update(changes)
    return FiredEvent(**fields)  # type: ignore[arg-type]


def values(attributes: dict[str, object]) -> dict[str, str]:
    return {name: attr["StringValue"] for name, attr in attributes.items()}  # type: ignore[index]


def test_attributes_are_strings_for_filter_policies() -> None:
    attributes = message_attributes(event(metadata={"env": "prod", "team": "billing"}, kind=RunKind.MANUAL))

    assert all(attr["DataType"] == "String" for attr in attributes.values())
    assert values(attributes) == {  # type: ignore[arg-type]
        "type": "task.fired",
        "task_id": "a" * 32,
        "tenant": "acme",
        "user": "alice@example.com",
        "name": "nightly",
        "metadata.env": "prod",
        "metadata.team": "billing",
        "run_kind": "manual",
    }


def test_absent_user_and_name_are_left_out() -> None:
    attributes = message_attributes(event(user=None, name=None))

    assert set(attributes) == {"type", "task_id", "tenant", "run_kind"}


def test_never_more_than_ten_attributes_and_metadata_wins_over_run_kind() -> None:
    metadata = {f"k{i}": f"v{i}" for i in range(5)}

    attributes = message_attributes(event(metadata=metadata))

    assert len(attributes) == 10
    assert "run_kind" not in attributes
    assert {f"metadata.k{i}" for i in range(5)} <= set(attributes)
    assert {"type", "task_id", "tenant", "user", "name"} <= set(attributes)


def test_more_metadata_than_fits_is_cut_deterministically() -> None:
    metadata = {f"k{i}": "v" for i in reversed(range(8))}

    attributes = message_attributes(event(user=None, name=None, metadata=metadata))

    assert len(attributes) == 10
    assert [name for name in attributes if name.startswith("metadata.")] == [
        f"metadata.k{i}" for i in range(7)
    ]


def test_values_and_names_sns_would_reject_are_skipped() -> None:
    metadata = {"empty": "", "ctrl": "a\x00b", "bad key": "x", "dots..": "x", "ok": "fine", "unicode": "été"}

    attributes = message_attributes(event(metadata=metadata, name=""))

    assert "name" not in attributes
    assert {name for name in attributes if name.startswith("metadata.")} == {
        "metadata.ok",
        "metadata.unicode",
    }


def test_fifo_ids_keep_valid_keys_and_digest_others() -> None:
    key = f"{'a' * 32}#2026-12-01T09:00:00.250Z"
    manual = f"{'a' * 32}#manual#{'b' * 32}"

    assert fifo_id(key) == key
    assert fifo_id(manual) == manual
    long_key = "x" * 129
    assert fifo_id(long_key) == hashlib.sha256(long_key.encode()).hexdigest()
    assert fifo_id("has space") == hashlib.sha256(b"has space").hexdigest()
    assert fifo_id("has space") == fifo_id("has space")
