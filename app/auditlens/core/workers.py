"""The worker-process pool shared by verification and import.

Workers are spawned (never forked: the GUI has threads) and die with their parent: on Linux each
asks the kernel for SIGKILL when its parent goes (PR_SET_PDEATHSIG), so a killed import leaves
no orphan hashing evidence in the background.

The kernel ties that signal to the *thread* that started the worker, not to the process: a pool
must therefore be created, used and shut down by one thread that outlives it (the verifier and the
importer each own their pool for one job, and the GUI runs each job in one worker thread).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from auditlens.core.errors import Error

PR_SET_PDEATHSIG = 1


class WorkerDiedError(Error):
    """A worker process died (killed, or out of memory); the job was stopped."""


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        libc_name = ctypes.util.find_library("c")
        if libc_name:
            libc = ctypes.CDLL(libc_name, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes that die with this one."""
    import multiprocessing

    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_die_with_parent,
        initargs=(os.getpid(),),
    )


__all__ = ["BrokenProcessPool", "WorkerDiedError", "worker_pool"]
