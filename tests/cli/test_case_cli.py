"""The case commands, run in-process: ``import``, ``events``, ``actors``, ``actor``, ``trace``,
``histogram``, ``stats`` and ``journal verify``.

Expected output is derived from the evidence each test wrote, from the shipped sample's raw
records, or (for consistency checks) from another command's rows, never typed in by hand.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from auditlens.core.resources import sample_case_dir

SAMPLE = sample_case_dir()
SAMPLE_TRUST = SAMPLE / "truststore.json"
AUDIT_BUNDLES = sorted((SAMPLE / "bundles" / "cc-prod.audit").iterdir())
COMPAT = Path(__file__).resolve().parents[1] / "data" / "otlp-examples"
BLOCK = 65_536

# The names for an event row, exactly.
EVENT_FIELDS = [
    "time",
    "kind",
    "service",
    "actor_id",
    "actor_name",
    "actor_role",
    "action",
    "outcome",
    "resource_type",
    "resource_id",
    "source_ip",
    "tenant",
    "session_id",
    "conversation_id",
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "duration_ns",
    "severity",
    "body",
    "attributes",
    "bundle_id",
    "stream_id",
    "seq",
    "integrity",
]
RFC3339_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z")


# --- helpers ---------------------------------------------------------------------------------


def rfc3339(ns: int) -> str:
    """UTC RFC 3339 with nine fractional digits, computed here independently."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def ns_of(text: str) -> int:
    """Unix nanoseconds of an RFC 3339 time with nine fractional digits and any offset."""
    whole, fraction = text[:19], text[20:29]
    moment = datetime.fromisoformat(whole + text[29:].replace("Z", "+00:00"))
    return int(moment.timestamp()) * 1_000_000_000 + int(fraction)


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def query(cli: Any, *args: Any) -> list[dict[str, Any]]:
    result = cli(*args, "--format", "jsonl")
    assert result.code == 0, result.err
    return jsonl(result.out)


def all_events(cli: Any, case: Path, *args: Any) -> list[dict[str, Any]]:
    return query(cli, "events", case, "--limit", "100000", *args)


def journal(case: Path) -> list[dict[str, Any]]:
    return jsonl((case / "journal.jsonl").read_text())


