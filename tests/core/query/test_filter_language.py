"""The filter language: parsing, precedence, SQL executed on a real DuckDB table, errors."""

from __future__ import annotations

import calendar
import fnmatch
import ipaddress
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditlens.core.errors import InvalidInputError, QuerySyntaxError
from auditlens.core.query import (
    And,
    Attribute,
    Between,
    Column,
    Exists,
    Match,
    MatchAll,
    Not,
    Or,
    Regex,
    TextSearch,
    Wildcard,
    compile_filter,
    filter_sql,
    parse,
)
from auditlens.core.query import parser as query_parser
from auditlens.core.query.parser import Hint, HintKind, analyse
from auditlens.core.schema import FIELD_NAMES, FIELDS


def ns(iso: str, fraction_ns: int = 0) -> int:
    """Unix ns of a UTC ``YYYY-MM-DDTHH:MM:SS``, computed independently of the parser."""
    moment = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S")
    return calendar.timegm(moment.timetuple()) * 10**9 + fraction_ns


TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"

ROWS: list[dict[str, object]] = [
    {
        "seq": 1,
        "time_ns": ns("2026-03-01T00:00:00"),
        "kind": "audit",
        "actor_id": "alice",
        "action": "EXPORT",
        "outcome": "success",
        "resource_type": "recording",
        "resource_id": "rec-001",
        "source_ip": "10.0.0.1",
        "body": "Exported recording rec-001",
        "severity": "INFO",
        "integrity": "verified",
        "attributes": {"tenant.id": "acme", "http.status_code": 200},
    },
    {
        "seq": 2,
        "time_ns": ns("2026-03-01T00:00:00", 1),
        "kind": "audit",
        "actor_id": "alice",
        "action": "DELETE",
        "outcome": "failure",
        "resource_id": "rec-002",
        "body": "access denied for alice",
        "severity": "WARN",
        "integrity": "verified",
        "attributes": {"tenant.id": "acme", "http.status_code": 403},
    },
    {
        "seq": 3,
        "time_ns": ns("2026-03-01T00:00:00", 2),
        "kind": "audit",
        "actor_id": "bob",
        "action": "Export",
        "outcome": "success",
        "resource_id": "rec_100%",
        "body": "password reset 100% done",
        "integrity": "tampered",
        # A nested "tenant" object as well as the flat dotted key: lookups must take the flat key.
        "attributes": {"tenant.id": "globex", "tenant": {"id": "nested"}},
    },
    {
        "seq": 4,
        "time_ns": ns("2026-03-01T12:00:00"),
        "kind": "span",
        "name": "call answered",
        "duration_ns": 1_500_000_000,
        "trace_id": TRACE,
        "resource_id": "x100y",
        "source_ip": "2001:db8::1",
        "attributes": {"http.status_code": "500"},
    },
    {
        "seq": 5,
        "time_ns": ns("2026-03-02T00:00:00"),
        "kind": "span",
        "name": "Call Answered",
        "duration_ns": 999_999,
        "actor_id": "carol",
        "source_ip": "10.0.0.2",
        "body": "",
        "severity": "ERROR",
        "attributes": {},
    },
    {
        "seq": 6,
        "time_ns": ns("2026-03-02T00:00:00", 1),
        "kind": "log",
        "actor_id": "x' OR 1=1 --",
        "action": "LOGIN_SUCCESS",
        "resource_id": "rec-\\x",
        "body": "Password: hunter2",
        "attributes": None,
    },
    {
        "seq": 7,
        "time_ns": ns("2026-02-28T23:59:59", 999_999_999),
        "kind": "log",
        "actor_id": "Alice",
        "action": "EXPORT",
        "outcome": "SUCCESS",
        "body": "why? because",
        "attributes": {'quote"key': "q", "a/b": "slash"},
    },
    {
        "seq": 8,
        "time_ns": ns("2026-03-03T00:00:00"),
        "kind": "audit",
        "actor_id": "alice2",
        "resource_id": "rec-1",
        "body": "wildcard * literal",
        "attributes": {"http.status_code": 60},
    },
]
ROWS += [
    {
        "seq": 9,
        "time_ns": ns("2026-03-03T08:00:00"),
        "kind": "audit",
        "actor_id": "sup-004",
        "action": "UPDATE",
        "source_ip": "198.51.100.23",
        "body": "roles changed",
        # The audit logger's nested object, with a list.
        "attributes": {"updated_data": {"roles": ["Admin", "agent"], "previous_roles": ["agent"]}},
    },
    {
        "seq": 10,
        "time_ns": ns("2026-03-03T09:00:00"),
        "kind": "log",
        "actor_id": "REC-9",
        "resource_id": "REC-77",
        "source_ip": "2001:DB8:0:0::7",
        "attributes": {"client.address": "198.51.100.200", "user.roles": ["supervisor"]},
    },
    {
        "seq": 11,
        "time_ns": ns("2026-03-03T10:00:00"),
        "kind": "audit",
        "actor_id": "sup-005",
        "source_ip": "198.51.101.1",
        "attributes": {"updated_data": {"roles": "admin"}, "client.address": "2001:db9::1"},
    },
    {
        "seq": 12,
        "time_ns": ns("2026-03-03T11:00:00"),
        "kind": "log",
        "source_ip": "fe80::1%eth0",
        "body": "GET /api/v1/users status=500 and done",
        "attributes": {"updated_data": None, "client.address": "not-an-ip"},
    },
]
for _row in ROWS:
    _row["line"] = int(str(_row["seq"])) * 10
ALL = {r["seq"] for r in ROWS}


def attrs(row: dict[str, object]) -> dict[str, object]:
    value = row.get("attributes")
    return value if isinstance(value, dict) else {}


def text(row: dict[str, object], column: str) -> str:
    value = row.get(column)
    return value if isinstance(value, str) else ""


