"""The examination report (issue 14, points 3 and 5): its content, its HTML form, its journal entry.

Cases are built per test from copies of the sample's evidence (a sealed bundle, raw audit files)
and from raw audit lines written here with real 2026 times; the report is read as its
:class:`Document` (the content both forms share) and as the HTML file it writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from matplotlib import dates as mdates
from tests.conftest import drive

from auditlens.core.analysis.findings import EventRef, Finding
from auditlens.core.analysis.findings import store as store_findings
from auditlens.core.errors import UsageError
from auditlens.core.report import charts
from auditlens.core.report.document import Document, Paragraph, Table
from auditlens.core.report.report import (
    DIFFERS,
    MATCHES,
    UNREACHABLE,
    build_report,
    command_of,
)
from auditlens.core.report.session import Legal
from auditlens.core.resources import sample_case_dir
from auditlens.core.store import journal as journal_module
from auditlens.core.store import queries
from auditlens.core.store.case import Case
from auditlens.core.store.queries import format_time
from auditlens.core.store.session import Examination
from auditlens.core.verify.trust import TrustStore, load_trust

SAMPLE = sample_case_dir()
BUNDLE = SAMPLE / "bundles" / "cc-prod.audit" / "cc-prod.audit-0002"
RAW = sorted((SAMPLE / "raw" / "audit").glob("*.jsonl"))
HOSTILE = "<script>alert('x')</script>"
T0 = 1_772_438_400_250_000_000  # 2026-03-02T08:00:00.25Z


def audit_lines(path: Path, actors: list[str], start_ns: int = T0) -> Path:
    """Raw audit records, one per actor, a second apart, with nanosecond times of 2026."""
    lines = []
    for i, actor in enumerate(actors):
        ns = start_ns + i * 1_000_000_000 + 123
        when = format_time(ns)
        lines.append(
            json.dumps(
                {
                    "timestamp": when,
                    "user_id": actor,
                    "action": "EXPORT",
                    "resource": "recording",
                    "resource_id": f"rec-{i}",
                }
            )
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def import_case(folder: Path, inputs: list[Path]) -> Path:
    with Examination.open(folder, origin="cli", create=True) as session:
        drive(session.import_evidence(inputs, load_trust(SAMPLE / "truststore.json")))
    return folder


def document(folder: Path) -> Document:
    with Case.open(folder) as case:
        return drive(build_report(case))


def tables(doc: Document) -> Iterator[Table]:
    return (b for b in doc.blocks if isinstance(b, Table))


def table(doc: Document, first_column: str) -> Table:
    return next(t for t in tables(doc) if t.columns and t.columns[0] == first_column)


def column(t: Table, name: str) -> list[str]:
    i = t.columns.index(name)
    return [row[i].text for row in t.rows]


def text_of(doc: Document) -> str:
    parts: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Table):
            parts += [c.text for row in block.rows for c in row]
        elif hasattr(block, "text"):
            parts.append(block.text)
    return "\n".join(parts)


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    folder = tmp_path / "evidence"
    folder.mkdir()
    shutil.copytree(BUNDLE, folder / BUNDLE.name)
    for raw in RAW[:2]:
        shutil.copyfile(raw, folder / raw.name)
    return folder


def test_the_inventory_rehashes_each_input_matches_differs_or_not_reachable(
    tmp_path: Path, evidence: Path
) -> None:
    bundle, changed, moved = evidence / BUNDLE.name, evidence / RAW[0].name, evidence / RAW[1].name
    case = import_case(tmp_path / "case", [bundle, changed, moved])
    intake = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (changed, moved)}
    with changed.open("ab") as handle:  # after the import, the file is appended to
        handle.write(b"\n")
    now = hashlib.sha256(changed.read_bytes()).hexdigest()
    moved.rename(tmp_path / "elsewhere.jsonl")

    inventory = table(document(case), "#")
    states = dict(zip(column(inventory, "Path"), column(inventory, "At report time"), strict=True))
    assert states[str(bundle)] == MATCHES
    assert states[str(changed)].startswith(DIFFERS) and now in states[str(changed)]
    assert states[str(moved)].startswith(UNREACHABLE)
    tones = {row[1].text: row[5].tone for row in inventory.rows}
    assert tones[str(changed)] == "bad" and tones[str(bundle)] == "good"
    # The digests at intake are those of the bytes imported, whatever the file holds now.
    intake_column = dict(
        zip(column(inventory, "Path"), column(inventory, "SHA-256 at intake"), strict=True)
    )
    assert intake_column[str(changed)] == intake[changed]
    assert intake_column[str(moved)] == intake[moved]


def test_bookmarks_are_exhibits_in_time_order_and_detections_cite_them(
    tmp_path: Path, evidence: Path
) -> None:
    case = import_case(tmp_path / "case", [evidence / BUNDLE.name])
    with Case.open(case) as db:
        rows = db.db.execute(
            "SELECT stream_id, seq, time_ns FROM events ORDER BY time_ns LIMIT 40"
        ).fetchall()
    picked = [rows[30], rows[5], rows[17]]  # bookmarked out of time order, in two bookmarks
    with Legal.open(case, origin="cli") as legal:
        legal.bookmark(refs=[f"stream:{s}#{q}" for s, q, _ in picked[:2]], tags=["late"])
        legal.bookmark(refs=[f"stream:{picked[2][0]}#{picked[2][1]}"], note="why <this> one")
        store_findings(
            legal.case,
            [
                Finding(
                    rule="test-rule",
                    title="An export out of hours",
                    severity="high",
                    actor_id="sup-004",
                    time_first_ns=picked[1][2],
                    time_last_ns=picked[0][2],
                    explanation="flagged for the test",
                    events=(EventRef(picked[1][2], picked[1][0], picked[1][1]),),
                )
            ],
        )
    doc = document(case)
    exhibits = table(doc, "Exhibit")
    in_order = sorted(picked, key=lambda r: r[2])
    assert column(exhibits, "Exhibit") == ["E-1", "E-2", "E-3"]
    assert column(exhibits, "Reference") == [f"stream:{s}#{q}" for s, q, _ in in_order]
    assert column(exhibits, "Notes")[in_order.index(picked[2])] == "why <this> one"
    detections = next(t for t in tables(doc) if "Finding (rule)" in t.columns)
    assert column(detections, "Finding (rule)") == ["An export out of hours (test-rule)"]
    # The finding rests on the earliest picked event: exhibit E-1.
    assert column(detections, "Rests on") == ["1 event; exhibits E-1"]


def test_without_stored_detections_the_report_says_so(tmp_path: Path, evidence: Path) -> None:
    case = import_case(tmp_path / "case", [evidence / RAW[0].name])
    doc = document(case)
    assert not any("Finding (rule)" in t.columns for t in tables(doc))
    assert any(
        isinstance(b, Paragraph) and b.text.startswith("No detection findings are stored")
        for b in doc.blocks
    )
    # Raw evidence only: no signature vouches for anything, and the report says so.
    assert any(
        isinstance(b, Paragraph) and b.text.startswith("No bundle of this case is verified")
        for b in doc.blocks
    )


def test_the_report_is_journaled_after_it_is_written_with_its_digest(
    tmp_path: Path, evidence: Path
) -> None:
    case = import_case(tmp_path / "case", [evidence / RAW[0].name])
    out = tmp_path / "report.html"
    with Legal.open(case, origin="cli") as legal:
        head = legal.case.journal_head()
        result = drive(legal.report(out))
    entry = json.loads((case / "journal.jsonl").read_text().splitlines()[-1])
    data = out.read_bytes()
    assert entry["action"] == "report" and entry["details"]["origin"] == "cli"
    assert entry["details"]["sha256"] == hashlib.sha256(data).hexdigest() == result.sha256
    assert entry["details"]["size"] == len(data)
    # The head the report prints is the one before its own entry: that entry's predecessor.
    assert head is not None and entry["index"] == head[0] and entry["prev"] == head[1]
    assert entry["details"]["journal_head_in_report"] == f"{head[0]}:{head[1]}"
    assert f"{head[0]}:{head[1]}".encode() in data


def test_an_existing_output_or_an_unknown_suffix_is_refused_and_nothing_journaled(
    tmp_path: Path, evidence: Path
) -> None:
    case = import_case(tmp_path / "case", [evidence / RAW[0].name])
    existing = tmp_path / "taken.html"
    existing.write_bytes(b"not mine")
    before = (case / "journal.jsonl").read_bytes()
    with Legal.open(case, origin="cli") as legal:
        with pytest.raises(UsageError, match="never overwrites"):
            drive(legal.report(existing))
        with pytest.raises(UsageError, match=r"FILE\.pdf or FILE\.html"):
            drive(legal.report(tmp_path / "report.docx"))
    assert existing.read_bytes() == b"not mine"
    assert (case / "journal.jsonl").read_bytes() == before


def test_the_html_escapes_hostile_text_from_the_evidence(tmp_path: Path) -> None:
    raw = audit_lines(tmp_path / "hostile.jsonl", [HOSTILE, "$x^{2", "agent-1"])
    case = import_case(tmp_path / "case", [raw])
    out = tmp_path / "report.html"
    with Legal.open(case, origin="cli") as legal:
        legal.bookmark(
            refs=[f"raw:{hashlib.sha256(raw.read_bytes()).hexdigest()}#1"],
            note='<img src=x onerror="alert(1)">',
        )
        drive(legal.report(out))
    page = out.read_text("utf-8")
    assert "<script" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    # No request and no script, even if something escaped the escaping.
    assert "default-src 'none'" in page
    assert page.count("<img ") == 3  # the three charts, as data: URIs
    assert page.count('src="data:image/png;base64,') == 3


def test_charts_draw_2026_nanosecond_times_in_place(tmp_path: Path) -> None:
    raw = audit_lines(tmp_path / "a.jsonl", ["agent-1", "$x^{2", "agent-1", "sup-004"])
    case = import_case(tmp_path / "case", [raw])
    # The conversion keeps a 2026 time to the microsecond (matplotlib's resolution).
    ns = T0 + 123_456_789
    (day,) = charts._times([ns])
    assert (
        mdates.num2date(day).isoformat(timespec="microseconds")
        == "2026-03-02T08:00:00.373457+00:00"
    )
    with Case.open(case) as db:
        made = [
            charts.activity_histogram(db),
            charts.actor_swimlanes(db),  # the actor "$x^{2" is text, not a formula
            charts.integrity_map(queries.integrity_overview(db)),
        ]
    for chart in made:
        assert chart.png.startswith(b"\x89PNG\r\n\x1a\n")
        assert chart.width_px == charts.WIDTH_IN * charts.DPI
    assert made[0].caption.startswith("Activity: 4 events")
    assert made[1].caption.startswith("Actor swimlanes: all 3 actors")
    assert made[1].rows[0] == "agent-1"  # the busiest first
    with Case.open(case) as db:
        # The bookmarked events' actors come first, then the busiest, up to the limit.
        lanes = charts.actor_swimlanes(db, first=["sup-004"], limit=2)
    assert lanes.rows == ("sup-004", "agent-1")
    assert "the 1 of the bookmarked events first" in lanes.caption


def test_the_integrity_map_draws_troubled_streams_first_up_to_its_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    streams = SAMPLE / "bundles"
    inputs = [
        streams / "cc-prod.audit" / "cc-prod.audit-0001",
        streams / "cc-prod.otel-logs" / "cc-prod.otel-logs-0001.zip",
        # A gap: this stream is tampered, and drawn first though its name sorts after.
        streams / "cc-prod.otel-logs" / "cc-prod.otel-logs-0003.zip",
        RAW[0],
    ]
    case = import_case(tmp_path / "case", inputs)
    monkeypatch.setattr(charts, "MAX_STREAMS", 2)
    with Case.open(case) as db:
        chart = charts.integrity_map(queries.integrity_overview(db))
    assert chart.rows == ("cc-prod.otel-logs", "cc-prod.audit")
    assert "3 streams, 2 drawn (those with findings first)" in chart.caption


def test_the_journal_reads_as_commands(tmp_path: Path, evidence: Path) -> None:
    case = import_case(tmp_path / "case", [evidence / RAW[0].name])
    entries = [json.loads(x) for x in (case / "journal.jsonl").read_text().splitlines()]
    assert command_of(entries[1]) == f"auditlens import CASE {evidence / RAW[0].name}"
    journal = next(t for t in tables(document(case)) if "Command" in t.columns)
    assert column(journal, "#") == [str(e["index"]) for e in entries]
    assert column(journal, "Command")[1] == command_of(entries[1])
    assert set(column(journal, "From")) == {"cli"}
    bookmark = {
        "action": "bookmark",
        "details": {"selection": "filter: actor:'a b'", "tags": ["x y"], "note": "n", "count": 2},
    }
    assert command_of(bookmark) == (
        "auditlens bookmark CASE --filter 'actor:'\"'\"'a b'\"'\"'' --tag 'x y' --note n"
    )


def test_a_report_reads_the_integrity_overview_and_the_journal_once(
    tmp_path: Path, evidence: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = import_case(tmp_path / "case", [evidence / BUNDLE.name, evidence / RAW[0].name])
    overviews: list[object] = []
    journal_opens: list[str] = []
    overview, os_open, path_open = queries.integrity_overview, os.open, Path.open

    def counted_overview(db: Case) -> queries.IntegrityOverview:
        overviews.append(db)
        return overview(db)

    def counted_os_open(path: Any, *args: Any, **kwargs: Any) -> int:
        if Path(path).name == journal_module.JOURNAL_NAME:
            journal_opens.append("os.open")
        return os_open(path, *args, **kwargs)

    def counted_path_open(path: Path, *args: Any, **kwargs: Any) -> Any:
        if path.name == journal_module.JOURNAL_NAME:
            journal_opens.append("Path.open")
        return path_open(path, *args, **kwargs)

    with Case.open(case) as db:  # opening reads the journal's last line: not the report's
        monkeypatch.setattr(queries, "integrity_overview", counted_overview)
        monkeypatch.setattr(os, "open", counted_os_open)
        monkeypatch.setattr(Path, "open", counted_path_open)
        doc = drive(build_report(db))
        monkeypatch.undo()
    assert len(overviews) == 1
    assert journal_opens == ["os.open"]  # the verification's read, which the table is built from
    entries = (case / "journal.jsonl").read_text().splitlines()
    listed = next(t for t in tables(doc) if "Command" in t.columns)
    assert column(listed, "#") == [str(json.loads(e)["index"]) for e in entries]


def test_a_journal_line_that_is_no_entry_is_named_by_the_verification_not_listed(
    tmp_path: Path, evidence: Path
) -> None:
    case = import_case(tmp_path / "case", [evidence / RAW[0].name])
    entries = [json.loads(x) for x in (case / "journal.jsonl").read_text().splitlines()]
    with (case / "journal.jsonl").open("a") as handle:
        handle.write('{"index": 99, "action": "import"}\n')
    doc = document(case)
    listed = next(t for t in tables(doc) if "Command" in t.columns)
    assert column(listed, "#") == [str(e["index"]) for e in entries]
    note = next(b for b in doc.blocks if isinstance(b, Paragraph) and "'CASE' is" in b.text)
    assert (
        "The journal's verification found:" in note.text and f"line {len(entries) + 1}" in note.text
    )
    assert note.tone == "bad"


def test_a_thousand_bookmarks_are_a_thousand_exhibits(tmp_path: Path) -> None:
    raw = audit_lines(tmp_path / "many.jsonl", [f"agent-{i % 37}" for i in range(1_200)])
    case = import_case(tmp_path / "case", [raw])
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    with Legal.open(case, origin="cli") as legal:
        legal.bookmark(refs=[f"raw:{digest}#{line}" for line in range(1_000, 0, -1)])
    exhibits = table(document(case), "Exhibit")
    assert len(exhibits.rows) == 1_000
    assert column(exhibits, "Exhibit")[-1] == "E-1000"
    assert column(exhibits, "Reference")[:2] == [f"raw:{digest}#1", f"raw:{digest}#2"]


def test_what_is_proven_names_gaps_raw_imports_and_the_trust_store(tmp_path: Path) -> None:
    streams = SAMPLE / "bundles" / "cc-prod.audit"
    first, third = streams / "cc-prod.audit-0001", streams / "cc-prod.audit-0003"
    case = import_case(tmp_path / "case", [first, third, RAW[0]])
    doc = document(case)
    said = {b.text: b.tone for b in doc.blocks if isinstance(b, Paragraph)}
    gap = next(t for t in said if t.startswith("Gap in stream cc-prod.audit"))
    # 0001 holds 1-432 and 0003 887-1295: the records between are in no bundle of the case.
    assert "sequence numbers 433 to 886" in gap and said[gap] == "bad"
    raw = next(t for t in said if "imported raw, not sealed" in t)
    assert said[raw] == "warn"
    trust = json.loads((SAMPLE / "truststore.json").read_text())["keys"][0]
    key = next(t for t in tables(doc) if t.columns and t.columns[0] == "Trusted key")
    fields = {row[0].text: row[1].text for row in key.rows}
    assert fields["Key id"] == trust["key_id"] and fields["Owner"] == trust["owner"]
    assert fields["How obtained"].startswith(trust["obtained"])


def test_without_a_recorded_trust_store_the_report_says_so(tmp_path: Path) -> None:
    case = tmp_path / "case"
    with Examination.open(case, origin="cli", create=True) as session:
        drive(session.import_evidence([BUNDLE], TrustStore()))  # no trust store at all
    doc = document(case)
    assert not any(t.columns and t.columns[0] == "Trusted key" for t in tables(doc))
    assert any(
        isinstance(b, Paragraph)
        and b.text.startswith("The case does not record which trust store")
        and b.tone == "warn"
        for b in doc.blocks
    )
    signers = next(t for t in tables(doc) if t.columns[0].startswith("Signer key id"))
    assert column(signers, "In the recorded trust store") == ["not recorded"]
    assert column(signers, "Verdicts") == ["untrusted"]


def test_the_html_writes_a_name_that_is_not_utf8_as_an_escape() -> None:
    from auditlens.core.report.html import render_html

    name = "evidence-\udcff.jsonl"  # os.fsdecode of the byte 0xff
    page = render_html(Document("t", "h", blocks=[Paragraph(name)]))
    assert b"evidence-\\udcff.jsonl" in page


def test_past_the_limit_queries_are_counted_per_command_and_actions_still_listed(
    tmp_path: Path, evidence: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditlens.core.report import report as report_module
    from auditlens.core.store.queries import EventQuery

    case = import_case(tmp_path / "case", [evidence / RAW[0].name])
    with Examination.open(case, origin="workbench") as session:
        session.count(EventQuery("action:EXPORT"))
        session.count(EventQuery("action:LOGIN"))
        session.stats()
    with Legal.open(case, origin="cli") as legal:
        legal.bookmark(query=EventQuery("action:EXPORT"), tags=["after the queries"])
    monkeypatch.setattr(report_module, "MAX_JOURNAL_QUERIES", 2)
    doc = document(case)
    journal = next(t for t in tables(doc) if "Command" in t.columns)
    commands = column(journal, "Command")
    assert not any(c.startswith(("auditlens events", "auditlens stats")) for c in commands)
    assert commands[-1].startswith("auditlens bookmark CASE --filter action:EXPORT")
    assert any(
        "The 3 queries (reads that change nothing) are counted, not listed: count 2, "
        "stats 1." in b.text
        for b in doc.blocks
        if isinstance(b, Paragraph)
    )


def test_a_fork_is_named_in_what_is_proven(tmp_path: Path) -> None:
    from auditlens.core.bundle.seal import seal
    from auditlens.core.crypto.keys import sample_key

    streams = SAMPLE / "bundles" / "cc-prod.audit"
    day2 = (SAMPLE / "raw" / "audit" / "audit-2026-03-03.jsonl").read_bytes().splitlines(True)
    raw = tmp_path / "day2.jsonl"
    raw.write_bytes(b"".join(day2[1:]))  # one record dropped, then sealed again
    fork = tmp_path / "cc-prod.audit-0002-fork"
    drive(
        seal(
            [raw],
            sample_key("report-fork-throwaway-test-key"),  # THROWAWAY: anyone can derive it
            fork,
            previous=streams / "cc-prod.audit-0001",
            sealed_at="2026-03-04T00:07:00Z",
        )
    )
    case = import_case(
        tmp_path / "case", [streams / "cc-prod.audit-0001", streams / "cc-prod.audit-0002", fork]
    )
    said = {b.text: b.tone for b in document(case).blocks if isinstance(b, Paragraph)}
    named = [t for t in said if t.startswith("BUNDLE_FORK in stream cc-prod.audit")]
    assert named and all(said[t] == "bad" for t in named)
    assert "which one is true cannot be told" in named[0]


def test_an_entry_journaled_while_the_report_is_written_is_counted(
    tmp_path: Path, evidence: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditlens.core.report import session as session_module

    case = import_case(tmp_path / "case", [evidence / RAW[0].name])
    real = session_module.write_report

    def write_then_someone_journals(c: Case, *args: Any, **kwargs: Any) -> Any:
        result = yield from real(c, *args, **kwargs)
        c.journal("query", {"command": "stats", "note": "another thread, meanwhile"})
        return result

    monkeypatch.setattr(session_module, "write_report", write_then_someone_journals)
    with Legal.open(case, origin="cli") as legal:
        result = drive(legal.report(tmp_path / "r.html"))
    entry = json.loads((case / "journal.jsonl").read_text().splitlines()[-1])
    assert entry["details"]["entries_after_report_head"] == 1
    assert entry["index"] == result.journal_head[0] + 1
