"""The Sigma subset: conditions, modifiers, bound parameters, and errors with their place."""

from __future__ import annotations

from pathlib import Path

import pytest
from analysis_evidence import DAY, HOUR, MONDAY, Evidence, findings, of_rule

from auditlens.core.analysis.detect import rules_dir
from auditlens.core.analysis.sigma import RuleError, compile_detection, load_rules


def test_values_reach_sql_only_as_bound_parameters() -> None:
    sql, params = compile_detection(
        {
            "sel": {"actor_id": "x'; DROP TABLE events; --", "resource_id|contains": "a_b%"},
            "condition": "sel",
        },
        "r.yml",
    )
    assert "DROP" not in sql and "a_b" not in sql
    assert params == ["x'; drop table events; --", "%a\\_b\\%%"]


def test_condition_precedence_and_selection_patterns() -> None:
    detection = {
        "sel_a": {"action": "EXPORT"},
        "sel_b": {"action": "DELETE"},
        "filter": {"actor_id|startswith": "svc-"},
        "condition": "1 of sel_* and not filter",
    }
    sql, params = compile_detection(detection, "r.yml")
    assert sql.startswith("((") and "NOT coalesce" in sql
    assert params == ["export", "delete", "svc-%"]
    all_sql, _ = compile_detection({**detection, "condition": "all of them"}, "r.yml")
    assert all_sql.count(" AND ") == 2


@pytest.mark.parametrize(
    ("detection", "message"),
    [
        ({"sel": {"actor": "x"}, "condition": "sel"}, "unknown field 'actor'"),
        ({"sel": {"action|wide": "x"}, "condition": "sel"}, "unknown modifier 'wide'"),
        ({"sel": {"action": "x"}, "condition": "sel and other"}, "no selection 'other'"),
        ({"sel": {"action": "x"}, "condition": "(sel"}, "condition ends too early"),
        ({"sel": {"source_ip|cidr": "10.0.0.0/40"}, "condition": "sel"}, "|cidr"),
        ({"sel": {"duration_ns|gt": "long"}, "condition": "sel"}, "compares with a number"),
    ],
)
def test_bad_detections_are_refused_with_the_reason(detection: dict, message: str) -> None:
    with pytest.raises(RuleError, match=message.replace("(", r"\(").replace("|", r"\|")):
        compile_detection(detection, "r.yml")


def test_a_bad_rule_file_is_named_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "broken.yml").write_text("title: x\ndetection:\n  sel: [a\n")
    with pytest.raises(RuleError) as caught:
        load_rules([tmp_path])
    assert caught.value.path == str(tmp_path / "broken.yml") and caught.value.line is not None


def test_a_correlation_naming_an_unknown_rule_is_refused(tmp_path: Path) -> None:
    (tmp_path / "c.yml").write_text(
        "title: c\ncorrelation:\n  type: event_count\n  rules: [nope]\n  group-by: [actor_id]\n"
        "  timespan: 5m\n  condition: {gte: 3}\n"
    )
    with pytest.raises(RuleError, match="unknown rule 'nope'"):
        load_rules([tmp_path])


def test_the_shipped_rules_load_with_unique_ids() -> None:
    rules = load_rules([rules_dir()])
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids)) >= 20


def test_an_investigators_own_rule_runs_without_code(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "night-reads.yml").write_text(
        "title: Reads from the guest network\nid: guest-net-reads\nlevel: high\n"
        "detection:\n  sel:\n    action: READ\n    source_ip|cidr: 192.0.2.0/25\n"
        "  condition: sel\n"
    )
    ev = Evidence()
    ev.record(MONDAY + DAY + 9 * HOUR, "u-olsen", "READ", "contact", "ct-1", "192.0.2.100")
    ev.record(MONDAY + DAY + 10 * HOUR, "u-park", "READ", "contact", "ct-2", "192.0.2.200")
    found = findings(ev.case(tmp_path), [rules])
    assert [(f.rule, f.actor_id, f.severity) for f in of_rule(found, "guest-net-reads")] == [
        ("guest-net-reads", "u-olsen", "high")
    ]
    assert len(found) == 1


def test_a_yaml_alias_bomb_is_refused_not_expanded(tmp_path: Path) -> None:
    lines = ["title: bomb", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)]
    lines += ["detection:", "  sel:", "    action: *a11", "  condition: sel"]
    (tmp_path / "bomb.yml").write_text("\n".join(lines) + "\n")
    with pytest.raises(RuleError, match="values are text, numbers or null"):
        load_rules([tmp_path])


def test_a_case_without_events_gives_no_findings(tmp_path: Path) -> None:
    from auditlens.core.store.case import Case

    with Case.open(tmp_path / "case", create=True):
        pass
    assert findings(tmp_path / "case") == []