@pytest.fixture(scope="module")
def conn():
    connection = duckdb.connect()
    columns = ", ".join(f'"{f.name}" {f.sql}' for f in FIELDS)
    connection.execute(f"CREATE TABLE events ({columns})")
    placeholders = ", ".join("?" for _ in FIELDS)
    for row in ROWS:
        values = []
        for field in FIELDS:
            value = row.get(field.name)
            if field.name == "attributes" and value is not None:
                value = json.dumps(value)
            if field.name == "leaf_hash":
                value = bytes(32)
            values.append(value)
        connection.execute(f"INSERT INTO events VALUES ({placeholders})", values)
    yield connection
    connection.close()


def rows_matching(conn, query: str) -> set[object]:
    sql, params = filter_sql(query)
    result = conn.execute(f"SELECT seq FROM events WHERE {sql}", params).fetchall()
    return {seq for (seq,) in result}


def expect(conn, query: str, predicate) -> None:
    """The query selects exactly the rows the Python predicate selects, and discriminates."""
    expected = {r["seq"] for r in ROWS if predicate(r)}
    assert expected, f"the test rows give {query!r} nothing to find"
    assert expected != ALL, f"the test rows give {query!r} nothing to reject"
    assert rows_matching(conn, query) == expected


# --- parsing and precedence ----------------------------------------------------------------------


def body(word: str) -> TextSearch:
    return TextSearch(f"%{word}%")


def test_precedence_not_over_and_over_or():
    assert parse("a OR b AND c") == Or((body("a"), And((body("b"), body("c")))))
    assert parse("a AND b OR c") == Or((And((body("a"), body("b"))), body("c")))
    assert parse("NOT a AND b") == And((Not(body("a")), body("b")))
    assert parse("NOT a OR b") == Or((Not(body("a")), body("b")))
    assert parse("(a OR b) c") == And((Or((body("a"), body("b"))), body("c")))
    assert parse("NOT (a OR b)") == Not(Or((body("a"), body("b"))))


def test_implicit_and_and_prefix_operators():
    assert parse("a b") == parse("a AND b") == And((body("a"), body("b")))
    assert parse("a b OR c") == Or((And((body("a"), body("b"))), body("c")))
    assert parse("-a b") == And((Not(body("a")), body("b")))
    assert parse("+a -b") == And((body("a"), Not(body("b"))))
    assert parse("-(a b)") == Not(And((body("a"), body("b"))))
    assert parse('-"a b"') == Not(body("a b"))
    assert parse("NOT NOT a") == Not(Not(body("a")))
    assert parse("a-b") == body("a-b")


def test_keywords_in_any_case_are_operators_unless_quoted():
    # Issue 12: `a and b` searched the body for "and" too, a silent zero.
    assert parse("a and b") == parse("a AND b") == And((body("a"), body("b")))
    assert parse("a or b") == parse("a Or b") == Or((body("a"), body("b")))
    assert parse("not a") == parse("nOt a") == Not(body("a"))
    assert parse("seq:[1 to 5]") == parse("seq:[1 TO 5]") == Between(Column("seq"), 1, 5)
    assert parse('a "AND" b') == And((body("a"), body("AND"), body("b")))
    assert parse(r"a \and b") == And((body("a"), body("and"), body("b")))
    assert parse("TO") == body("TO")  # outside a range TO is a word
    assert parse("to") == body("to")
    assert parse("android notes") == And((body("android"), body("notes")))
    with pytest.raises(QuerySyntaxError, match=r'needs a term on its left .*quotes: "and"'):
        parse("and")


def test_the_issue_example_parses_to_the_expected_tree():
    tree = parse("actor_id:alice AND action:(EXPORT OR DELETE) AND NOT outcome:success")
    assert tree == And(
        (
            Match(Column("actor_id"), "alice"),
            Or((Match(Column("action"), "EXPORT"), Match(Column("action"), "DELETE"))),
            Not(Match(Column("outcome"), "success")),
        )
    )


def test_field_groups_apply_the_field_to_every_value():
    assert parse("action:(EXPORT -DELETE)") == And(
        (Match(Column("action"), "EXPORT"), Not(Match(Column("action"), "DELETE")))
    )
    assert parse("seq:(>5 OR 1)") == Or(
        (Between(Column("seq"), 5, None, include_low=False), Match(Column("seq"), 1))
    )


def test_aliases_and_field_name_case():
    assert (
        parse("actor:x") == parse("user:x") == parse("ACTOR_ID:x") == Match(Column("actor_id"), "x")
    )
    assert parse("ip:x") == Match(Column("source_ip"), "x")
    assert parse("duration:5") == Match(Column("duration_ns"), 5)
    assert parse("time:*") == Exists(Column("time_ns"))


def test_every_alias_and_special_column_is_in_the_schema():
    names = set(FIELD_NAMES)
    assert set(query_parser.ALIASES.values()) <= names
    assert set(query_parser.FIELD_INFO) <= names
    for group in (
        query_parser.TIME_COLUMNS,
        query_parser.LOWER_CASE_COLUMNS,
        query_parser.HEX_ID_COLUMNS,
        query_parser.ADDRESS_COLUMNS,
        query_parser.SUBSTRING_COLUMNS,
        query_parser.DURATION_COLUMNS,
    ):
        assert group <= set(query_parser.FIELD_INFO)
    assert "leaf_hash" not in query_parser.FIELD_INFO  # not filterable in the schema


def test_quoted_values_and_escapes():
    assert parse(r'name:"say \"hi\" \\ now"') == Match(Column("name"), 'say "hi" \\ now')
    assert parse('name:"a*b?"') == Match(Column("name"), "a*b?")  # quotes: never wildcards
    assert parse(r"resource_id:rec\*1") == Match(Column("resource_id"), "rec*1")
    assert parse(r"a\:b") == body("a:b")
    assert parse(r"name:a\ b") == Match(Column("name"), "a b")
    assert parse("actor_id: alice") == Match(Column("actor_id"), "alice")


