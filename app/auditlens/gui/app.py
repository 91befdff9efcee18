"""``auditlens gui [CASE_DIR] [--screenshot PNG] [--tab NAME]``: the desktop application."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from auditlens.gui.main_window import MainWindow

TABS = {"integrity": 0, "events": 1, "actors": 2, "traces": 3, "findings": 4, "bookmarks": 5}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="auditlens gui", description="The AuditLens workbench")
    parser.add_argument("case", nargs="?", type=Path, metavar="CASE_DIR")
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="render the window after the case loaded, write the PNG and exit",
    )
    parser.add_argument(
        "--time-start",
        action="store_true",
        help="print the milliseconds from the process's start to the first window painted (and "
        "the CPU time spent), then exit: the start-time target of the frozen build "
        "(bench/README.md)",
    )
    parser.add_argument("--tab", choices=sorted(TABS), default="integrity")
    parser.add_argument("--filter", default="", help="filter to apply in the events view")
    parser.add_argument(
        "--finding",
        default="",
        metavar="RULE",
        help="with --tab findings: select the first finding of RULE (its events and witnesses)",
    )
    parser.add_argument(
        "--size", default="1400x900", type=_size, help="window size for --screenshot (WxH)"
    )
    parser.add_argument(
        "--palette",
        choices=("system", "light", "dark"),
        default="system",
        help="colours: the system's scheme (default), or light or dark whatever it says",
    )
    return parser


def _size(text: str) -> tuple[int, int]:
    """``--size WIDTHxHEIGHT``: a usage error (exit 2) for anything else, never a traceback."""
    width, _, height = text.partition("x")
    if not (width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0):
        raise argparse.ArgumentTypeError(f"{text!r}: give WIDTHxHEIGHT in pixels, e.g. 1400x900")
    return int(width), int(height)


# The dark palette: every role Fusion draws with, and greyed text for disabled widgets.
DARK = {
    QPalette.ColorRole.Window: "#2b2b2b",
    QPalette.ColorRole.WindowText: "#e0e0e0",
    QPalette.ColorRole.Base: "#1e1e1e",
    QPalette.ColorRole.AlternateBase: "#262626",
    QPalette.ColorRole.ToolTipBase: "#3a3a3a",
    QPalette.ColorRole.ToolTipText: "#e0e0e0",
    QPalette.ColorRole.PlaceholderText: "#8a8a8a",
    QPalette.ColorRole.Text: "#e0e0e0",
    QPalette.ColorRole.Button: "#353535",
    QPalette.ColorRole.ButtonText: "#e0e0e0",
    QPalette.ColorRole.BrightText: "#ff6e6e",
    QPalette.ColorRole.Light: "#4a4a4a",
    QPalette.ColorRole.Midlight: "#3e3e3e",
    QPalette.ColorRole.Mid: "#303030",
    QPalette.ColorRole.Dark: "#1a1a1a",
    QPalette.ColorRole.Shadow: "#0d0d0d",
    QPalette.ColorRole.Highlight: "#3d7ab8",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#6ab0f3",
    QPalette.ColorRole.LinkVisited: "#b48ef0",
}
DARK_DISABLED = {
    QPalette.ColorRole.WindowText: "#7a7a7a",
    QPalette.ColorRole.Text: "#7a7a7a",
    QPalette.ColorRole.ButtonText: "#7a7a7a",
    QPalette.ColorRole.Highlight: "#4a4a4a",
    QPalette.ColorRole.HighlightedText: "#9a9a9a",
}


def dark_palette() -> QPalette:
    """The workbench's dark palette."""
    palette = QPalette()
    for role, colour in DARK.items():
        palette.setColor(role, QColor(colour))
    for role, colour in DARK_DISABLED.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colour))
    return palette


def is_dark(app: QApplication) -> bool:
    """Whether the application shows the dark palette now."""
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


def apply_palette(app: QApplication, scheme: str = "system") -> None:
    """Fusion style, light or dark: as the system's colour scheme says, or as ``scheme`` forces.

    With ``system`` the palette follows the system's scheme when it changes while running too.
    """
    app.setStyle(QStyleFactory.create("Fusion"))
    hints = QGuiApplication.styleHints()
    app.setProperty("auditlens-palette", scheme)
    if scheme == "system":
        hints.unsetColorScheme()
    else:
        # Ask Qt for the scheme as well, so that everything reading it (Fusion, the platform
        # theme) agrees with the palette set here (platforms without a scheme ignore this).
        hints.setColorScheme(Qt.ColorScheme.Dark if scheme == "dark" else Qt.ColorScheme.Light)
    dark = scheme == "dark" or (scheme == "system" and hints.colorScheme() == Qt.ColorScheme.Dark)
    _set_palette(app, dark)
    if not app.property("auditlens-follows-scheme"):
        app.setProperty("auditlens-follows-scheme", True)
        hints.colorSchemeChanged.connect(lambda new: follow_scheme(app, new))


