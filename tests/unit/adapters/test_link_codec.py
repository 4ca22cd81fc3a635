import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from punctual.adapters.link_codec import (
    decode_link,
    is_link_payload,
    link_from_dict,
    link_from_json,
    link_to_dict,
    link_to_json,
)
from punctual.domain.model import Link, LinkKind

TASK_ID = "0123456789abcdef0123456789abcdef"
TRACKING_ID = "fedcba9876543210fedcba9876543210"
OCCURRENCE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def valid_payload(**changes: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "source": "punctual.link",
        "task_id": TASK_ID,
        "version": 3,
        "occurrence": "2026-12-01T09:00:00Z",
        "kind": "occurrence",
        "tracking_id": None,
    }
    payload.update(changes)
    return payload


def test_wire_format_is_ids_only_with_a_source_marker() -> None:
    link = Link(task_id=TASK_ID, version=3, occurrence=OCCURRENCE)

    assert link_to_dict(link) == valid_payload()
    assert json.loads(link_to_json(link)) == valid_payload()


def test_manual_link_carries_its_tracking_id() -> None:
    link = Link(TASK_ID, 1, OCCURRENCE + timedelta(milliseconds=250), LinkKind.MANUAL, TRACKING_ID)

    encoded = link_to_dict(link)

    assert encoded["kind"] == "manual"
    assert encoded["tracking_id"] == TRACKING_ID
    assert encoded["occurrence"] == "2026-12-01T09:00:00.250Z"
    assert decode_link(encoded) == link


def test_decodes_str_bytes_and_mapping_alike() -> None:
    link = Link(TASK_ID, 7, OCCURRENCE)
    text = link_to_json(link)

    assert decode_link(text) == link
    assert decode_link(text.encode()) == link
    assert decode_link(json.loads(text)) == link
    assert link_from_json(text) == link


def test_sub_millisecond_instants_survive_the_round_trip() -> None:
    # The executor compares next_run_at == occurrence; losing microseconds would turn the link into a no-op.
    link = Link(TASK_ID, 1, OCCURRENCE + timedelta(microseconds=123_456))

    assert link_to_dict(link)["occurrence"] == "2026-12-01T09:00:00.123456Z"
    assert decode_link(link_to_json(link)).occurrence == link.occurrence


def test_non_utc_occurrence_is_written_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    link = Link(TASK_ID, 1, datetime(2026, 12, 1, 10, 0, tzinfo=paris))

    assert link_to_dict(link)["occurrence"] == "2026-12-01T09:00:00Z"
    assert decode_link(link_to_json(link)).occurrence == OCCURRENCE


@given(
    task_id=st.text("0123456789abcdef", min_size=32, max_size=32),
    version=st.integers(min_value=0, max_value=2**53),
    occurrence=st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)
    ),
    manual=st.booleans(),
)
def test_every_link_round_trips(task_id: str, version: int, occurrence: datetime, manual: bool) -> None:
    link = Link(
        task_id,
        version,
        occurrence,
        LinkKind.MANUAL if manual else LinkKind.OCCURRENCE,
        TRACKING_ID if manual else None,
    )

    assert decode_link(link_to_json(link)) == link


@pytest.mark.parametrize(
    ("payload", "complaint"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (42, "must be a JSON object"),
        (None, "must be a JSON object"),
        ({k: v for k, v in valid_payload().items() if k != "version"}, "missing version"),
        ({k: v for k, v in valid_payload().items() if k != "source"}, "missing source"),
        (valid_payload(extra=1), "unknown fields extra"),
        (valid_payload(source="aws.scheduler"), "source must be"),
        (valid_payload(version="3"), "version must be"),
        (valid_payload(version=True), "version must be"),
        (valid_payload(version=-1), "version must be"),
        (valid_payload(version=1.5), "version must be"),
        (valid_payload(kind="later"), "kind must be one of"),
        (valid_payload(kind=None), "kind must be one of"),
        (valid_payload(kind="manual"), "manual link needs a tracking_id"),
        (valid_payload(task_id=""), "task_id must be"),
        (valid_payload(task_id="../etc"), "task_id must be"),
        (valid_payload(task_id=12), "task_id must be"),
        (valid_payload(task_id="a" * 65), "task_id must be"),
        (valid_payload(tracking_id="has space"), "tracking_id must be"),
        (valid_payload(occurrence="2026-12-01T09:00:00"), "occurrence must be"),
        (valid_payload(occurrence="2026-12-01T09:00:00+00:00"), "occurrence must be"),
        (valid_payload(occurrence="2026-12-01 09:00:00Z"), "occurrence must be"),
        (valid_payload(occurrence="2026-12-01T09:00:00.12Z"), "occurrence must be"),
        (valid_payload(occurrence=1764579600), "occurrence must be"),
        (valid_payload(occurrence="2026-02-30T09:00:00Z"), "not a valid instant"),
        (valid_payload(occurrence="2026-12-01T24:00:00Z"), "not a valid instant"),
    ],
)
def test_malformed_links_are_rejected_with_a_reason(payload: object, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        decode_link(payload)


def test_link_from_dict_rejects_a_string() -> None:
    with pytest.raises(ValueError, match="must be a JSON object"):
        link_from_dict(link_to_json(Link(TASK_ID, 1, OCCURRENCE)))


def test_occurrence_link_may_carry_a_tracking_id() -> None:
    decoded = decode_link(valid_payload(tracking_id=TRACKING_ID))

    assert decoded.kind is LinkKind.OCCURRENCE
    assert decoded.tracking_id == TRACKING_ID


def test_is_link_payload_recognises_only_links() -> None:
    assert is_link_payload(valid_payload())
    assert not is_link_payload({"source": "aws.events", "detail-type": "Scheduled Event"})
    assert not is_link_payload({"Records": []})
    assert not is_link_payload(link_to_json(Link(TASK_ID, 1, OCCURRENCE)))
