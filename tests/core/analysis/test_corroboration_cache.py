"""The expectations an action's missing witnesses are judged by belong to the case asked about."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import drive

from auditlens.core.analysis import corroboration
from auditlens.core.store import queries
from auditlens.core.store.case import Case
from auditlens.core.store.session import Examination
from auditlens.core.verify.trust import TrustStore

T0 = 1_772_438_400_250_000_000  # 2026-03-02T08:00:00.25Z
ACTORS = ["sup-004", "agent-17", "agent-23", "sup-004", "agent-17", "agent-23", "sup-004"]


def audit_file(path: Path, resource: str, delay_ns: int = 0) -> Path:
    """Raw audit records, a minute apart (plus ``delay_ns``), each exporting ``resource``-N."""
    lines = []
    for i, actor in enumerate(ACTORS):
        ns = T0 + i * 60 * 10**9 + 123 + delay_ns
        record = {
            "timestamp": queries.format_time(ns),
            "user_id": actor,
            "action": "EXPORT",
            "resource": "recording",
            "resource_id": f"{resource}-{i}",
        }
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n")
    return path


def make_case(folder: Path, inputs: list[Path]) -> None:
    with Examination.open(folder, origin="cli", create=True) as session:
        drive(session.import_evidence(inputs, TrustStore()))


def first_record(case: Case, path: Path) -> tuple[str, int, int]:
    row = case.db.execute(
        "SELECT stream_id, seq, time_ns FROM events e JOIN inputs i USING (input_id) "
        "WHERE i.path = ? ORDER BY time_ns LIMIT 1",
        [str(path)],
    ).fetchone()
    assert row is not None
    return str(row[0]), int(row[1]), int(row[2])


def test_a_case_made_again_in_the_same_folder_is_judged_by_its_own_expectations(
    tmp_path: Path,
) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    first = audit_file(evidence / "gateway-a.jsonl", "rec")
    # Another gateway's record of each action, 5 ms later: it witnesses every action of first.
    copy = audit_file(evidence / "gateway-b.jsonl", "rec", delay_ns=5_000_000)
    other = audit_file(evidence / "gateway-c.jsonl", "call")  # witnesses none of them
    folder = tmp_path / "case"

    make_case(folder, [first, copy])
    with Case.open(folder) as case:
        asked = corroboration.action_witnesses(case, *first_record(case, first))
        assert asked is not None and len(asked.witnesses) == 2 and asked.missing == []
        learned = corroboration.expectations(case)
        assert [(e.actions, e.rate) for e in learned] == [(7, 1.0), (7, 1.0)]

    # The same folder, the same number of events, other evidence: the first case's
    # expectations said the copy's stream witnesses every export, and this case has no copy.
    shutil.rmtree(folder)
    make_case(folder, [first, other])
    with Case.open(folder) as case:
        assert case.scalar("SELECT count(*) FROM events") == 2 * len(ACTORS)
        asked = corroboration.action_witnesses(case, *first_record(case, first))
        assert asked is not None and len(asked.witnesses) == 1
        assert asked.missing == []
        assert corroboration.expectations(case) == []
