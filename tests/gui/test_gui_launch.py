"""``auditlens gui CASE --screenshot PNG`` as a script runs it: it ends, and leaves nothing behind.

Each run is a process of its own, offscreen, with a timeout: a regression that waits on a dialog
nobody can answer fails instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def gui(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditlens.entry", "gui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "TMPDIR": str(tmp)},
    )


def test_a_folder_that_is_no_case_is_named_and_the_screenshot_ends(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    empty = tmp_path / "not-a-case"
    empty.mkdir()
    out = tmp_path / "shot.png"
    # It used to show a modal "Cannot open the case" box and wait for a click forever.
    done = gui(str(empty), "--screenshot", str(out), tmp=scratch)
    assert done.returncode == 2
    assert f"cannot open the case: {empty}: not a case folder (no case.duckdb)" in done.stderr
    assert not out.exists()
    assert list(scratch.iterdir()) == []


def test_a_size_that_is_no_size_is_a_usage_error(tmp_path: Path) -> None:
    done = gui("--screenshot", str(tmp_path / "shot.png"), "--size", "wide", tmp=tmp_path)
    assert done.returncode == 2
    assert "argument --size: 'wide': give WIDTHxHEIGHT in pixels" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_screenshot_leaves_no_scratch_settings_behind(sample_case_dir, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "shot.png"
    done = gui(str(sample_case_dir), "--size", "800x500", "--screenshot", str(out), tmp=scratch)
    assert done.returncode == 0, done.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert not image.isNull() and image.width() >= 800  # at least as wide: the minimum size rules
    # Each run used to leave an auditlens-screenshot-* folder in the temporary folder.
    assert [p.name for p in scratch.iterdir()] == []
