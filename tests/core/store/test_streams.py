"""Integrity between bundles (docs/verification.md §3.1): the same set of bundles gives the same
verdicts whatever the order of import, in one command or several, and the same as ``verify``.

A gap belongs to the stream, between two bundles, and a later bundle that fills it closes it;
a bundle's own verdict speaks of that bundle only; an untrusted bundle never blames a trusted one.
Expected values come from ``verify`` over the same files and from the sample's own manifests.
"""

from __future__ import annotations

import itertools
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from auditlens.core.bundle.seal import seal
from auditlens.core.crypto.keys import sample_key
from auditlens.core.resources import sample_case_dir
from auditlens.core.store.case import Case
from auditlens.core.store.importer import ImportReport, import_inputs
from auditlens.core.store.queries import case_verdict, stream_findings, stream_verdicts
from auditlens.core.verify.findings import MAX_FINDINGS_PER_CODE
from auditlens.core.verify.report import VerifyReport
from auditlens.core.verify.trust import TrustStore, load_trust
from auditlens.core.verify.verifier import verify_paths
from golden.make_golden import copy_bundle, edit_lines, manifest_of, run, split_lines

SAMPLE = sample_case_dir()
STREAMS = {
    stream.name: sorted(stream.iterdir()) for stream in sorted((SAMPLE / "bundles").iterdir())
}


def trust() -> TrustStore:
    return load_trust(SAMPLE / "truststore.json")


def bundle_id(path: Path) -> str:
    return str(manifest_of(path)["bundle_id"])


def import_all(case_dir: Path, groups: list[list[Path]]) -> list[ImportReport]:
    """Import each group of paths with one command (one ``Importer.run``) per group."""
    reports = []
    for group in groups:
        with Case.open(case_dir, create=True) as case:
            reports.append(run(import_inputs(case, group, trust())))
    return reports


def verify(paths: list[Path], store: TrustStore | None = None) -> VerifyReport:
    return run(verify_paths(paths, store if store is not None else trust(), workers=1))


def verdicts_of_verify(report: VerifyReport) -> dict[str, Any]:
    """Bundle verdicts by bundle id, stream verdicts, open stream findings and the run verdict."""
    return {
        "bundles": {
            b.manifest.bundle_id: b.verdict.value for b in report.bundles if b.manifest is not None
        },
        "streams": {(s.stream_id, s.epoch): s.verdict.value for s in report.streams},
        "findings": sorted(
            (s.finding.code, bundle_id(Path(s.finding.path or "")), s.finding.seq)
            for stream in report.streams
            for s in stream.findings
        ),
        "case": report.verdict.value,
    }


def verdicts_of_case(case_dir: Path) -> dict[str, Any]:
    with Case.open(case_dir) as case:
        bundles = dict(case.db.execute("SELECT bundle_id, verdict FROM bundles").fetchall())
        streams = {(s["stream_id"], s["epoch"]): s["verdict"] for s in stream_verdicts(case)}
        found = sorted((f["code"], f["bundle_id"], f["seq"]) for f in stream_findings(case))
        verdict = case_verdict(case)
    return {"bundles": bundles, "streams": streams, "findings": found, "case": verdict}


def integrity_counts(case_dir: Path) -> dict[str, int]:
    with Case.open(case_dir) as case:
        return dict(
            case.db.execute("SELECT integrity, count(*) FROM events GROUP BY integrity").fetchall()
        )


@pytest.mark.parametrize("one_command", [True, False], ids=["one-command", "one-by-one"])
@pytest.mark.parametrize("stream", sorted(STREAMS))
def test_every_import_order_gives_the_verdicts_of_verify(
    tmp_path: Path, stream: str, one_command: bool
) -> None:
    bundles = STREAMS[stream]
    assert len(bundles) == 3
    expected = verdicts_of_verify(verify(bundles))
    assert set(expected["bundles"].values()) == {"verified"}
    assert expected["findings"] == []
    counts = None
    for index, order in enumerate(itertools.permutations(bundles)):
        case_dir = tmp_path / f"case-{index}"
        groups = [list(order)] if one_command else [[path] for path in order]
        import_all(case_dir, groups)
        assert verdicts_of_case(case_dir) == expected, [p.name for p in order]
        found = integrity_counts(case_dir)
        assert counts is None or found == counts, [p.name for p in order]
        counts = found


