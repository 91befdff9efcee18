"""The CLI's output layer: the only place that prints.

Results go to stdout; progress and diagnostics go to stderr, so ``--json`` output stays clean.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Generator
from typing import Any, TypeVar

from auditlens.core.progress import Progress

T = TypeVar("T")


def out(text: str = "") -> None:
    """Print a line of results."""
    print(text)


def err(text: str) -> None:
    """Print a line of diagnostics."""
    print(text, file=sys.stderr)


def out_json(value: Any) -> None:
    """Print one JSON document."""
    print(json.dumps(value, indent=2, ensure_ascii=False))


def drive(job: Generator[Progress, None, T], *, quiet: bool = False) -> T:
    """Run a core job to completion, drawing a progress line on stderr when it is a terminal."""
    show = not quiet and sys.stderr.isatty()
    last = 0.0
    try:
        while True:
            step = next(job)
            now = time.monotonic()
            if show and now - last > 0.2:
                last = now
                total = f"/{step.total:,}" if step.total else ""
                sys.stderr.write(f"\r{step.stage}: {step.done:,}{total} {step.unit}  ")
                sys.stderr.flush()
    except StopIteration as stop:
        if show:
            sys.stderr.write("\r" + " " * 60 + "\r")
        return stop.value  # type: ignore[no-any-return]
