"""The core API the workbench calls: witnesses of an action, an actor's baseline, findings."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from tests.conftest import drive

from auditlens.core import analysis
from auditlens.core.analysis.baselines import counted_percentile, percentile
from auditlens.core.store.case import Case


def test_an_actions_witnesses_are_its_audit_record_log_and_span(sample_case: Path) -> None:
    with Case.open(sample_case, read_only=True) as case:
        ord_ = case.scalar(
            "SELECT ord FROM events WHERE kind = 'audit' AND action = 'ROLE_CHANGE' "
            "AND actor_id = 'sup-004'"
        )
        found = analysis.witnesses(case, int(ord_))
    assert sorted(w["kind"] for w in found) == ["audit", "log", "span"]
    assert ord_ in {w["ord"] for w in found}
    assert len({w["trace_id"] for w in found if w["kind"] != "audit"}) == 1


def test_an_actors_profile_holds_its_hours_addresses_and_actions(sample_case: Path) -> None:
    with Case.open(sample_case, read_only=True) as case:
        prof = analysis.profile(case, "sup-004")
        assert analysis.profile(case, "nobody-here") is None
    assert prof is not None
    assert prof.role == "supervisor" and prof.active_days == 3
    assert prof.actions["DOWNLOAD"] >= 25
    assert any(ip.startswith("198.51.100.") for ip in prof.addresses)
    assert 1 in prof.hours


def test_findings_reads_back_what_the_last_run_stored(sample_case: Path, tmp_path: Path) -> None:
    folder = tmp_path / "case"
    shutil.copytree(sample_case, folder)
    with Case.open(folder) as case:
        assert analysis.findings(case) == []
        report = drive(analysis.run_detection(case))
        assert analysis.findings(case) == report.findings
        assert report.findings[0].severity == "high"


@pytest.mark.parametrize(
    "values",
    [[1], [1, 1, 2, 9], list(range(1, 201)), [4] * 150 + [37], [2, 3, 3, 5, 8, 13, 21, 34]],
)
def test_the_counted_percentile_equals_the_plain_one(values: list[int]) -> None:
    for q in (0.5, 0.9, 0.99, 1.0):
        assert counted_percentile(Counter(values), q) == percentile(values, q)


def test_the_analysis_session_journals_each_call_with_its_origin(
    sample_case: Path, tmp_path: Path
) -> None:
    import json

    folder = tmp_path / "case"
    shutil.copytree(sample_case, folder)
    with analysis.Analysis.open(folder, origin="workbench") as session:
        report = drive(session.detect())
        assert session.findings() == report.findings
        assert session.profile("sup-004") is not None
        session.compliance(as_of_ns=report.findings[0].time_first_ns)
    entries = [json.loads(x) for x in (folder / "journal.jsonl").read_text().splitlines()][-4:]
    assert [(e["action"], e["details"].get("command")) for e in entries] == [
        ("detect", None),
        ("query", "findings"),
        ("query", "baseline"),
        ("compliance", None),
    ]
    assert {e["details"]["origin"] for e in entries} == {"workbench"}
    assert entries[0]["details"]["digest"] == entries[1]["details"]["digest"]
    with pytest.raises(Exception, match="unknown origin"):
        analysis.Analysis.open(folder, origin="script")
