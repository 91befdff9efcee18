"""Queries over a case: event pages in time order (at any offset, with filters and time bounds),
actors, one actor's timeline, trace assembly, histograms and stats.

Expected answers are derived from the records each test wrote (or, for the ~150k-record case,
from the generator in ``tests/conftest.py``), never from the query layer.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from auditlens.core.errors import QuerySyntaxError, UsageError
from auditlens.core.store import queries
from auditlens.core.store.case import Case
from auditlens.core.store.importer import import_inputs
from auditlens.core.verify.trust import TrustStore
from golden.make_golden import run

BLOCK = 65_536  # the ord block size the issue names: pages beyond it must still be right
MINUTE = 60_000_000_000
T0 = 1_772_445_600_000_000_000  # 2026-03-02T10:00:00Z


def imported(folder: Path, *paths: Path) -> Path:
    with Case.open(folder, create=True) as case:
        run(import_inputs(case, list(paths), TrustStore()))
    return folder


def page(folder: Path, query: queries.EventQuery, offset: int, limit: int) -> list[dict[str, Any]]:
    with Case.open(folder) as case:
        return queries.events_page(case, query, offset=offset, limit=limit)


def keys(rows: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(r["time_ns"], r["seq"]) for r in rows]


def attrs(**values: Any) -> list[dict[str, Any]]:
    out = []
    for key, value in values.items():
        if isinstance(value, list):
            any_value: dict[str, Any] = {
                "arrayValue": {"values": [{"stringValue": v} for v in value]}
            }
        else:
            any_value = {"stringValue": value}
        out.append({"key": key.replace("__", "."), "value": any_value})
    return out


def log_line(time_ns: int, body: str, service: str = "agent-desktop", **fields: Any) -> str:
    attributes = fields.pop("attributes", {})
    record = {"timeUnixNano": str(time_ns), "body": {"stringValue": body}, **fields}
    record["attributes"] = attrs(**attributes)
    return json.dumps(
        {
            "resourceLogs": [
                {
                    "resource": {"attributes": attrs(service__name=service)},
                    "scopeLogs": [{"scope": {"name": "cc.test"}, "logRecords": [record]}],
                }
            ]
        }
    )


def span_line(trace: str, span: str, parent: str | None, name: str, start: int) -> str:
    record: dict[str, Any] = {
        "traceId": trace,
        "spanId": span,
        "name": name,
        "kind": 2,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + 1_000),
    }
    if parent:
        record["parentSpanId"] = parent
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": attrs(service__name="routing-service")},
                    "scopeSpans": [{"scope": {"name": "cc.test"}, "spans": [record]}],
                }
            ]
        }
    )


# --- paging in time order ----------------------------------------------------------------------


def test_unfiltered_pages_follow_time_order_across_block_boundaries(big_case: Any) -> None:
    expected = [(t, line) for t, line, _, _ in big_case.rows]
    total = len(expected)
    assert total > 2 * BLOCK
    everything = queries.EventQuery()
    for start in (0, BLOCK - 7, 2 * BLOCK - 3, total - 4):
        first = page(big_case.folder, everything, start, 10)
        second = page(big_case.folder, everything, start + 10, 10)
        assert keys(first) == expected[start : start + 10]
        assert keys(second) == expected[start + 10 : start + 20]  # page k+1 continues page k
    assert page(big_case.folder, everything, total, 10) == []


def test_filtered_pages_follow_time_order_beyond_the_first_block(big_case: Any) -> None:
    ords = {(t, line): n for n, (t, line, _, _) in enumerate(big_case.rows)}
    matching = [(t, line) for t, line, action, _ in big_case.rows if action == "EXPORT"]
    query = queries.EventQuery("action:EXPORT")
    with Case.open(big_case.folder) as case:
        assert queries.count_events(case, query) == len(matching)
    # Offsets (in the filtered view) whose rows sit just before and after each block boundary.
    for boundary in (BLOCK, 2 * BLOCK):
        crossing = next(i for i, key in enumerate(matching) if ords[key] >= boundary)
        start = crossing - 3
        first = page(big_case.folder, query, start, 6)
        second = page(big_case.folder, query, start + 6, 6)
        assert keys(first) == matching[start : start + 6]
        assert keys(second) == matching[start + 6 : start + 12]
        assert {r["action"] for r in first + second} == {"EXPORT"}
    # The whole filtered view, page by page, is exactly the matching rows in time order.
    pages: list[tuple[int, int]] = []
    while len(pages) < len(matching):
        rows = page(big_case.folder, query, len(pages), 7_000)
        assert rows
        pages += keys(rows)
    assert pages == matching
    assert page(big_case.folder, query, len(matching), 5) == []


def test_time_bounds_page_consistently(big_case: Any) -> None:
    times = sorted({t for t, _, _, _ in big_case.rows})
    low = times[len(times) // 3]  # a record's exact time: included
    high = times[len(times) // 3 * 2] + 1  # between two records' times
    matching = [
        (t, line) for t, line, action, actor in big_case.rows if low <= t < high and actor == "u3"
    ]
    query = queries.EventQuery("actor_id:u3", time_from_ns=low, time_to_ns=high)
    with Case.open(big_case.folder) as case:
        assert queries.count_events(case, query) == len(matching)
    assert keys(page(big_case.folder, query, 0, 5)) == matching[:5]
    start = len(matching) - 8
    assert keys(page(big_case.folder, query, start, 5)) == matching[start : start + 5]
    assert keys(page(big_case.folder, query, start + 5, 5)) == matching[start + 5 :]


def test_bad_page_arguments_and_filters_are_refused(big_case: Any) -> None:
    with pytest.raises(UsageError):
        page(big_case.folder, queries.EventQuery(), -1, 10)
    with pytest.raises(UsageError):
        page(big_case.folder, queries.EventQuery(), 0, -1)
    with pytest.raises(QuerySyntaxError) as caught:
        page(big_case.folder, queries.EventQuery("action:(EXPORT"), 0, 10)
    assert caught.value.start == len("action:")


def test_histogram_counts_add_up_to_the_filtered_total(big_case: Any) -> None:
    expected = Counter(
        t // MINUTE * MINUTE for t, _, action, _ in big_case.rows if action != "READ"
    )
    query = queries.EventQuery("NOT action:READ")
    with Case.open(big_case.folder) as case:
        buckets = queries.histogram(case, MINUTE, query)
        total = queries.count_events(case, query)
    assert buckets == sorted(expected.items())
    assert sum(c for _, c in buckets) == total == sum(expected.values())


def test_bucket_sizes_parse_and_bad_ones_are_refused() -> None:
    assert queries.parse_bucket("1m") == MINUTE
    assert queries.parse_bucket("30s") == 30_000_000_000
    assert queries.parse_bucket("2h") == 120 * MINUTE
    assert queries.parse_bucket("1d") == 1440 * MINUTE
    for bad in ("", "m", "0m", "1x", "-1m", "1.5m"):
        with pytest.raises(UsageError):
            queries.parse_bucket(bad)


# --- time formatting ---------------------------------------------------------------------------


def test_times_are_rfc3339_with_nanoseconds_in_utc_or_the_given_zone() -> None:
    winter = T0 + 123_456_789  # 2026-03-02T10:00:00.123456789Z
    summer = winter + 120 * 86_400 * 1_000_000_000  # 2026-06-30
    assert queries.format_time(winter) == "2026-03-02T10:00:00.123456789Z"
    berlin = ZoneInfo("Europe/Berlin")
    for ns, offset in ((winter, "+01:00"), (summer, "+02:00")):
        local = datetime.fromtimestamp(ns // 1_000_000_000, UTC).astimezone(berlin)
        assert local.isoformat().endswith(offset)  # the zone's own rule, from zoneinfo
        expected = local.isoformat()[:19] + ".123456789" + offset
        assert queries.format_time(ns, queries.zone("Europe/Berlin")) == expected
    assert queries.zone("UTC") is None
    with pytest.raises(UsageError):
        queries.zone("Mars/Olympus_Mons")


# --- actors ------------------------------------------------------------------------------------

# (minute, actor, roles, session, address, action), written to the file out of time order.
ACTIVITY = [
    (4, "alice", ["agent"], "s2", "10.0.0.1", "EXPORT"),
    (0, "alice", ["agent"], "s1", "10.0.0.1", "LOGIN_SUCCESS"),
    (2, "alice", ["agent"], "s1", "10.0.0.2", "READ"),
    (1, "alice", ["agent"], "s1", "10.0.0.1", "READ"),
    (3, "alice", ["agent"], "s2", "10.0.0.2", "LOGIN_SUCCESS"),
    (5, "bob", ["supervisor"], "s9", "10.0.0.9", "MONITOR"),
    (6, "bob", ["supervisor", "admin"], "s9", "10.0.0.9", "ROLE_CHANGE"),
]


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("people")
    raw = root / "logs.jsonl"
    raw.write_text(
        "".join(
            log_line(
                T0 + minute * MINUTE,
                f"{action} by {actor}",
                attributes={
                    "user.id": actor,
                    "user.name": actor.title(),
                    "user.roles": roles,
                    "session.id": session,
                    "client.address": address,
                    "audit.action": action,
                },
            )
            + "\n"
            for minute, actor, roles, session, address, action in ACTIVITY
        )
    )
    return imported(root / "case", raw)


def test_actors_list_roles_counts_first_and_last_seen_addresses_and_actions(
    people: Path,
) -> None:
    with Case.open(people) as case:
        found = {a.actor_id: a for a in queries.actors(case)}
    assert set(found) == {"alice", "bob"}
    for actor_id, actor in found.items():
        mine = [a for a in ACTIVITY if a[1] == actor_id]
        assert actor.name == actor_id.title()
        assert actor.events == len(mine)
        assert actor.first_ns == T0 + min(a[0] for a in mine) * MINUTE
        assert actor.last_ns == T0 + max(a[0] for a in mine) * MINUTE
        assert actor.roles == sorted({r for a in mine for r in a[2]})
        assert actor.addresses == sorted({a[4] for a in mine})
        assert actor.actions == sorted({a[5] for a in mine})


def test_an_actor_timeline_gives_sessions_and_address_changes_in_time_order(
    people: Path,
) -> None:
    with Case.open(people) as case:
        timeline = queries.actor_timeline(case, "alice")
    mine = sorted(a for a in ACTIVITY if a[1] == "alice")
    assert [e["time_ns"] for e in timeline.events] == [T0 + a[0] * MINUTE for a in mine]
    assert [
        (s.session_id, s.first_ns, s.last_ns, sorted(s.addresses), s.events)
        for s in timeline.sessions
    ] == [
        ("s1", T0, T0 + 2 * MINUTE, ["10.0.0.1", "10.0.0.2"], 3),
        ("s2", T0 + 3 * MINUTE, T0 + 4 * MINUTE, ["10.0.0.1", "10.0.0.2"], 2),
    ]
    assert timeline.address_changes == [
        (T0, None, "10.0.0.1"),
        (T0 + 2 * MINUTE, "10.0.0.1", "10.0.0.2"),
        (T0 + 4 * MINUTE, "10.0.0.2", "10.0.0.1"),
    ]
    with Case.open(people) as case:
        assert queries.actor_timeline(case, "nobody").events == []


# --- traces ------------------------------------------------------------------------------------

TRACE = "5B8EFFF798038103D269B633813FC60C"  # upper case in the input, as OTLP/JSON allows
ROOT, CHILD_A, CHILD_B, GRANDCHILD, ORPHAN, ABSENT = (
    f"{n:016X}" for n in (0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6)
)


@pytest.fixture(scope="module")
def trace_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("trace")
    spans = root / "spans.jsonl"
    spans.write_text(
        "\n".join(
            [
                span_line(TRACE, GRANDCHILD, CHILD_A, "db.query", T0 + 3_000),
                span_line(TRACE, ROOT, None, "POST /calls", T0),
                span_line(TRACE, CHILD_B, ROOT, "route", T0 + 2_000),
                span_line(TRACE, CHILD_A, ROOT, "lookup", T0 + 1_000),
                span_line(TRACE, ORPHAN, ABSENT, "late callback", T0 + 9_000),
                span_line("0" * 31 + "1", "00000000000000f1", None, "other trace", T0),
            ]
        )
        + "\n"
    )
    logs = root / "logs.jsonl"
    logs.write_text(
        "\n".join(
            [
                log_line(T0 + 1_500, "lookup done", traceId=TRACE, spanId=CHILD_A),
                log_line(T0 + 3_500, "query slow", traceId=TRACE, spanId=GRANDCHILD),
                log_line(T0 + 4_000, "span gone", traceId=TRACE, spanId="00000000000000ee"),
                log_line(T0 + 5_000, "no span", traceId=TRACE),
            ]
        )
        + "\n"
    )
    return imported(root / "case", spans, logs)


def test_a_trace_is_a_span_tree_with_logs_orphans_and_missing_parents(trace_case: Path) -> None:
    with Case.open(trace_case) as case:
        found = queries.trace(case, TRACE)  # looked up in any case
    assert found.trace_id == TRACE.lower()
    assert found.span_count == 5

    def shape(node: queries.SpanNode) -> Any:
        return (
            node.span["span_id"],
            node.missing_parent,
            [log["body"] for log in node.logs],
            sorted((shape(c) for c in node.children), key=str),
        )

    roots = sorted((shape(r) for r in found.roots), key=str)
    assert roots == sorted(
        [
            (
                ROOT.lower(),
                False,
                [],
                sorted(
                    [
                        (
                            CHILD_A.lower(),
                            False,
                            ["lookup done"],
                            [(GRANDCHILD.lower(), False, ["query slow"], [])],
                        ),
                        (CHILD_B.lower(), False, [], []),
                    ],
                    key=str,
                ),
            ),
            (ORPHAN.lower(), True, [], []),
        ],
        key=str,
    )
    assert found.missing_parents == [ABSENT.lower()]
    assert [log["body"] for log in found.orphan_logs] == ["span gone", "no span"]


def test_an_unknown_trace_is_empty(trace_case: Path) -> None:
    with Case.open(trace_case) as case:
        found = queries.trace(case, "f" * 32)
    assert (found.roots, found.orphan_logs, found.span_count) == ([], [], 0)


def test_every_trace_of_the_sample_reads_the_same_through_its_bounds_as_over_all_events(
    sample_case: Path,
) -> None:
    with Case.open(sample_case, read_only=True) as case:
        queries.refresh_order(case)
        assert queries._state(case).lookups  # the bounds serve trace look-ups
        traces = [t for (t,) in case.db.execute("SELECT trace_id FROM trace_bounds").fetchall()]
        direct_ids = case.db.execute(
            "SELECT count(DISTINCT trace_id) FROM events WHERE trace_id IS NOT NULL"
        ).fetchone()
        assert direct_ids is not None and len(traces) == direct_ids[0] > 100
        for trace_id in traces:
            rows = queries._trace_rows(case, trace_id)
            assert rows == queries._trace_rows_direct(case, trace_id)
            assert rows and {r["trace_id"] for r in rows} == {trace_id}
        assert queries._trace_rows(case, "f" * 32) == []


def test_a_read_only_case_without_trace_bounds_finds_traces_over_all_events(
    trace_case: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "case"
    shutil.copytree(trace_case, folder)
    with Case.open(folder) as case:
        queries.refresh_order(case)
        expected = queries.trace(case, TRACE)
        # Lookup tables out of date (no trace_bounds, another lookup version) in a case opened
        # read-only, where they cannot be rebuilt: the direct queries answer.
        case.db.execute("DROP TABLE trace_bounds")
        case.db.execute("UPDATE meta SET value = '2' WHERE key = 'lookup_version'")
    with Case.open(folder, read_only=True) as case:
        assert queries.needs_refresh(case)
        found = queries.trace(case, TRACE)
        assert not queries._has_table(case, "trace_bounds")
    assert found == expected
    assert found.span_count == 5


# --- stats -------------------------------------------------------------------------------------


def test_stats_count_events_by_kind_and_integrity_and_give_the_time_span(
    trace_case: Path,
) -> None:
    with Case.open(trace_case) as case:
        found = queries.stats(case)
    assert found["events"] == 10
    assert found["events_by_kind"] == {"log": 4, "span": 6}
    assert found["events_by_integrity"] == {"unsealed": 10}
    assert found["inputs"] == 2
    assert (found["time_first_ns"], found["time_last_ns"]) == (T0, T0 + 9_000)
    assert found["bundles_by_verdict"] == {}


def test_stats_of_the_sample_case_list_streams_and_bundles(sample_case: Path) -> None:
    from auditlens.core.resources import sample_case_dir
    from golden.make_golden import manifest_of

    manifests = [manifest_of(p) for p in sorted((sample_case_dir() / "bundles").glob("*/*"))]
    with Case.open(sample_case) as case:
        found = queries.stats(case)
    assert found["events"] == sum(int(m["records"]["count"]) for m in manifests)
    assert found["bundles_by_verdict"] == {"verified": len(manifests)}
    kinds = {"cc-prod.audit": "audit", "cc-prod.otel-logs": "log", "cc-prod.otel-traces": "span"}
    by_kind: Counter[str] = Counter()
    for m in manifests:
        by_kind[kinds[m["stream"]["id"]]] += int(m["records"]["count"])
    assert found["events_by_kind"] == dict(by_kind)
    streams = sorted({m["stream"]["id"] for m in manifests})
    assert [s["stream_id"] for s in found["streams"]] == streams
    for stream in found["streams"]:
        mine = [m for m in manifests if m["stream"]["id"] == stream["stream_id"]]
        assert stream["bundles"] == len(mine)
        assert stream["first_seq"] == min(int(m["records"]["first_seq"]) for m in mine)
        assert stream["last_seq"] == max(int(m["records"]["last_seq"]) for m in mine)
    assert found["time_first_ns"] == min(int(m["time"]["first_ns"]) for m in manifests)
    assert found["time_last_ns"] == max(int(m["time"]["last_ns"]) for m in manifests)


def test_histogram_accounts_for_events_without_a_time(tmp_path: Path) -> None:
    raw = tmp_path / "logs.jsonl"
    # An OTLP log record may carry neither timeUnixNano nor observedTimeUnixNano (0 = unknown).
    untimed = json.loads(log_line(T0, "no time"))
    del untimed["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["timeUnixNano"]
    raw.write_text(json.dumps(untimed) + "\n" + log_line(T0, "timed") + "\n")
    case = imported(tmp_path / "case", raw)
    with Case.open(case) as opened:
        total = queries.count_events(opened, queries.EventQuery())
        buckets = queries.histogram(opened, MINUTE)
    assert total == 2
    assert sum(c for _, c in buckets) == total


def ns(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp()) * 1_000_000_000


def test_histogram_buckets_in_a_zone_follow_its_clock_across_a_dst_change(tmp_path: Path) -> None:
    # New York: EST (-05:00) until 2026-03-08T07:00Z, then EDT (-04:00): that local day has
    # 23 hours. Day buckets in the zone used to be UTC days, labelled 19:00 the day before.
    times = [
        "2026-03-07T23:30:00-05:00",  # Mar 7 local, Mar 8 in UTC
        "2026-03-08T00:30:00-05:00",
        "2026-03-08T01:59:59-05:00",  # the last second before the change
        "2026-03-08T03:00:00-04:00",  # the first after it
        "2026-03-08T23:30:00-04:00",  # still Mar 8 local: the 23-hour day's last half hour
        "2026-03-09T00:30:00-04:00",
    ]
    raw = tmp_path / "logs.jsonl"
    raw.write_text("".join(log_line(ns(t), f"event {i}") + "\n" for i, t in enumerate(times)))
    folder = imported(tmp_path / "case", raw)
    tz = ZoneInfo("America/New_York")
    day, hour = 1440 * MINUTE, 60 * MINUTE
    with Case.open(folder) as case:
        query = queries.EventQuery(tz=tz)
        assert queries.histogram(case, day, query) == [
            (ns("2026-03-07T00:00:00-05:00"), 1),
            (ns("2026-03-08T00:00:00-05:00"), 4),
            (ns("2026-03-09T00:00:00-04:00"), 1),
        ]
        # The same through a filter (the direct query, not the per-minute counts).
        assert queries.histogram(case, day, queries.EventQuery("event", tz=tz)) == [
            (ns("2026-03-07T00:00:00-05:00"), 1),
            (ns("2026-03-08T00:00:00-05:00"), 4),
            (ns("2026-03-09T00:00:00-04:00"), 1),
        ]
        hours = queries.histogram(case, hour, query)
        assert (ns("2026-03-08T01:00:00-05:00"), 1) in hours
        assert (ns("2026-03-08T03:00:00-04:00"), 1) in hours  # 02:00 local never was
        # UTC stays as it was: buckets from midnight UTC.
        assert queries.histogram(case, day) == [
            (ns("2026-03-08T00:00:00+00:00"), 4),
            (ns("2026-03-09T00:00:00+00:00"), 2),
        ]
        kolkata = queries.histogram(case, day, queries.EventQuery(tz=ZoneInfo("Asia/Kolkata")))
        assert kolkata == [
            (ns("2026-03-08T00:00:00+05:30"), 4),
            (ns("2026-03-09T00:00:00+05:30"), 2),
        ]


def test_histogram_in_a_zone_keeps_the_repeated_hour_of_a_change_back_apart(
    tmp_path: Path,
) -> None:
    # New York falls back at 2026-11-01T06:00Z (02:00 EDT -> 01:00 EST): 01:00-02:00 local
    # happens twice. An event every ten minutes: each hour bucket holds six, the 25-hour day all.
    # The second 01:00 hour's events were counted in the first, and 06:00-07:00Z was left empty.
    first = ns("2026-11-01T03:00:00+00:00") + 123_456_789
    raw = tmp_path / "logs.jsonl"
    raw.write_text(
        "".join(log_line(first + i * 600_000_000_000, f"event {i}") + "\n" for i in range(36))
    )
    folder = imported(tmp_path / "case", raw)
    tz = ZoneInfo("America/New_York")
    hour, day = 60 * MINUTE, 1440 * MINUTE
    expected = [
        (ns("2026-10-31T23:00:00-04:00"), 6),
        (ns("2026-11-01T00:00:00-04:00"), 6),
        (ns("2026-11-01T01:00:00-04:00"), 6),
        (ns("2026-11-01T01:00:00-05:00"), 6),  # the same wall-clock hour, an hour later
        (ns("2026-11-01T02:00:00-05:00"), 6),
        (ns("2026-11-01T03:00:00-05:00"), 6),
    ]
    with Case.open(folder) as case:
        # From the per-minute counts, and through a filter (the direct query).
        assert queries.histogram(case, hour, queries.EventQuery(tz=tz)) == expected
        assert queries.histogram(case, hour, queries.EventQuery("event", tz=tz)) == expected
        assert queries.histogram(case, day, queries.EventQuery("event", tz=tz)) == [
            (ns("2026-10-31T00:00:00-04:00"), 6),
            (ns("2026-11-01T00:00:00-04:00"), 30),
        ]


def test_offset_stretches_find_each_change_to_the_second() -> None:
    tz = ZoneInfo("Europe/Berlin")
    lo, hi = ns("2026-01-01T00:00:00+00:00"), ns("2026-12-31T00:00:00+00:00")
    assert queries.offset_stretches(tz, lo, hi) == [
        (lo, 3600 * 1_000_000_000),
        (ns("2026-03-29T01:00:00+00:00"), 7200 * 1_000_000_000),
        (ns("2026-10-25T01:00:00+00:00"), 3600 * 1_000_000_000),
    ]


def test_an_empty_filter_is_recognised_as_every_event():
    from auditlens.core.store.queries import EventQuery

    assert EventQuery().where() == ("TRUE", [])
    assert EventQuery("", 5, None).where() == ("time_ns >= ?", [5])


# --- lookup tables (refresh_order) against the events they summarise ---------------------------

ACTORS = ("ann", "ben", "cid")


def activity_file(path: Path, part: int, count: int = 120) -> list[tuple[Any, ...]]:
    """Write ``count`` audit-like log records (times interleaving with the other parts, unique)
    plus one record without a time; return ``(time_ns, actor, session, address, action)``."""
    records: list[tuple[Any, ...]] = []
    lines = []
    for i in range(count):
        n = i * 3 + part  # parts 0, 1, 2 interleave in time
        time_ns = T0 + (n * 7_919 % 997) * 13_000_000_003 + n  # spread over ~3.6 h, unique
        actor = ACTORS[(n // 2) % 3]
        session = None if n % 9 == 0 else f"s{n // 20}"
        address = None if n % 7 == 0 else f"10.0.{part}.{n % 4}"
        action = ("READ", "EXPORT", "LOGIN_SUCCESS")[n // 3 % 3]
        attributes = {"user.id": actor, "audit.action": action}
        if session:
            attributes["session.id"] = session
        if address:
            attributes["client.address"] = address
        records.append((time_ns, actor, session, address, action))
        lines.append(log_line(time_ns, f"{action} by {actor}", attributes=attributes))
    untimed = json.loads(log_line(T0, f"untimed {part}"))
    del untimed["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["timeUnixNano"]
    lines.append(json.dumps(untimed))
    records.append((None, None, None, None, None))
    path.write_text("\n".join(lines) + "\n")
    return records


def expected_histogram(records: list[tuple[Any, ...]], bucket: int) -> list[tuple[Any, int]]:
    counts = Counter(None if r[0] is None else r[0] // bucket * bucket for r in records)
    return (
        [(None, counts.pop(None)), *sorted(counts.items())]
        if None in counts
        else sorted(counts.items())
    )


def expected_timeline(records: list[tuple[Any, ...]], actor: str) -> tuple[Any, Any, Any]:
    mine = sorted(r for r in records if r[1] == actor)
    sessions: dict[str, list[tuple[Any, ...]]] = {}
    for r in mine:
        if r[2] is not None:
            sessions.setdefault(r[2], []).append(r)
    expected_sessions = sorted(
        (
            s,
            min(r[0] for r in rs),
            max(r[0] for r in rs),
            sorted({r[3] for r in rs} - {None}),
            len(rs),
        )
        for s, rs in sessions.items()
    )
    expected_sessions.sort(key=lambda s: (s[1], s[0]))
    changes = []
    previous = None
    for r in mine:
        if r[3] is not None and r[3] != previous:
            changes.append((r[0], previous, r[3]))
        if r[3] is not None:
            previous = r[3]
    return [r[0] for r in mine], expected_sessions, changes


def timeline_shape(timeline: queries.ActorTimeline) -> tuple[Any, Any, Any]:
    return (
        [e["time_ns"] for e in timeline.events],
        [(s.session_id, s.first_ns, s.last_ns, s.addresses, s.events) for s in timeline.sessions],
        timeline.address_changes,
    )


def test_lookup_tables_follow_every_import(tmp_path: Path) -> None:
    folder = tmp_path / "case"
    records: list[tuple[Any, ...]] = []
    for part in range(3):
        raw = tmp_path / f"part{part}.jsonl"
        records += activity_file(raw, part)
        with Case.open(folder, create=True) as case:
            run(import_inputs(case, [raw], TrustStore()))
            queries.refresh_order(case)  # what the CLI and the GUI run after each import
        with Case.open(folder) as case:
            for bucket in (MINUTE, 5 * MINUTE, 60 * MINUTE, 90_000_000_000):
                assert queries.histogram(case, bucket) == expected_histogram(records, bucket)
            for actor in ACTORS:
                found = queries.actor_timeline(case, actor)
                assert timeline_shape(found) == expected_timeline(records, actor)
                # The stored tables give what the query over the events gives.
                direct = queries._actor_timeline_direct(case, actor, 1000, 0)
                assert timeline_shape(found) == timeline_shape(direct)
                assert found.events == direct.events
            listed = {a.actor_id: a.events for a in queries.actors(case)}
            assert listed == Counter(r[1] for r in records if r[1])


def test_a_read_only_case_without_lookup_tables_is_answered_from_the_events(
    tmp_path: Path,
) -> None:
    raw = tmp_path / "part.jsonl"
    records = activity_file(raw, 0)
    folder = imported(tmp_path / "case", raw)
    with Case.open(folder) as case:
        queries.refresh_order(case)
        # A case ordered by an older release: ord is current, the newer lookup tables are not.
        case.db.execute("DROP TABLE minute_counts")
        case.db.execute("DROP TABLE actor_blocks")
        case.db.execute("DELETE FROM meta WHERE key = 'lookup_version'")
    with Case.open(folder, read_only=True) as case:
        assert queries.histogram(case, MINUTE) == expected_histogram(records, MINUTE)
        for actor in ACTORS:
            found = queries.actor_timeline(case, actor)
            assert timeline_shape(found) == expected_timeline(records, actor)
        assert not queries._has_table(case, "minute_counts")  # nothing written
        assert queries.needs_refresh(case)
    with Case.open(folder) as case:
        queries.refresh_order(case)  # opened for writing: rebuilt
        assert not queries.needs_refresh(case)
        assert queries._has_table(case, "minute_counts")
        assert queries.histogram(case, MINUTE) == expected_histogram(records, MINUTE)


def test_an_actor_timeline_pages_across_blocks(big_case: Any) -> None:
    ords = {(t, line): n for n, (t, line, _, _) in enumerate(big_case.rows)}
    mine = [(t, line) for t, line, _, actor in big_case.rows if actor == "u3"]
    crossing = next(i for i, key in enumerate(mine) if ords[key] >= BLOCK)
    with Case.open(big_case.folder) as case:
        for offset, limit in (
            (0, 10),
            (crossing - 3, 6),
            (crossing - 100, 5_000),
            (len(mine) - 4, 10),
        ):
            found = queries.actor_timeline(case, "u3", offset=offset, limit=limit)
            assert keys(found.events) == mine[offset : offset + limit]
            direct = queries._actor_timeline_direct(case, "u3", limit, offset)
            assert found.events == direct.events
            # Every page knows the actor's whole count, whichever path read it.
            assert found.total == direct.total == len(mine)
        past = queries.actor_timeline(case, "u3", offset=len(mine))
        assert past.events == [] and past.total == len(mine)
        assert queries.actor_timeline(case, "nobody", limit=10).total == 0
        assert queries.actor_timeline(case, "u3", limit=0).events == []


def test_counts_kept_per_filter_are_dropped_when_events_are_added(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    records = activity_file(first, 0)
    added = activity_file(second, 1)
    folder = imported(tmp_path / "case", first)
    query = queries.EventQuery("action:EXPORT")

    def exports(rows: list[tuple[Any, ...]]) -> list[int]:
        return sorted(r[0] for r in rows if r[4] == "EXPORT")

    with Case.open(folder) as case:
        view = queries.EventView(case, query)  # counts kept for this filter
        assert view.count == len(exports(records))
        deep = len(exports(records)) - 5
        page_rows = queries.events_page(case, query, offset=deep, limit=10)
        assert [r["time_ns"] for r in page_rows] == exports(records)[deep:]
        run(import_inputs(case, [second], TrustStore()))
        assert queries.needs_refresh(case)  # new events have no order yet
        both = exports(records + added)
        assert queries.count_events(case, query) == len(both)
        page_rows = queries.events_page(case, query, offset=deep, limit=10)
        assert [r["time_ns"] for r in page_rows] == both[deep : deep + 10]
        assert queries.EventView(case, query).count == len(both)


def test_a_view_of_every_event_counts_and_pages_by_position(big_case: Any) -> None:
    expected = [(t, line) for t, line, _, _ in big_case.rows]
    with Case.open(big_case.folder) as case:
        view = queries.EventView(case, queries.EventQuery())
        assert view.count == len(expected)
        assert sum(c for _, c in view.blocks) == len(expected)
        for start in (0, BLOCK - 3, 2 * BLOCK - 1, len(expected) - 2):
            assert keys(view.rows(start, 6)) == expected[start : start + 6]
        filtered = queries.EventView(case, queries.EventQuery("actor_id:u1"))
        mine = [(t, line) for t, line, _, actor in big_case.rows if actor == "u1"]
        assert filtered.count == len(mine)
        for start in (0, len(mine) // 2, len(mine) - 3):
            assert keys(filtered.rows(start, 6)) == mine[start : start + 6]


def test_every_event_gets_its_time_order_position_when_the_sort_runs_in_parallel(
    big_case: Any, tmp_path: Path
) -> None:
    """``ord`` is each row's position in the sorted order, read from where an ordered query
    stored it: with several DuckDB threads sorting, it must still be exactly the time order."""
    folder = tmp_path / "case"
    shutil.copytree(big_case.folder, folder)
    expected = [(t, line) for t, line, _, _ in big_case.rows]
    with Case.open(folder) as case:
        case.db.execute("SET threads = 4")
        queries.refresh_order(case, force=True)
        stored = case.db.execute("SELECT time_ns, seq, ord FROM events").fetchall()
    positions = sorted(o for _, _, o in stored)
    assert positions == list(range(len(expected)))
    assert [(t, seq) for t, seq, _ in sorted(stored, key=lambda row: row[2])] == expected


def test_events_at_the_same_time_are_ordered_by_stream_name_then_sequence(tmp_path: Path) -> None:
    """``ord``: time, then the stream's name, sequence number and input (sorted by a rank of
    the stream names rather than the names themselves: the order must be the same)."""
    folder = tmp_path / "case"
    names = ["zulu.jsonl", "alpha.jsonl", "äther.jsonl", "Mike.jsonl", "bravo.jsonl"]
    expected = []
    for index, name in enumerate(names):
        lines = []
        for i in range(6):
            time_ns = None if i == 5 else T0 + (i % 3) * 1_000  # ties within and across files
            line = json.loads(log_line(T0, f"{name} {i}"))
            record = line["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
            if time_ns is None:
                del record["timeUnixNano"]
            else:
                record["timeUnixNano"] = str(time_ns)
            lines.append(json.dumps(line))
            expected.append((time_ns, f"raw:{name}", i + 1, index + 1))
        (tmp_path / name).write_text("\n".join(lines) + "\n")
        with Case.open(folder, create=True) as case:
            run(import_inputs(case, [tmp_path / name], TrustStore()))
            queries.refresh_order(case)
    expected.sort(key=lambda e: (e[0] is not None, e[0] or 0, e[1], e[2], e[3]))
    with Case.open(folder) as case:
        stored = case.db.execute(
            "SELECT time_ns, stream_id, seq, input_id FROM events ORDER BY ord"
        ).fetchall()
        assert [
            o for (o,) in case.db.execute("SELECT ord FROM events ORDER BY ord").fetchall()
        ] == list(range(len(expected)))
    assert stored == expected
