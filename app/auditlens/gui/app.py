"""``auditlens gui [CASE_DIR] [--screenshot PNG] [--tab NAME]``: the desktop application."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from auditlens.gui.main_window import MainWindow

TABS = {"integrity": 0, "events": 1, "actors": 2, "traces": 3}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="auditlens gui", description="The AuditLens workbench")
    parser.add_argument("case", nargs="?", type=Path, metavar="CASE_DIR")
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="render the window after the case loaded, write the PNG and exit",
    )
    parser.add_argument("--tab", choices=sorted(TABS), default="integrity")
    parser.add_argument("--filter", default="", help="filter to apply in the events view")
    parser.add_argument("--size", default="1400x900", help="window size for --screenshot")
    return parser


def apply_palette(app: QApplication) -> None:
    """Fusion style; light or dark following the system's colour scheme."""
    app.setStyle(QStyleFactory.create("Fusion"))
    hints = QGuiApplication.styleHints()
    scheme = hints.colorScheme() if hasattr(hints, "colorScheme") else None
    if scheme is not None and scheme.name == "Dark":
        palette = QPalette()
        from PySide6.QtGui import QColor

        for role, colour in (
            (QPalette.ColorRole.Window, "#2b2b2b"),
            (QPalette.ColorRole.WindowText, "#e0e0e0"),
            (QPalette.ColorRole.Base, "#1e1e1e"),
            (QPalette.ColorRole.AlternateBase, "#262626"),
            (QPalette.ColorRole.Text, "#e0e0e0"),
            (QPalette.ColorRole.Button, "#333333"),
            (QPalette.ColorRole.ButtonText, "#e0e0e0"),
            (QPalette.ColorRole.Highlight, "#3d7ab8"),
        ):
            palette.setColor(role, QColor(colour))
        app.setPalette(palette)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the application (or render one screenshot)."""
    args = _parser().parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("AuditLens")
    apply_palette(app)
    settings = QSettings("AuditLens", "AuditLens")
    if args.screenshot is not None:
        # Screenshots must not depend on (or change) the person's saved window state.
        scratch = tempfile.mkdtemp(prefix="auditlens-screenshot-")
        settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(args.case, settings=settings)
    if args.screenshot is not None:
        width, _, height = args.size.partition("x")
        window.resize(int(width), int(height))
    window.show()
    if window.case is not None:
        window.tabs.setCurrentIndex(TABS[args.tab])
        if args.filter:
            bar = window.traces.filter_bar if args.tab == "traces" else window.events.filter_bar
            bar.set_text(args.filter)
            bar.apply()
        if args.tab == "events" and window.events.model.rowCount():
            window.events.jump_to(0)
    if args.screenshot is not None:

        def shoot() -> None:
            window.grab().save(str(args.screenshot))
            window.close()
            app.quit()

        QTimer.singleShot(300, shoot)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
