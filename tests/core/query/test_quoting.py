"""Values written into a filter (core.query.quoting) read back as exactly themselves."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditlens.core.query import (
    And,
    Attribute,
    Column,
    Match,
    Or,
    filter_sql,
    parse,
    phrase,
    record_filter,
    value_text,
)

# Values the copies of this rule disagreed on, or that a bare word would misread: operators,
# a mistyped operator, prefixes, a /regex/, wildcards, separators, address blocks.
AWKWARD = [
    "AND",
    "or",
    "Not",
    "to",
    "ADN",
    "&&",
    "-sup-004",
    "+x",
    "/data/",
    "/x",
    "rec-*",
    "a?b",
    "a:b",
    "a=b",
    "a b",
    "a\tb",
    'q"uote\\d',
    "(x)",
    "10.0.0.0/8",
    "2001:db8::/32",
    "",
]
PLAIN = ["sup-004", "cc-prod.audit", "alice@example.com", "data/00001.jsonl", "Ann", "Zoë", "42"]


def reads_back(value: str, written: str) -> None:
    """``written`` selects ``value`` as itself after a field, alone and in a field's group."""
    for field, target in (
        ("actor_id", Column("actor_id")),
        ("source_ip", Column("source_ip")),
        ("attributes.client.address", Attribute("client.address")),
    ):
        expected = Match(target, value)
        assert parse(f"{field}:{written}") == expected
        assert parse(f"{field}: {written}") == expected
        assert parse(f"{field}:({written} OR zz)") == Or((expected, Match(target, "zz")))
        assert parse(f"{field}:(zz {written} zz)") == And(
            (Match(target, "zz"), expected, Match(target, "zz"))
        )


@pytest.mark.parametrize("value", AWKWARD + PLAIN)
def test_a_value_written_reads_back_as_itself(value: str) -> None:
    reads_back(value, value_text(value))
    reads_back(value, phrase(value))


@pytest.mark.parametrize("value", AWKWARD)
def test_a_value_a_bare_word_would_misread_is_quoted(value: str) -> None:
    assert value_text(value) == phrase(value)
    assert value_text(value).startswith('"')


@pytest.mark.parametrize("value", PLAIN)
def test_a_plain_value_stays_bare(value: str) -> None:
    assert value_text(value) == value


def test_an_address_block_as_a_value_is_that_text_not_every_address_in_it() -> None:
    # Bare, `source_ip:10.0.0.0/8` is the block (docs/case.md "The filter language"): a pivot on
    # an attribute holding that text selected every event with an address inside it.
    where, params = filter_sql(f"source_ip:{value_text('10.0.0.0/8')}")
    db = duckdb.connect()
    db.execute("CREATE TABLE events (source_ip VARCHAR, body VARCHAR)")
    db.executemany("INSERT INTO events VALUES (?, '')", [["10.0.0.0/8"], ["10.1.2.3"]])
    rows = db.execute(f"SELECT source_ip FROM events WHERE {where}", params).fetchall()
    assert rows == [("10.0.0.0/8",)]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_reads_back_as_itself(value: str) -> None:
    reads_back(value, value_text(value))


STREAMS = ["cc-prod.audit", "CC-prod.audit", "cc-prod", 'q"uote\\d', "a b"]


@pytest.mark.parametrize("stream", STREAMS)
def test_a_record_filter_selects_that_record_alone(stream: str) -> None:
    # A finding's record was shown through `stream_id:"..."`: unescaped (a quote in the stream
    # id was a syntax error) and ignoring case (a stream differing in case showed too).
    db = duckdb.connect()
    db.execute("CREATE TABLE events (stream_id VARCHAR, seq BIGINT, body VARCHAR)")
    db.executemany(
        "INSERT INTO events VALUES (?, ?, '')", [[s, n] for s in STREAMS for n in (1661, 1662)]
    )
    where, params = filter_sql(record_filter(stream, 1661))
    rows = db.execute(f"SELECT stream_id, seq FROM events WHERE {where}", params).fetchall()
    assert rows == [(stream, 1661)]
