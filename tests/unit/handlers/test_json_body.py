"""handlers/json_body.py: strict JSON, named refusals."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st
from punctual.domain.errors import ValidationError
from punctual.handlers.json_body import body_text, parse_json


def refusal(text: str) -> tuple[str, list[tuple[str, str]]]:
    with pytest.raises(ValidationError) as caught:
        parse_json(text)
    return caught.value.message, [(detail.field, detail.message) for detail in caught.value.details]


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ('{"a": 1, "a": 2}', "a", "this key appears more than once"),
        ('{"m": {"k": 1, "k": 1}}', "k", "this key appears more than once"),
        ('{"a": NaN}', "body", "NaN is not a JSON number"),
        ("[-Infinity]", "body", "-Infinity is not a JSON number"),
        ('{"a": 1e999}', "body", "the number 1e999 overflows a double"),
        ('{"a": ' + "9" * 4301 + "}", "body", "an integer has more than 4300 digits"),
        ("{", "body", "the request body is not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "body", "the request body is not valid JSON"),
    ],
)
def test_what_python_json_would_let_through_is_refused(text: str, field: str, reason: str) -> None:
    assert refusal(text) == ("the request body is not valid JSON", [(field, reason)])


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"metadata": {"k": "\\udc00"}}', "metadata.k"),
        ('{"updates": [{"at": "x"}, {"id": "\\ud800"}]}', "updates[1].id"),
        ('"\\ud800"', "body"),
        ('{"\\ud800": 1}', "body"),
    ],
)
def test_a_lone_surrogate_is_refused_naming_its_field(text: str, field: str) -> None:
    assert refusal(text)[1] == [(field, "contains a lone surrogate (\\ud800-\\udfff): not a Unicode string")]


def test_a_surrogate_pair_is_one_character_and_fine() -> None:
    assert parse_json('{"emoji": "\\ud83d\\ude00"}') == {"emoji": "\U0001f600"}


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    )
)
def test_json_without_surprises_reads_back_as_python_would(value: object) -> None:
    import json

    text = json.dumps(value)
    assert parse_json(text) == json.loads(text)


def test_the_body_text_refuses_what_is_not_utf8() -> None:
    with pytest.raises(ValidationError, match="not valid UTF-8"):
        body_text('{"a": "\ufffd"}', base64_encoded=False)
    with pytest.raises(ValidationError, match="not valid UTF-8"):
        body_text(base64.b64encode(b'{"a": "\xff"}').decode(), base64_encoded=True)
    with pytest.raises(ValidationError, match="not valid UTF-8"):
        body_text("not base64!", base64_encoded=True)
    assert body_text(base64.b64encode("é".encode()).decode(), base64_encoded=True) == "é"
    assert body_text("", base64_encoded=False) is None
