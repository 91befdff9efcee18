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
