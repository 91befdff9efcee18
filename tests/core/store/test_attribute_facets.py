"""Attribute facets: a filter on a key of ``compile.FACETS`` reads the key's own column and finds
exactly the rows the JSON lookup finds (docs/case.md, "Attribute facets").

Each test builds a case whose events carry tricky attribute values (nested and flat keys, a flat
key hiding a nested one, JSON null, numbers against text, lists, objects, unicode, escapes, a
missing key) at nanosecond times of 2026, lets ``refresh_order`` fill the facets, then runs
every filter both ways: compiled without facets (the JSON lookup) and with them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from auditlens.core.query import filter_sql
from auditlens.core.query.compile import FACET_TABLE, FACETS
from auditlens.core.schema import EVENT_SCHEMA
from auditlens.core.store import queries
from auditlens.core.store.case import Case
from auditlens.core.store.importer import _insert

T0 = 1_772_409_868_123_456_789  # 2026-03-02T00:04:28.123456789Z

TENANTS: list[Any] = [
    {"tenant.id": "acme"},
    {"tenant.id": "ACME"},
    {"tenant": {"id": "acme"}},  # nested: the audit logger's objects
    {"tenant.id": "globex", "tenant": {"id": "acme"}},  # the flat key wins
    {"tenant.id": None, "tenant": {"id": "acme"}},  # a JSON null is no value: the path is next
    {"tenant.id": 5},
    {"tenant.id": "5"},
    {"tenant.id": 5.0},
    {"tenant.id": 1e2},
    {"tenant.id": 12345678901234567890123},
    {"tenant.id": -0.0},
    {"tenant.id": True},
    {"tenant.id": ["acme", "globex"]},
    {"tenant.id": [["acme"]]},
    {"tenant.id": [None, "initech"]},
    {"tenant.id": []},
    {"tenant.id": {"name": "acme"}},
    {"tenant": {"id": {"deep": "acme"}}},
    {"tenant.id": "Ächme"},
    {"tenant.id": "acmé"},
    {"tenant.id": "ACMÉ"},
    {"tenant.id": "🙂acme"},
    {"tenant.id": 'a"cme'},
    {"tenant.id": "back\\slash"},
    {"tenant.id": "line\nbreak"},
    {"tenant.id": "acme corp"},
    {"tenant.id": ""},
    {"tenant.id": "10.20.1.16"},
    {"tenant.id": "2001:db8::1"},
    {"tenant": "acme"},  # `tenant` is no object: no `id` in it
    {"tenantId": "acme"},  # another key
    {},
    None,  # no attributes at all
]
RENAMED = {"tenant.id": "updated_data.roles", "tenant": "updated_data", "id": "roles"}


def renamed(value: Any) -> Any:
    """The same attributes under the other facet's key (``updated_data.roles``)."""
    if isinstance(value, dict):
        return {RENAMED.get(k, k): v if k == "tenantId" else renamed(v) for k, v in value.items()}
    return value


# Each tricky value under both keys, and the audit logger's lists of roles.
ROWS: list[Any] = [
    *TENANTS,
    *(renamed(value) for value in TENANTS),
    {"updated_data": {"roles": ["agent", "team-lead"]}, "tenant.id": "initech"},
    {"updated_data": {"roles": ["supervisor", "admin"]}},
    {"updated_data": {"roles": [1, 2.5, True, None]}},
]

FILTERS = [
    "attributes.{k}:acme",
    "attributes.{k}=acme",
    "attributes.{k}:ACME",
    'attributes.{k}:"acme corp"',
    "attributes.{k}:5",
    "attributes.{k}:5.0",
    "attributes.{k}:100",
    "attributes.{k}:100.0",
    "attributes.{k}:12345678901234567890123",
    "attributes.{k}:true",
    "attributes.{k}:acm*",
    "attributes.{k}:*cme",
    "attributes.{k}:/^ac.e$/",
    "attributes.{k}:[1 TO 10]",
    "attributes.{k}:>4",
    "attributes.{k}:[a TO b]",
    "attributes.{k}:*",
    "NOT attributes.{k}:acme",
    "-attributes.{k}:*",
    "attributes.{k}:10.20.0.0/16",
    "attributes.{k}:2001:db8::/32",
    "attributes.{k}:ächme",
    "attributes.{k}:acmé",
    "attributes.{k}=ACMÉ",
    "attributes.{k}:🙂acme",
    'attributes.{k}:"a\\"cme"',
    'attributes.{k}:"back\\\\slash"',
    'attributes.{k}:""',
    "attributes.{k}:team-lead",
    "attributes.{k}:admin",
    "attributes.{k}=Admin",
    "attributes.{k}:2.5",
    "attributes.{k}:(acme OR globex)",
    "attributes.{k}:acme AND kind:log",
    "attributes.{k}:acme OR attributes.updated_data.roles:admin",
    "NOT (attributes.{k}:acme AND kind:span)",
]