def test_a_gap_filled_later_is_closed_and_its_history_kept(tmp_path: Path) -> None:
    b1, b2, b3 = STREAMS["cc-prod.audit"]
    case_dir = tmp_path / "case"
    first, second, third = import_all(case_dir, [[b1], [b3], [b2]])
    gap_seq = int(manifest_of(b1)["records"]["last_seq"]) + 1
    # After 1 and 3: the stream has an open gap; bundle 3 itself is intact.
    (after_3,) = second.inputs
    assert after_3.verdict.value == "verified"
    assert after_3.stream is not None and after_3.stream.verdict.value == "tampered"
    assert [(f.code, f.seq) for f in after_3.stream.open_gaps] == [("BUNDLE_GAP", gap_seq)]
    # After 2: nothing open, and the gap's row says which inputs opened and closed it.
    (after_2,) = third.inputs
    assert after_2.stream is not None and after_2.stream.verdict.value == "verified"
    with Case.open(case_dir) as case:
        assert stream_findings(case) == []
        (history,) = stream_findings(case, include_closed=True)
        assert stream_verdicts(case)[0]["open_gaps"] == 0
    assert (history["code"], history["seq"], history["bundle_id"]) == (
        "BUNDLE_GAP",
        gap_seq,
        bundle_id(b3),
    )
    assert history["opened_input_id"] == after_3.input_id
    assert history["closed_input_id"] == after_2.input_id
    assert first.inputs[0].input_id is not None
    # The journal says what each import did to the stream, in the order it happened.
    journal = [json.loads(line) for line in (case_dir / "journal.jsonl").read_text().splitlines()]
    streams = [
        item["stream"]
        for entry in journal
        if entry["action"] == "import"
        for item in entry["details"]["inputs"]
    ]
    assert [(s["verdict"], s["open_findings"]) for s in streams] == [
        ("verified", []),
        ("tampered", [f"BUNDLE_GAP@{gap_seq}"]),
        ("verified", []),
    ]


@pytest.mark.parametrize("order", [(0, 1), (1, 0)], ids=["1-then-3", "3-then-1"])
def test_a_real_gap_stays_open_in_the_stream_and_blames_no_bundle(
    tmp_path: Path, order: tuple[int, int]
) -> None:
    b1, _b2, b3 = STREAMS["cc-prod.audit"]
    given = [[b1, b3][i] for i in order]
    expected = verdicts_of_verify(verify(given))
    assert expected["bundles"] == {bundle_id(b1): "verified", bundle_id(b3): "verified"}
    gap_seq = int(manifest_of(b1)["records"]["last_seq"]) + 1
    assert expected["findings"] == [("BUNDLE_GAP", bundle_id(b3), gap_seq)]
    assert expected["case"] == "tampered"
    for mode, groups in (("one", [given]), ("each", [[p] for p in given])):
        case_dir = tmp_path / mode
        import_all(case_dir, groups)
        assert verdicts_of_case(case_dir) == expected
        with Case.open(case_dir) as case:
            (stream,) = stream_verdicts(case)
            assert (stream["verdict"], stream["open_gaps"]) == ("tampered", 1)
            assert case.db.execute(
                "SELECT count(*) FROM events WHERE integrity <> 'verified'"
            ).fetchone() == (0,)