def journaled_inputs(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The inputs that ``import`` entries record, whether one entry lists several or names one."""
    found: list[dict[str, Any]] = []
    for entry in entries:
        if entry["action"] == "import":
            details = entry["details"]
            found += details.get("inputs", [details])
    return found


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_sha256(path: Path) -> str:
    """The documented digest of a folder input: SHA-256 over sorted ``name NUL sha256 LF``."""
    listing = hashlib.sha256()
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        listing.update(item.relative_to(path).as_posix().encode() + b"\0")
        listing.update(sha256(item).encode() + b"\n")
    return listing.hexdigest()


def audit_lines(path: Path, n: int, *, start: int = 0) -> Path:
    path.write_text(
        "".join(
            json.dumps(
                {
                    "timestamp": f"2026-03-02T10:00:{(start + i) % 60:02d}.{i:03d}Z",
                    "user_id": f"agent-{i:03d}",
                    "action": "READ",
                    "resource": "contact",
                    "source_ip_address": f"10.20.1.{i}",
                }
            )
            + "\n"
            for i in range(n)
        )
    )
    return path


# --- import --------------------------------------------------------------------------------------


def test_import_creates_the_case_folder_and_reports_every_input(cli: Any, tmp_path: Path) -> None:
    case = tmp_path / "cases" / "2026-0042"
    raw = audit_lines(tmp_path / "audit.jsonl", 3)
    result = cli("import", case, raw, COMPAT / "logs.json")
    assert result.code == 3, result.err  # raw evidence: intact but unsealed
    assert (case / "case.duckdb").is_file() and (case / "journal.jsonl").is_file()
    assert f"[unsealed] {raw}: 3 events" in result.out
    assert f"sha256 {sha256(raw)}" in result.out
    assert f"sha256 {sha256(COMPAT / 'logs.json')}" in result.out
    assert len(all_events(cli, case)) == 4


@pytest.mark.parametrize(
    ("inputs", "trust", "code", "verdicts", "stream"),
    [
        (AUDIT_BUNDLES[:1], True, 0, ["verified"], "verified"),
        (AUDIT_BUNDLES[:1], False, 3, ["untrusted"], "untrusted"),
        # A gap: both bundles are intact, the stream between them is not.
        ([AUDIT_BUNDLES[0], AUDIT_BUNDLES[2]], True, 1, ["verified", "verified"], "tampered"),
    ],
    ids=["verified", "untrusted", "gap"],
)
def test_import_exit_code_is_the_worst_verdict(
    cli: Any,
    tmp_path: Path,
    inputs: list[Path],
    trust: bool,
    code: int,
    verdicts: list[str],
    stream: str,
) -> None:
    args = ["--trust", SAMPLE_TRUST] if trust else []
    result = cli("import", tmp_path / "case", *inputs, *args)
    assert result.code == code, result.err
    tagged = [line for line in result.out.splitlines() if line.startswith("[")]
    assert [line.split("]")[0][1:] for line in tagged if "] stream " not in line] == verdicts
    assert [line.split("]")[0][1:] for line in tagged if "] stream " in line] == [stream]
    if stream == "tampered":
        assert "BUNDLE_GAP" in result.out


def test_importing_again_is_reported_as_a_replay_and_adds_nothing(cli: Any, tmp_path: Path) -> None:
    case = tmp_path / "case"
    raw = audit_lines(tmp_path / "audit.jsonl", 4)
    assert cli("import", case, raw, AUDIT_BUNDLES[0], "--trust", SAMPLE_TRUST).code == 3
    before = len(all_events(cli, case))
    again = cli("import", case, raw, AUDIT_BUNDLES[0], "--trust", SAMPLE_TRUST)
    assert again.out.count("replay") == 2
    assert len(all_events(cli, case)) == before
    recorded = [(i["sha256"], i["replay"]) for i in journaled_inputs(journal(case))]
    assert recorded == [
        (sha256(raw), False),
        (folder_sha256(AUDIT_BUNDLES[0]), False),
        (sha256(raw), True),
        (folder_sha256(AUDIT_BUNDLES[0]), True),
    ]


def test_a_bad_record_rejects_its_input_naming_file_and_line(cli: Any, tmp_path: Path) -> None:
    case = tmp_path / "case"
    good = audit_lines(tmp_path / "good.jsonl", 3)
    assert cli("import", case, good).code == 3
    broken = audit_lines(tmp_path / "broken.jsonl", 6, start=10)
    lines = broken.read_text().splitlines()
    lines[4] = lines[4][:-10]  # line 5 cut short
    broken.write_text("\n".join(lines) + "\n")
    result = cli("import", case, broken)
    assert result.code == 2
    assert f"{broken}:5" in result.err
    assert "Traceback" not in result.err
    assert len(all_events(cli, case)) == 3
    later = audit_lines(tmp_path / "later.jsonl", 2, start=30)
    assert cli("import", case, later).code == 3
    assert len(all_events(cli, case)) == 5


def test_inputs_imported_before_a_failing_one_are_journaled(cli: Any, tmp_path: Path) -> None:
    case = tmp_path / "case"
    good = audit_lines(tmp_path / "good.jsonl", 3)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"timestamp": "2026-03-02T10:00:00Z", "action": \n')
    assert cli("import", case, good, broken).code == 2
    assert len(all_events(cli, case)) == 3  # the good input was committed
    journaled = {i["sha256"] for i in journaled_inputs(journal(case))}
    assert sha256(good) in journaled


# --- events --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def examples_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The official OTLP examples (bare numbers, upper-case ids) imported as raw evidence."""
    from auditlens.cli.main import main

    case = tmp_path_factory.mktemp("examples") / "case"
    assert main(["import", str(case), str(COMPAT / "logs.json"), str(COMPAT / "trace.json")]) == 3
    return case


def test_events_jsonl_rows_use_exactly_the_documented_names(cli: Any, examples_case: Path) -> None:
    logs = json.loads((COMPAT / "logs.json").read_bytes())
    trace = json.loads((COMPAT / "trace.json").read_bytes())
    record = logs["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    span = trace["resourceSpans"][0]["scopeSpans"][0]["spans"][0]

    rows = all_events(cli, examples_case)
    for row in rows:
        assert sorted(row) == sorted(EVENT_FIELDS)
        assert RFC3339_UTC.fullmatch(row["time"])
        assert isinstance(row["attributes"], dict)
        assert row["integrity"] == "unsealed"
    span_row, log_row = rows  # time order: the span starts before the log
    assert span_row["time"] == rfc3339(span["startTimeUnixNano"])
    assert log_row["time"] == rfc3339(record["timeUnixNano"])
    assert (span_row["trace_id"], span_row["span_id"], span_row["parent_span_id"]) == (
        span["traceId"].lower(),
        span["spanId"].lower(),
        span["parentSpanId"].lower(),
    )
    assert span_row["duration_ns"] == span["endTimeUnixNano"] - span["startTimeUnixNano"]
    assert (log_row["kind"], log_row["body"], log_row["severity"]) == (
        "log",
        record["body"]["stringValue"],
        record["severityText"],
    )
    assert log_row["attributes"]["int.attribute"] == 10
    assert (log_row["stream_id"], log_row["seq"], log_row["bundle_id"]) == (
        "raw:logs.json",
        1,
        None,
    )


def test_events_keep_nanoseconds_and_tz_shifts_only_the_offset(cli: Any, tmp_path: Path) -> None:
    case = tmp_path / "case"
    winter = 1_772_445_600_123_456_789  # March: Berlin is UTC+1
    summer = winter + 120 * 86_400 * 1_000_000_000  # June/July: UTC+2
    raw = tmp_path / "logs.jsonl"
    raw.write_text(
        "".join(
            json.dumps(
                {
                    "resourceLogs": [
                        {
                            "scopeLogs": [
                                {
                                    "logRecords": [
                                        {"timeUnixNano": str(t), "body": {"stringValue": "x"}}
                                    ]
                                }
                            ]
                        }
                    ]
                }
            )
            + "\n"
            for t in (winter, summer)
        )
    )
    assert cli("import", case, raw).code == 3
    utc = [r["time"] for r in all_events(cli, case)]
    assert utc == [rfc3339(winter), rfc3339(summer)]
    berlin = [r["time"] for r in all_events(cli, case, "--tz", "Europe/Berlin")]
    zone = ZoneInfo("Europe/Berlin")
    for text, ns in zip(berlin, (winter, summer), strict=True):
        offset = datetime.fromtimestamp(ns // 1_000_000_000, zone).isoformat()[-6:]
        assert text.endswith(f".{ns % 1_000_000_000:09d}{offset}")
        assert ns_of(text) == ns  # the same instant
    assert [t[-6:] for t in berlin] == ["+01:00", "+02:00"]
    bad = cli("events", case, "--tz", "Nowhere/Atlantis")
    assert bad.code == 2 and "Nowhere/Atlantis" in bad.err


def test_events_csv_and_table_formats_print(cli: Any, examples_case: Path) -> None:
    rows = all_events(cli, examples_case)
    result = cli("events", examples_case, "--format", "csv")
    assert result.code == 0
    parsed = list(csv.DictReader(io.StringIO(result.out)))
    assert list(parsed[0]) == list(rows[0])
    assert [(r["time"], r["trace_id"], r["seq"]) for r in parsed] == [
        (r["time"], r["trace_id"], str(r["seq"])) for r in rows
    ]
    assert json.loads(parsed[1]["attributes"]) == rows[1]["attributes"]

    table = cli("events", examples_case).out.splitlines()
    assert table[0].split()[:3] == ["TIME", "KIND", "ACTOR_ID"]
    assert len(table) == 1 + len(rows)
    for line, row in zip(table[1:], rows, strict=True):
        assert line.startswith(row["time"]) and row["kind"] in line


@pytest.mark.parametrize("filter_text", ["", "action:DELETE"], ids=["all", "filtered"])
def test_pages_continue_page_by_page_beyond_the_first_block(
    cli: Any, big_case: Any, filter_text: str
) -> None:
    view = [
        (rfc3339(t), line, ordinal)
        for ordinal, (t, line, action, _) in enumerate(big_case.rows)
        if not filter_text or action == "DELETE"
    ]
    # Two pages of four that straddle the second 65,536-row block boundary of the timeline.
    start = next(i for i, row in enumerate(view) if row[2] >= 2 * BLOCK) - 3
    args = ["--filter", filter_text] if filter_text else []
    first = query(cli, "events", big_case.folder, *args, "--offset", start, "--limit", 4)
    second = query(cli, "events", big_case.folder, *args, "--offset", start + 4, "--limit", 4)
    assert [(r["time"], r["seq"]) for r in first + second] == [
        (time, line) for time, line, _ in view[start : start + 8]
    ]


def test_from_and_to_bound_the_time(cli: Any, big_case: Any) -> None:
    times = sorted({t for t, _, _, _ in big_case.rows})
    low, high = times[5_000], times[5_040] + 1  # low is a record's time; high is between two
    expected = [(rfc3339(t), line) for t, line, _, _ in big_case.rows if low <= t < high]
    rows = query(
        cli,
        "events",
        big_case.folder,
        "--from",
        rfc3339(low),
        "--to",
        rfc3339(high),
        "--limit",
        1000,
    )
    assert [(r["time"], r["seq"]) for r in rows] == expected
    assert cli("events", big_case.folder, "--from", "yesterday").code == 2


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("action:(EXPORT", f"position {len('action:')}"),  # the '(' that is never closed
        ("bogus:1", f"positions 0-{len('bogus') - 1}"),  # the unknown field name
    ],
)
def test_filter_errors_exit_2_with_the_position(
    cli: Any, examples_case: Path, text: str, position: str
) -> None:
    result = cli("events", examples_case, "--filter", text)
    assert result.code == 2
    assert position in result.err
    assert result.out == ""


# --- the shipped sample ----------------------------------------------------------------------


def test_the_planted_export_is_findable(cli: Any, sample_case: Path) -> None:
    rows = all_events(cli, sample_case, "--filter", "actor_id:sup-004 AND action:EXPORT")
    assert rows
    assert {(r["actor_id"], r["action"], r["integrity"]) for r in rows} == {
        ("sup-004", "EXPORT", "verified")
    }
    # The same export, seen through a pivot by the resource id the rows name.
    (resource,) = {r["resource_id"] for r in rows}
    assert resource.startswith("export-")


def test_the_audit_streams_silent_window_is_an_empty_stretch_of_the_histogram(
    cli: Any, sample_case: Path
) -> None:
    # The two audit records that switch the audit sink off and on again border the silence.
    switches = all_events(
        cli,
        sample_case,
        "--filter",
        "kind:audit AND action:CONFIG_CHANGE AND resource_id:audit.sink.opensearch",
    )
    assert len(switches) == 2
    start, end = (ns_of(r["time"]) for r in switches)
    minute = 60_000_000_000
    assert end - start >= 20 * minute

    buckets = query(cli, "histogram", sample_case, "--bucket", "1m", "--filter", "kind:audit")
    starts = [ns_of(b["bucket"]) for b in buckets]
    assert start // minute * minute in starts and end // minute * minute in starts
    assert not [s for s in starts if start // minute * minute < s < end // minute * minute]
    # Counts add up to the filtered total.
    audit = all_events(cli, sample_case, "--filter", "kind:audit")
    assert sum(b["count"] for b in buckets) == len(audit)
    # Meanwhile the other streams went on, including the planted export.
    export = all_events(cli, sample_case, "--filter", "actor_id:sup-004 AND action:EXPORT")
    assert all(start < ns_of(r["time"]) < end for r in export)
    inside = all_events(
        cli,
        sample_case,
        "--from",
        rfc3339(start + 1),
        "--to",
        rfc3339(end),
        "--filter",
        "NOT kind:audit",
    )
    assert len(inside) > len(export)


def test_actors_agree_with_the_events(cli: Any, sample_case: Path) -> None:
    events = all_events(cli, sample_case)
    expected: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"events": 0, "times": [], "addresses": set(), "actions": set(), "roles": set()}
    )
    for e in events:
        if e["actor_id"] is None:
            continue
        mine = expected[e["actor_id"]]
        mine["events"] += 1
        mine["times"].append(ns_of(e["time"]))
        if e["source_ip"]:
            mine["addresses"].add(e["source_ip"])
        if e["action"]:
            mine["actions"].add(e["action"])
        if e["actor_role"]:
            mine["roles"].update(e["actor_role"].split(","))
    actors = query(cli, "actors", sample_case)
    assert {a["actor_id"] for a in actors} == set(expected)
    counts = [a["events"] for a in actors]
    assert counts == sorted(counts, reverse=True)
    for actor in actors:
        mine = expected[actor["actor_id"]]
        assert actor["events"] == mine["events"]
        assert ns_of(actor["first_seen"]) == min(mine["times"])
        assert ns_of(actor["last_seen"]) == max(mine["times"])
        assert set(actor["addresses"]) == mine["addresses"]
        assert set(actor["actions"]) == mine["actions"]
        assert set(filter(None, actor["roles"].split(","))) == mine["roles"]
    incident = next(a for a in actors if a["actor_id"] == "sup-004")
    assert "admin" in incident["roles"].split(",")  # the self-granted role


