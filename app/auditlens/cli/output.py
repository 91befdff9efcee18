"""The CLI's output layer: the only place that prints.

Results go to stdout; progress and diagnostics go to stderr, so ``--json`` output stays clean.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Generator, Sequence
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
    print(json.dumps(value, indent=2, ensure_ascii=True))


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


def table(
    rows: list[dict[str, Any]], columns: list[str], *, widths: dict[str, int] | None = None
) -> None:
    """Print rows as an aligned text table, cutting long cells."""
    widths = widths or {}
    cells = [[_cell(row.get(c), widths.get(c, 40)) for c in columns] for row in rows]
    sizes = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    out("  ".join(c.upper().ljust(sizes[i]) for i, c in enumerate(columns)).rstrip())
    for r in cells:
        out("  ".join(v.ljust(sizes[i]) for i, v in enumerate(r)).rstrip())


def _cell(value: Any, width: int) -> str:
    if value is None:
        return "-"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def csv_rows(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Print rows as CSV with a header (objects as JSON text)."""
    import csv

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                ""
                if row.get(c) is None
                else (
                    row[c]
                    if isinstance(row[c], str | int)
                    else json.dumps(row[c], ensure_ascii=False)
                )
                for c in columns
            ]
        )


def jsonl(rows: list[dict[str, Any]]) -> None:
    """Print rows as JSON lines."""
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))


def emit(
    rows: list[dict[str, Any]],
    columns: list[str],
    fmt: str,
    *,
    table_columns: list[str] | None = None,
) -> None:
    """Print rows in the chosen format (table, csv or jsonl)."""
    if fmt == "jsonl":
        jsonl(rows)
    elif fmt == "csv":
        csv_rows(rows, columns)
    else:
        table(rows, table_columns or columns)


def out_findings(findings: Sequence[Any]) -> None:
    """Print verification findings, each with its place and expected and actual values."""
    if findings:
        out(f"findings ({len(findings)}):")
    for finding in findings:
        out(f"  {finding.severity.upper():7} {finding.code}: {finding.message}")
        out(f"          at {finding.place()}")
        detail = [
            f"{label} {value}"
            for label, value in (("expected", finding.expected), ("actual", finding.actual))
            if value is not None
        ]
        if detail:
            out("          " + "  ".join(detail))
