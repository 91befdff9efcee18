"""The fuzzing harnesses work: each target runs a short, bounded session in a subprocess.

``make fuzz`` runs them for minutes; here each replays its seeds or runs a few hundred mutations
with a fixed libFuzzer seed, so ``make test`` shows that the harnesses run, that their seeds are
valid, and that the first mutations of those seeds crash nothing. The harness prints a summary
line (``fuzz TARGET: N inputs ..., K distinct crashes; outcomes: ...``) when it exits.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VERIFY_RUNS = 300
IMPORT_RUNS = 60  # each import opens and checks a fresh DuckDB case: ~0.1 s an input
GUARD_SECONDS = 900  # a hang guard for the subprocess, far above what the runs need


class FuzzCrashError(Exception):
    """The harness found an input that crashes its target."""


def run_harness(tmp_path: Path, *args: str | Path) -> dict[str, int]:
    """Run the harness; return its outcome counts. A crash raises :class:`FuzzCrashError`."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz.harness",
            *map(str, args),
            "-seed=1",
            f"-artifact_prefix={tmp_path}/",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # atheris prints an uncaught exception to stdout
        text=True,
        # Same coverage feedback, so the same mutations, on every run.
        env={**os.environ, "PYTHONHASHSEED": "0"},
        timeout=GUARD_SECONDS,
        check=False,
    )
    output = result.stdout
    if "Uncaught Python exception" in output or list(tmp_path.glob("crash-*")):
        raise FuzzCrashError(output[-6000:])
    assert result.returncode == 0, output[-6000:]
    # The last summary line is the final one (a long run also prints one every minute).
    summaries = re.findall(
        r"^fuzz \w+: (\d+) inputs .*?, (\d+) distinct crashes; outcomes: (.*)$", output, re.M
    )
    assert summaries, output[-6000:]
    inputs, crashes, listed = summaries[-1]
    assert crashes == "0"
    outcomes = {
        name: int(count)
        for name, count in (item.rsplit(" ", 1) for item in listed.split(", ") if item)
    }
    assert sum(outcomes.values()) == int(inputs)
    return outcomes


# Every form of the verify target but raw evidence, whose known bug has its own test below.
BUNDLE_FORMS = ",".join(
    [
        "bundle.zip",
        "bundle.tar.gz",
        "bundle.tar",
        "manifest.json",
        "manifest.dsse.json",
        "index/checkpoints.json",
        "index/leaves.bin",
        "data/00001.jsonl",
    ]
)


def test_verify_harness_seeds_verify(tmp_path: Path) -> None:
    outcomes = run_harness(tmp_path, "verify", "--seeds-only")
    # The intact bundle in each form verifies; each raw sample is unsealed evidence.
    assert {name.split(":")[0] for name in outcomes} == {*BUNDLE_FORMS.split(","), "raw"}
    assert all(
        name == "raw:unsealed" if name.startswith("raw:") else name.endswith(":verified")
        for name in outcomes
    )


def test_verify_harness_fuzzes_bundles_without_a_crash(tmp_path: Path) -> None:
    outcomes = run_harness(
        tmp_path,
        "verify",
        tmp_path / "corpus",
        f"--forms={BUNDLE_FORMS}",
        f"-atheris_runs={VERIFY_RUNS}",
    )
    assert sum(outcomes.values()) == VERIFY_RUNS
    # The seeds are the intact bundle in every form; mutations of it must be caught.
    verdicts = {name.rsplit(":", 1)[-1] for name in outcomes}
    assert "verified" in verdicts
    assert verdicts & {"tampered", "invalid"}


def test_verify_harness_on_corrupt_compressed_raw_evidence(tmp_path: Path) -> None:
    reproduction = tmp_path / "corrupt-zstd"
    reproduction.write_bytes(b"\x00" + b"\x28\xb5\x2f\xfd" + b"garbage")
    run_harness(tmp_path, "verify", "--forms=raw", reproduction)
    outcomes = run_harness(
        tmp_path, "verify", tmp_path / "corpus", "--forms=raw", f"-atheris_runs={VERIFY_RUNS}"
    )
    assert sum(outcomes.values()) == VERIFY_RUNS


def test_import_harness_seeds_import_cleanly(tmp_path: Path) -> None:
    outcomes = run_harness(tmp_path, "import", "--seeds-only")
    # Every seed is valid evidence: raw files import as unsealed, the bundle as verified.
    assert set(outcomes) == {
        "raw:raw:unsealed",
        "raw-zstd:raw:unsealed",
        "raw-gzip:raw:unsealed",
        "bundle.zip:bundle:verified",
        "data-file:bundle:verified",
    }


def test_import_harness_fuzzes_without_a_crash(tmp_path: Path) -> None:
    # The minimal reproduction first (its bytes replace data/00001.jsonl of the valid bundle),
    # then a short fuzzing session.
    reproduction = tmp_path / "invalid-utf8-record"
    reproduction.write_bytes(
        b'\x00{"timestamp":"2026-03-02T08:00:00Z","user_id":"\x80","action":"EXPORT"}\n'
    )
    run_harness(tmp_path, "import", "--forms=data-file", reproduction)
    outcomes = run_harness(tmp_path, "import", tmp_path / "corpus", f"-atheris_runs={IMPORT_RUNS}")
    assert sum(outcomes.values()) == IMPORT_RUNS