def test_actor_timeline_shows_sessions_and_address_changes_in_time_order(
    cli: Any, sample_case: Path
) -> None:
    rows = query(cli, "actor", sample_case, "sup-004")
    assert {r["actor_id"] for r in rows} == {"sup-004"}
    times = [ns_of(r["time"]) for r in rows]
    assert times == sorted(times)
    assert len(rows) == len(all_events(cli, sample_case, "--filter", "actor_id:sup-004"))

    table = cli("actor", sample_case, "sup-004", "--format", "table")
    assert table.code == 0
    sessions = re.findall(r"^  session (\S+): (\S+) \.\. (\S+) from ", table.out, re.M)
    expected_sessions = {r["session_id"] for r in rows if r["session_id"]}
    assert {s[0] for s in sessions} == expected_sessions
    starts = [ns_of(s[1]) for s in sessions]
    assert starts == sorted(starts)
    changes = re.findall(r"^  address (.+) -> (\S+) at (\S+)$", table.out, re.M)
    # Derived from the rows: each time the address differs from the last one seen.
    derived = []
    last = None
    for r in rows:
        if r["source_ip"] and r["source_ip"] != last:
            derived.append((last or "(first seen)", r["source_ip"], r["time"]))
            last = r["source_ip"]
    assert changes == derived
    assert any(after.startswith("198.51.100.") for _, after, _ in changes)  # the new address
    assert table.out.startswith(f"actor sup-004: {len(rows):,} events (1-{len(rows):,} shown), ")
    page = cli("actor", sample_case, "sup-004", "--limit", "5", "--offset", "10")
    # The header counts the actor's events, not the page's.
    assert page.out.startswith(f"actor sup-004: {len(rows):,} events (11-15 shown), ")
    past = cli("actor", sample_case, "sup-004", "--offset", str(len(rows)))
    assert past.code == 0 and f"(none shown past --offset {len(rows):,})" in past.out
    missing = cli("actor", sample_case, "nobody-at-all")
    # Exit 2, invalid input: exit 1 means tampered evidence.
    assert missing.code == 2 and "nobody-at-all" in missing.err


