"""``auditlens gui --time-start``: how the frozen build's start-time target is measured."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys


def test_time_start_prints_the_first_window_time_and_exits(sample_case_dir, tmp_path):
    case_dir = tmp_path / "case"
    shutil.copytree(sample_case_dir, case_dir)
    result = subprocess.run(
        [sys.executable, "-m", "auditlens.entry", "gui", str(case_dir), "--time-start"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stderr
    found = re.fullmatch(
        r"first window: (\d+) ms after the process started \(CPU (\d+) ms\)\n", result.stdout
    )
    assert found, result.stdout
    # The count starts at the process's start, before the interpreter: never zero; and a
    # process that imported Qt and DuckDB and drew a window has spent CPU time on it.
    assert int(found.group(1)) > 0 and int(found.group(2)) > 0


def test_process_age_counts_from_the_process_start():
    from auditlens.gui.app import process_age_ms

    # This test process started before the test ran, and ages as it runs.
    first = process_age_ms()
    second = process_age_ms()
    assert 0 < first <= second
