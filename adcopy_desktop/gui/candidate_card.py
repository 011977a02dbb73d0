"""One candidate: its text (editable in place), scores with explanations, rule flags, and actions.

The card knows nothing about the library or the model: it shows what it is given and emits what
the user asked for (accept, reject, regenerate, an edit); the writer page does the rest.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette, QPen, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
)

from adcopy_desktop.core.candidates import Candidate
from adcopy_desktop.core.texts import flag_message
from adcopy_desktop.gui.i18n import interface_copy_language
from adcopy_desktop.gui.labels import decision_label, finish_label
from adcopy_desktop.gui.tasks import ScoreLine

EDIT_COMMIT_MS = 800

def score_colors(line: ScoreLine) -> tuple[str, str]:
    """(background, text) for a score: green when good, amber when middling, red when poor or a
    hard failure, grey when the scorer abstained."""
    if line.abstained:
        return "#f1f3f4", "#5f6368"
    value = line.value
    if line.hard_fail:
        return "#fce8e6", "#a50e0e"
    if value >= 0.8:
        return "#e6f4ea", "#137333"
    if value >= 0.5:
        return "#fef7e0", "#8d5b00"
    return "#fce8e6", "#a50e0e"


# (background, text) per decision; palettes, not style sheets: re-polishing style sheets on every
# decision or every new card costs the UI thread tens of milliseconds
DECISION_COLORS = {
    "accepted": ("#e6f4ea", "#137333"),
    "rejected": ("#fce8e6", "#a50e0e"),
    None: ("#f1f3f4", "#3c4043"),
}


@dataclass
class CardOrigin:
    """What produced the card, so 'Regenerate this one' can ask again."""

    product_id: int | None = None
    kind: str = ""
    language: str | None = None
    length: Any = None
    tone: str | None = None
    style: str | None = None
    model_id: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)


class CandidateCard(QFrame):
    accept_clicked = Signal(object)  # the card
    reject_clicked = Signal(object)
    regenerate_clicked = Signal(object)
    edited = Signal(object, str)  # the card, the new text
    activated = Signal(object)  # the user focused or clicked the card

    def __init__(self, position: int, parent=None):
        super().__init__(parent)
        self.position = position
        self.candidate_id: int | None = None
        self.candidate: Candidate | None = None
        self.origin = CardOrigin()
        self.decision: str | None = None
        self.scores: list[ScoreLine] | None = None  # None: not scored yet
        self.streaming = False
        self._saved_text = ""
        self._setting_text = False
        self.setObjectName("CandidateCard")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        self.title = QLabel(self.tr("Candidate {number}").format(number=position + 1))
        bold = self.title.font()
        bold.setBold(True)
        self.title.setFont(bold)
        self.decision_chip = QLabel()
        self.decision_chip.setAutoFillBackground(True)
        self.decision_chip.setMargin(2)
        self.rank_label = QLabel()  # place among the cards by the weighted scores, or why it sank
        self.meta = QLabel()
        muted = self.meta.palette()
        muted.setColor(QPalette.ColorRole.WindowText, muted.color(QPalette.ColorRole.Mid).darker(130))
        self.meta.setPalette(muted)
        self.text_edit = QPlainTextEdit()
        self.text_edit.setTabChangesFocus(True)
        self.text_edit.setMinimumHeight(self.fontMetrics().lineSpacing() * 3 + 14)
        self.text_edit.setMaximumHeight(self.fontMetrics().lineSpacing() * 8 + 14)
        self.scores_label = QLabel()  # one compact chip per scorer: name and value
        self.scores_label.setWordWrap(True)
        self.scores_label.setTextFormat(Qt.TextFormat.RichText)
        self.details_button = QToolButton()
        self.details_button.setText(self.tr("Why?"))
        self.details_button.setToolTip(self.tr("Show every scorer's explanation"))
        self.details_button.setCheckable(True)
        self.details_button.setAutoRaise(True)
        self.details_button.hide()
        self.score_details = QLabel()  # each scorer's verdict and explanation
        self.score_details.setWordWrap(True)
        self.score_details.setTextFormat(Qt.TextFormat.RichText)
        self.score_details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.score_details.hide()
        self.flags_label = QLabel()
        self.flags_label.setWordWrap(True)
        self.flags_label.setTextFormat(Qt.TextFormat.RichText)
        self.flags_label.hide()
        self.accept_button = QPushButton(self.tr("Accept"))
        self.accept_button.setCheckable(True)
        self.accept_button.setToolTip(self.tr("Accept this copy (Ctrl+Shift+A); click again to undo"))
        self.reject_button = QPushButton(self.tr("Reject"))
        self.reject_button.setCheckable(True)
        self.reject_button.setToolTip(self.tr("Reject this copy (Ctrl+Shift+R); click again to undo"))
        self.regenerate_button = QPushButton(self.tr("Regenerate"))
        self.regenerate_button.setToolTip(self.tr("Write this candidate again with a new seed"))
        self.copy_button = QPushButton(self.tr("Copy"))
        self.copy_button.setToolTip(self.tr("Copy the text to the clipboard"))

        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.decision_chip)
        header.addWidget(self.rank_label)
        header.addStretch(1)
        header.addWidget(self.meta)
        buttons = QHBoxLayout()
        for button in (self.accept_button, self.reject_button, self.regenerate_button, self.copy_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(header)
        layout.addWidget(self.text_edit)
        scores_row = QHBoxLayout()
        scores_row.addWidget(self.scores_label, 1)
        scores_row.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(scores_row)
        layout.addWidget(self.score_details)
        layout.addWidget(self.flags_label)
        layout.addLayout(buttons)

        self._commit_timer = QTimer(self)
        self._commit_timer.setSingleShot(True)
        self._commit_timer.setInterval(EDIT_COMMIT_MS)
        self._commit_timer.timeout.connect(self.commit_edit)
        self.text_edit.textChanged.connect(self._text_changed)
        self.text_edit.installEventFilter(self)
        self.accept_button.clicked.connect(lambda: self._restore_checks() or self.accept_clicked.emit(self))
        self.reject_button.clicked.connect(lambda: self._restore_checks() or self.reject_clicked.emit(self))
        self.regenerate_button.clicked.connect(lambda: self.regenerate_clicked.emit(self))
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        self.details_button.toggled.connect(self.score_details.setVisible)
        self.start_streaming()

    # -- states ----------------------------------------------------------------------------------

    def start_streaming(self) -> None:
        """Empty, read-only, waiting for tokens."""
        self.streaming = True
        self.candidate_id = None
        self.candidate = None
        self.scores = None
        self._set_text("")
        self.text_edit.setReadOnly(True)
        self.text_edit.setPlaceholderText(self.tr("Writing…"))
        self.meta.setText("")
        self.scores_label.setText("")
        self.score_details.setText("")
        self.scores_label.setToolTip("")
        self.details_button.setEnabled(False)
        self.flags_label.hide()
        self.set_decision(None)
        self._update_buttons()

    def set_empty(self, status: str = "") -> None:
        """No candidate (a failed generation); the card can still be regenerated."""
        self.streaming = False
        self.candidate = None
        self.candidate_id = None
        self.text_edit.setReadOnly(True)
        self.text_edit.setPlaceholderText(self.tr("(no text)"))
        self.meta.setText(status)
        self.set_decision(None)
        self._update_buttons()

    def append_text(self, text: str) -> None:
        """Streamed text; the view follows the end while the user has not scrolled away."""
        cursor = QTextCursor(self.text_edit.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        self._setting_text = True
        try:
            cursor.insertText(text)
        finally:
            self._setting_text = False
        bar = self.text_edit.verticalScrollBar()
        bar.setValue(bar.maximum())

    def set_candidate(self, candidate: Candidate, candidate_id: int | None, decision: str | None = None,
                      text: str | None = None) -> None:
        """The final candidate (from a finished generation or the library)."""
        self.streaming = False
        self.candidate = candidate
        self.candidate_id = candidate_id
        self._set_text(candidate.text if text is None else text)
        self.text_edit.setReadOnly(candidate_id is None)
        self.text_edit.setPlaceholderText(self.tr("(no text)"))
        timings = candidate.timings
        parts = [finish_label(candidate.finish_reason)]
        if timings.new_tokens:
            parts.append(self.tr("{tokens} tokens").format(tokens=timings.new_tokens))
        if timings.tokens_per_s:
            parts.append(self.tr("{speed:.0f} tokens/s").format(speed=timings.tokens_per_s))
        if candidate.style:
            parts.append(candidate.style)
        self.meta.setText(" · ".join(parts))
        self.set_flags(candidate.flags)
        self.set_decision(decision)
        self._update_buttons()

    def show_rank(self, ranking: dict | None, count: int) -> None:
        """Rank 1 is the best candidate by the weighted scores; a hard failure sinks it, with why."""
        if not ranking:
            self.rank_label.setText("")
            self.rank_label.setToolTip("")
            return
        if ranking.get("sunk"):
            self.rank_label.setText(self.tr("Sunk: rule broken"))
            self.rank_label.setStyleSheet("color: #b3261e;")
            reasons = (ranking.get("localized_reasons") or {}).get(interface_copy_language()) or ranking.get("reasons", [])
            self.rank_label.setToolTip("\n".join(reasons))
            return
        self.rank_label.setText(self.tr("Rank {rank} of {count} · {total:.2f}").format(
            rank=ranking.get("rank", "?"), count=count, total=ranking.get("total", 0.0)))
        self.rank_label.setStyleSheet("")
        self.rank_label.setToolTip(self.tr("Weighted mean of the scores (weights from the brand style)"))

    def set_decision(self, decision: str | None) -> None:
        self.decision = decision
        # the chip stays visible (showing a widget for the first time costs a polish): while the
        # candidate is being written it says so
        self.decision_chip.setText(self.tr("Writing…") if self.streaming else decision_label(decision))
        background, text = DECISION_COLORS.get(decision, DECISION_COLORS[None])
        palette = self.decision_chip.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(background))
        palette.setColor(QPalette.ColorRole.WindowText, QColor(text))
        self.decision_chip.setPalette(palette)
        self._restore_checks()

    def _restore_checks(self) -> None:
        self.accept_button.setChecked(self.decision == "accepted")
        self.reject_button.setChecked(self.decision == "rejected")

    def set_scores(self, scores: list[ScoreLine]) -> None:
        """Every active scorer: a compact chip each (name, value, coloured by how good), and their
        explanations under "Why?" (and in the tooltip)."""
        self.scores = scores
        if not scores:
            none_active = self.tr("No scorers active")
            self.scores_label.setText(f"<span style='color:gray'>{html.escape(none_active)}</span>")
            self.score_details.setText("")
            self.scores_label.setToolTip("")
            self.details_button.hide()
            return
        chips, rows = [], []
        for line in scores:
            background, text = score_colors(line)
            value = "—" if line.abstained else f"{line.value:.2f}"
            mark = "⛔ " if line.hard_fail else ""
            chips.append(f"<span style='background:{background}; color:{text}'>&nbsp;{mark}{html.escape(line.name)} "
                         f"{value}&nbsp;</span>")
            verdict = f" ({html.escape(line.verdict)})" if line.verdict else ""
            why = f" — {html.escape(line.explanation)}" if line.explanation else ""
            rows.append(f"<b>{html.escape(line.name)}</b>: {value}{verdict}{why}")
        self.scores_label.setText(" ".join(chips))
        self.score_details.setText("<br>".join(rows))
        self.scores_label.setToolTip("<br>".join(rows))
        self.details_button.setEnabled(True)
        self.details_button.show()

    def set_flags(self, flags: list[dict[str, Any]]) -> None:
        if not flags:
            self.flags_label.hide()
            return
        rows = []
        for flag in flags:
            mark = "⛔" if flag.get("severity") == "error" else "⚠"
            rows.append(f"{mark} {html.escape(flag_message(flag, interface_copy_language()))}")
        self.flags_label.setText("<br>".join(rows))
        self.flags_label.show()

    def set_generation_running(self, running: bool) -> None:
        self._generation_running = running
        self._update_buttons()

    _generation_running = False

    def _update_buttons(self) -> None:
        decided = self.candidate_id is not None and not self.streaming
        self.accept_button.setEnabled(decided)
        self.reject_button.setEnabled(decided)
        self.copy_button.setEnabled(not self.streaming and bool(self.text))
        self.regenerate_button.setEnabled(
            not self._generation_running and not self.streaming and self.origin.product_id is not None)

    def set_current(self, current: bool) -> None:
        if current != self.is_current:
            self.is_current = current
            self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        role = QPalette.ColorRole.Highlight if self.is_current else QPalette.ColorRole.Mid
        pen = QPen(self.palette().color(role), 2 if self.is_current else 1)
        painter.setPen(pen)
        painter.setBrush(self.palette().color(QPalette.ColorRole.Base).lighter(102))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 6, 6)

    # -- text ------------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.text_edit.toPlainText()

    def _set_text(self, text: str) -> None:
        self._setting_text = True
        try:
            self.text_edit.setPlainText(text)
        finally:
            self._setting_text = False
        self._saved_text = text

    def _text_changed(self) -> None:
        if self._setting_text or self.streaming or self.candidate_id is None:
            return
        self._commit_timer.start()

    def commit_edit(self) -> bool:
        """Hand an edit to the page now (also on focus-out and before decisions)."""
        self._commit_timer.stop()
        if self.candidate_id is None or self.streaming or self.text == self._saved_text:
            return False
        self._saved_text = self.text
        self.edited.emit(self, self.text)
        return True

    def copy_to_clipboard(self) -> None:
        QGuiApplication.clipboard().setText(self.text)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if watched is self.text_edit:
            if event.type() == QEvent.Type.FocusIn:
                self.activated.emit(self)
            elif event.type() == QEvent.Type.FocusOut:
                self.commit_edit()
        return super().eventFilter(watched, event)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.activated.emit(self)
        super().mousePressEvent(event)

    is_current = False
