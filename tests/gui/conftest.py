"""GUI test fixtures: offscreen Qt, an isolated settings file, and a guard against stray threads."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from auditlens.gui.worker import LIVE_WORKERS

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "contact-center"


@pytest.fixture(autouse=True)
def no_running_workers(qapp):
    """Fail a test that leaves a worker thread running."""
    yield
    running = [w for w in list(LIVE_WORKERS) if w.is_running()]
    for worker in running:
        worker.cancel()
        worker.wait(10_000)
    assert not running, f"{len(running)} worker thread(s) left running"


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """Settings in a temporary file: tests never read or write the person's own."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture(scope="session")
def sample_case_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A case built from the shipped sample (imported once per session)."""
    from auditlens.core.store.case import Case
    from auditlens.core.store.importer import import_inputs
    from auditlens.core.store.queries import refresh_order
    from auditlens.core.verify.trust import load_trust

    folder = tmp_path_factory.mktemp("gui") / "case"
    with Case.open(folder, create=True) as case:
        job = import_inputs(
            case, sorted((SAMPLE / "bundles").glob("*/*")), load_trust(SAMPLE / "truststore.json")
        )
        while True:
            try:
                next(job)
            except StopIteration:
                break
        refresh_order(case)
    return folder


@pytest.fixture
def case_copy(sample_case_dir: Path, tmp_path: Path) -> Path:
    """A copy of the sample case of the test's own, to act on (its journal grows)."""
    folder = tmp_path / "case"
    shutil.copytree(sample_case_dir, folder)
    return folder


@pytest.fixture
def window(qtbot: Any, case_copy: Path, settings: QSettings) -> Any:
    """The workbench shown over :func:`case_copy`, at a size that shows every column."""
    from auditlens.gui.main_window import MainWindow

    opened = MainWindow(case_copy, settings=settings)
    qtbot.addWidget(opened)
    opened.resize(1400, 900)
    opened.show()
    yield opened
    opened.close()


@pytest.fixture
def open_case():
    """Open an examination of a case as the workbench does; on leaving, its workers end first.

    Views read in workers on cursors of the case's connection, and DuckDB refuses to close a
    connection one of them is still using. The views journal what the examiner does, so the
    case is open for writing.
    """
    import contextlib

    from auditlens.core.store.session import Examination

    @contextlib.contextmanager
    def opened(folder: Path):
        session = Examination.open(folder, origin="workbench")
        try:
            yield session
        finally:
            for worker in list(LIVE_WORKERS):
                worker.wait(30_000)
            session.close()

    return opened
