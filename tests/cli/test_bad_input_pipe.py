"""A closed output pipe ends the CLI quietly (issue 16, point 7).

``auditlens verify ... | head -1`` used to print a traceback and exit 1, the "tampered" code. It
must end without a traceback and with 141 (128 + SIGPIPE), never 0 or 1: the verdict was not
delivered, so it must not be claimed either way.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "resources" / "samples" / "contact-center"
BUNDLES = sorted(str(p) for p in (SAMPLE / "bundles").glob("*/*"))
TRUST = str(SAMPLE / "truststore.json")
CLI = [sys.executable, "-m", "auditlens.cli.main"]


def run_with_closed_stdout(args: list[str]) -> tuple[int, str]:
    """Run the CLI with a stdout whose reader has already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [*CLI, *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            timeout=300,
            check=False,
        )
    finally:
        os.close(write_end)
    return done.returncode, done.stderr.decode("utf-8", "replace")


@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_verify_into_a_closed_pipe_ends_quietly_with_141(json_flag):
    assert BUNDLES, "the shipped sample has bundles"
    code, stderr = run_with_closed_stdout(["verify", *BUNDLES[:2], "--trust", TRUST, *json_flag])
    assert "Traceback" not in stderr
    assert "Exception ignored" not in stderr
    assert stderr == ""
    assert code == 141


def test_verify_piped_into_head_keeps_its_first_line_and_no_traceback():
    script = (
        f"{' '.join(CLI)} verify {' '.join(BUNDLES)} --trust {TRUST} --json | head -c 1 "
        "; echo; echo status=${PIPESTATUS[0]}"
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, timeout=300, check=False, cwd=ROOT
    )
    lines = done.stdout.decode().split("\n")
    assert lines[0] == "{"
    assert "Traceback" not in done.stderr.decode()
    # The sample verifies; whether head left before the last write or after, the status is
    # the verdict's (0) or the closed pipe's (141), never 1.
    assert lines[-2] in ("status=0", "status=141")


def test_a_usage_error_into_a_closed_pipe_still_exits_2():
    code, stderr = run_with_closed_stdout(["verify"])
    assert code == 2
    assert "Traceback" not in stderr
