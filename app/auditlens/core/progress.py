"""The seam between long jobs and their drivers.

Long jobs in core are generators of :class:`Progress` that honour a :class:`CancelToken`. The CLI
draws a text bar from them, the GUI runs them in a worker. Neither ever blocks on the other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from auditlens.core.errors import CancelledError


@dataclass(frozen=True, slots=True)
class Progress:
    """One step of a long job.

    Attributes:
        stage: short machine name of the stage (``hashing``, ``verifying``, ``indexing``).
        done: units completed in this stage.
        total: units expected in this stage, or ``None`` when unknown.
        unit: what is counted (``bytes``, ``records``, ``files``).
        message: human text for this step.
    """

    stage: str
    done: int = 0
    total: int | None = None
    unit: str = ""
    message: str = ""


class CancelToken:
    """A thread-safe flag a job polls; ``cancel()`` may be called from any thread."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._callbacks: list[Callable[[], None]] = []

    def cancel(self) -> None:
        """Ask the job to stop at its next check and run the registered callbacks."""
        self._event.set()
        for callback in list(self._callbacks):
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when cancelled (e.g. a DuckDB ``interrupt()``)."""
        self._callbacks.append(callback)

    @property
    def cancelled(self) -> bool:
        """Whether cancellation was asked for."""
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`CancelledError` if cancellation was asked for."""
        if self._event.is_set():
            raise CancelledError()