def test_trace_shows_the_span_tree_with_linked_logs(cli: Any, sample_case: Path) -> None:
    (export_span,) = all_events(
        cli, sample_case, "--filter", "kind:span AND actor_id:sup-004 AND action:EXPORT"
    )
    trace_id = export_span["trace_id"]
    members = all_events(cli, sample_case, "--filter", f"trace_id:{trace_id}")
    spans = {r["span_id"]: r for r in members if r["kind"] == "span"}
    rows = query(cli, "trace", sample_case, trace_id.upper())
    span_rows = [r for r in rows if r["type"] == "span"]
    assert sorted(r["span_id"] for r in span_rows) == sorted(spans)
    depth = {r["span_id"]: r["depth"] for r in span_rows}
    for r in span_rows:
        parent = r["parent_span_id"]
        if parent in spans:
            assert depth[r["span_id"]] == depth[parent] + 1
        else:
            assert depth[r["span_id"]] == 0
    # Every log of the trace that names one of its spans sits right under that span's subtree.
    linked = [r for r in members if r["kind"] != "span" and r["span_id"] in spans]
    log_rows = [r for r in rows if r["type"] == "log"]
    assert len(log_rows) == len([r for r in members if r["kind"] != "span"])
    for log in linked:
        place = next(
            i for i, r in enumerate(rows) if r["type"] == "log" and r["span_id"] == log["span_id"]
        )
        owner = max(
            i
            for i, r in enumerate(rows[:place])
            if r["type"] == "span" and r["span_id"] == log["span_id"]
        )
        assert rows[place]["depth"] == rows[owner]["depth"] + 1


