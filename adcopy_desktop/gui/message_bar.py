"""A visible, non-blocking message strip at the top of the window (errors, plugin problems, notices).

Errors stay until dismissed; notices fade after a few seconds. Nothing here is modal, so a failing
plugin or a failed job never stops the user's work.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton

from adcopy_desktop.gui.context import ERROR, INFO, WARNING

STYLES = {
    ERROR: "background:#fdecea; color:#611a15; border:1px solid #f5c2c0; border-radius:4px;",
    WARNING: "background:#fff4e5; color:#663c00; border:1px solid #ffd8a8; border-radius:4px;",
    INFO: "background:#e8f4fd; color:#0d3c61; border:1px solid #b6dcf7; border-radius:4px;",
}
NOTICE_SECONDS = 6


class MessageBar(QFrame):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.history: list[tuple[float, str, str]] = []  # (time, level, text), oldest first
        self._pending: list[tuple[str, str]] = []
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.more = QLabel()
        close = QToolButton()
        close.setText("×")
        close.setAutoRaise(True)
        close.setToolTip(self.tr("Dismiss"))
        close.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.more)
        layout.addWidget(close)
        self._fade = QTimer(self)
        self._fade.setSingleShot(True)
        self._fade.timeout.connect(self.dismiss)
        self.hide()

    def show_message(self, level: str, text: str) -> None:
        self.history.append((time.time(), level, text))
        if not self.isHidden() and self._level == ERROR and level != ERROR:
            self._pending.append((level, text))  # never hide an error behind a notice
            self._update_more()
            return
        if not self.isHidden() and self._level in (ERROR, WARNING):
            self._pending.append((self._level, self.label.text()))
        self._show(level, text)

    def _show(self, level: str, text: str) -> None:
        self._level = level
        self.setStyleSheet(f"MessageBar {{{STYLES.get(level, STYLES[INFO])}}}")
        self.label.setText(text)
        self._update_more()
        self.show()
        if level == INFO:
            self._fade.start(NOTICE_SECONDS * 1000)
        else:
            self._fade.stop()

    def _update_more(self) -> None:
        self.more.setText(self.tr("+{count} more").format(count=len(self._pending)) if self._pending else "")

    def dismiss(self) -> None:
        if self._pending:
            level, text = self._pending.pop()
            self._show(level, text)
        else:
            self.hide()

    @property
    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()

    def texts(self) -> list[str]:
        return [text for _, _, text in self.history]

    _level = INFO