def test_wildcards_become_escaped_like_patterns():
    assert parse("resource_id:rec-*") == Wildcard(Column("resource_id"), "rec-%")
    assert parse("resource_id:a?b") == Wildcard(Column("resource_id"), "a_b")
    assert parse("resource_id:5%_*") == Wildcard(Column("resource_id"), "5\\%\\_%")
    assert parse(r"resource_id:a\\*") == Wildcard(Column("resource_id"), "a\\\\%")
    assert parse("pass*") == TextSearch("%pass%%")


def test_empty_query_and_bare_star_match_everything():
    assert parse("") == parse("   \t") == parse("*") == MatchAll()
    assert compile_filter(MatchAll()) == ("TRUE", [])


def test_attribute_keys_are_flat_and_case_sensitive():
    assert parse("attributes.tenant.id:acme") == Match(Attribute("tenant.id"), "acme")
    assert parse("Attributes.tenantId:acme") == Match(Attribute("tenantId"), "acme")
    assert parse("attributes.x:*") == Exists(Attribute("x"))
    assert parse("attributes:*") == Exists(Column("attributes"))


# --- execution against DuckDB --------------------------------------------------------------------


def test_colon_matches_ignoring_case_and_equals_matches_exactly(conn):
    # Issue 12: `actor_id:SUP-004` found nothing while `sup-004` existed.
    expect(conn, "actor_id:alice", lambda r: text(r, "actor_id").lower() == "alice")
    expect(conn, "actor:ALICE", lambda r: text(r, "actor_id").lower() == "alice")
    expect(conn, "actor_id:SUP-004", lambda r: r.get("actor_id") == "sup-004")
    expect(conn, 'name:"CALL ANSWERED"', lambda r: text(r, "name").lower() == "call answered")
    expect(conn, "actor_id=alice", lambda r: r.get("actor_id") == "alice")
    expect(conn, "actor=Alice", lambda r: r.get("actor_id") == "Alice")
    expect(conn, 'name="Call Answered"', lambda r: r.get("name") == "Call Answered")
    assert rows_matching(conn, "actor_id=SUP-004") == set()
    expect(conn, "resource_id=REC-*", lambda r: text(r, "resource_id").startswith("REC-"))
    expect(conn, "resource_id:REC-*", lambda r: text(r, "resource_id").lower().startswith("rec-"))
    expect(conn, "action=Export", lambda r: r.get("action") == "Export")
    expect(conn, "kind=span", lambda r: r.get("kind") == "span")
    assert rows_matching(conn, "kind=SPAN") == set()
    expect(conn, "message=Password", lambda r: "Password" in text(r, "body"))


def test_equals_after_a_word_that_is_no_field_is_text():
    # Log bodies are full of `key=value`: only a field name before `=` makes it a field.
    assert parse("status=500") == body("status=500")
    assert parse("abc==") == body("abc==")
    assert parse("user=alice") == Match(Column("actor_id"), "alice", exact=True)
    assert parse("attributes.tenant.id=acme") == Match(Attribute("tenant.id"), "acme", True)
    with pytest.raises(QuerySyntaxError, match="did you mean 'actor_id'"):
        parse("actr_id=alice")


def test_enumerated_fields_match_case_insensitively(conn):
    expect(conn, "action:export", lambda r: text(r, "action").lower() == "export")
    expect(conn, "outcome:SUCCESS", lambda r: text(r, "outcome").lower() == "success")
    expect(conn, "kind:SPAN", lambda r: r.get("kind") == "span")
    expect(conn, "integrity:Tampered", lambda r: r.get("integrity") == "tampered")
    expect(conn, "action:EXP*", lambda r: text(r, "action").lower().startswith("exp"))


def test_hex_ids_are_matched_in_lower_case(conn):
    expect(conn, f"trace:{TRACE.upper()}", lambda r: r.get("trace_id") == TRACE)
    expect(
        conn, f"trace_id:{TRACE[:8].upper()}*", lambda r: text(r, "trace_id").startswith(TRACE[:8])
    )


def test_boolean_operators_execute(conn):
    def issue_example(r):
        return (
            text(r, "actor_id").lower() == "alice"
            and text(r, "action").lower() in ("export", "delete")
            and text(r, "outcome").lower() != "success"
        )

    expect(
        conn, "actor_id:alice AND action:(EXPORT OR DELETE) AND NOT outcome:success", issue_example
    )
    expect(
        conn, "actor_id:alice and action:(EXPORT or DELETE) and not outcome:success", issue_example
    )
    expect(
        conn,
        "actor_id:alice action:EXPORT",
        lambda r: text(r, "actor_id").lower() == "alice" and text(r, "action").lower() == "export",
    )
    expect(
        conn,
        "kind:span OR actor_id:bob",
        lambda r: r.get("kind") == "span" or r.get("actor_id") == "bob",
    )
    expect(conn, "-kind:audit", lambda r: r.get("kind") != "audit")


def test_not_matches_rows_where_the_field_is_missing(conn):
    expect(conn, "NOT outcome:success", lambda r: text(r, "outcome").lower() != "success")
    expect(conn, "-actor_id:*", lambda r: not text(r, "actor_id"))
    expect(conn, "NOT NOT outcome:success", lambda r: text(r, "outcome").lower() == "success")