def test_trace_marks_missing_parents_and_orphan_logs(cli: Any, tmp_path: Path) -> None:
    trace = json.loads((COMPAT / "trace.json").read_bytes())
    span = trace["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    logs = json.loads((COMPAT / "logs.json").read_bytes())
    record = logs["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    orphan = json.loads(json.dumps(logs))
    orphan_record = orphan["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    orphan_record["spanId"] = "00000000000000AA"
    orphan_record["body"] = {"stringValue": "from a span nobody exported"}
    extra = tmp_path / "orphan.json"
    extra.write_text(json.dumps(orphan))
    case = tmp_path / "case"
    assert cli("import", case, COMPAT / "trace.json", COMPAT / "logs.json", extra).code == 3

    rows = query(cli, "trace", case, span["traceId"])
    assert [(r["type"], r["depth"], r["span_id"]) for r in rows] == [
        ("span", 0, span["spanId"].lower()),
        ("log", 1, record["spanId"].lower()),
        ("log", 0, "00000000000000aa"),
    ]
    assert rows[0]["parent_span_id"] == span["parentSpanId"].lower()
    assert rows[0]["note"] == "parent missing"
    assert rows[2]["note"] == "span not in case"
    table = cli("trace", case, span["traceId"]).out
    assert "1 spans, 2 logs (1 orphan logs), 1 missing parent(s)" in table.splitlines()[0]
    assert "0 metric exemplar(s) from 0 data point(s)" in table.splitlines()[0]
    assert cli("trace", case, "f" * 32).code == 2  # invalid input; 1 means tampered


def test_stats_json_reports_kinds_verdicts_streams_and_time_span(
    cli: Any, sample_case: Path
) -> None:
    result = cli("stats", sample_case, "--json")
    assert result.code == 0
    stats = json.loads(result.out)
    events = all_events(cli, sample_case)
    by_kind: dict[str, int] = defaultdict(int)
    for e in events:
        by_kind[e["kind"]] += 1
    assert stats["events"] == len(events)
    assert stats["events_by_kind"] == dict(by_kind)
    assert stats["events_by_integrity"] == {"verified": len(events)}
    bundles = sorted(p for p in (SAMPLE / "bundles").glob("*/*"))
    assert stats["bundles_by_verdict"] == {"verified": len(bundles)}
    assert sorted(s["stream_id"] for s in stats["streams"]) == sorted(
        p.name for p in (SAMPLE / "bundles").iterdir()
    )
    assert stats["time_first"] == events[0]["time"]
    assert stats["time_last"] == max(events, key=lambda e: ns_of(e["time"]))["time"]
    text = cli("stats", sample_case)
    assert text.code == 0 and f"events: {len(events):,}" in text.out


def test_stats_of_a_case_without_events_says_so(cli: Any, tmp_path: Path) -> None:
    from auditlens.core.store.session import Examination

    case = tmp_path / "case"
    with Examination.open(case, origin="cli", create=True):
        pass
    text = cli("stats", case)
    assert text.code == 0
    assert "time span: - (no event with a time)" in text.out
    assert "None" not in text.out  # it used to print "time span: None .. None"
    assert json.loads(cli("stats", case, "--json").out)["time_first"] is None


def _duckdb_interrupted() -> BaseException:
    import duckdb

    # What Ctrl+C becomes when it lands while DuckDB reads an Arrow batch from Python (seen in
    # about one interrupted import in four of the 200,000-record sample).
    return duckdb.InvalidInputException(
        "Invalid Input Error: reading the object registered as '_batch' as Arrow data failed: "
        "KeyboardInterrupt: "
    )


def _rollback_after_interruption() -> BaseException:
    import duckdb

    # Ctrl+C just after an input's commit: its clean-up's rollback fails in DuckDB, and that
    # error (with the KeyboardInterrupt as its context) is what reaches the command.
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise duckdb.TransactionException(
                "TransactionContext Error: cannot rollback - no transaction is active"
            ) from None
    except duckdb.TransactionException as exc:
        exc.__context__ = KeyboardInterrupt()
        return exc


def _stored_after_interruption() -> BaseException:
    from auditlens.core.errors import StorageError

    # The importer wraps a DuckDB error as StorageError("the case database failed: ...").
    error = StorageError("the case database failed: no transaction is active", path="case")
    error.__cause__ = _rollback_after_interruption()
    return error


def _query_interrupted() -> BaseException:
    # DuckDB stops a query on SIGINT with RuntimeError("Query interrupted"); the journal's write
    # of an input's entry ended in a traceback so (exit 1).
    return RuntimeError("Query interrupted")


def _stored_after_query_interrupted() -> BaseException:
    import duckdb

    from auditlens.core.errors import StorageError

    rollback = duckdb.TransactionException("cannot rollback - no transaction is active")
    rollback.__context__ = _query_interrupted()
    error = StorageError("the case database failed: no transaction is active", path="case")
    error.__cause__ = rollback
    return error


@pytest.mark.parametrize(
    "interruption",
    [
        KeyboardInterrupt,
        _query_interrupted,
        _stored_after_query_interrupted,
        _duckdb_interrupted,
        _rollback_after_interruption,
        _stored_after_interruption,
    ],
)
def test_an_interrupted_import_says_what_the_case_keeps(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interruption: Any
) -> None:
    from auditlens.cli import case_commands

    raw = sorted((SAMPLE / "raw" / "audit").iterdir())
    case = tmp_path / "case"
    assert cli("import", case, raw[0]).code == 3
    real_drive = case_commands.drive

    def interrupted(job: Any, **kwargs: Any) -> Any:
        next(job)  # the import has started
        raise interruption()  # then Ctrl+C

    monkeypatch.setattr(case_commands, "drive", interrupted)
    result = cli("import", case, raw[1])
    assert result.code == 130
    # It used to print only "auditlens: interrupted", nothing about the case, or, inside DuckDB,
    # "the case database failed" with exit 2.
    assert "those committed stay in the case, one in progress left nothing" in result.err
    assert f"'auditlens stats {case}'" in result.err
    assert f"'auditlens journal verify {case}'" in result.err
    monkeypatch.setattr(case_commands, "drive", real_drive)
    assert cli("journal", "verify", case).code == 0
    assert json.loads(cli("stats", case, "--json").out)["inputs"] == 1


def test_query_commands_on_a_folder_that_is_not_a_case_exit_2(cli: Any, tmp_path: Path) -> None:
    for command in ("events", "actors", "stats"):
        result = cli(command, tmp_path / "nothing-here")
        assert result.code == 2
    assert not (tmp_path / "nothing-here").exists()


# --- the journal ---------------------------------------------------------------------------------


def test_the_journal_records_creation_imports_and_queries(cli: Any, tmp_path: Path) -> None:
    case = tmp_path / "case"
    raw = audit_lines(tmp_path / "audit.jsonl", 3)
    assert cli("import", case, raw).code == 3
    assert cli("import", case, AUDIT_BUNDLES[0], "--trust", SAMPLE_TRUST).code == 0
    commands = [
        ("events", "--filter", "action:READ"),
        ("actors",),
        ("actor", "agent-001"),
        ("trace", "0" * 32),
        ("histogram", "--bucket", "1h"),
        ("stats",),
    ]
    for command, *rest in commands:
        cli(command, case, *rest)

    entries = journal(case)
    actions = [e["action"] for e in entries]
    assert actions == ["case_created", "import", "import"] + ["query"] * len(commands)
    assert [e["index"] for e in entries] == list(range(len(entries)))
    first, second = journaled_inputs(entries)
    assert (first["sha256"], first["verdict"], first["kind"]) == (sha256(raw), "unsealed", "raw")
    assert (second["sha256"], second["verdict"]) == (folder_sha256(AUDIT_BUNDLES[0]), "verified")
    assert [e["details"]["command"] for e in entries[3:]] == [c[0] for c in commands]
    assert entries[3]["details"]["filter"] == "action:READ"

    verified = cli("journal", "verify", case)
    assert verified.code == 0, verified.out


def test_journal_verify_names_an_edited_entry(cli: Any, tmp_path: Path) -> None:
    case = tmp_path / "case"
    assert cli("import", case, audit_lines(tmp_path / "audit.jsonl", 3)).code == 3
    assert cli("stats", case).code == 0
    assert cli("journal", "verify", case).code == 0
    path = case / "journal.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    assert json.loads(lines[1])["action"] == "import"
    lines[1] = lines[1].replace('"events":3', '"events":30')  # the examiner's record, rewritten
    assert '"events":30' in lines[1]
    path.write_text("".join(lines))
    result = cli("journal", "verify", case)
    assert result.code == 1
    assert "line 2" in result.out and "entry 1" in result.out and "edited" in result.out


def test_journal_verify_detects_removed_last_entries(cli: Any, tmp_path: Path) -> None:
    case = tmp_path / "case"
    assert cli("import", case, audit_lines(tmp_path / "audit.jsonl", 3)).code == 3
    assert cli("stats", case).code == 0
    path = case / "journal.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))
    result = cli("journal", "verify", case)
    assert result.code == 1
    assert "truncated" in result.out