def follow_scheme(app: QApplication, scheme: Qt.ColorScheme) -> None:
    """The system's colour scheme changed to ``scheme``: follow it unless one was forced."""
    if app.property("auditlens-palette") == "system":
        _set_palette(app, scheme == Qt.ColorScheme.Dark)


def _set_palette(app: QApplication, dark: bool) -> None:
    app.setPalette(dark_palette() if dark else app.style().standardPalette())


def process_age_ms() -> float:
    """Milliseconds since this process started, by the kernel's count (10 ms steps).

    The start is the process's own (``/proc/self/stat``, field 22, in clock ticks since boot):
    it includes what runs before Python, such as a frozen program's bootloader.
    """
    stat = Path("/proc/self/stat").read_text()
    started_ticks = int(stat.rsplit(")", 1)[1].split()[19])
    started = started_ticks / os.sysconf("SC_CLK_TCK")
    return (time.clock_gettime(time.CLOCK_BOOTTIME) - started) * 1000


def main(argv: Sequence[str] | None = None) -> int:
    """Run the application (or render one screenshot)."""
    args = _parser().parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("AuditLens")
    apply_palette(app, args.palette)
    headless = args.screenshot is not None or bool(args.time_start)
    if not headless:
        return _run(app, args, QSettings("AuditLens", "AuditLens"), headless)
    # Screenshots and timings must not depend on (or change) the person's saved window state:
    # settings in a scratch folder, removed when the window has closed.
    with tempfile.TemporaryDirectory(prefix="auditlens-screenshot-") as scratch:
        settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
        code = _run(app, args, settings, headless)
        settings.sync()
        return code


def _run(app: QApplication, args: argparse.Namespace, settings: QSettings, headless: bool) -> int:
    """Show the window over ``args.case`` and run until it closes (or the picture is taken).

    ``headless``: a screenshot or a timing, with nobody there to answer a dialog.
    """
    window = MainWindow(args.case, settings=settings, quiet=headless)
    if window.open_error is not None:
        # Nobody is there to read a dialog: say it on stderr and stop, as the CLI does.
        sys.stderr.write(f"auditlens gui: cannot open the case: {window.open_error}\n")
        window.close()
        return 2
    if args.screenshot is not None:
        window.resize(*args.size)
    window.show()
    if window.case is not None:
        window.tabs.setCurrentIndex(TABS[args.tab])
        if args.filter:
            bar = window.traces.filter_bar if args.tab == "traces" else window.events.filter_bar
            bar.set_text(args.filter)
            bar.apply()
        if args.tab == "findings" and args.finding:
            view = window.findings
            view.loaded.connect(lambda: view.select_rule(args.finding))
            if not view.stale:
                view.select_rule(args.finding)
        if args.tab == "events" and window.events.model.rowCount():
            window.events.jump_to(0)
    if args.time_start:

        def report() -> None:
            # The first turn of the event loop has shown and painted the window (as
            # bench/bench_gui.py counts the first window); then it closes as a person would.
            window.repaint()
            # CPU time too: on a shared machine the wall time mostly measures the wait for a core.
            cpu_ms = time.process_time() * 1000
            sys.stdout.write(
                f"first window: {process_age_ms():.0f} ms after the process started"
                f" (CPU {cpu_ms:.0f} ms)\n"
            )
            window.close()
            app.quit()

        QTimer.singleShot(0, report)
    if args.screenshot is not None:

        def shoot() -> None:
            # Views read large results in workers: the picture waits until the shown one has.
            tab = window.tabs.currentWidget()
            readers = [getattr(tab, name, None) for name in ("reader", "witness_reader")]
            if any(r is not None and r.current is not None for r in readers):
                QTimer.singleShot(100, shoot)
                return
            window.grab().save(str(args.screenshot))
            window.close()
            app.quit()

        QTimer.singleShot(300, shoot)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
