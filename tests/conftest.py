"""Shared test fixtures. Keep them small and generic; expensive setup is session-scoped.

This directory is on ``sys.path`` while tests run (pytest's default import mode inserts the
rootdir of this conftest), so helpers under ``tests/`` import as ``golden.make_golden``.
"""

from __future__ import annotations

import os

# GUI tests run offscreen everywhere (CI has no display); set before Qt is imported anywhere.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


def drive(job: Generator[Any, None, T]) -> T:
    """Run a core progress generator to completion and return its value."""
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]


def gui_screenshot(*args: str, out: Path) -> Any:
    """``auditlens gui ARGS --screenshot OUT`` run offscreen in a process of its own: the QImage.

    The process must end with 0 (its error output is the assertion's message).
    """
    import subprocess
    import sys

    from PySide6.QtGui import QImage

    result = subprocess.run(
        [sys.executable, "-m", "auditlens.entry", "gui", *args, "--screenshot", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stderr
    return QImage(str(out))


@dataclass(frozen=True)
class CliResult:
    """What one in-process ``auditlens`` run returned and printed."""

    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``auditlens ARGS...`` in-process; returns exit code, stdout and stderr of that run."""
    from auditlens.cli.main import main

    def invoke(*args: str | Path) -> CliResult:
        capsys.readouterr()  # drop anything printed before this run
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A small built-in sample case (raw evidence, sealed bundles, sample trust store).

    Shared and read-only: copy what you modify.
    """
    from auditlens.core.sample.case import build_sample

    return drive(build_sample(tmp_path_factory.mktemp("sample") / "case", records=400, days=2))


# --- case fixtures (tests/core/store/test_importer.py, tests/core/store/test_queries.py,
# --- tests/cli/test_case_cli.py) -------------------------------------------------------------

BIG_CASE_RECORDS = 150_000
"""Raw audit records in :func:`big_case`: more than two 65,536-row blocks of the timeline."""

_BIG_CASE_DAY_NS = 1_772_409_600 * 1_000_000_000  # 2026-03-02T00:00:00Z


@dataclass(frozen=True)
class BigCase:
    """A case of many tiny raw audit records and the timeline order the test derived itself.

    Attributes:
        folder: the case folder (shared: only query it).
        rows: ``(time_ns, line, action, actor_id)`` of every record, sorted by time then by line
            (the records of one raw file are one stream whose sequence is the line order).
    """

    folder: Path
    rows: list[tuple[int, int, str, str]]


def big_case_record(i: int) -> tuple[int, str, str]:
    """Time (ns), action and actor of record ``i`` (0-based) of :func:`big_case`.

    Times are out of file order and each millisecond value is used by three records, so the
    timeline's order depends on both the sort by time and the tie-break by line.
    """
    offset_ms = (i * 7919) % 50_000 * 37
    action = "EXPORT" if (i * 31) % 7 == 0 else ("DELETE" if i % 11 == 0 else "READ")
    return _BIG_CASE_DAY_NS + offset_ms * 1_000_000, action, f"u{i % 5}"


@pytest.fixture(scope="session")
def big_case(tmp_path_factory: pytest.TempPathFactory) -> BigCase:
    """~150k tiny audit-logger records imported once as raw evidence (through the CLI)."""
    from auditlens.cli.main import main

    root = tmp_path_factory.mktemp("big")
    raw = root / "audit.jsonl"
    rows = []
    with raw.open("w", encoding="utf-8") as handle:
        for i in range(BIG_CASE_RECORDS):
            time_ns, action, actor = big_case_record(i)
            ms = (time_ns - _BIG_CASE_DAY_NS) // 1_000_000
            seconds, millis = divmod(ms, 1000)
            stamp = (
                f"2026-03-02T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
                f".{millis:03d}Z"
            )
            handle.write(f'{{"timestamp":"{stamp}","user_id":"{actor}","action":"{action}"}}\n')
            rows.append((time_ns, i + 1, action, actor))
    folder = root / "case"
    assert main(["import", str(folder), str(raw)]) == 3  # unsealed evidence
    rows.sort()
    return BigCase(folder, rows)


@pytest.fixture(scope="session")
def sample_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped sample's nine sealed bundles imported with its trust store (through the CLI).

    Shared: only query it.
    """
    from auditlens.cli.main import main
    from auditlens.core.resources import sample_case_dir

    source = sample_case_dir()
    bundles = sorted(p for p in (source / "bundles").glob("*/*"))
    assert len(bundles) == 9
    folder = tmp_path_factory.mktemp("sample-case") / "case"
    code = main(
        ["import", str(folder), *map(str, bundles), "--trust", str(source / "truststore.json")]
    )
    assert code == 0
    return folder


# --- guards (tests/guards.py): evidence untouched, read-only opens, no network ----------------


@pytest.fixture
def evidence_guard() -> Generator[Any, None, None]:
    """An :class:`guards.EvidenceGuard`: ``evidence_guard.watch(*paths)`` snapshots files and
    folders; the teardown fails, naming each change, if any of it changed or gained an entry."""
    from guards import EvidenceGuard

    guard = EvidenceGuard()
    yield guard
    guard.assert_untouched()


@pytest.fixture
def evidence_opens() -> Generator[Callable[..., Any], None, None]:
    """Make :class:`guards.OpenRecorder` s: ``with evidence_opens(*roots) as opens: ...`` records
    every open (mode, flags) and rename/removal/... of a path under ``roots``; the teardown fails
    if any of those calls could write (``opens.writes``)."""
    from guards import OpenRecorder

    made: list[Any] = []

    def start(*roots: str | Path) -> Any:
        recorder = OpenRecorder(roots)
        made.append(recorder)
        return recorder

    yield start
    for recorder in reversed(made):
        recorder.uninstall()
    writes = [call for recorder in made for call in recorder.writes]
    assert not writes, f"evidence opened for writing: {writes}"


@pytest.fixture
def no_network() -> Generator[Any, None, None]:
    """A :class:`guards.NetworkGuard` installed for the test: every connection or name lookup
    raises and is recorded; the teardown fails if any was attempted."""
    from guards import NetworkGuard

    guard = NetworkGuard().install()
    try:
        yield guard
    finally:
        guard.uninstall()
    assert not guard.attempts, f"network access attempted: {guard.attempts}"


@pytest.fixture(scope="session")
def guard_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the ``sitecustomize.py`` that guards child processes (tests/guards.py)."""
    from guards import write_sitecustomize

    return write_sitecustomize(tmp_path_factory.mktemp("guard-site"))


@pytest.fixture
def guarded(guard_site: Path, tmp_path: Path) -> Callable[..., Any]:
    """Run a command with every Python process it starts guarded (spawned workers too):
    ``guarded(args, evidence=(...))`` returns a :class:`guards.GuardedRun` whose ``log`` lists
    the processes, the blocked network attempts and the opens of evidence paths."""
    import itertools

    from guards import run_guarded

    runs = itertools.count()

    def run(args: Any, *, evidence: Any = (), env: Any = None) -> Any:
        log = tmp_path / f"guard-{next(runs)}.jsonl"
        return run_guarded(args, site=guard_site, log=log, evidence=evidence, env=env)

    return run


BIG_BUNDLE_RECORDS = 100_000
"""Records of :func:`big_bundle`: enough for the verifier's and the importer's worker processes."""


@dataclass(frozen=True)
class BigBundle:
    """A large sealed bundle (a folder) and the PEM public key that makes it verify."""

    path: Path
    trust: Path
    records: int


def big_bundle_lines(count: int) -> Generator[tuple[bytes, int], None, None]:
    """``count`` tiny audit-logger lines and their times (ns), one millisecond apart."""
    for i in range(count):
        seconds, millis = divmod(i, 1000)
        stamp = (
            f"2026-03-02T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
            f".{millis:03d}Z"
        )
        line = f'{{"timestamp":"{stamp}","user_id":"u{i % 7}","action":"READ"}}'
        yield line.encode(), _BIG_CASE_DAY_NS + i * 1_000_000


@pytest.fixture(scope="session")
def big_bundle(tmp_path_factory: pytest.TempPathFactory) -> BigBundle:
    """A 100,000-record bundle sealed from synthetic lines (fast: no sample generator).

    Shared: never modify it.
    """
    from auditlens.core.bundle.seal import seal
    from auditlens.core.crypto.keys import sample_key
    from auditlens.core.formats.base import SourceRecord
    from auditlens.core.store import importer
    from auditlens.core.verify import verifier

    # Below either threshold the command would quietly stay in one process.
    assert BIG_BUNDLE_RECORDS >= verifier.PARALLEL_MIN_RECORDS
    assert BIG_BUNDLE_RECORDS >= importer.PARALLEL_MIN_RECORDS
    root = tmp_path_factory.mktemp("big-bundle")
    key = sample_key("tests-big-bundle")
    records = (
        SourceRecord(line, time_ns, "audit", "synthetic", n)
        for n, (line, time_ns) in enumerate(big_bundle_lines(BIG_BUNDLE_RECORDS), start=1)
    )
    result = drive(seal([], key, root / "big.audit", stream_id="big", records=records))
    assert result.manifest.count == BIG_BUNDLE_RECORDS
    trust = root / "big.pub.pem"
    trust.write_bytes(key.public_pem())
    return BigBundle(result.path, trust, BIG_BUNDLE_RECORDS)


# The importer starts worker processes only with more than one core (os.cpu_count()); the CLI has
# no --workers for import. Pretend two cores so the parallel path runs on any CI machine.
IMPORT_ON_TWO_CORES = (
    "import os, sys\n"
    "os.cpu_count = lambda: 2\n"
    "from auditlens.cli.main import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


@dataclass(frozen=True)
class ParallelRun:
    """A guarded multi-process CLI run over :func:`big_bundle` and what it did to it."""

    run: Any  # guards.GuardedRun
    evidence_changes: list[str]


@pytest.fixture(scope="session")
def parallel_runs(
    big_bundle: BigBundle, guard_site: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, ParallelRun]:
    """``verify --workers 2`` and ``import`` of :func:`big_bundle`, each run once in guarded
    processes (network blocked and logged, opens of the bundle logged in every process).

    Shared by tests/test_no_network.py and tests/test_evidence_untouched.py.
    """
    import sys

    from guards import EvidenceGuard, run_guarded

    root = tmp_path_factory.mktemp("parallel-runs")
    commands = {
        "verify": [
            sys.executable,
            "-m",
            "auditlens.cli.main",
            "verify",
            big_bundle.path,
            "--trust",
            big_bundle.trust,
            "--workers",
            "2",
        ],
        "import": [
            sys.executable,
            "-c",
            IMPORT_ON_TWO_CORES,
            "import",
            root / "case",
            big_bundle.path,
            "--trust",
            big_bundle.trust,
        ],
    }
    runs = {}
    for name, args in commands.items():
        guard = EvidenceGuard()
        guard.watch(big_bundle.path, big_bundle.trust)
        run = run_guarded(
            args,
            site=guard_site,
            log=root / f"{name}.jsonl",
            evidence=[big_bundle.path, big_bundle.trust],
        )
        runs[name] = ParallelRun(run, guard.changes())
    return runs
