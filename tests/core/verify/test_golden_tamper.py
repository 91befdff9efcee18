"""The golden tamper set: every tamper class of docs/verification.md gives its exact code and place.

The set is built once per session by ``tests/golden/make_golden.py``; the expected findings come
from what each tamper did, never from the verifier (see that module).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auditlens.core.verify.findings import EXIT_CODES, Verdict
from auditlens.core.verify.report import VerifyReport
from auditlens.core.verify.trust import TrustStore, load_trust
from auditlens.core.verify.verifier import verify_paths
from golden.make_golden import ExpectedFinding, GoldenCase, make_golden, run

CASES = [
    "intact",
    "intact_sample_trust",
    "intact_no_trust",
    "modify_record",
    "delete_record",
    "insert_record",
    "reorder_records",
    "reorder_adjacent",
    "truncate_head",
    "truncate_tail",
    "splice_record",
    "modify_record_zip",
    "modify_record_zip_stored",
    "duplicate_record",
    "delete_record_targz",
    "swap_data_file",
    "unlisted_file",
    "missing_index_file",
    "missing_data_file",
    "manifest_edit",
    "manifest_edit_noncanonical",
    "resign_untrusted",
    "resign_expired",
    "resign_revoked",
    "resign_claiming_trusted_id",
    "downgrade_rsa2048",
    "downgrade_declared",
    "gap",
    "replay",
    "rollback",
    "fork_previous_link",
    "fork_two_successors",
    "intact_zip_chain",
    "appended_bytes",
    "zip_comment",
    "zip_appended",
    "targz_appended",
    "intact_zip_repacked",
    "zip_duplicate_entry",
    "zip_unsafe_entry",
    "modify_record_without_index",
    "checkpoint_edit",
    "checkpoint_resigned",
    "leaf_index_edit",
    "leaf_index_resigned",
    "clock_regression",
    "clock_regression_between_bundles",
]

# docs/verification.md, "Tamper classes to detect and localize".
TAMPER_CLASSES = {
    "modify",
    "delete",
    "insert",
    "reorder",
    "truncate head",
    "truncate tail",
    "file swap",
    "unlisted file",
    "missing file",
    "manifest edit",
    "re-signed with an untrusted key",
    "re-signed with an expired key",
    "re-signed with a revoked key",
    "algorithm downgrade",
    "rollback",
    "replay of an older bundle",
    "gap between bundles",
    "fork",
    "appended data",
    "checkpoint tampering",
    "leaf-index tampering",
    "splice from another stream",
    "clock regression",
}


@pytest.fixture(scope="session")
def golden_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("golden") / "set"


@pytest.fixture(scope="session")
def golden(golden_root: Path) -> dict[str, GoldenCase]:
    return make_golden(golden_root)


def trust_of(paths: tuple[Path, ...] | list[Path]) -> TrustStore:
    store = TrustStore()
    for path in paths:
        load_trust(path, store)
    return store


def verify(paths: tuple[Path, ...] | list[Path], trust: TrustStore) -> VerifyReport:
    return run(verify_paths(list(paths), trust, workers=1))


def matches(expected: ExpectedFinding, finding: dict[str, Any]) -> bool:
    return (
        finding["code"] == expected.code
        and finding["path"] == expected.path
        and (expected.line is None or finding["line"] == expected.line)
        and (expected.seq is None or finding["seq"] == expected.seq)
    )


def check_findings(case: GoldenCase, findings: list[dict[str, Any]]) -> None:
    """Every expected finding is reported at its place; nothing else but allowed consequences."""
    unmatched = list(findings)
    missing = []
    for expected in case.findings:
        hit = next((f for f in unmatched if matches(expected, f)), None)
        if hit is None:
            missing.append(expected)
        else:
            unmatched.remove(hit)
    unexpected = [f for f in unmatched if f["code"] not in case.allowed]
    shown = "\n".join(
        f"  {f['code']} {f['path']} line={f['line']} seq={f['seq']}" for f in findings
    )
    assert not missing, f"{case.name}: not reported: {missing}\nreported:\n{shown}"
    assert not unexpected, f"{case.name}: unexpected findings:\nreported:\n{shown}"


def test_golden_set_covers_every_tamper_class(golden: dict[str, GoldenCase]) -> None:
    assert list(golden) == CASES
    assert {c.tamper_class for c in golden.values()} >= TAMPER_CLASSES


def test_golden_index_lists_every_case_with_existing_paths(
    golden: dict[str, GoldenCase], golden_root: Path
) -> None:
    index = json.loads((golden_root / "golden.json").read_text(encoding="utf-8"))
    assert [c["name"] for c in index["cases"]] == CASES
    for entry in index["cases"]:
        for path in entry["paths"] + entry["trust"]:
            assert (golden_root / path).exists()


@pytest.mark.parametrize("name", CASES)
def test_golden_case(golden: dict[str, GoldenCase], name: str) -> None:
    case = golden[name]
    report = verify(case.paths, trust_of(case.trust))
    check_findings(case, [f.to_json() for f in report.findings])
    assert report.verdict.value == case.verdict, [f.code for f in report.findings]


@pytest.mark.parametrize(
    "name", ["intact_sample_trust", "delete_record", "resign_untrusted", "gap", "zip_comment"]
)
def test_golden_case_through_cli(golden: dict[str, GoldenCase], name: str, cli: Any) -> None:
    case = golden[name]
    trust_args = [a for t in case.trust for a in ("--trust", str(t))]
    result = cli("verify", *case.paths, *trust_args, "--json", "--workers", "1")
    document = json.loads(result.out)
    assert result.code == EXIT_CODES[Verdict(case.verdict)]
    assert document["verdict"] == case.verdict
    check_findings(case, document["findings"])


def test_untampered_sample_verifies_with_the_sample_trust_store(
    golden: dict[str, GoldenCase],
) -> None:
    intact = golden["intact_sample_trust"]
    assert json.loads(intact.trust[0].read_bytes())["sample"] is True
    report = verify(intact.paths, trust_of(intact.trust))
    assert report.verdict is Verdict.VERIFIED
    assert [b.verdict for b in report.bundles] == [Verdict.VERIFIED] * len(intact.paths)
    # One SAMPLE_TRUST warning per bundle, at its signature, and nothing else.
    assert sorted((f.code, f.severity, f.path) for f in report.findings) == sorted(
        ("SAMPLE_TRUST", "warning", f"{p}!manifest.dsse.json") for p in intact.paths
    )


def test_untampered_sample_is_untrusted_without_a_trust_store(
    golden: dict[str, GoldenCase],
) -> None:
    intact = golden["intact"]
    report = verify(intact.paths, TrustStore())
    assert report.verdict is Verdict.UNTRUSTED
    assert [b.verdict for b in report.bundles] == [Verdict.UNTRUSTED] * len(intact.paths)
    assert sorted((f.code, f.path) for f in report.findings) == sorted(
        ("UNTRUSTED_SIGNER", f"{p}!manifest.dsse.json") for p in intact.paths
    )