def test_wildcards_execute_with_literal_percent_underscore_and_backslash(conn):
    def rid(r):  # `:` matches ignoring case
        return text(r, "resource_id").lower()

    expect(conn, "resource_id:rec-*", lambda r: fnmatch.fnmatchcase(rid(r), "rec-*"))
    # `_` and `%` typed by the user are literal characters, not LIKE wildcards:
    expect(conn, "resource_id:rec_1*", lambda r: fnmatch.fnmatchcase(rid(r), "rec_1*"))
    expect(conn, "resource_id:*100%", lambda r: text(r, "resource_id").endswith("100%"))
    expect(conn, "resource_id:rec?1*", lambda r: fnmatch.fnmatchcase(rid(r), "rec?1*"))
    expect(conn, r"resource_id:rec-\\x", lambda r: r.get("resource_id") == "rec-\\x")
    expect(conn, r"resource_id:rec-\\*", lambda r: rid(r).startswith("rec-\\"))


def test_present_means_not_null_and_not_empty(conn):
    expect(conn, "body:*", lambda r: bool(text(r, "body")))
    expect(conn, "duration:*", lambda r: r.get("duration_ns") is not None)
    expect(conn, "actor_id:[* TO *]", lambda r: bool(text(r, "actor_id")))
    expect(conn, "attributes:*", lambda r: bool(attrs(r)))
    expect(conn, "attributes.tenant.id:*", lambda r: "tenant.id" in attrs(r))


def test_bare_words_search_the_body_case_insensitively(conn):
    expect(conn, "password", lambda r: "password" in text(r, "body").lower())
    expect(conn, '"access denied"', lambda r: "access denied" in text(r, "body"))
    expect(conn, "pass*reset", lambda r: fnmatch.fnmatch(text(r, "body").lower(), "*pass*reset*"))
    expect(conn, "why?", lambda r: fnmatch.fnmatchcase(text(r, "body").lower(), "*why?*"))
    expect(conn, r"\*", lambda r: "*" in text(r, "body"))
    expect(conn, "100%", lambda r: "100%" in text(r, "body"))
    expect(conn, "message:PASSWORD", lambda r: "password" in text(r, "body").lower())


def test_attributes_look_up_the_flat_dotted_key(conn):
    expect(conn, "attributes.tenant.id:acme", lambda r: attrs(r).get("tenant.id") == "acme")
    expect(conn, "attributes.tenant.id:globex", lambda r: attrs(r).get("tenant.id") == "globex")
    # The nested {"tenant": {"id": "nested"}} of row 3 is not the key "tenant.id".
    assert rows_matching(conn, "attributes.tenant.id:nested") == set()
    expect(
        conn,
        "attributes.tenant.id:g*",
        lambda r: str(attrs(r).get("tenant.id", "")).startswith("g"),
    )
    expect(conn, r"attributes.quote\"key:q", lambda r: attrs(r).get('quote"key') == "q")
    expect(conn, "attributes.a/b:slash", lambda r: attrs(r).get("a/b") == "slash")
    expect(
        conn, "attributes.http.status_code:403", lambda r: attrs(r).get("http.status_code") == 403
    )


def test_attribute_ranges_compare_numbers_as_numbers(conn):
    def status(r):
        value = attrs(r).get("http.status_code")
        return None if value is None else float(str(value))

    expect(conn, "attributes.http.status_code:>=500", lambda r: (status(r) or 0) >= 500)
    expect(
        conn,
        "attributes.http.status_code:[100 TO 499]",
        lambda r: status(r) is not None and 100 <= status(r) <= 499,
    )


def test_numeric_fields(conn):
    expect(conn, "seq:3", lambda r: r["seq"] == 3)
    expect(conn, "seq:[2 TO 4}", lambda r: 2 <= r["seq"] < 4)
    expect(conn, "seq:{2 TO 4]", lambda r: 2 < r["seq"] <= 4)
    expect(conn, "line:>=60", lambda r: r["line"] >= 60)
    expect(conn, "seq:<3", lambda r: r["seq"] < 3)
    expect(conn, "duration_ns:>1000000", lambda r: (r.get("duration_ns") or 0) > 1_000_000)
    expect(conn, "duration_ns >= 1000000", lambda r: (r.get("duration_ns") or 0) >= 1_000_000)
    expect(
        conn,
        "duration:<1ms",
        lambda r: r.get("duration_ns") is not None and r["duration_ns"] < 10**6,
    )
    expect(conn, "duration:1.5s", lambda r: r.get("duration_ns") == 1_500_000_000)


def test_duration_units_convert_exactly():
    assert parse("duration:>1.5s") == Between(
        Column("duration_ns"), 1_500_000_000, None, include_low=False
    )
    assert parse("duration:2m") == Match(Column("duration_ns"), 120 * 10**9)
    assert parse("duration:250us") == Match(Column("duration_ns"), 250_000)
    with pytest.raises(QuerySyntaxError):
        parse("seq:5s")  # units belong to durations only


def test_text_ranges_are_lexical(conn):
    expect(conn, "actor_id:[a TO b]", lambda r: "a" <= text(r, "actor_id").lower() <= "b")
    expect(conn, "actor_id:{alice TO *]", lambda r: text(r, "actor_id").lower() > "alice")
    expect(conn, "actor_id={alice TO *]", lambda r: text(r, "actor_id") > "alice")
    expect(conn, "actor_id=[A TO B]", lambda r: "A" <= text(r, "actor_id") <= "B")


def test_ip_values_keep_their_colons(conn):
    expect(conn, "ip:2001:db8::1", lambda r: r.get("source_ip") == "2001:db8::1")
    expect(conn, "ip:10.0.0.*", lambda r: text(r, "source_ip").startswith("10.0.0."))


