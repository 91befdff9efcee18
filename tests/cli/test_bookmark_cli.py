"""``auditlens bookmark`` and ``auditlens bookmarks`` (issue 14, point 1).

Cases are built per test from copies of the sample's evidence (a sealed bundle and raw audit
files); expected events come from the case database read directly.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from auditlens.core.report import bookmarks as bookmarks_module
from auditlens.core.resources import sample_case_dir

SAMPLE = sample_case_dir()
BUNDLE = SAMPLE / "bundles" / "cc-prod.audit" / "cc-prod.audit-0002"
RAW = sorted((SAMPLE / "raw" / "audit").glob("*.jsonl"))


def make_case(cli: Any, root: Path, *inputs: Path) -> Path:
    case = root / "case"
    result = cli("import", case, *inputs, "--trust", SAMPLE / "truststore.json")
    assert result.code in (0, 3), result.err
    return case


@pytest.fixture
def case(cli: Any, tmp_path: Path) -> Path:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    shutil.copytree(BUNDLE, evidence / BUNDLE.name)
    raw = evidence / RAW[0].name
    shutil.copyfile(RAW[0], raw)
    return make_case(cli, tmp_path, evidence / BUNDLE.name, raw)


def db(case: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(case / "case.duckdb"), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def journal(case: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (case / "journal.jsonl").read_text().splitlines()]


def listed(cli: Any, case: Path) -> list[dict[str, Any]]:
    result = cli("bookmarks", case, "--format", "jsonl")
    assert result.code == 0, result.err
    return [json.loads(line) for line in result.out.splitlines()]


def test_a_filters_events_are_bookmarked_with_tags_and_note_and_journaled(
    cli: Any, case: Path
) -> None:
    want = db(
        case,
        "SELECT stream_id, seq FROM events WHERE action = 'LOGIN_FAILURE' "
        "AND integrity <> 'unsealed' ORDER BY ord",
    )
    raw = db(
        case,
        "SELECT inputs.sha256, line FROM events JOIN inputs USING (input_id) "
        "WHERE action = 'LOGIN_FAILURE' AND integrity = 'unsealed' ORDER BY ord",
    )
    assert want and raw
    result = cli(
        "bookmark",
        case,
        "--filter",
        "action:login_failure",
        "--tag",
        "auth",
        "--tag",
        "brute-force",
        "--note",
        "failed logins before the export",
    )
    assert result.code == 0, result.err
    assert f"{len(want) + len(raw):,} events" in result.out
    rows = listed(cli, case)
    refs = {r["ref"] for r in rows}
    assert refs == {f"stream:{s}#{q}" for s, q in want} | {f"raw:{d}#{n}" for d, n in raw}
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)
    assert {(r["tags"], r["notes"], r["action"]) for r in rows} == {
        ("auth,brute-force", "failed logins before the export", "LOGIN_FAILURE")
    }
    entry = next(e for e in reversed(journal(case)) if e["action"] == "bookmark")
    assert entry["details"]["selection"] == "filter: action:login_failure"
    assert entry["details"]["tags"] == ["auth", "brute-force"]
    assert entry["details"]["count"] == len(refs)
    assert set(entry["details"]["refs"]) == refs


def test_events_by_reference_and_a_second_bookmark_adds_its_tags(cli: Any, case: Path) -> None:
    stream, seq = db(
        case, "SELECT stream_id, seq FROM events WHERE integrity <> 'unsealed' LIMIT 1"
    )[0]
    ref = f"stream:{stream}#{seq}"
    assert cli("bookmark", case, "--event", ref, "--tag", "first").code == 0
    assert cli("bookmark", case, "--event", ref, "--tag", "second", "--note", "look").code == 0
    (row,) = listed(cli, case)
    assert (row["ref"], row["bookmarks"], row["tags"], row["notes"]) == (
        ref,
        "1,2",
        "first,second",
        "look",
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--event", "stream:cc-prod.audit#999999999"],  # no such record
        ["--event", "row:17"],  # not a reference
        ["--event", "raw:" + "0" * 64 + "#1"],  # no such input
        ["--filter", "actor_id:nobody"],  # nothing selected
        ["--filter", "x", "--event", "stream:a#1"],  # both
        [],  # neither
    ],
)
def test_bad_selections_bookmark_nothing_and_journal_nothing(
    cli: Any, case: Path, args: list[str]
) -> None:
    before = journal(case)
    result = cli("bookmark", case, *args)
    assert result.code == 2
    assert journal(case) == before
    assert listed(cli, case) == []


def test_too_many_events_are_refused(cli: Any, case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bookmarks_module, "MAX_BOOKMARK_EVENTS", 10)
    result = cli("bookmark", case, "--filter", "kind:audit")
    assert result.code == 2 and "narrow it" in result.err


def test_references_name_the_same_records_after_a_reimport(cli: Any, tmp_path: Path) -> None:
    # Case A: the bundle, then the raw file. Case B: another raw file first, the same raw file
    # from another folder, the bundle last: every row number and ord differs.
    a_root, b_root = tmp_path / "a", tmp_path / "b"
    for root in (a_root, b_root):
        root.mkdir()
    shutil.copyfile(RAW[0], a_root / "audit.jsonl")
    shutil.copyfile(RAW[0], b_root / "renamed.jsonl")
    case_a = make_case(cli, a_root, BUNDLE, a_root / "audit.jsonl")
    case_b = make_case(cli, b_root, RAW[1], b_root / "renamed.jsonl", BUNDLE)
    assert cli("bookmark", case_a, "--filter", "action:LOGIN_FAILURE").code == 0
    in_a = listed(cli, case_a)
    refs = [r["ref"] for r in in_a]
    assert any(r.startswith("raw:") for r in refs) and any(r.startswith("stream:") for r in refs)
    args = [x for ref in refs for x in ("--event", ref)]
    assert cli("bookmark", case_b, *args).code == 0
    in_b = listed(cli, case_b)

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        return (r["ref"], r["time"], r["actor_id"], r["action"], r["resource_id"], r["body"])

    assert [key(r) for r in in_b] == [key(r) for r in in_a]


def test_a_reference_with_a_number_past_any_record_is_a_usage_error(cli: Any, case: Path) -> None:
    # Numbers beyond int64 reached DuckDB and read 'the case database failed: Conversion Error',
    # as if the case were broken; the reference is what is wrong.
    digest = db(case, "SELECT sha256 FROM inputs WHERE sha256 IS NOT NULL LIMIT 1")[0][0]
    big = "9" * 20
    for ref in (f"raw:{digest}#{big}", f"raw:{digest}#1.{big}", f"stream:cc-prod.audit#{big}"):
        result = cli("bookmark", case, "--event", ref, "--tag", "odd")
        assert result.code == 2, (ref, result.err)
        assert f"{big} is larger than any record's number" in result.err, result.err
        assert "database" not in result.err
    assert not [e for e in journal(case) if e.get("action") == "bookmark"]
