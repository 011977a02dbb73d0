"""Render resources/icons/adcopy.svg to the PNG sizes the desktop entry uses and an .ico for
Windows (Qt's SVG renderer and its ico image plugin; no ImageMagick needed).

    QT_QPA_PLATFORM=offscreen python packaging/make_icons.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZES = (48, 128, 256)


def main() -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv)  # noqa: F841 - needed for painting
    renderer = QSvgRenderer(str(ICONS / "adcopy.svg"))
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        image.save(str(ICONS / f"adcopy-{size}.png"))
        if size == 256 and not image.save(str(ICONS / "adcopy.ico"), "ICO"):
            print("no ico image plugin: adcopy.ico not written", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