def test_time_ranges_bare_dates_and_partial_times(conn):
    day1, day2 = ns("2026-03-01T00:00:00"), ns("2026-03-02T00:00:00")
    expect(conn, "time:[2026-03-01T00:00 TO 2026-03-02]", lambda r: day1 <= r["time_ns"] <= day2)
    expect(conn, "time:[2026-03-01 TO 2026-03-02}", lambda r: day1 <= r["time_ns"] < day2)
    expect(conn, "time:{2026-03-01 TO *]", lambda r: r["time_ns"] > day1)
    expect(conn, "time:>=2026-03-02", lambda r: r["time_ns"] >= day2)
    expect(conn, "time:<2026-03-01", lambda r: r["time_ns"] < day1)
    # A time on its own names its whole period: that day, that minute.
    expect(conn, "time:2026-03-01", lambda r: day1 <= r["time_ns"] < day2)
    noon = ns("2026-03-01T12:00:00")
    expect(conn, "time:2026-03-01T12:00", lambda r: noon <= r["time_ns"] < noon + 60 * 10**9)


def test_time_offsets_are_converted_to_utc(conn):
    noon = ns("2026-03-01T12:00:00")
    expect(conn, "time:2026-03-01T14:00+02:00", lambda r: noon <= r["time_ns"] < noon + 60 * 10**9)
    expect(conn, "time:2026-03-01T07:00-0500", lambda r: noon <= r["time_ns"] < noon + 60 * 10**9)
    midnight = ns("2026-03-01T00:00:00")
    expect(conn, "time:>=2026-03-01T00:00:00Z", lambda r: r["time_ns"] >= midnight)


def test_time_bounds_have_nanosecond_precision(conn):
    one, two = ns("2026-03-01T00:00:00", 1), ns("2026-03-01T00:00:00", 2)
    expect(
        conn,
        "time:[2026-03-01T00:00:00.000000001 TO 2026-03-01T00:00:00.000000002]",
        lambda r: one <= r["time_ns"] <= two,
    )
    expect(
        conn,
        "time:{2026-03-01T00:00:00.000000000 TO 2026-03-01T00:00:00.000000002}",
        lambda r: ns("2026-03-01T00:00:00") < r["time_ns"] < two,
    )
    expect(conn, "time:2026-03-01T00:00:00.000000001", lambda r: r["time_ns"] == one)
    last = ns("2026-02-28T23:59:59", 999_999_999)
    expect(conn, "time:2026-02-28T23:59:59.999999999", lambda r: r["time_ns"] == last)
    # Fewer digits name a longer period: .5 is the tenth of a second from 0.5 s to 0.6 s.
    assert parse("time:2026-03-01T00:00:00.5") == Between(
        Column("time_ns"),
        ns("2026-03-01T00:00:00", 500_000_000),
        ns("2026-03-01T00:00:00", 600_000_000),
        include_high=False,
    )


@given(
    st.datetimes(min_value=datetime(1678, 1, 1), max_value=datetime(2261, 12, 31)),
    st.integers(min_value=-23 * 60, max_value=23 * 60),
)
def test_time_values_agree_with_datetime(moment, offset_minutes):
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    expected = (
        calendar.timegm(aware.astimezone(UTC).timetuple()) * 10**9 + moment.microsecond * 1000
    )
    tree = parse(f"time:>={aware.isoformat()}")
    assert tree == Between(Column("time_ns"), expected, None)


# --- injection -----------------------------------------------------------------------------------

INJECTIONS = [
    'actor_id:"x\' OR 1=1 --"',
    "actor_id:x'OR'1'='1",
    'name:"\'; DROP TABLE events; --"',
    "attributes.a'b\\\"c:1",
    "attributes.x'\\)\\ OR\\ TRUE\\ --:y",
    '"\'; DROP TABLE events; --"',
    "resource_id:%' OR ''='*",
]


@pytest.mark.parametrize("query", INJECTIONS)
def test_injection_attempts_are_inert(conn, query):
    sql, params = filter_sql(query)
    for dangerous in ("'1'", "1=1", "DROP", "a'b", "x')", "''="):
        assert dangerous not in sql
    assert len(params) == sql.count("?")
    matched = rows_matching(conn, query)
    assert matched <= ALL
    assert conn.execute("SELECT count(*) FROM events").fetchone() == (len(ROWS),)


def test_an_injection_string_is_just_a_value(conn):
    # Row 6's actor id is the classic injection string: it matches that row and only that row.
    expect(conn, 'actor_id:"x\' OR 1=1 --"', lambda r: r.get("actor_id") == "x' OR 1=1 --")


@pytest.mark.parametrize("query", ["act'or:x", 'actor"_id":x', '"actor_id":x', "a;DROP:x"])
def test_field_names_with_quotes_are_rejected(query):
    with pytest.raises(QuerySyntaxError):
        filter_sql(query)


# --- errors and their positions ------------------------------------------------------------------

# (query, the text the error must underline, whether it is that text's last occurrence)
ERROR_SPANS = [
    ("(a OR (b)", "(", False),  # unbalanced: the unclosed '('
    ("a) OR (b", ")", False),  # unbalanced: the unopened ')'
    ("actor_id:", "actor_id:", False),  # missing value
    ("actor_id: AND x", "actor_id:", False),
    ("time:[2026-03-01 TO 2026-02-30]", "2026-02-30", False),  # bad date
    ("time:yesterday", "yesterday", False),
    ("time:1500-01-01", "1500-01-01", False),  # outside the ns range
    ("time:2026-03-01T25:00", "2026-03-01T25:00", False),
    ("seq:[1 5]", "5", False),  # bad range: no TO
    ("seq:[1 TO 5", "[1 TO 5", False),  # bad range: not closed
    ("seq:[5 TO 1]", "[5 TO 1]", False),  # bad range: reversed
    ("seq:[ TO 5]", "TO", False),  # bad range: missing bound
    ("seq:[1 TO 5 6]", "6", False),
    ("resource_id:[a* TO b]", "a*", False),
    ("seq:x", "x", True),  # not an integer
    ("seq:99999999999999999999", "99999999999999999999", False),
    ("actr_id:alice", "actr_id", False),  # unknown field
    ("x:1 actor_id:a", "x", False),
    ("leaf_hash:00", "leaf_hash", False),  # not filterable
    ("a AND", "AND", False),  # dangling operators
    ("OR a", "OR", False),
    ("a OR OR b", "OR", False),
    ("a NOT", "NOT", False),
    ("a -", "-", False),
    ("- a", "-", False),
    ('name:"open', '"open', False),  # unterminated quote
    ("a\\", "\\", False),
    ("[1 TO 2]", "[", False),  # range without a field
    (">5", ">", False),
    ("seq:>", ">", False),
    ("a ()", "()", False),
    ("a ]", "]", False),
    (":x", ":", False),
    ("attributes:x", "x", True),
]


