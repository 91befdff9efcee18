"""Benchmark: the workbench's Findings tab on a large case (issue 15 point 6).

Uses the case bench_detect.py imports (``WORKDIR/case-nN/detect-case``), copied to a scratch
folder, and runs the detections once through the workbench's own path (``findings_view.detect_job``
in a worker, as Run detections does). Then, offscreen, on the GUI's side:

* reading the stored findings for the charts (``Analysis.marked_findings``, at every case open);
* listing them in the Findings tab (rows, model, first paint);
* painting the histogram, the swimlanes and the integrity map with every finding marked;
* the witnesses of one finding event: the first read learns the case's expectations (every
  action of the case ordered once per case and event count), later reads do not;
* the filter that opens the largest finding's events, applied through the examination.

Prints wall and CPU (user+sys) seconds of each step and the load average. Not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_case import DEFAULT_WORKDIR


def timed(label: str, action: Callable[[], Any]) -> Any:
    """Run ``action``, print its wall and CPU seconds, return its value."""
    cpu, wall = time.process_time(), time.perf_counter()
    value = action()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    sys.stdout.write(f"{label:58} {wall:7.2f} s wall {cpu:7.2f} s CPU\n")
    return value


def main() -> int:
    """Measure the steps on the case of ``--records`` events."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    args = parser.parse_args()
    source = args.workdir / f"case-n{args.records}" / "detect-case"
    if not (source / "case.duckdb").is_file():
        sys.stderr.write(f"no case at {source}: run bench/bench_detect.py --records N first\n")
        return 2
    from PySide6.QtWidgets import QApplication

    from auditlens.core.analysis import Analysis
    from auditlens.core.progress import CancelToken
    from auditlens.core.store.session import Examination
    from auditlens.gui.finding_marks import marks_of
    from auditlens.gui.findings_view import FindingsView, detect_job, finding_events
    from auditlens.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    scratch = source.parent / "findings-gui-scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(source, scratch)
    sys.stdout.write(f"case: {scratch} ({args.records:,} records); load {os.getloadavg()}\n")
    with Examination.open(scratch, origin="workbench") as session:

        def detect() -> Any:
            job = detect_job(session)(CancelToken())
            while True:
                try:
                    next(job)
                except StopIteration as stop:
                    return stop.value

        report = timed("Run detections (the worker's job, in this thread)", detect)
        analysis = Analysis.of(session)
        found = timed("marks read at case open (marked_findings)", analysis.marked_findings)
        sys.stdout.write(f"  {len(found):,} findings, {sum(len(f.events) for f in found):,} refs\n")
        view = FindingsView(session)
        view.resize(1400, 800)
        timed("Findings tab: rows and model", lambda: view.set_findings(report.findings))
        timed("Findings tab: first paint", lambda: view.grab())
        largest = max(found, key=lambda f: len(f.events))
        opened = finding_events(largest)
        sys.stdout.write(
            f"  largest finding: {largest.rule}, {len(largest.events):,} events, filter "
            f"{len(opened.filter):,} characters, exact {opened.exact}\n"
        )
        from auditlens.core.store import queries

        query = queries.EventQuery(opened.filter, *opened.time_range)
        view_ = timed("open the largest finding's events (apply)", lambda: session.apply(query))
        sys.stdout.write(f"  {view_.count:,} events shown\n")
        ref = largest.events[0]
        timed("witnesses, first read (learns the expectations)", lambda: analysis.action(ref))
        timed("witnesses, second read", lambda: analysis.action(largest.events[-1]))
        view.deleteLater()
    window = MainWindow(scratch)
    window.resize(1400, 900)
    window.show()
    marks = marks_of(found)
    for name, view_, widget in (
        ("histogram", window.events, window.events.histogram),
        ("swimlanes", window.actors, window.actors.swimlanes),
        ("integrity map", window.integrity, window.integrity.map),
    ):
        window.tabs.setCurrentWidget(view_)
        while view_.reader.running():  # the view's own read, in its worker
            app.processEvents()
            time.sleep(0.01)
        app.processEvents()
        widget.set_findings(marks)
        drawn = len(widget.finding_pixels())
        timed(f"paint the {name}, {drawn:,} marks drawn", widget.grab)
    window.close()
    app.processEvents()
    sys.stdout.write(f"load after: {os.getloadavg()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