def add_events(case: Case, attributes: list[Any], first_seq: int) -> None:
    """Events appended as the importer appends them, one per attributes value."""
    rows = [
        {
            "time_ns": T0 + 1_000_000 * (first_seq + i),
            "kind": "log" if i % 2 else "span",
            "stream_id": "test-stream",
            "seq": first_seq + i,
            "attributes": None if value is None else json.dumps(value, ensure_ascii=False),
        }
        for i, value in enumerate(attributes)
    ]
    case.db.begin()
    queries.before_adding_events(case)
    _insert(case, pa.Table.from_pylist(rows, schema=EVENT_SCHEMA), 1)
    case.db.commit()


def matches(case: Case, text: str, *, facets: bool) -> list[int]:
    sql, params = filter_sql(text, facets=facets)
    found = case.db.execute(f"SELECT seq FROM events WHERE {sql} ORDER BY seq", params)
    return [seq for (seq,) in found.fetchall()]


def every_filter() -> list[str]:
    return [f.format(k=key) for key in FACETS for f in FILTERS]


@pytest.fixture
def case(tmp_path: Path) -> Any:
    with Case.open(tmp_path / "case", create=True) as opened:
        add_events(opened, ROWS, 1)
        queries.refresh_order(opened)
        yield opened


def test_each_filter_finds_the_same_rows_through_the_facets(case: Case) -> None:
    assert queries.facets_current(case)
    total = len(ROWS)
    found_some = 0
    for text in every_filter():
        sql, _ = filter_sql(text, facets=True)
        assert '"facet_' in sql and FACET_TABLE in sql, text  # the facet path is the one tested
        expected = matches(case, text, facets=False)
        assert matches(case, text, facets=True) == expected, text
        found_some += 0 < len(expected) < total
    # The rows tell the filters apart: most find some rows and reject others.
    assert found_some >= len(every_filter()) * 3 // 4


def test_the_queries_read_the_facets_and_count_as_the_json_lookup(case: Case) -> None:
    for text in every_filter():
        expected = len(matches(case, text, facets=False))
        assert queries.count_events(case, queries.EventQuery(text)) == expected, text
    page = queries.events_page(case, queries.EventQuery("attributes.tenant.id:acme"), limit=50)
    assert [row["seq"] for row in page] == matches(case, "attributes.tenant.id:acme", facets=False)


def test_events_added_later_get_their_facets(case: Case) -> None:
    add_events(case, [{"tenant.id": "acme"}, {"tenant": {"id": "ACME"}}, {"tenant.id": 5}], 500)
    assert matches(case, "attributes.tenant.id:acme", facets=True) != matches(
        case, "attributes.tenant.id:acme", facets=False
    )  # not yet filled: the facets are current again only after refresh_order
    queries.refresh_order(case)
    assert queries.facets_current(case)
    for text in every_filter():
        assert matches(case, text, facets=True) == matches(case, text, facets=False), text
    assert {500, 501} <= set(matches(case, "attributes.tenant.id:acme", facets=True))


def test_a_case_made_before_the_facets_gets_them_for_every_event(tmp_path: Path) -> None:
    with Case.open(tmp_path / "case", create=True) as case:
        add_events(case, TENANTS, 1)
        queries.refresh_order(case)
        # As a case of the previous lookup version: no facet columns, no facet table.
        for column in FACETS.values():
            case.db.execute(f'ALTER TABLE events DROP COLUMN "{column}"')
        case.db.execute(f"DROP TABLE {FACET_TABLE}")
        case.db.execute("UPDATE meta SET value = '3' WHERE key = 'lookup_version'")
        case.db.execute("DELETE FROM meta WHERE key = 'facets'")
    with Case.open(tmp_path / "case", read_only=True) as case:
        queries.refresh_order(case)
        assert not queries.facets_current(case)  # read-only: the JSON lookup, same answers
        count = queries.count_events(case, queries.EventQuery("attributes.tenant.id:acme"))
        # acme, ACME, nested, nested past a flat null, in a list.
        assert matches(case, "attributes.tenant.id:acme", facets=False) == [1, 2, 3, 5, 13]
        assert count == 5
    with Case.open(tmp_path / "case") as case:
        add_events(case, [{"tenant.id": "acme"}], 900)  # an import before the next order
        queries.refresh_order(case)
        assert queries.facets_current(case)
        assert 900 in matches(case, "attributes.tenant.id:acme", facets=True)
        for text in every_filter():
            assert matches(case, text, facets=True) == matches(case, text, facets=False), text


def test_a_facet_column_holds_the_json_value_of_the_key(case: Case) -> None:
    stored = dict(
        case.db.execute("SELECT seq, facet_tenant_id FROM events ORDER BY seq").fetchall()
    )
    assert json.loads(stored[1]) == "acme"
    assert json.loads(stored[3]) == "acme"  # nested
    assert json.loads(stored[4]) == "globex"  # the flat key first
    assert json.loads(stored[5]) == "acme"  # past the flat null
    assert json.loads(stored[13]) == ["acme", "globex"]
    assert stored[len(TENANTS)] is None  # no attributes
    assert stored[len(TENANTS) - 1] is None  # {}
    values = case.db.execute(
        f"SELECT vals FROM {FACET_TABLE} WHERE key = 'updated_data.roles' ORDER BY raw"
    ).fetchall()
    assert ["agent", "team-lead"] in [v for (v,) in values]
