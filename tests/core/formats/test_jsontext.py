"""The strict JSON reading: msgspec's fast answer is always the reference's (formats/jsontext.py).

``strict_json_loads`` keeps msgspec's value only when it can prove that Python's ``json`` with the
rule hooks (``python_json_loads``) reads the same; every other input goes to the reference. These
tests hold the two to the same value (by ``repr``: 1 and 1.0, 0.0 and -0.0 differ) or the same
refusal, on generated JSON with the rules' traps (duplicated keys, also spelled with escapes; lone
surrogates; numbers beyond a double or of too many digits; deep nesting) and on mutated bytes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditlens.core.errors import InvalidInputError
from auditlens.core.formats import jsontext
from auditlens.core.formats.jsontext import MAX_INT_DIGITS, python_json_loads, strict_json_loads

AUDIT_LINE = (
    b'{"timestamp":"2026-03-02T00:02:33.426Z","user_id":"agent-0042","user_name":"Dana Reyes",'
    b'"action":"EXPORT","resource":"contact","resource_id":"ct-266192",'
    b'"source_ip_address":"10.42.1.32","attributes":{"service":"crm-service","tenantId":"acme",'
    b'"updated_data":{"roles":["agent","team-lead"],"quota":12,"ratio":0.25}},'
    b'"type":"audit_logging","level":"INFO"}'
)


def _outcome(read: Any, data: bytes, bounded: bool) -> tuple[str, str]:
    try:
        return "value", repr(read(data, path="in.jsonl", line=7, bounded_integers=bounded))
    except InvalidInputError as exc:
        return type(exc).__name__, exc.diagnostics()


def _agree(data: bytes) -> None:
    for bounded in (True, False):
        assert _outcome(strict_json_loads, data, bounded) == _outcome(
            python_json_loads, data, bounded
        ), data


_keys = st.sampled_from(["a", "action", "\\u0061", "b\\\\", 'q\\"', "tenantId", "é", "\\ud83d"])
_numbers = st.one_of(
    st.integers(min_value=-(10**45), max_value=10**45).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["1e400", "-1e400", "1e-400", "-0", "-0.0", "1E5", "2.5e-324", "0.1"]),
    st.text("0123456789", min_size=1, max_size=60).map(lambda d: d.lstrip("0") or "0"),
)
_strings = st.one_of(
    st.text(max_size=12).map(lambda t: json.dumps(t, ensure_ascii=False)),
    st.sampled_from(['"\\ud800"', '"\\udc00x"', '"\\ud83d\\ude00"', '"a\\u0000b"', '"\\/"']),
)
_scalars = st.one_of(_numbers, _strings, st.sampled_from(["true", "false", "null", "NaN"]))


def _container(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    spaced = st.sampled_from(["", " ", "\n", "\t"])
    arrays = st.builds(lambda items, s: "[" + f",{s}".join(items) + "]", st.lists(children), spaced)
    objects = st.builds(
        lambda pairs, s: "{" + ",".join(f'"{k}"{s}:{v}' for k, v in pairs) + "}",
        st.lists(st.tuples(_keys, children), max_size=5),
        spaced,
    )
    return st.one_of(arrays, objects)


_json_texts = st.recursive(_scalars, _container, max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(_json_texts)
def test_fast_and_reference_readings_agree_on_generated_json(text: str) -> None:
    _agree(text.encode("utf-8"))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(AUDIT_LINE) - 1), st.binary(min_size=1, max_size=3))
def test_fast_and_reference_readings_agree_on_mutated_records(at: int, data: bytes) -> None:
    _agree(AUDIT_LINE[:at] + data + AUDIT_LINE[at + len(data) :])


@pytest.mark.parametrize(
    ("data", "refusal"),
    [
        (b'{"a":1,"\\u0061":2}', "duplicate key 'a'"),
        (b'{"action":"X","tenantId":"acme","action":"Y"}', "duplicate key 'action'"),
        (b'{"a":"\\ud800"}', "lone surrogate"),
        (b'{"n":1e400}', "overflows a double"),
        (b'{"n":NaN}', "NaN is not valid JSON"),
        (b'{"n":%s}' % (b"9" * (MAX_INT_DIGITS + 1)), f"exceeds the limit of {MAX_INT_DIGITS}"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (b'{"a":"\xff"}', "invalid UTF-8"),
    ],
)
def test_what_the_rules_refuse_is_refused_with_the_reference_message(
    data: bytes, refusal: str
) -> None:
    with pytest.raises(InvalidInputError, match=refusal):
        strict_json_loads(data, path="in.jsonl", line=3, bounded_integers=True)
    _agree(data)


def test_an_integer_of_the_most_digits_allowed_is_read_exactly() -> None:
    digits = b"9" * MAX_INT_DIGITS
    value = strict_json_loads(b'{"n":%s}' % digits, path="x", bounded_integers=True)
    assert value == {"n": int(digits)}


def test_an_ordinary_record_is_read_without_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fast path is what the importer's speed rests on (bench/bench_formats.py): an audit
    # record, keys in order, no long digit run, must not fall back.
    def reference(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the reference reading was used")

    monkeypatch.setattr(jsontext, "python_json_loads", reference)
    value = strict_json_loads(AUDIT_LINE, path="x", bounded_integers=True)
    assert value == json.loads(AUDIT_LINE)
    assert list(value) == list(json.loads(AUDIT_LINE))
