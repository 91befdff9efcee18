"""The filter language through ``auditlens events`` on the sample case (issue 12).

Each query here returned 0 rows, silently, before: a case-folded id, an address block, a nested
attribute, a regular expression, lowercase operators; times typed in the filter and in
``--from``/``--to`` were read as UTC whatever ``--tz`` said.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest


def rows(cli: Any, case: Path, *args: str) -> list[dict[str, Any]]:
    result = cli("events", case, "--format", "jsonl", "--limit", "100000", *args)
    assert result.code == 0, result.err
    return [json.loads(line) for line in result.out.splitlines() if line.strip()]


def expected(case: Path, where: str) -> list[tuple[str, int]]:
    with duckdb.connect(str(case / "case.duckdb"), read_only=True) as db:
        found = db.execute(
            f"SELECT stream_id, seq FROM events WHERE {where} ORDER BY ord"
        ).fetchall()
    return [(s, int(q)) for s, q in found]


def keys(found: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(r["stream_id"], int(r["seq"])) for r in found]


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("actor_id:SUP-004", "actor_id = 'sup-004'"),
        ("source_ip:198.51.100.0/24", "source_ip LIKE '198.51.100.%'"),
        (
            "attributes.updated_data.roles:admin",
            "list_contains(json_extract_string(attributes, '$.updated_data.roles[*]'), 'admin')",
        ),
        ("actor_id:/^sup-00[4]$/", "actor_id = 'sup-004'"),
        (
            "actor_id:sup-004 and action:role_change",
            "actor_id = 'sup-004' AND action = 'ROLE_CHANGE'",
        ),
    ],
)
def test_the_issues_silent_zeros_now_find_their_events(
    cli: Any, sample_case: Path, query: str, where: str
) -> None:
    want = expected(sample_case, where)
    assert want, f"the sample has nothing for {where}"
    assert keys(rows(cli, sample_case, "--filter", query)) == want


def test_a_field_without_its_colon_is_a_usage_error_showing_it(cli: Any, sample_case: Path) -> None:
    result = cli("events", sample_case, "--filter", "actor_id sup-004")
    assert result.code == 2
    assert "did you mean actor_id:sup-004?" in result.err
    assert "positions 0-15" in result.err


def test_a_mistyped_operator_is_a_usage_error(cli: Any, sample_case: Path) -> None:
    result = cli("events", sample_case, "--filter", "actor_id:sup-004 ADN action:EXPORT")
    assert result.code == 2
    assert "mistyped AND" in result.err


def test_zero_rows_print_what_would_match_on_stderr(cli: Any, sample_case: Path) -> None:
    result = cli("events", sample_case, "--filter", "actor_id=SUP-004", "--format", "jsonl")
    assert result.code == 0
    assert result.out.strip() == ""
    count = len(expected(sample_case, "actor_id = 'sup-004'"))
    assert f"did you mean actor_id:SUP-004? ({count:,} events: ignoring case)" in result.err
    # Rows found: nothing on stderr.
    result = cli("events", sample_case, "--filter", "actor_id:SUP-004", "--format", "jsonl")
    assert result.out.strip() and "did you mean" not in result.err


def ns(text: str) -> int:
    moment = datetime.fromisoformat(text)
    return int(moment.timestamp()) * 1_000_000_000


def test_tz_applies_to_from_to_and_to_times_in_the_filter(cli: Any, sample_case: Path) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 2026-03-02 10:00 to 12:00 in Berlin (CET) is 09:00 to 11:00 UTC.
    low = ns(datetime(2026, 3, 2, 10, 0, tzinfo=berlin).isoformat())
    high = ns(datetime(2026, 3, 2, 12, 0, tzinfo=berlin).isoformat())
    want = expected(sample_case, f"time_ns >= {low} AND time_ns < {high}")
    assert want
    berlin_args = ("--tz", "Europe/Berlin")
    by_options = rows(
        cli, sample_case, *berlin_args, "--from", "2026-03-02T10:00", "--to", "2026-03-02T12:00"
    )
    by_filter = rows(
        cli, sample_case, *berlin_args, "--filter", "time:[2026-03-02T10:00 TO 2026-03-02T12:00}"
    )
    assert keys(by_options) == keys(by_filter) == want
    # The same text without --tz is UTC: another window.
    utc = rows(cli, sample_case, "--from", "2026-03-02T10:00", "--to", "2026-03-02T12:00")
    assert keys(utc) != want
    assert keys(utc) == expected(
        sample_case, f"time_ns >= {low + 3600 * 10**9} AND time_ns < {high + 3600 * 10**9}"
    )


def test_a_bad_from_time_is_a_usage_error(cli: Any, sample_case: Path) -> None:
    result = cli("events", sample_case, "--from", "yesterday")
    assert result.code == 2
    assert "--from" in result.err and "ISO-8601" in result.err
