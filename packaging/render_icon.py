"""Render ``resources/icons/auditlens.svg`` to the PNG beside it (256 x 256) with Qt's renderer.

Run after changing the SVG: ``.venv/bin/python packaging/render_icon.py``. The PNG is kept in
the repository because desktop entries and some launchers read PNG only.
"""

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZE = 256
ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"


def main() -> int:
    """Write auditlens.png; non-zero when the SVG does not load."""
    app = QGuiApplication.instance() or QGuiApplication(["render_icon", "-platform", "offscreen"])
    renderer = QSvgRenderer(str(ICONS / "auditlens.svg"))
    if not renderer.isValid():
        sys.stderr.write("auditlens.svg does not load\n")
        return 1
    image = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    ok = image.save(str(ICONS / "auditlens.png"))
    del app
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
