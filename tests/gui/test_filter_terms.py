"""The filter texts the workbench writes for a pivot or a place select exactly what they name."""

from __future__ import annotations

import duckdb
import pytest

from auditlens.core.query import filter_sql
from auditlens.gui.views import actor_term, quote_value

ACTORS = ["Ann Lee", "ann lee", "Ann", "sup-004", "SUP-004", 'q"uote\\d']


def selected(where: str, params: list[object], column: str, values: list[str]) -> list[str]:
    db = duckdb.connect()
    db.execute(f"CREATE TABLE events ({column} VARCHAR, body VARCHAR)")
    db.executemany("INSERT INTO events VALUES (?, 'Lee')", [[v] for v in values])
    rows = db.execute(f"SELECT {column} FROM events WHERE {where} ORDER BY 1", params).fetchall()
    return [v for (v,) in rows]


@pytest.mark.parametrize("actor", ACTORS)
def test_an_actor_pivot_selects_that_actor_only(actor: str) -> None:
    # actor_id:Ann Lee read as actor_id:Ann AND a body word, and actor_id:SUP-004 ignored case:
    # a pivot on one actor showed another's events.
    where, params = filter_sql(actor_term(actor))
    assert selected(where, params, "actor_id", ACTORS) == [actor]


@pytest.mark.parametrize("value", ["/data/", "/x", "data/00001.jsonl", "a b", "cc-prod.audit"])
def test_a_quoted_place_value_is_matched_as_text_never_as_a_regex(value: str) -> None:
    # A bare value starting with "/" is the filter language's /regex/.
    where, params = filter_sql(f"file:{quote_value(value)}")
    assert "regexp" not in where
    assert selected(where, params, "file", [value, value + "x", "x" + value]) == [value]