@pytest.mark.parametrize(("query", "underlined", "last"), ERROR_SPANS)
def test_errors_underline_the_offending_text(query, underlined, last):
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query)
    error = caught.value
    start = query.rindex(underlined) if last else query.index(underlined)
    assert (error.start, error.end) == (start, start + len(underlined))
    assert query[error.start : error.end] == underlined
    assert f"position {error.start}" in str(error) or f"positions {error.start}-" in str(error)
    assert isinstance(error, InvalidInputError)


def test_unknown_fields_suggest_the_closest_name():
    with pytest.raises(QuerySyntaxError, match="did you mean 'actor_id'"):
        parse("actr_id:alice")
    with pytest.raises(QuerySyntaxError, match="did you mean 'duration'"):
        parse("duraton:5")
    with pytest.raises(QuerySyntaxError, match=r"did you mean 'attributes\.tenant\.id'"):
        parse("atributes.tenant.id:acme")


def test_limits_are_syntax_errors_not_crashes():
    depth = query_parser.MAX_DEPTH
    assert parse("(" * depth + "a" + ")" * depth) == body("a")
    deeper = depth + 1
    for query in ("(" * deeper + "a" + ")" * deeper, "NOT " * deeper + "a", "-" * deeper + "a"):
        with pytest.raises(QuerySyntaxError, match="nested deeper"):
            parse(query)
    with pytest.raises(QuerySyntaxError, match="longer than"):
        parse("a" * (query_parser.MAX_QUERY_LENGTH + 1))


def test_deepest_allowed_query_compiles_and_runs(conn):
    depth = query_parser.MAX_DEPTH
    query = "NOT " * depth + "kind:span"
    expected = {r["seq"] for r in ROWS if (r.get("kind") == "span") == (depth % 2 == 0)}
    assert rows_matching(conn, query) == expected


# --- properties ----------------------------------------------------------------------------------

FRAGMENTS = [
    "actor_id:alice",
    "action:export",
    "kind:*",
    "AND",
    "OR",
    "NOT",
    "(",
    ")",
    "-",
    "+",
    "[",
    "]",
    "{",
    "}",
    "TO",
    ":",
    "*",
    "?",
    "\\",
    '"',
    "'",
    "%",
    "_",
    ">",
    ">=",
    "<",
    "seq:",
    "time:",
    "attributes.tenant.id:",
    "2026-03-01",
    "2026-03-01T00:00:00.000000001",
    "5",
    "1.5s",
    "rec-*",
    "pass",
    "duration:",
    "ip:",
    "::1",
    "attributes.a'b:c",
    "x' OR 1=1 --",
    "seq:[1 TO 5]",
]
query_texts = st.one_of(
    st.text(),
    st.lists(st.sampled_from(FRAGMENTS), max_size=8).map(" ".join),
    st.lists(st.sampled_from(FRAGMENTS), max_size=8).map("".join),
)


@given(st.text())
def test_any_text_compiles_or_raises_a_syntax_error(query):
    try:
        sql, params = filter_sql(query)
    except QuerySyntaxError as e:
        assert 0 <= e.start <= e.end <= len(query)
    else:
        assert isinstance(sql, str)
        assert isinstance(params, list)


@given(query_texts)
def test_compiled_filters_run_and_not_is_their_complement(conn, query):
    try:
        matched = rows_matching(conn, query)
    except QuerySyntaxError:
        return
    assert matched <= ALL
    if not query.strip():
        assert matched == ALL  # the empty query
        return
    complement = rows_matching(conn, f"NOT ({query})")
    assert matched.isdisjoint(complement)
    assert matched | complement == ALL


# --- issue 12: no silent traps ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "slip", "meant"),
    [
        ("kind:log ADN actor_id:alice", "ADN", "AND"),
        ("a adn b", "adn", "AND"),
        ("a NAD b", "NAD", "AND"),
        ("a ANDD b", "ANDD", "AND"),
        ("a ND b", "ND", "AND"),
        ("a && b", "&&", "AND"),
        ("a RO b", "RO", "OR"),
        ("a ORR b", "ORR", "OR"),
        ("a || b", "||", "OR"),
        ("a NTO b", "NTO", "NOT"),
        ("a NOTT b", "NOTT", "NOT"),
        ("action:(EXPORT ADN DELETE)", "ADN", "AND"),
    ],
)
def test_a_mistyped_operator_between_terms_is_an_error(query, slip, meant):
    with pytest.raises(QuerySyntaxError, match=f"mistyped {meant}") as caught:
        parse(query)
    start = query.index(slip)
    assert (caught.value.start, caught.value.end) == (start, start + len(slip))


def test_words_near_an_operator_are_still_words():
    # English words one edit from an operator, a slip at either end, a quoted slip: text.
    for word in ("AN", "NO", "FOR", "NOTE", "OF", "ON", "AD"):
        assert parse(f"a {word} b") == And((body("a"), body(word), body("b")))
    assert parse("ADN b") == And((body("ADN"), body("b")))
    assert parse("a ADN") == And((body("a"), body("ADN")))
    assert parse('a "ADN" b') == And((body("a"), body("ADN"), body("b")))


