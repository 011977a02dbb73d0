"""Importing a catalog: choose the file, check the detected encoding and layout in a preview,
confirm the column mapping of a generic table, import in the background, read the summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
)

from adcopy_desktop.core.catalog import ENCODING_LABELS, ColumnMapping, preview_catalog, save_mapping
from adcopy_desktop.core.progress import ProgressEvent
from adcopy_desktop.gui.context import AppContext
from adcopy_desktop.gui.tables import read_only_table

CATALOG_IMPORTERS = ("csv", "shopify", "woocommerce", "xlsx", "jsonl")
PREVIEW_ROWS = 20
PREVIEW_CELL_CHARS = 80


class ImportDialog(QDialog):
    imported = Signal(object)  # list of product ids

    def __init__(self, context: AppContext, parent=None, path: Path | None = None):
        super().__init__(parent)
        self.context = context
        self.setWindowTitle(self.tr("Import products"))
        self.resize(900, 640)
        self.preview = None
        self.result = None
        self.counts = None
        self.job = None
        self.preview_job = None

        self.path_edit = QLineEdit()
        self.path_edit.setReadOnly(True)
        self.choose_button = QPushButton(self.tr("Choose file…"))
        self.format_box = QComboBox()
        for label, value in ((self.tr("Detect"), None), (self.tr("Shopify product CSV"), "shopify"),
                             (self.tr("WooCommerce product CSV"), "woocommerce"),
                             (self.tr("CSV with a column mapping"), "csv"), (self.tr("Excel workbook (XLSX)"), "xlsx"),
                             (self.tr("JSON lines"), "jsonl")):
            self.format_box.addItem(label, value)
        self.encoding_box = QComboBox()
        self.encoding_box.addItem(self.tr("Detect"), None)
        for codec, label in ENCODING_LABELS.items():
            self.encoding_box.addItem(label, codec)
        self.detected_label = QLabel()
        self.detected_label.setWordWrap(True)
        self.preview_table = read_only_table([""])

        self.mapping_group = QGroupBox(self.tr("Column mapping"))
        self.name_box, self.id_box, self.description_box = QComboBox(), QComboBox(), QComboBox()
        self.attribute_list = QListWidget()
        self.attribute_list.setMaximumHeight(110)
        mapping_form = QFormLayout(self.mapping_group)
        mapping_form.addRow(self.tr("Product name"), self.name_box)
        mapping_form.addRow(self.tr("Product id"), self.id_box)
        mapping_form.addRow(self.tr("Description"), self.description_box)
        mapping_form.addRow(self.tr("Facts (attributes)"), self.attribute_list)
        self.mapping_group.setVisible(False)

        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.problem_table = read_only_table([self.tr("Row"), self.tr("Column"), self.tr("Problem")])
        self.problem_table.setVisible(False)
        self.import_button = QPushButton(self.tr("Import"))
        self.import_button.setDefault(True)
        self.import_button.setEnabled(False)
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.setEnabled(False)
        self.close_button = QPushButton(self.tr("Close"))

        file_row = QHBoxLayout()
        file_row.addWidget(self.path_edit, 1)
        file_row.addWidget(self.choose_button)
        options = QFormLayout()
        options.addRow(self.tr("File"), file_row)
        options.addRow(self.tr("Format"), self.format_box)
        options.addRow(self.tr("Encoding"), self.encoding_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(options)
        layout.addWidget(self.detected_label)
        layout.addWidget(self.preview_table, 2)
        layout.addWidget(self.mapping_group)
        layout.addWidget(self.status_label)
        layout.addWidget(self.problem_table, 1)
        layout.addLayout(buttons)

        self.choose_button.clicked.connect(self.choose_file)
        self.format_box.currentIndexChanged.connect(lambda: self.load_preview())
        self.encoding_box.currentIndexChanged.connect(lambda: self.load_preview())
        self.import_button.clicked.connect(self.start_import)
        self.stop_button.clicked.connect(self.stop)
        self.close_button.clicked.connect(self.reject)
        if path is not None:
            self.set_path(Path(path))

    # -- choosing and previewing -------------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        return Path(self.path_edit.text()) if self.path_edit.text() else None

    def choose_file(self) -> None:
        importers = self.context.plugins.importers()
        patterns = sorted({f"*{ext}" for importer in importers.values() for ext in importer.extensions})
        filters = [self.tr("Products ({patterns})").format(patterns=" ".join(patterns))]
        for importer in importers.values():
            filters.append(f"{importer.label or importer.name} ({' '.join('*' + e for e in importer.extensions)})")
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Import products"), "", ";;".join(filters))
        if path:
            self.set_path(Path(path))

    def set_path(self, path: Path):
        self.path_edit.setText(str(path))
        return self.load_preview()

    def importer_name(self) -> str | None:
        """The importer plugin that reads the file: the chosen format, or the one for its extension."""
        fmt = self.format_box.currentData()
        if fmt is not None:
            return fmt
        try:
            return self.context.plugins.importer_for(self.path).name
        except Exception:  # noqa: BLE001 - no importer for this extension: shown as the preview's error
            return None

    def load_preview(self):
        """Detect encoding and layout and show the first rows, off the UI thread."""
        path = self.path
        if path is None:
            return None
        self.import_button.setEnabled(False)
        self.preview = None
        importer = self.importer_name()
        if importer not in CATALOG_IMPORTERS:
            self._show_plain_preview(importer)
            return None
        fmt, encoding = self.format_box.currentData(), self.encoding_box.currentData()
        self.detected_label.setText(self.tr("Reading {file}…").format(file=path.name))

        def task(report, cancel):
            return preview_catalog(path, fmt=fmt, encoding=encoding, rows=PREVIEW_ROWS)

        job = self.context.run(self.tr("Previewing {file}").format(file=path.name), task, kind="preview",
                               show_errors=False, owner=self)
        self.preview_job = job  # a newer preview (another encoding chosen meanwhile) makes this one stale
        job.signals.succeeded.connect(lambda preview: self._show_preview(preview) if self.preview_job is job else None)
        job.signals.failed.connect(lambda text: self._preview_failed(text) if self.preview_job is job else None)
        return job

    def _show_plain_preview(self, importer: str | None) -> None:
        self.mapping_group.setVisible(False)
        self.preview_table.setRowCount(0)
        if importer is None:
            self.detected_label.setText(self.tr("No importer reads this kind of file; see the Plugins tab."))
            return
        self.detected_label.setText(self.tr("Read by the importer “{name}” (no preview).").format(name=importer))
        self.import_button.setEnabled(True)

    def _preview_failed(self, message: str) -> None:
        self.detected_label.setText(message)
        self.preview_table.setRowCount(0)
        self.mapping_group.setVisible(False)

    def _show_preview(self, preview) -> None:
        self.preview = preview
        parts = [self.tr("Format: {format}").format(format=preview.format)]
        if preview.encoding is not None:
            parts.append(self.tr("encoding: {encoding} ({confidence:.0%} sure: {reason})").format(
                encoding=preview.encoding.label, confidence=preview.encoding.confidence,
                reason=preview.encoding.reason))
        self.detected_label.setText("; ".join(parts))
        table = self.preview_table
        width = max([len(preview.header)] + [len(row) for row in preview.rows] + [1])
        table.clear()
        table.setColumnCount(width)
        table.setHorizontalHeaderLabels([*preview.header, *[""] * (width - len(preview.header))])
        table.setRowCount(len(preview.rows))
        for row_number, row in enumerate(preview.rows):
            for column, cell in enumerate(row):
                text = cell if len(cell) <= PREVIEW_CELL_CHARS else cell[: PREVIEW_CELL_CHARS - 1] + "…"
                table.setItem(row_number, column, QTableWidgetItem(text))
        self._show_mapping(preview)
        self.import_button.setEnabled(True)

    def _show_mapping(self, preview) -> None:
        mapping = preview.mapping
        self.mapping_group.setVisible(mapping is not None)
        if mapping is None:
            return
        none = self.tr("(none)")
        for box, chosen in ((self.name_box, mapping.name), (self.id_box, mapping.id),
                            (self.description_box, mapping.description)):
            box.clear()
            box.addItem(none, None)
            for column in preview.header:
                if column:
                    box.addItem(column, column)
            box.setCurrentIndex(max(0, box.findData(chosen)) if chosen else 0)
        self.attribute_list.clear()
        for column in preview.header:
            if not column:
                continue
            item = QListWidgetItem(column)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if column in mapping.attributes else Qt.CheckState.Unchecked)
            self.attribute_list.addItem(item)
        title = self.tr("Column mapping (saved for these columns)") if preview.mapping_saved else \
            self.tr("Column mapping (proposed: check it)")
        self.mapping_group.setTitle(title)

    def mapping(self) -> ColumnMapping | None:
        """The mapping as the user left it (None when the file is not a generic table)."""
        if self.preview is None or self.preview.mapping is None:
            return None
        attributes = [self.attribute_list.item(i).text() for i in range(self.attribute_list.count())
                      if self.attribute_list.item(i).checkState() == Qt.CheckState.Checked]
        return ColumnMapping(name=self.name_box.currentData(), id=self.id_box.currentData(),
                             description=self.description_box.currentData(), attributes=attributes)

    # -- importing ---------------------------------------------------------------------------------

    def start_import(self):
        path, importer = self.path, self.importer_name()
        if path is None or importer is None or (self.job is not None and self.job.running):
            return None
        mapping = self.mapping()
        if mapping is not None:
            try:
                mapping.check(self.preview.header)
            except Exception as error:  # noqa: BLE001 - CatalogError: shown, nothing imported
                self.status_label.setText(str(error))
                return None
            save_mapping(self.preview.header, mapping)  # confirmed: used next time without asking
        options: dict[str, Any] = {}
        if importer == "csv" and self.format_box.currentData() == "csv":
            options["layout"] = "generic"
        encoding = self.encoding_box.currentData()
        if encoding and importer in ("csv", "shopify", "woocommerce", "jsonl"):
            options["encoding"] = encoding
        plugins, library = self.context.plugins, self.context.library

        def task(report, cancel):
            result = plugins.import_catalog(path, importer=importer, options=options, progress=report, cancel=cancel,
                                            mapping=mapping)
            report(ProgressEvent("store", "Saving to the library", None))
            counts = library.import_products(result.items, source_format=result.format)
            return result, counts

        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.problem_table.setVisible(False)
        self.status_label.setText(self.tr("Importing {file}…").format(file=path.name))
        self.import_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.job = self.context.run(self.tr("Importing {file}").format(file=path.name), task, kind="import",
                                    on_success=self._finished, on_progress=self._progress, owner=self)
        self.job.signals.finished.connect(self._job_over)
        self.job.signals.cancelled.connect(
            lambda: self.status_label.setText(self.tr("Stopped; nothing was added to the library.")))
        self.job.signals.failed.connect(self.status_label.setText)
        return self.job

    def stop(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _progress(self, event: Any) -> None:
        if not isinstance(event, ProgressEvent):
            return
        if event.fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(event.fraction * 1000))

    def _job_over(self) -> None:
        self.progress.setVisible(False)
        self.stop_button.setEnabled(False)
        self.import_button.setEnabled(True)

    def _finished(self, outcome) -> None:
        self.result, self.counts = outcome
        result, counts = outcome
        skipped_rows = len({p.row for p in result.skipped if p.row is not None})
        summary = self.tr(
            "Imported {products} products ({added} new, {updated} updated, {unchanged} unchanged) from {rows} rows; "
            "{skipped} rows skipped.").format(products=len(result.items), added=counts.added, updated=counts.updated,
                                              unchanged=counts.unchanged, rows=result.rows_read, skipped=skipped_rows)
        if counts.inactive:
            summary += " " + self.tr("{inactive} of them are drafts, archived or unpublished in the shop and are "
                                     "marked so in the library.").format(inactive=counts.inactive)
        self.status_label.setText(summary)
        table = self.problem_table
        table.setRowCount(len(result.problems))
        for row, problem in enumerate(result.problems):
            column = "" if problem.column is None else str(problem.column)
            if problem.column_name:
                column += f" ({problem.column_name})"
            message = problem.message if problem.skipped else self.tr("note: {message}").format(message=problem.message)
            for index, text in enumerate(("" if problem.row is None else str(problem.row), column, message)):
                table.setItem(row, index, QTableWidgetItem(text))
        table.setVisible(bool(result.problems))
        self.context.products_changed.emit()
        self.context.notice(self.tr("Imported {count} products from {file}.").format(
            count=len(result.items), file=self.path.name if self.path else ""))
        self.imported.emit(counts.ids)
