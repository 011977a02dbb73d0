"""The library: every candidate ever generated, with its product, settings, decision and edits.

Filters: product, copy kind, brand style, decision, date. Accepted copy (with the user's edits) is
what export and training use; "Export accepted…" opens the export dialog (files and shops).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QDate, QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from adcopy_desktop.core.library import StoredCandidate
from adcopy_desktop.core.prompts import CopyKind
from adcopy_desktop.gui.tables import read_only_table
from adcopy_desktop.gui.context import AppContext
from adcopy_desktop.gui.labels import decision_label, finish_label, kind_label, product_title

ANY = "any"
TODAY, LAST_7, LAST_30, RANGE = "today", "7d", "30d", "range"
COLUMNS = ("date", "product", "kind", "language", "style", "decision", "text")
DECISION_COLORS = {"accepted": "#137333", "rejected": "#a50e0e"}


class LibraryView(QWidget):
    def __init__(self, context: AppContext, parent=None):
        super().__init__(parent)
        self.context = context
        self.rows: list[StoredCandidate] = []
        self._stale = True

        self.product_box = QComboBox()
        self.product_box.setMinimumContentsLength(16)
        self.kind_box = QComboBox()
        self.kind_box.addItem(self.tr("All kinds"), None)
        for kind in CopyKind:
            self.kind_box.addItem(kind_label(kind), kind.value)
        self.style_box = QComboBox()
        self.decision_box = QComboBox()
        self.decision_box.addItem(self.tr("Any decision"), None)
        self.decision_box.addItem(decision_label("accepted"), "accepted")
        self.decision_box.addItem(decision_label("rejected"), "rejected")
        self.decision_box.addItem(decision_label(None), "undecided")
        self.date_box = QComboBox()
        self.date_box.addItem(self.tr("Any time"), ANY)
        self.date_box.addItem(self.tr("Today"), TODAY)
        self.date_box.addItem(self.tr("Last 7 days"), LAST_7)
        self.date_box.addItem(self.tr("Last 30 days"), LAST_30)
        self.date_box.addItem(self.tr("From – to"), RANGE)
        self.from_date = QDateEdit(QDate.currentDate().addDays(-7))
        self.to_date = QDateEdit(QDate.currentDate())
        for edit in (self.from_date, self.to_date):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.hide()

        self.table = read_only_table([
            self.tr("Date"), self.tr("Product"), self.tr("Kind"), self.tr("Language"), self.tr("Style"),
            self.tr("Decision"), self.tr("Text"),
        ])
        self.table.setAlternatingRowColors(True)
        self.count_label = QLabel()
        self.quality_label = QLabel()
        self.quality_label.setWordWrap(True)
        self.accept_button = QPushButton(self.tr("Accept"))
        self.reject_button = QPushButton(self.tr("Reject"))
        self.clear_button = QPushButton(self.tr("Clear decision"))
        self.open_button = QPushButton(self.tr("Open product"))
        self.copy_button = QPushButton(self.tr("Copy"))
        self.export_button = QPushButton(self.tr("Export accepted…"))
        self.export_button.setToolTip(self.tr("Write the accepted copy that matches the filters to a file"))

        filters = QHBoxLayout()
        for label, widget in ((self.tr("Product"), self.product_box), (self.tr("Kind"), self.kind_box),
                              (self.tr("Style"), self.style_box), (self.tr("Decision"), self.decision_box),
                              (self.tr("Date"), self.date_box)):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget)
        filters.addWidget(self.from_date)
        filters.addWidget(self.to_date)
        filters.addStretch(1)
        actions = QHBoxLayout()
        for button in (self.accept_button, self.reject_button, self.clear_button, self.open_button,
                       self.copy_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.count_label)
        actions.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(self.quality_label)

        for box in (self.product_box, self.kind_box, self.style_box, self.decision_box):
            box.currentIndexChanged.connect(self.refresh)
        self.date_box.currentIndexChanged.connect(self._date_mode_changed)
        self.from_date.dateChanged.connect(self.refresh)
        self.to_date.dateChanged.connect(self.refresh)
        self.accept_button.clicked.connect(lambda: self.decide_selected("accepted"))
        self.reject_button.clicked.connect(lambda: self.decide_selected("rejected"))
        self.clear_button.clicked.connect(lambda: self.decide_selected(None))
        self.open_button.clicked.connect(self.open_selected_product)
        self.copy_button.clicked.connect(self.copy_selected)
        self.export_button.clicked.connect(self.choose_export_file)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda *_: self.open_selected_product())
        context.candidates_changed.connect(self._mark_stale)
        context.products_changed.connect(self._products_changed)
        context.plugins_changed.connect(self._fill_styles)
        self._fill_products()
        self._fill_styles()
        self.refresh()

    # -- filters ---------------------------------------------------------------------------------

    def _fill_products(self) -> None:
        current = self.product_box.currentData()
        self.product_box.blockSignals(True)
        self.product_box.clear()
        self.product_box.addItem(self.tr("All products"), None)
        for stored in self.context.library.list_products():
            self.product_box.addItem(product_title(stored.product), stored.id)
        self.product_box.setCurrentIndex(max(self.product_box.findData(current), 0))
        self.product_box.blockSignals(False)

    def _fill_styles(self) -> None:
        current = self.style_box.currentData()
        self.style_box.blockSignals(True)
        self.style_box.clear()
        self.style_box.addItem(self.tr("Any style"), None)
        try:
            names = list(self.context.plugins.styles())
        except Exception:  # plugin problems are reported by the plugin manager
            names = []
        for name in names:
            self.style_box.addItem(name, name)
        self.style_box.setCurrentIndex(max(self.style_box.findData(current), 0))
        self.style_box.blockSignals(False)

    def _date_mode_changed(self) -> None:
        custom = self.date_box.currentData() == RANGE
        self.from_date.setVisible(custom)
        self.to_date.setVisible(custom)
        self.refresh()

    def date_range(self) -> tuple[float | None, float | None]:
        mode = self.date_box.currentData()
        today = dt.datetime.combine(dt.date.today(), dt.time())
        if mode == TODAY:
            return today.timestamp(), None
        if mode == LAST_7:
            return (today - dt.timedelta(days=6)).timestamp(), None
        if mode == LAST_30:
            return (today - dt.timedelta(days=29)).timestamp(), None
        if mode == RANGE:
            start = dt.datetime.combine(self.from_date.date().toPython(), dt.time())
            end = dt.datetime.combine(self.to_date.date().toPython(), dt.time()) + dt.timedelta(days=1)
            return start.timestamp(), end.timestamp()
        return None, None

    def filters(self) -> dict:
        since, until = self.date_range()
        return {
            "product_id": self.product_box.currentData(),
            "kind": self.kind_box.currentData(),
            "style": self.style_box.currentData(),
            "decision": self.decision_box.currentData(),
            "since": since,
            "until": until,
        }

    # -- listing ---------------------------------------------------------------------------------

    def _mark_stale(self) -> None:
        self._stale = True
        if self.isVisible():
            self.refresh()

    def _products_changed(self) -> None:
        self._fill_products()
        self._mark_stale()

    def quality_text(self) -> str:
        """The learned scorer's held-out ROC-AUC, and whether ranking uses it yet."""
        from adcopy_desktop.core.quality_model import quality_status

        status = quality_status(self.context.library)
        report = status["report"]
        if report is None:
            return self.tr(
                "Learned quality model: not trained yet ({decisions} decisions so far; it needs at least "
                "{needed} accepted and {needed} rejected)."
            ).format(decisions=status.get("decisions", 0), needed=status["min_per_class"])
        auc = "–" if report["auc"] is None else f"{report['auc']:.3f}"
        if report["usable"]:
            return self.tr(
                "Learned quality model: held-out ROC-AUC {auc} on {examples} examples; used for ranking."
            ).format(auc=auc, examples=report["examples"])
        return self.tr(
            "Learned quality model: held-out ROC-AUC {auc} on {examples} examples; not used for ranking "
            "yet ({reason})."
        ).format(auc=auc, examples=report["examples"], reason=report["reason"])

    def refresh_if_stale(self) -> None:
        if self._stale:
            self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self.refresh_if_stale()

    def refresh(self) -> None:
        self._stale = False
        selected = self.selected_id()
        self.rows = self.context.library.candidates(**self.filters())
        titles: dict[int, str] = {}
        for stored in self.context.library.list_products():
            titles[stored.id] = product_title(stored.product)
        self.table.setRowCount(len(self.rows))
        for row, item in enumerate(self.rows):
            when = dt.datetime.fromtimestamp(item.created_at).strftime("%Y-%m-%d %H:%M")
            text = item.text + ("  ✎" if item.edited else "")
            values = (when, titles.get(item.product_id, self.tr("(deleted) #{id}").format(id=item.product_id)),
                      kind_label(item.kind), item.language, item.style or "", decision_label(item.decision), text)
            details = self.describe(item)
            for column, value in enumerate(values):
                cell = QTableWidgetItem(value)
                if column == 0:
                    cell.setData(Qt.ItemDataRole.UserRole, item.id)
                cell.setToolTip(details)
                if column == 5 and item.decision in DECISION_COLORS:
                    cell.setForeground(QColor(DECISION_COLORS[item.decision]))
                self.table.setItem(row, column, cell)
        self.count_label.setText(self.tr("{count} candidates").format(count=len(self.rows)))
        self.quality_label.setText(self.quality_text())
        if selected is not None:
            self.select_candidate(selected)
        self._update_buttons()

    def describe(self, item: StoredCandidate) -> str:
        """What produced a stored candidate and what the user did with it (the rows' tooltip)."""
        settings = item.details.get("settings") or {}
        lines = [
            self.tr("Model: {model}").format(model=item.model),
            self.tr("Settings: temperature {temperature}, top-p {top_p}, seed {seed}, up to {tokens} new tokens").format(
                temperature=settings.get("temperature", "-"), top_p=settings.get("top_p", "-"),
                seed=settings.get("seed", "-"), tokens=settings.get("max_new_tokens", "-")),
            self.tr("Finish: {reason}").format(reason=finish_label(item.finish_reason)),
        ]
        if item.edited:
            lines.append(self.tr("Edited; the model wrote: {text}").format(text=item.generated_text))
        return "\n".join(lines)

    def select_candidate(self, candidate_id: int) -> bool:
        for row, item in enumerate(self.rows):
            if item.id == candidate_id:
                self.table.selectRow(row)
                return True
        return False

    def texts(self) -> list[str]:
        return [item.text for item in self.rows]

    def selected(self) -> list[StoredCandidate]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.rows[row] for row in rows if row < len(self.rows)]

    def selected_id(self) -> int | None:
        chosen = self.selected()
        return chosen[0].id if chosen else None

    def _update_buttons(self) -> None:
        has = bool(self.selected())
        for button in (self.accept_button, self.reject_button, self.clear_button, self.open_button,
                       self.copy_button):
            button.setEnabled(has)

    # -- actions ---------------------------------------------------------------------------------

    def decide_selected(self, decision: str | None) -> None:
        chosen = self.selected()
        for item in chosen:
            self.context.library.decide(item.id, decision)
        if chosen:
            self.context.candidates_changed.emit()
            self.refresh()

    def open_selected_product(self) -> None:
        chosen = self.selected()
        if chosen:
            self.context.show_product.emit(chosen[0].product_id)

    def copy_selected(self) -> None:
        chosen = self.selected()
        if chosen:
            QGuiApplication.clipboard().setText("\n\n".join(item.text for item in chosen))

    def choose_export_file(self) -> None:
        """The export dialog (files and shops), with this page's filters."""
        self.open_export_dialog()

    def report_unfinished_exports(self) -> int:
        """A notice when shop exports were left unfinished (a crash, no network); returns their count."""
        from adcopy_desktop.core.outbox import Outbox

        count = len(Outbox(self.context.library).unfinished_jobs())
        if count:
            self.context.notice(self.tr(
                "{count} shop exports are unfinished; File → Shop outbox… resumes them.").format(count=count))
        return count

    def open_export_dialog(self, *, outbox: bool = False):
        from adcopy_desktop.gui.export_dialog import ExportDialog

        if not self.context.plugins.exporters():
            self.context.error(self.tr("No exporter is active; see the Plugins tab."))
            return None
        filters = {k: v for k, v in self.filters().items() if k != "decision"}
        dialog = ExportDialog(self.context, self, filters=filters, outbox=outbox)
        dialog.finished.connect(lambda *_: self._mark_stale())
        dialog.open()
        self.export_dialog = dialog
        return dialog

    def export(self, path: Path):
        """Write the accepted copy that matches the filters (decision filter aside), off the UI thread."""
        filters = {k: v for k, v in self.filters().items() if k != "decision"}
        library, plugins = self.context.library, self.context.plugins

        def task(report, cancel):
            candidates = [item.to_candidate() for item in library.accepted_copy(**filters)]
            plugins.export(candidates, Path(path))
            return len(candidates)

        def done(count: int) -> None:
            self.context.notice(self.tr("Exported {count} accepted candidates to {file}.").format(
                count=count, file=Path(path).name))

        return self.context.run(self.tr("Export to {file}").format(file=Path(path).name), task,
                                kind="export", on_success=done,
                                on_finished=self.context.report_plugin_problems, owner=self)

    # -- persistence -----------------------------------------------------------------------------

    def save_state(self, settings: QSettings) -> None:
        settings.setValue("library/kind", self.kind_box.currentData() or "")
        settings.setValue("library/decision", self.decision_box.currentData() or "")
        settings.setValue("library/date", self.date_box.currentData())
        settings.setValue("library/columns", self.table.horizontalHeader().saveState())

    def restore_state(self, settings: QSettings) -> None:
        for key, box in (("library/kind", self.kind_box), ("library/decision", self.decision_box),
                         ("library/date", self.date_box)):
            value = settings.value(key, "")
            index = box.findData(value if value != "" else None)
            if index >= 0:
                box.setCurrentIndex(index)
        state = settings.value("library/columns")
        if state is not None:
            self.table.horizontalHeader().restoreState(state)
