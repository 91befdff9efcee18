"""Print the table of docs/robustness.md: every hostile case, what verify must do, what it does.

Runs each case of tests/hostile/make_hostile.py through the verifier and reports the verdict and
whether the required finding is at the required place. Run from the repository:
``.venv/bin/python tools/robustness_table.py``.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from auditlens.core.verify.findings import EXIT_CODES  # noqa: E402
from auditlens.core.verify.trust import load_trust  # noqa: E402
from auditlens.core.verify.verifier import verify_paths  # noqa: E402
from hostile.make_hostile import BUILDERS, build, make_base  # noqa: E402


def drive(job: Generator[Any, None, Any]) -> Any:
    """Run a core progress generator to its value."""
    try:
        while True:
            next(job)
    except StopIteration as stop:
        return stop.value


def main() -> int:
    """Write the Markdown table to standard output."""
    out = sys.stdout.write
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        base = make_base(root / "base")
        trust = load_trust(base.trust)
        out("| case | hostile input | must report | verify does |\n|---|---|---|---|\n")
        for name in BUILDERS:
            case = build(name, base, root / "cases")
            report = drive(verify_paths([case.path], trust, workers=1))
            where = case.where.replace(str(root / "cases" / name) + "/", "").replace("|", "\\|")
            found = any(f.code == case.code and f.path == case.where for f in report.findings)
            place = where + (f":{case.line}" if case.line else "")
            does = (
                f"{report.verdict.value} (exit {EXIT_CODES[report.verdict]}), "
                f"{case.code} {'at that place' if found else 'NOT at that place'}"
            )
            out(f"| `{name}` | {case.what} | `{case.code}` at `{place}` | {does} |\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
