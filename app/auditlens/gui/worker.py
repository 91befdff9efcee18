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
        except Error as exc:
            self.failed.emit(exc.diagnostics())
        except Exception as exc:
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