@pytest.mark.parametrize(
    ("query", "underlined", "meant"),
    [
        ("actor_id sup-004", "actor_id sup-004", "actor_id:sup-004"),
        ("kind:audit source_ip 10.0.0.1", "source_ip 10.0.0.1", "source_ip:10.0.0.1"),
        ('resource_id "rec 1"', 'resource_id "rec 1"', 'resource_id:"rec 1"'),
        ("attributes.tenant.id acme", "attributes.tenant.id acme", "attributes.tenant.id:acme"),
        ("actor_id = sup-004", "actor_id = sup-004", "actor_id=sup-004"),
        ("user = alice", "user = alice", "user=alice"),
        ("actor_id : sup-004", "actor_id : sup-004", "actor_id:sup-004"),
    ],
)
def test_a_field_name_without_its_colon_is_an_error_that_shows_it(query, underlined, meant):
    with pytest.raises(QuerySyntaxError, match=f"did you mean {re.escape(meant)}\\?") as caught:
        parse(query)
    start = query.index(underlined)
    assert (caught.value.start, caught.value.end) == (start, start + len(underlined))


def test_a_field_name_that_is_also_a_word_is_searched_but_hinted():
    # `user`, `call`, `action` are words of log bodies: searched, with a hint for suggest().
    assert parse("user alice") == And((body("user"), body("alice")))
    _, hints = analyse("user alice")
    assert hints == (Hint(HintKind.FIELD, 4, 5, ":"),)
    assert parse("actor_id") == TextSearch("%actor\\_id%")  # nothing after it: nothing to join


def ip_in(value: object, network: str) -> bool:
    """Python's own reading of an address (zone ids dropped) against a block."""
    if not isinstance(value, str):
        return False
    try:
        address = ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return False
    block = ipaddress.ip_network(network, strict=False)
    return address.version == block.version and address in block


def test_address_blocks_on_address_fields(conn):
    expect(
        conn, "source_ip:198.51.100.0/24", lambda r: ip_in(r.get("source_ip"), "198.51.100.0/24")
    )
    expect(conn, "ip:10.0.0.0/8", lambda r: ip_in(r.get("source_ip"), "10.0.0.0/8"))
    expect(conn, "ip:198.51.0.0/16", lambda r: ip_in(r.get("source_ip"), "198.51.0.0/16"))
    # IPv6: stored as 2001:DB8:0:0::7 (upper case, zeros spelt out), found by its block.
    expect(conn, "ip:2001:db8::/32", lambda r: ip_in(r.get("source_ip"), "2001:db8::/32"))
    expect(conn, "ip:2001:db8::7/128", lambda r: ip_in(r.get("source_ip"), "2001:db8::7/128"))
    expect(conn, "ip:fe80::/10", lambda r: ip_in(r.get("source_ip"), "fe80::/10"))
    expect(conn, "-ip:10.0.0.0/8", lambda r: not ip_in(r.get("source_ip"), "10.0.0.0/8"))
    # Host bits set are allowed, as in most tools: 198.51.100.7/24 is the /24.
    assert rows_matching(conn, "ip:198.51.100.7/24") == rows_matching(conn, "ip:198.51.100.0/24")
    # Attribute keys naming an address take blocks too; other keys and quoted text compare text.
    expect(
        conn,
        "attributes.client.address:198.51.100.0/24",
        lambda r: ip_in(attrs(r).get("client.address"), "198.51.100.0/24"),
    )
    expect(
        conn,
        "attributes.client.address:2001:db8::/31",
        lambda r: ip_in(attrs(r).get("client.address"), "2001:db8::/31"),
    )
    assert parse("attributes.route:10.0.0.0/8") == Match(Attribute("route"), "10.0.0.0/8")
    assert parse('ip:"10.0.0.0/8"') == Match(Column("source_ip"), "10.0.0.0/8")


@given(
    st.one_of(
        st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address),
        st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address),
    ),
    st.integers(0, 128),
    st.sampled_from(["compressed", "exploded", "upper"]),
)
@settings(deadline=None)  # DuckDB on a shared machine: timing is not what this test checks
def test_address_blocks_agree_with_python(conn, address, prefix, form):
    prefix = min(prefix, address.max_prefixlen)
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    text = address.exploded if form == "exploded" else str(address)
    text = text.upper() if form == "upper" else text
    sql, params = filter_sql(f"ip:{network}")
    following = address + 1 if int(address) < 2**address.max_prefixlen - 1 else address
    # The address as written, the block's last address (inside), the next one (inside or not).
    for candidate, inside in (
        (text, True),
        (str(network.broadcast_address), True),
        (str(following), None),
    ):
        found = conn.execute(f"SELECT {sql} FROM (SELECT ? AS source_ip)", [*params, candidate])
        want = ipaddress.ip_address(candidate.lower()) in network
        assert (found.fetchone()[0] is True) == want, (candidate, str(network))
        assert inside is None or want


def test_regular_expressions(conn):
    expect(
        conn,
        "/pass.*(reset|hunter)/",
        lambda r: re.search("pass.*(reset|hunter)", text(r, "body"), re.I),
    )
    expect(
        conn,
        "actor_id:/^sup-00[45]$/",
        lambda r: re.search("^sup-00[45]$", text(r, "actor_id"), re.I),
    )
    expect(conn, "actor_id:/^ALICE$/", lambda r: text(r, "actor_id").lower() == "alice")
    expect(conn, "actor_id=/^Alice$/", lambda r: r.get("actor_id") == "Alice")
    expect(conn, r"message:/\d+%/", lambda r: re.search(r"\d+%", text(r, "body")))
    expect(conn, "attributes.updated_data.roles:/^adm/", lambda r: r["seq"] in (9, 11))
    expect(conn, "-actor_id:/^a/", lambda r: not text(r, "actor_id").lower().startswith("a"))
    expect(conn, r"/\/api\/v1/", lambda r: "/api/v1" in text(r, "body"))
    # The pattern is a bound parameter, never SQL text.
    sql, params = filter_sql("actor_id:/x' OR 1=1 --/")
    assert "1=1" not in sql and params == ["x' OR 1=1 --"]


