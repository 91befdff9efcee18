"""Inputs that are not regular files or folders are refused at once (issue 16, point 6).

A FIFO given to ``import`` (or ``seal``) used to block forever on its first read; every command
must refuse it, a device and a socket without reading, naming what the path is. Each run is a
subprocess with a timeout, so a regression fails instead of hanging the suite.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from auditlens.core.crypto import keys

CLI = [sys.executable, "-m", "auditlens.cli.main"]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "audit-2026-03-02.jsonl"
    os.mkfifo(path)
    return path


@pytest.fixture
def key(tmp_path: Path) -> Path:
    folder = tmp_path / "key"
    keys.write_keypair(keys.generate(), folder)
    return folder / "signing-key.pem"


def test_verify_refuses_a_fifo_naming_it(fifo, tmp_path):
    done = run(["verify", str(fifo), "--json"], tmp_path)
    assert done.returncode == 2
    assert "a FIFO (named pipe), not a regular file or folder" in done.stdout
    assert "Traceback" not in done.stderr


def test_import_refuses_a_fifo_at_once_and_keeps_the_case_usable(fifo, tmp_path):
    done = run(["import", str(tmp_path / "case"), str(fifo)], tmp_path)
    assert done.returncode == 2
    assert "a FIFO (named pipe), not a regular file or folder" in done.stderr
    assert str(fifo) in done.stderr
    assert "Traceback" not in done.stderr


def test_seal_refuses_a_fifo(fifo, key, tmp_path):
    done = run(["seal", str(fifo), "--key", str(key), "--out", str(tmp_path / "b.zip")], tmp_path)
    assert done.returncode == 2
    assert "a FIFO (named pipe), not a regular file or folder" in done.stderr
    assert not (tmp_path / "b.zip").exists()


def test_verify_and_import_refuse_a_character_device(tmp_path):
    for args, stream in (
        (["verify", "/dev/null"], "stdout"),
        (["import", str(tmp_path / "case"), "/dev/null"], "stderr"),
    ):
        done = run(args, tmp_path)
        assert done.returncode == 2, args
        assert "a character device, not a regular file or folder" in getattr(done, stream), args


def test_verify_refuses_a_socket(tmp_path):
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        done = run(["verify", str(path)], tmp_path)
    assert done.returncode == 2
    assert "a socket, not a regular file or folder" in done.stdout
