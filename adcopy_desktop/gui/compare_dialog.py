"""Side-by-side comparison of the current candidates: text, length, scores and flags in columns."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from adcopy_desktop.core.styles import text_length
from adcopy_desktop.core.texts import flag_message
from adcopy_desktop.gui.candidate_card import CandidateCard
from adcopy_desktop.gui.i18n import interface_copy_language
from adcopy_desktop.gui.labels import decision_label


class CompareDialog(QDialog):
    accept_requested = Signal(object)  # the card

    def __init__(self, cards: list[CandidateCard], parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Compare candidates"))
        self.cards = cards
        self.columns: list[QTextBrowser] = []
        row = QHBoxLayout()
        for card in cards:
            column = QVBoxLayout()
            header = QLabel(f"<b>{html.escape(card.title.text())}</b> — {html.escape(decision_label(card.decision))}")
            view = QTextBrowser()
            view.setHtml(self._describe(card))
            view.setMinimumWidth(220)
            accept = QPushButton(self.tr("Accept"))
            accept.setEnabled(card.candidate_id is not None and card.decision != "accepted")
            accept.clicked.connect(lambda _=False, card=card, button=accept: self._accept(card, button))
            column.addWidget(header)
            column.addWidget(view, 1)
            column.addWidget(accept)
            holder = QWidget()
            holder.setLayout(column)
            row.addWidget(holder, 1)
            self.columns.append(view)
        inner = QWidget()
        inner.setLayout(row)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        self.score_table = self._score_table(cards)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(scroll)
        splitter.addWidget(self.score_table)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)
        self.resize(min(360 * max(len(cards), 1), 1400), 680)

    def _score_table(self, cards: list[CandidateCard]) -> QTableWidget:
        """Scorers down, candidates across; the best value of each row in bold."""
        names: dict[str, str] = {}
        for card in cards:
            for line in card.scores or []:
                names.setdefault(line.scorer, line.name)
        table = QTableWidget(len(names), len(cards))
        table.setHorizontalHeaderLabels([card.title.text() for card in cards])
        table.setVerticalHeaderLabels(list(names.values()))
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for row, scorer in enumerate(names):
            lines = [next((line for line in card.scores or [] if line.scorer == scorer), None) for card in cards]
            values = [line.value for line in lines if line is not None and not line.abstained]
            best = max(values) if values else None
            for column, line in enumerate(lines):
                if line is None:
                    continue
                cell = QTableWidgetItem("—" if line.abstained else f"{line.value:.2f}")
                cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                cell.setToolTip(line.explanation)
                if best is not None and not line.abstained and line.value == best and len(set(values)) > 1:
                    font = cell.font()
                    font.setBold(True)
                    cell.setFont(font)
                table.setItem(row, column, cell)
        return table

    def _describe(self, card: CandidateCard) -> str:
        text = card.text
        language = card.candidate.language if card.candidate else "en"
        unit = self.tr("characters") if language == "zh" else self.tr("words")
        parts = [f"<p style='white-space:pre-wrap'>{html.escape(text) or '&nbsp;'}</p><hr>"]
        length_word = self.tr("Length")
        parts.append(f"<p>{html.escape(length_word)}: {text_length(text, language)} {html.escape(unit)}</p>")
        if card.scores:
            for line in card.scores:
                why = f"<br><small>{html.escape(line.explanation)}</small>" if line.explanation else ""
                value = "—" if line.abstained else f"{line.value:.2f}"
                parts.append(f"<p><b>{html.escape(line.name)}</b>: {value} {html.escape(line.verdict)}{why}</p>")
        elif card.scores is not None:
            none_active = self.tr("No scorers active")
            parts.append(f"<p style='color:gray'>{html.escape(none_active)}</p>")
        if card.candidate and card.candidate.flags:
            for flag in card.candidate.flags:
                parts.append(f"<p>⚠ {html.escape(flag_message(flag, interface_copy_language()))}</p>")
        return "".join(parts)

    def _accept(self, card: CandidateCard, button: QPushButton) -> None:
        self.accept_requested.emit(card)
        button.setEnabled(False)
