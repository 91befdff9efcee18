"""The one worker type of the GUI (STYLE point 4): a core job run off the GUI thread.

A job is a callable returning a core generator of :class:`Progress`; the worker drives it in a
``QThread`` and reports through fixed signals. Jobs never touch widgets. Cancel sets the job's
:class:`CancelToken` (whose callbacks interrupt DuckDB) and the worker reports ``cancelled``.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from auditlens.core.errors import CancelledError, Error
from auditlens.core.progress import CancelToken, Progress
from auditlens.core.store.session import Examination

Job = Callable[[CancelToken], Generator[Progress, None, Any]]
PROGRESS_INTERVAL_S = 0.1  # at most ten progress updates a second reach the GUI thread
# Every worker alive, so tests can fail when one is left running (STYLE point 14).
LIVE_WORKERS: weakref.WeakSet[JobWorker] = weakref.WeakSet()


class _Runner(QObject):
    progressed = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, job: Job, token: CancelToken) -> None:
        super().__init__()
        self._job = job
        self._token = token

    @Slot()
    def run(self) -> None:
        last = 0.0
        try:
            generator = self._job(self._token)
            while True:
                step = next(generator)
                now = time.monotonic()
                if now - last >= PROGRESS_INTERVAL_S:
                    last = now
                    self.progressed.emit(step)
        except StopIteration as stop:
            if self._token.cancelled:
                self.cancelled.emit()
            else:
                self.finished.emit(stop.value)
        except CancelledError:
            self.cancelled.emit()
        except Exception as exc:
            if self._token.cancelled:
                # Cancel interrupts DuckDB: the statement running fails with duckdb's own
                # InterruptException (or whatever the job made of it), which is the cancel.
                self.cancelled.emit()
                return
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, Error):
            self.failed.emit(exc.diagnostics())
        elif type(exc).__name__ == "OutOfMemoryException":  # duckdb's, past its memory limit
            first = str(exc).splitlines()[0] if str(exc) else ""
            self.failed.emit(f"the case database ran out of memory ({first})")
        else:
            self.failed.emit(f"internal error: {type(exc).__name__}: {exc}")


class JobWorker(QObject):
    """Runs one job in its own thread; emit order: progress*, then exactly one end signal."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, job: Job, parent: QObject | None = None) -> None:
        super().__init__(parent)
        LIVE_WORKERS.add(self)
        self.token = CancelToken()
        self._thread = QThread()
        self._runner = _Runner(job, self.token)
        self._runner.moveToThread(self._thread)
        self._thread.started.connect(self._runner.run)
        self._runner.progressed.connect(self.progress)
        for signal, mine in (
            (self._runner.finished, self.finished),
            (self._runner.failed, self.failed),
            (self._runner.cancelled, self.cancelled),
        ):
            signal.connect(mine)
            # quit() is thread-safe; a direct call ends the thread's loop even while the GUI
            # thread is busy (a queued one would wait for it).
            signal.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)

    def start(self) -> None:
        """Start the job."""
        self._thread.start()

    def cancel(self) -> None:
        """Ask the job to stop; ``cancelled`` follows when it has."""
        self.token.cancel()

    def wait(self, ms: int = 30_000) -> bool:
        """Block until the thread ended (tests and shutdown only)."""
        return bool(self._thread.wait(ms))

    def is_running(self) -> bool:
        """Whether the job is still running."""
        return bool(self._thread.isRunning())


def query_job(session: Examination, read: Callable[[Examination], Any]) -> Job:
    """A job running ``read(reader)`` off the GUI thread on a reader of ``session``.

    The reader (``Examination.reader``) is the job's own DuckDB cursor on the same case; Cancel
    interrupts it. It is made here, on the calling (GUI) thread: DuckDB refuses a call on a
    connection busy with another thread's call instead of waiting, so the worker never touches
    ``session`` itself.
    """
    reader = session.reader()

    def job(token: CancelToken) -> Generator[Progress, None, Any]:
        token.on_cancel(reader.interrupt)
        try:
            result = read(reader)
        finally:
            reader.close()
        return result
        yield  # a generator, as the worker drives jobs; nothing to report meanwhile

    return job


class LatestJob:
    """At most one job of a kind that counts: a new one cancels the one before.

    A cancelled job is not waited for (DuckDB may take a while to notice the interrupt); it is
    kept until its thread has ended, and its answer is dropped. Only the newest job's answer
    reaches ``done`` (or its error ``failed``).
    """

    def __init__(self) -> None:
        self.current: JobWorker | None = None
        self._retired: list[JobWorker] = []

    def start(
        self,
        job: Job,
        done: Callable[[Any], None],
        failed: Callable[[str], None] | None = None,
    ) -> JobWorker:
        """Cancel the job before (if running) and start ``job``."""
        self.stop()
        worker = JobWorker(job)
        worker.finished.connect(lambda result: self._ended(worker, done, result))
        if failed is not None:
            worker.failed.connect(lambda message: self._ended(worker, failed, message))
        self.current = worker
        worker.start()
        return worker

    def _ended(self, worker: JobWorker, then: Callable[[Any], None], value: Any) -> None:
        worker.wait()  # its thread ends as it reports: a moment at most
        if worker is self.current:
            self.current = None
            then(value)

    def running(self) -> bool:
        """Whether the newest job is still running."""
        return self.current is not None and self.current.is_running()

    def stop(self, *, wait: bool = False) -> None:
        """Cancel the running job; with ``wait``, block until every job started has ended."""
        worker, self.current = self.current, None
        if worker is not None and worker.is_running():
            worker.cancel()
            self._retired.append(worker)
            for signal in (worker.finished, worker.failed, worker.cancelled):
                signal.connect(lambda *_args, w=worker: self._retire(w))
        if wait:
            for retired in list(self._retired):
                retired.wait()
            self._retired.clear()

    def _retire(self, worker: JobWorker) -> None:
        worker.wait()
        if worker in self._retired:
            self._retired.remove(worker)
