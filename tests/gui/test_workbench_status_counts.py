"""The status bar says which findings it counts: verification's, and the detections' if stored.

On copies of the sample case (nine sealed bundles of March 2026): the numbers are read from the
case database without AuditLens before the window opens it, and compared with what the Findings
tab lists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
from tests.conftest import drive

from auditlens.core.analysis.session import Analysis
from auditlens.gui.main_window import MainWindow


def counted(folder: Path) -> tuple[int, int, int, int | None]:
    """Events, inputs, verification findings and stored detections, read without AuditLens."""
    with duckdb.connect(str(folder / "case.duckdb"), read_only=True) as db:

        def one(sql: str) -> int:
            row = db.execute(sql).fetchone()
            assert row is not None
            return int(row[0])

        has_detections = one("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'detections'")
        return (
            one("SELECT count(*) FROM events"),
            one("SELECT count(*) FROM inputs"),
            one("SELECT count(*) FROM findings"),
            one("SELECT count(*) FROM detections") if has_detections else None,
        )


def open_window(qtbot: Any, folder: Path, settings: Any) -> MainWindow:
    window = MainWindow(folder, settings=settings)
    qtbot.addWidget(window)
    window.show()
    return window


def test_the_counts_name_verification_findings_and_say_no_detection_ran(
    qtbot: Any, case_copy: Path, settings: Any
) -> None:
    events, inputs, verification, detections = counted(case_copy)
    assert detections is None and verification > 0 and events > 0
    window = open_window(qtbot, case_copy, settings)
    want = (
        f"{events:,} events, {inputs} inputs, {verification} verification findings, "
        "no detection run yet"
    )
    assert window.statusBar().currentMessage() == want
    # A passing message clears the bar when it ends: the counts come back, not an empty bar.
    window.statusBar().showMessage("Trust store for this case: truststore.json", 15_000)
    window.statusBar().clearMessage()
    assert window.statusBar().currentMessage() == want

    # Detections run from the Findings tab: the bar now counts both, each by its name.
    view = window.findings
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: not view.reader.running(), timeout=30_000)
    worker = view.run_detections()
    assert worker is not None
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass
    worker.wait()
    found = len(view.findings)
    assert found > 0 and view.summary.text().startswith(f"{found} finding(s)")
    both = (
        f"{events:,} events, {inputs} inputs, {verification} verification findings, "
        f"{found} detection findings"
    )
    assert window.counts_text == both
    window.statusBar().clearMessage()  # the run's own message ends
    assert window.statusBar().currentMessage() == both
    window.close()


def test_stored_detections_are_counted_as_the_findings_tab_lists_them(
    qtbot: Any, case_copy: Path, settings: Any
) -> None:
    with Analysis.open(case_copy, origin="cli") as analysis:
        drive(analysis.detect())
    events, inputs, verification, detections = counted(case_copy)
    assert detections is not None and detections != verification
    window = open_window(qtbot, case_copy, settings)
    message = window.statusBar().currentMessage()
    assert message == (
        f"{events:,} events, {inputs} inputs, {verification} verification findings, "
        f"{detections} detection findings"
    )
    view = window.findings
    with qtbot.waitSignal(view.loaded, timeout=30_000):
        window.tabs.setCurrentWidget(view)
    assert view.summary.text().startswith(f"{detections} finding(s)")
    window.close()
