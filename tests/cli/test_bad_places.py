"""Case folders and inputs in places the operating system refuses: an error naming the place.

A case folder that is a file, a folder without write permission, an input or a bundle folder
without read permission each used to end in a Python traceback (PermissionError,
FileExistsError). Each run is a subprocess, as the examiner runs it. The permission cases run
without the capabilities that let root read and write anything (``setpriv``), so that they test
the same refusal as for any other user.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "contact-center"
RAW = SAMPLE / "raw" / "audit" / "audit-2026-03-02.jsonl"
BUNDLE = SAMPLE / "bundles" / "cc-prod.audit" / "cc-prod.audit-0001"
CLI = [sys.executable, "-m", "auditlens.cli.main"]
DROP = "-dac_override,-dac_read_search"


def run(args: list[str], cwd: Path, *, as_user: bool = False) -> subprocess.CompletedProcess[str]:
    prefix: list[str] = []
    if as_user and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("root ignores file permissions, and setpriv is not there to drop that")
        prefix = [setpriv, f"--inh-caps={DROP}", f"--bounding-set={DROP}", "--"]
    return subprocess.run(
        [*prefix, *CLI, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[Path]:
    """A folder whose mode is restored after the test, so that pytest can remove it."""
    folder = tmp_path / "locked"
    folder.mkdir()
    yield folder
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o700)


def test_a_case_folder_that_is_a_file_is_named_and_left_alone(tmp_path: Path) -> None:
    case = tmp_path / "case"
    case.write_bytes(b"not a case\n")
    done = run(["import", str(case), str(RAW)], tmp_path)
    assert done.returncode == 2
    assert f"{case}: is a file, not a case folder" in done.stderr
    assert "Traceback" not in done.stderr
    assert case.read_bytes() == b"not a case\n"
    journal = run(["journal", "verify", str(case)], tmp_path)
    assert journal.returncode == 2
    assert f"{case}: is a file, not a case folder" in journal.stderr


def test_a_case_inside_a_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    blocker = tmp_path / "evidence.txt"
    blocker.write_text("a file where a folder should be\n")
    done = run(["import", str(blocker / "case"), str(RAW)], tmp_path)
    assert done.returncode == 2
    assert f"{blocker / 'case'}: cannot create the case folder: Not a directory" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_case_in_a_folder_without_write_permission_is_refused(
    tmp_path: Path, locked: Path
) -> None:
    locked.chmod(0o500)
    done = run(["import", str(locked / "case"), str(RAW)], tmp_path, as_user=True)
    assert done.returncode == 2, done.stderr
    assert f"{locked / 'case'}: cannot create the case folder: Permission denied" in done.stderr
    assert "Traceback" not in done.stderr
    done = run(["import", str(locked), str(RAW)], tmp_path, as_user=True)
    assert done.returncode == 2, done.stderr
    assert f"{locked}: cannot write in the case folder: Permission denied" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(locked.iterdir()) == []


def test_an_unreadable_input_is_named_and_the_case_stays_intact(
    tmp_path: Path, locked: Path
) -> None:
    raw = locked / RAW.name
    shutil.copyfile(RAW, raw)
    raw.chmod(0o000)
    case = tmp_path / "case"
    done = run(["import", str(case), str(raw)], tmp_path, as_user=True)
    assert done.returncode == 2, done.stderr
    assert f"auditlens: error: {raw}: cannot read it: Permission denied" in done.stderr
    assert "Traceback" not in done.stderr
    assert run(["journal", "verify", str(case)], tmp_path).returncode == 0
    # Refused as any input the importer cannot read: an examiner action, journaled.
    entries = [json.loads(line) for line in (case / "journal.jsonl").read_text().splitlines()]
    (refusal,) = [e["details"] for e in entries if e["action"] == "import_refused"]
    assert refusal["path"] == str(raw)
    assert refusal["error"] == f"{raw}: cannot read it: Permission denied"
    stats = run(["stats", str(case)], tmp_path)
    assert stats.stdout.startswith("events: 0 ")


def test_a_bundle_folder_without_read_permission_is_named(tmp_path: Path, locked: Path) -> None:
    bundle = locked / BUNDLE.name
    shutil.copytree(BUNDLE, bundle)
    bundle.chmod(0o000)
    done = run(["verify", str(bundle)], tmp_path, as_user=True)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "Permission denied" in done.stdout
    assert str(bundle) in done.stdout
    imported = run(["import", str(tmp_path / "case"), str(bundle)], tmp_path, as_user=True)
    assert imported.returncode == 2, imported.stderr
    assert "Traceback" not in imported.stderr
    assert str(bundle) in imported.stderr and "Permission denied" in imported.stderr
