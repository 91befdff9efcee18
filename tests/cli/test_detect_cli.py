"""``auditlens detect`` and ``auditlens compliance`` on a case, through the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from auditlens.core.store.case import Case


def test_detect_stores_lists_and_journals_findings(sample_case: Path, tmp_path: Path, cli: Any):
    folder = tmp_path / "case"
    shutil.copytree(sample_case, folder)
    result = cli("detect", folder, "--format", "jsonl")
    assert result.code == 0
    rows = [json.loads(line) for line in result.out.splitlines()]
    keys = {"rule", "title", "severity", "actor_id", "time_first", "time_last", "explanation"}
    assert rows and all(keys <= set(r) for r in rows)
    assert rows[0]["severity"] == "high"
    assert {r["severity"] for r in rows} <= {"informational", "low", "medium", "high", "critical"}
    event = rows[0]["events"][0]
    assert set(event) == {"time", "stream_id", "seq"} and event["time"].startswith("2026-03-")
    with Case.open(folder) as case:
        stored = case.scalar("SELECT count(*) FROM detections")
    assert stored == len(rows)
    entries = [json.loads(x) for x in (folder / "journal.jsonl").read_text().splitlines()]
    assert entries[-1]["action"] == "detect"
    assert entries[-1]["details"]["findings"] == len(rows)
    assert entries[-1]["details"]["origin"] == "cli"
    assert entries[-1]["details"]["digest"].startswith("sha256:")

    table = cli("detect", folder)
    assert table.code == 0 and table.out.splitlines()[0].startswith("SEVERITY")
    assert f"{len(rows)} finding(s)" in table.out


def test_findings_lists_what_detect_stored_without_running_again(
    sample_case: Path, tmp_path: Path, cli: Any
):
    # The report's detections section sends its reader to 'auditlens findings CASE' for the
    # findings past its 200, and docs/report.md names the command: it used not to exist.
    folder = tmp_path / "case"
    shutil.copytree(sample_case, folder)
    before = cli("findings", folder)
    assert before.code == 0 and "no detection run yet" in before.err and before.out == ""
    detected = cli("detect", folder, "--format", "jsonl", "--tz", "Europe/Berlin")
    listed = cli("findings", folder, "--format", "jsonl", "--tz", "Europe/Berlin")
    assert listed.code == 0
    assert listed.out == detected.out and listed.out.count("\n") > 5
    entries = [json.loads(x) for x in (folder / "journal.jsonl").read_text().splitlines()]
    assert entries[-2]["action"] == "detect"  # listing runs nothing: no second detect entry
    assert entries[-1]["action"] == "query"
    assert entries[-1]["details"]["command"] == "findings"
    assert entries[-1]["details"]["origin"] == "cli"
    assert entries[-1]["details"]["digest"] == entries[-2]["details"]["digest"]
    table = cli("findings", folder)
    rows = [json.loads(line) for line in listed.out.splitlines()]
    high = sum(r["severity"] == "high" for r in rows)
    assert table.out.splitlines()[0].startswith("SEVERITY")
    assert f"{len(rows)} finding(s) stored by the last detection run: {high} high" in table.out


def test_detect_with_a_bad_rules_folder_says_where(tmp_path: Path, sample_case: Path, cli: Any):
    folder = tmp_path / "case"
    shutil.copytree(sample_case, folder)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "x.yml").write_text(
        "title: x\nlevel: severe\ndetection: {s: {action: A}, condition: s}\n"
    )
    result = cli("detect", folder, "--rules", rules)
    assert result.code == 2
    assert "x.yml" in result.err and "level 'severe'" in result.err


def test_a_rules_folder_without_rules_is_refused_and_the_findings_stay(
    tmp_path: Path, sample_case: Path, cli: Any
):
    # 'detect --rules EMPTY' ran no rule, exit 0, and replaced the stored findings with none.
    folder = tmp_path / "case"
    shutil.copytree(sample_case, folder)
    assert cli("detect", folder).code == 0
    before = cli("findings", folder, "--format", "jsonl").out
    assert before.count("\n") > 5
    empty = tmp_path / "rules"
    empty.mkdir()
    (empty / "README.txt").write_text("my rules go here\n")
    result = cli("detect", folder, "--rules", empty)
    assert result.code == 2
    assert f"{empty}: no rule files (*.yml, *.yaml) in this folder" in result.err
    (empty / "draft.yml").write_text("# nothing yet\n")
    result = cli("detect", folder, "--rules", empty)
    assert result.code == 2 and "draft.yml: the file holds no rule" in result.err
    assert cli("findings", folder, "--format", "jsonl").out == before


def test_compliance_reports_each_framework_and_the_gdpr_window(
    sample_case: Path, tmp_path: Path, cli: Any
):
    folder = tmp_path / "case"
    shutil.copytree(sample_case, folder)
    assert cli("detect", folder).code == 0
    result = cli("compliance", folder, "--json")
    assert result.code == 0
    report = json.loads(result.out)
    names = [f["framework"] for f in report["frameworks"]]
    assert any(n.startswith("PCI DSS") for n in names) and any("Art. 33" in n for n in names)
    pci = next(f for f in report["frameworks"] if f["framework"].startswith("PCI DSS"))
    status = {r["ref"]: r["status"] for r in pci["requirements"]}
    assert status["10.2.1.4"] == "held" and status["10.2.1.3"] == "missing"
    assert status["10.2.2"] == "partial"  # the audit records carry no outcome
    assert any("cc-prod.audit holds no event" in g for g in report["gaps"])
    assert report["gdpr_art33"]["first_incident_event"].startswith("2026-03-03T01:")
    assert report["gdpr_art33"]["deadline"].startswith("2026-03-06T01:")
