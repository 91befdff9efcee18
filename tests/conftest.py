"""Shared test fixtures. Keep them small and generic; expensive setup is session-scoped.

This directory is on ``sys.path`` while tests run (pytest's default import mode inserts the
rootdir of this conftest), so helpers under ``tests/`` import as ``golden.make_golden``.
"""

from __future__ import annotations

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


# --- case fixtures (tests/core/test_importer.py, tests/core/test_queries.py,
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
