"""Sealing and importing read JSON by one set of rules (issue 16 point 4).

A record the sealer accepts is decoded the same at import; a record it refuses (a lone
surrogate, a duplicated JSON key or OTLP attribute key, a time out of range) is refused with its
file and line when sealed or imported raw, and flagged where it is (``RECORD_UNREADABLE`` with
its line) when another sealer put it in a bundle: never shown with one of two values chosen in
silence, never at another time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditlens.core.bundle.seal import seal
from auditlens.core.crypto.keys import sample_key
from auditlens.core.errors import InvalidInputError
from auditlens.core.formats.base import SourceRecord
from auditlens.core.formats.registry import read_records
from auditlens.core.resources import profiles_dir
from auditlens.core.store.case import Case
from auditlens.core.store.importer import import_inputs
from auditlens.core.store.normalize import Normalizer, load_profiles
from auditlens.core.verify.trust import TrustStore
from golden.make_golden import run

NORMALIZER = Normalizer(load_profiles([profiles_dir()]))
T_NS = 1_772_438_400_250_000_000  # 2026-03-02T08:00:00.250Z

AUDIT = (
    '{"timestamp": "2026-03-02T08:00:00.250Z", "user_id": "agent-0042", "action": "EXPORT", '
    '"resource": "recording", "resource_id": "rec-7", "source_ip_address": "10.20.3.4"}'
)


def otlp_log(attributes: str, time: str = '"1772438400250000000"') -> str:
    return (
        '{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":'
        '{"stringValue":"recording"}}]},"scopeLogs":[{"scope":{"name":"audit"},"logRecords":'
        f'[{{"timeUnixNano":{time},"body":{{"stringValue":"export"}},"attributes":[{attributes}]'
        "}]}]}]}"
    )


def kv(key: str, value: str) -> str:
    return f'{{"key":"{key}","value":{{"stringValue":"{value}"}}}}'


GOOD_OTLP = otlp_log(kv("user.id", "sup-004") + "," + kv("audit.action", "EXPORT"))

# Lines the sealer refuses, each with the words its refusal must hold.
REFUSED = {
    "lone surrogate": (AUDIT.replace('"agent-0042"', '"agent-\\ud800"'), "lone surrogate \\ud800"),
    "lone low surrogate": (AUDIT.replace('"EXPORT"', '"EX\\udc00PORT"'), "lone surrogate"),
    "duplicate audit key": (
        AUDIT.replace('"action": "EXPORT"', '"action": "READ", "action": "EXPORT"'),
        "duplicate key 'action'",
    ),
    "duplicate nested key": (
        AUDIT[:-1] + ', "attributes": {"tenantId": "acme", "tenantId": "globex"}}',
        "duplicate key 'tenantId'",
    ),
    "duplicate OTLP field": (
        GOOD_OTLP.replace('"timeUnixNano":', '"timeUnixNano":"1","timeUnixNano":', 1),
        "duplicate key 'timeUnixNano'",
    ),
    "duplicate OTLP attribute": (
        otlp_log(kv("user.id", "sup-004") + "," + kv("user.id", "agent-0042")),
        "'user.id' is given twice",
    ),
    "duplicate key in a key-value list": (
        otlp_log(
            '{"key":"actor","value":{"kvlistValue":{"values":['
            + kv("id", "a")
            + ","
            + kv("id", "b")
            + "]}}}"
        ),
        "'actor.id' is given twice",
    ),
    "hour 99": (AUDIT.replace("T08:", "T99:"), "out of range"),
    "second 60": (AUDIT.replace("08:00:00.250", "08:00:60.250"), "out of range"),
    "February 30": (AUDIT.replace("03-02T", "02-30T"), "day is out of range"),
    "time as a number": (AUDIT.replace('"2026-03-02T08:00:00.250Z"', "1772438400"), "timestamp"),
    "OTLP time with a sign": (otlp_log(kv("user.id", "u"), '"-1"'), "timeUnixNano"),
    "OTLP time as a fraction": (otlp_log(kv("user.id", "u"), "1.5e18"), "timeUnixNano"),
}


def sealer_outcome(tmp_path: Path, line: str) -> list[SourceRecord] | InvalidInputError:
    path = tmp_path / "input.jsonl"
    path.write_text(AUDIT + "\n" + line + "\n" if line.startswith('{"timestamp"') else line + "\n")
    try:
        return list(read_records(path))
    except InvalidInputError as exc:
        return exc


@pytest.mark.parametrize("name", REFUSED)
def test_the_sealer_refuses_with_the_line_and_the_importer_refuses_too(
    tmp_path: Path, name: str
) -> None:
    line, words = REFUSED[name]
    outcome = sealer_outcome(tmp_path, line)
    assert isinstance(outcome, InvalidInputError), f"{name}: sealed as {outcome}"
    assert words in outcome.message
    assert outcome.path == str(tmp_path / "input.jsonl")
    assert outcome.line == (2 if line.startswith('{"timestamp"') else 1)
    # A bundle of another sealer may hold the line as it is: the importer refuses it too.
    with pytest.raises(InvalidInputError):
        NORMALIZER.row(line.encode())


@pytest.mark.parametrize(
    "line",
    [
        AUDIT,
        AUDIT.replace('"agent-0042"', '"agent-\\ud83d\\ude00"'),  # a pair: one character
        AUDIT.replace('"agent-0042"', '"agent-\\u00e9"'),
        AUDIT.replace("T08:00:00.250Z", "T09:00:00.250+01:00"),
        GOOD_OTLP,
        otlp_log(kv("user.id", 'say \\"a\\": 1')),  # a key-like text inside a string
        otlp_log(kv("a\\\\", "backslash key") + "," + kv("user.id", "u")),
        otlp_log(kv("user.id", "u"), "1772438400250000000"),
    ],
)
def test_a_record_the_sealer_accepts_is_decoded_the_same_at_import(
    tmp_path: Path, line: str
) -> None:
    records = sealer_outcome(tmp_path, line)
    assert isinstance(records, list), records
    stored = records[-1]
    row = NORMALIZER.row(stored.line)
    assert row["time_ns"] == stored.time_ns == T_NS


def sealed_with(tmp_path: Path, lines: list[str]) -> Path:
    """A bundle holding ``lines`` as they are, as another sealer might have written them."""
    records = [
        SourceRecord(line.encode(), T_NS, "audit", "other-sealer", number)
        for number, line in enumerate(lines, start=1)
    ]
    out = tmp_path / "bundle"
    run(seal([], sample_key("tests-agreement"), out, records=records, stream_id="other.audit"))
    return out


def imported(tmp_path: Path, bundle: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    folder = tmp_path / "case"
    with Case.open(folder, create=True) as case:
        run(import_inputs(case, [bundle], TrustStore()))
        cursor = case.db.execute("SELECT line, action, time_ns, name FROM events ORDER BY line")
        names = ("line", "action", "time_ns", "name")
        events = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        cursor = case.db.execute("SELECT * FROM findings WHERE code = 'RECORD_UNREADABLE'")
        names = [d[0] for d in cursor.description]
        findings = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    return events, findings


@pytest.mark.parametrize(
    "name",
    ["duplicate audit key", "duplicate OTLP field", "duplicate OTLP attribute", "hour 99"],
)
def test_in_a_bundle_such_a_record_is_flagged_where_it_is(tmp_path: Path, name: str) -> None:
    line, words = REFUSED[name]
    bundle = sealed_with(tmp_path, [AUDIT, line, AUDIT])
    events, findings = imported(tmp_path, bundle)
    assert [e["line"] for e in events] == [1, 2, 3]
    assert events[1]["name"] == "unreadable record"
    assert events[1]["action"] is None  # neither of two values is shown as the record's
    assert events[1]["time_ns"] is None  # nor a time days away
    assert [e["action"] for e in events[::2]] == ["EXPORT", "EXPORT"]
    (finding,) = findings
    assert finding["line"] == 2
    assert words in finding["message"]


def test_only_a_trusted_bundle_of_auditlens_s_sealer_skips_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its sealer refused every duplicated key (above); a trusted signature says it wrote the
    # lines. Any other bundle (untrusted here) has each record checked.
    from auditlens.core.resources import sample_case_dir
    from auditlens.core.sample.case import sample_signing_key
    from auditlens.core.store import normalize
    from auditlens.core.verify.trust import load_trust

    checked: list[bytes] = []
    real = normalize.keys_unique

    def counting(line: bytes, encoded: bytes) -> bool:
        checked.append(line)
        return real(line, encoded)

    monkeypatch.setattr(normalize, "keys_unique", counting)
    records = [SourceRecord(AUDIT.encode(), T_NS, "audit", "in", n) for n in (1, 2)]
    bundle = tmp_path / "bundle"
    run(seal([], sample_signing_key(), bundle, records=records, stream_id="cc-prod.audit"))
    trust = load_trust(sample_case_dir() / "truststore.json")
    for folder, store, expected in ((tmp_path / "a", trust, 0), (tmp_path / "b", None, 2)):
        checked.clear()
        with Case.open(folder, create=True) as case:
            run(import_inputs(case, [bundle], store or TrustStore()))
            assert case.db.execute("SELECT count(*) FROM events").fetchone() == (2,)
        assert len(checked) == expected