def test_a_path_is_a_word_not_a_regular_expression(conn):
    assert parse("/api/v1/users") == body("/api/v1/users")
    assert parse("/api/v1/users/") == Regex(Column("body"), "api/v1/users")  # closed: a regex
    expect(conn, "/api/v1/users", lambda r: "/api/v1/users" in text(r, "body"))
    assert parse('"/a/"') == body("/a/")


@pytest.mark.parametrize(
    ("query", "underlined", "message"),
    [
        ("/a(b/", "/a(b/", "not a valid regular expression"),
        ("actor_id:/(?<=a)b/", "/(?<=a)b/", "not a valid regular expression"),  # not RE2
        ("seq:/1/", "/1/", "needs a text field"),
        ("time:/2026/", "/2026/", "needs a text field"),
        ("attributes:/x/", "/x/", "name an attribute"),
        ("/" + "a" * 1001 + "/", "/" + "a" * 1001 + "/", "longer than 1000"),
    ],
)
def test_bad_regular_expressions_are_syntax_errors_at_the_pattern(query, underlined, message):
    with pytest.raises(QuerySyntaxError, match=message) as caught:
        parse(query)
    start = query.index(underlined)
    assert (caught.value.start, caught.value.end) == (start, start + len(underlined))


def test_nested_attribute_paths_and_lists(conn):
    # The audit logger's {"updated_data": {"roles": [...]}}: a path, any element of a list.
    def roles(r):
        data = attrs(r).get("updated_data")
        value = data.get("roles") if isinstance(data, dict) else None
        return value if isinstance(value, list) else ([value] if value is not None else [])

    expect(
        conn,
        "attributes.updated_data.roles:admin",
        lambda r: "admin" in [x.lower() for x in roles(r)],
    )
    expect(conn, "attributes.updated_data.roles=Admin", lambda r: "Admin" in roles(r))
    expect(
        conn,
        "attributes.updated_data.roles:adm*",
        lambda r: any(x.lower().startswith("adm") for x in roles(r)),
    )
    expect(conn, "attributes.updated_data.roles:*", lambda r: bool(roles(r)))
    expect(conn, "attributes.updated_data:*", lambda r: bool(attrs(r).get("updated_data")))
    expect(
        conn,
        "NOT attributes.updated_data.roles:admin",
        lambda r: "admin" not in [x.lower() for x in roles(r)],
    )
    # A flat key holding a list (OTLP `user.roles`).
    expect(
        conn,
        "attributes.user.roles:SUPERVISOR",
        lambda r: "supervisor" in attrs(r).get("user.roles", []),
    )
    # A nested path that does not exist is no match, and the flat key still wins over a path.
    assert rows_matching(conn, "attributes.updated_data.nothing:x") == set()
    assert rows_matching(conn, "attributes.tenant.id:nested") == set()
    # Paths and values are parameters.
    sql, params = filter_sql("attributes.updated_data.roles:admin")
    assert "updated_data" not in sql and "admin" not in sql
    assert ['$."updated_data.roles"', '$."updated_data"."roles"'] in params


def test_attribute_values_ignore_case_unless_exact(conn):
    expect(conn, "attributes.tenant.id:ACME", lambda r: attrs(r).get("tenant.id") == "acme")
    assert rows_matching(conn, "attributes.tenant.id=ACME") == set()
    expect(conn, "attributes.tenant.id=acme", lambda r: attrs(r).get("tenant.id") == "acme")


BERLIN = ZoneInfo("Europe/Berlin")


def test_times_without_an_offset_are_read_in_the_given_zone(conn):
    # 13:00 in Berlin on 1 March (CET, +01:00) is 12:00 UTC.
    noon = ns("2026-03-01T12:00:00")
    assert parse("time:2026-03-01T13:00", BERLIN) == Between(
        Column("time_ns"), noon, noon + 60 * 10**9, include_high=False
    )
    assert parse("time:2026-03-01T13:00", BERLIN) == parse("time:2026-03-01T12:00")
    # An explicit offset wins over the zone.
    assert parse("time:2026-03-01T12:00Z", BERLIN) == parse("time:2026-03-01T12:00")
    # A day in the zone is its local day: Berlin's 1 March starts at 23:00 UTC on 28 February.
    sql, params = filter_sql("time:2026-03-01", tz=BERLIN)
    found = {s for (s,) in conn.execute(f"SELECT seq FROM events WHERE {sql}", params).fetchall()}
    start, end = ns("2026-02-28T23:00:00"), ns("2026-03-01T23:00:00")
    assert found == {r["seq"] for r in ROWS if start <= r["time_ns"] < end}
    assert found != rows_matching(conn, "time:2026-03-01")
    # On the day the clocks go forward the local day is 23 hours long.
    spring = parse("time:2026-03-29", BERLIN)
    assert isinstance(spring, Between)
    assert spring.high - spring.low == 23 * 3600 * 10**9
    autumn = parse("time:2026-10-25", BERLIN)
    assert autumn.high - autumn.low == 25 * 3600 * 10**9
    # Ranges and comparisons too.
    assert parse("time:>=2026-03-01T01:00", BERLIN) == Between(
        Column("time_ns"), ns("2026-03-01T00:00:00"), None
    )
