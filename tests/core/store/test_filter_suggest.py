"""suggest(): near variants of a query that finds nothing, tried on the sample case (issue 12).

The sample case holds the issue's own examples: supervisor ``sup-004`` changing roles to
``admin`` from ``198.51.100.211``. Expected counts come from the case's rows read directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditlens.core.store import queries
from auditlens.core.store.case import Case
from auditlens.core.store.suggest import Suggestion, suggest


@pytest.fixture(scope="module")
def case(sample_case: Path) -> Any:
    with Case.open(sample_case, read_only=True) as opened:
        yield opened


def rows_where(case: Case, sql: str, params: list[Any] | None = None) -> int:
    return int(case.scalar(f"SELECT count(*) FROM events WHERE {sql}", params or []))


def count(case: Case, text: str) -> int:
    return queries.count_events(case, queries.EventQuery(text))


def test_exact_match_in_the_wrong_case_suggests_ignoring_case(case: Case) -> None:
    assert count(case, "actor_id=SUP-004") == 0
    expected = rows_where(case, "actor_id = 'sup-004'")
    assert expected > 0
    found = suggest(case, "actor_id=SUP-004")
    assert found[0] == Suggestion("actor_id:SUP-004", expected, "ignoring case")
    assert "did you mean actor_id:SUP-004?" in found[0].message()


def test_a_field_name_written_as_a_word_suggests_the_field(case: Case) -> None:
    assert count(case, "actor sup-004") == 0  # both words searched in the bodies
    found = suggest(case, "actor sup-004")
    assert found[0].query == "actor:sup-004"
    assert found[0].matches == rows_where(case, "lower(actor_id) = 'sup-004'")


def test_a_misspelt_value_suggests_the_values_the_case_holds(case: Case) -> None:
    found = suggest(case, "action:ROLE_CHANEG")
    assert [s.query for s in found] == ["action:ROLE_CHANGE"]
    assert found[0].matches == rows_where(case, "action = 'ROLE_CHANGE'")
    assert found[0].reason == "a value the case holds"


def test_an_attribute_key_in_the_wrong_case_suggests_the_key(case: Case) -> None:
    # The audit logger's key is `tenantId`; keys are case-sensitive.
    assert count(case, "attributes.tenantid:globex") == 0
    found = suggest(case, "attributes.tenantid:globex")
    assert found[0].query == "attributes.tenantId:globex"
    assert found[0].matches == rows_where(
        case, "json_extract_string(attributes, '$.tenantId') = 'globex'"
    )


def test_a_misspelt_object_in_a_path_keeps_the_rest_of_the_path(case: Case) -> None:
    found = suggest(case, "attributes.updated_date.roles:admin")
    assert found and found[0].query == "attributes.updated_data.roles:admin"
    assert found[0].matches == count(case, "attributes.updated_data.roles:admin") > 0


def test_suggestions_keep_the_time_window(case: Case) -> None:
    first = int(case.scalar("SELECT min(time_ns) FROM events WHERE actor_id = 'sup-004'"))
    window = {"time_from_ns": first, "time_to_ns": first + 1}
    in_window = rows_where(case, "actor_id = 'sup-004' AND time_ns = ?", [first])
    found = suggest(case, "actor_id=SUP-004", **window)
    assert (found[0].query, found[0].matches) == ("actor_id:SUP-004", in_window)
    assert in_window < rows_where(case, "actor_id = 'sup-004'")
    # Before sup-004's first event there is nothing to suggest.
    assert suggest(case, "actor_id=SUP-004", time_from_ns=0, time_to_ns=first) == []


def test_no_suggestion_for_a_true_zero_or_a_query_that_does_not_parse(case: Case) -> None:
    assert suggest(case, "actor_id:nobody-at-all") == []
    assert suggest(case, "actor_id:") == []
    assert suggest(case, "") == []
