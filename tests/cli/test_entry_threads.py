"""The command starts no idle BLAS threads: numpy (imported by pyarrow and matplotlib) would start
one OpenBLAS thread per core, spinning while it waits, in the command and in every decoding
worker, for linear algebra AuditLens never does."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import contextlib, os
from auditlens.entry import main
with contextlib.suppress(SystemExit):
    main(["--version"])
import numpy
print(len(os.listdir("/proc/self/task")), os.environ.get("OPENBLAS_NUM_THREADS", "unset"))
"""


def probe(env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.split()[-2:]


def test_numpy_after_the_entry_runs_in_the_main_thread_alone() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    assert probe(env) == ["1", "1"]


def test_an_examiners_own_setting_is_kept() -> None:
    assert probe({**os.environ, "OPENBLAS_NUM_THREADS": "2"})[1] == "2"