@pytest.fixture(scope="module")
def untrusted_fork(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Bundle 2 of the audit stream with one record dropped, sealed by a key nobody trusts."""
    root = tmp_path_factory.mktemp("untrusted-fork")
    raw = root / "day2.jsonl"
    lines = split_lines((SAMPLE / "raw" / "audit" / "audit-2026-03-03.jsonl").read_bytes())
    raw.write_bytes(b"".join(line + b"\n" for line in lines[1:]))
    out = root / "cc-prod.audit-0002-fork"
    run(
        seal(
            [raw],
            sample_key("attacker-throwaway-test-key"),  # THROWAWAY: a label anyone can derive
            out,
            previous=STREAMS["cc-prod.audit"][0],
            sealed_at="2026-03-04T00:07:00Z",
        )
    )
    return out


def test_an_untrusted_fork_never_changes_the_verdict_of_trusted_bundles(
    tmp_path: Path, untrusted_fork: Path
) -> None:
    genuine = STREAMS["cc-prod.audit"]
    fork_id = bundle_id(untrusted_fork)
    seen = []
    for order in itertools.permutations([*genuine, untrusted_fork]):
        report = verdicts_of_verify(verify(list(order)))
        assert {k: v for k, v in report["bundles"].items() if k != fork_id} == {
            bundle_id(p): "verified" for p in genuine
        }
        assert report["bundles"][fork_id] == "untrusted"
        # The fork is a stream-level finding about the untrusted bundle only.
        assert {(code, about) for code, about, _seq in report["findings"]} == {
            ("BUNDLE_FORK", fork_id)
        }
        seen.append(report)
    assert all(report == seen[0] for report in seen)
    for index, order in enumerate([[untrusted_fork, *genuine], [*genuine, untrusted_fork]]):
        case_dir = tmp_path / f"case-{index}"
        import_all(case_dir, [[path] for path in order])
        assert verdicts_of_case(case_dir) == seen[0]


def test_a_duplicated_data_file_is_used_nowhere(tmp_path: Path) -> None:
    source = STREAMS["cc-prod.audit"][0]
    members = sorted(p for p in source.rglob("*") if p.is_file())
    data = [p for p in members if p.parent.name == "data"]
    assert data
    bundle = tmp_path / "audit-dup.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        for member in members:
            archive.write(member, member.relative_to(source).as_posix())
        with pytest.warns(UserWarning, match="Duplicate name"):
            # The same sealed bytes a second time under the same name.
            archive.write(data[0], data[0].relative_to(source).as_posix())
    report = verify([bundle])
    assert report.bundles[0].verdict.value not in ("verified", "untrusted")
    duplicated = f"{bundle}!{data[0].relative_to(source).as_posix()}"
    assert duplicated in {f.path for f in report.findings if f.code == "DUPLICATE_ENTRY"}
    case_dir = tmp_path / "case"
    (imported,) = import_all(case_dir, [[bundle]])
    assert imported.inputs[0].verdict == report.bundles[0].verdict
    with Case.open(case_dir) as case:
        assert case.db.execute(
            "SELECT count(*) FROM events WHERE integrity = 'verified'"
        ).fetchone() == (0,)
        assert case.db.execute(
            "SELECT count(*) FROM events WHERE file = ?", [duplicated]
        ).fetchone() == (0,)


def test_every_moved_record_is_marked_even_past_the_findings_cap(tmp_path: Path) -> None:
    # Records stored in reverse order: one longest increasing run of one record stays in place,
    # every other record is moved. The verifier lists 200 RECORDS_REORDERED findings and counts
    # the rest; the events must still be marked from what each record is, not from that list.
    bundle = copy_bundle(STREAMS["cc-prod.audit"][0], tmp_path / "reversed")
    edit_lines(bundle, lambda lines: lines[::-1])
    count = int(manifest_of(bundle)["records"]["count"])
    assert count > MAX_FINDINGS_PER_CODE + 1
    report = verify([bundle])
    (checked,) = report.bundles
    moved = [f for f in checked.findings if f.code == "RECORDS_REORDERED"]
    assert len(moved) == MAX_FINDINGS_PER_CODE
    assert checked.suppressed["RECORDS_REORDERED"] == count - 1 - MAX_FINDINGS_PER_CODE
    case_dir = tmp_path / "case"
    import_all(case_dir, [[bundle]])
    with Case.open(case_dir) as case:
        by_status = dict(
            case.db.execute("SELECT integrity, count(*) FROM events GROUP BY integrity").fetchall()
        )
        seqs = [s for (s,) in case.db.execute("SELECT seq FROM events ORDER BY seq").fetchall()]
    assert by_status == {"verified": 1, "tampered": count - 1}
    # Each moved record keeps the sequence number it was sealed with.
    first = int(manifest_of(bundle)["records"]["first_seq"])
    assert seqs == list(range(first, first + count))
