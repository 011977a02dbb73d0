"""Editing one product: a name, key/value attribute rows, and a paste-in field for whole products.

The paste-in field takes anything ``parse_product`` reads — the AdvertiseGen string
``类型#上衣*材质#牛仔布*颜色#白色``, ``key: value`` lines or JSON — and replaces the rows with it.
Changes are saved to the library shortly after the user stops typing (and at once on Save, on
switching products and before generating), so a killed app loses at most the last keystrokes.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from adcopy_desktop.core.errors import AdCopyError, ProductParseError
from adcopy_desktop.core.product import Product, parse_product
from adcopy_desktop.gui.context import AppContext

log = logging.getLogger("adcopy.gui.product")

AUTOSAVE_MS = 700


class ProductEditor(QWidget):
    saved = Signal(int)  # product id, after every successful save

    def __init__(self, context: AppContext, parent=None):
        super().__init__(parent)
        self.context = context
        self.product_id: int | None = None
        self._loading = False
        self._dirty = False

        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText(self.tr("Name (optional; a name or title attribute is used otherwise)"))
        self.paste_edit = QPlainTextEdit()
        self.paste_edit.setPlaceholderText(
            self.tr("Paste a whole product: 类型#上衣*材质#牛仔布*颜色#白色, 'key: value' lines or JSON")
        )
        self.paste_edit.setMaximumHeight(self.fontMetrics().lineSpacing() * 3 + 12)
        self.paste_edit.setTabChangesFocus(True)
        self.apply_paste_button = QPushButton(self.tr("Use pasted text"))
        self.apply_paste_button.setToolTip(self.tr("Replace the attribute rows with the pasted product"))

        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels([self.tr("Attribute"), self.tr("Value")])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.add_row_button = QPushButton(self.tr("Add row"))
        self.remove_row_button = QPushButton(self.tr("Remove row"))
        self.save_button = QPushButton(self.tr("Save"))
        self.save_button.setShortcut("Ctrl+S")
        self.save_button.setToolTip(self.tr("Save the product (Ctrl+S); edits are also saved as you type"))
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color:#b3261e;")
        self.error_label.hide()
        self.state_label = QLabel()
        self.state_label.setStyleSheet("color:palette(mid);")

        paste_row = QHBoxLayout()
        paste_row.addWidget(self.paste_edit, 1)
        paste_row.addWidget(self.apply_paste_button, 0, Qt.AlignmentFlag.AlignTop)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_row_button)
        buttons.addWidget(self.remove_row_button)
        buttons.addStretch(1)
        buttons.addWidget(self.state_label)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.name_edit)
        layout.addLayout(paste_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)

        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(lambda: self.save(quiet=True))
        self.apply_paste_button.clicked.connect(self.apply_paste)
        self.add_row_button.clicked.connect(lambda: self.add_row(focus=True))
        self.remove_row_button.clicked.connect(self.remove_selected_rows)
        self.save_button.clicked.connect(lambda: self.save(quiet=False))
        self.table.itemChanged.connect(self._changed)
        self.name_edit.textEdited.connect(self._changed)
        self.clear()

    # -- loading ---------------------------------------------------------------------------------

    def clear(self) -> None:
        """A new, unsaved product."""
        self.load(None, None)

    def load(self, product_id: int | None, product: Product | None) -> None:
        self._autosave.stop()
        self._loading = True
        try:
            self.product_id = product_id
            self.name_edit.setText(product.name or "" if product else "")
            self.table.setRowCount(0)
            for key, value in (product.attributes if product else []):
                self.add_row(key, value)
            if product is None:
                self.add_row()
            self.paste_edit.clear()
            self._show_error(None)
            self._dirty = False
            self.state_label.setText("" if product_id else self.tr("New product"))
        finally:
            self._loading = False

    def add_row(self, key: str = "", value: str = "", *, focus: bool = False) -> int:
        row = self.table.rowCount()
        was_loading, self._loading = self._loading, True
        try:
            self.table.insertRow(row)
            self.table.setItem(row, 0, QTableWidgetItem(key))
            self.table.setItem(row, 1, QTableWidgetItem(value))
        finally:
            self._loading = was_loading
        if focus:
            self.table.setCurrentCell(row, 0)
            self.table.editItem(self.table.item(row, 0))
        return row

    def remove_selected_rows(self) -> None:
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        if not rows and self.table.currentRow() >= 0:
            rows = [self.table.currentRow()]
        for row in rows:
            self.table.removeRow(row)
        if rows:
            self._changed()

    def set_attributes(self, pairs: list[tuple[str, str]]) -> None:
        self._loading = True
        try:
            self.table.setRowCount(0)
            for key, value in pairs:
                self.add_row(key, value)
        finally:
            self._loading = False
        self._changed()

    def apply_paste(self) -> bool:
        """Replace the rows with the pasted product; a malformed paste shows where it is wrong."""
        text = self.paste_edit.toPlainText()
        try:
            product = parse_product(text)
        except ProductParseError as exc:
            self._show_error(str(exc))
            return False
        if product.name and not self.name_edit.text().strip():
            self.name_edit.setText(product.name)
        self.set_attributes(list(product.attributes))
        self.paste_edit.clear()
        return True

    # -- reading and saving ----------------------------------------------------------------------

    def attributes(self) -> list[tuple[str, str]]:
        pairs = []
        for row in range(self.table.rowCount()):
            key = (self.table.item(row, 0).text() if self.table.item(row, 0) else "").strip()
            value = (self.table.item(row, 1).text() if self.table.item(row, 1) else "").strip()
            if key or value:
                pairs.append((key, value))
        return pairs

    def product(self) -> Product:
        """The product as edited; ProductParseError names the row at fault."""
        product = Product.from_attributes(self.attributes(), source_text="")
        product.source_text = product.to_attribute_string()
        name = self.name_edit.text().strip()
        if name:
            product.name = name
        return product

    @property
    def dirty(self) -> bool:
        return self._dirty

    def _changed(self, *args) -> None:
        if self._loading:
            return
        self._dirty = True
        self.state_label.setText(self.tr("Editing…"))
        self._autosave.start()

    def save(self, quiet: bool = False) -> int | None:
        """Write the product to the library (added when new); returns its id, or None when the
        product is not valid yet (the problem is shown under the rows)."""
        self._autosave.stop()
        if not self._dirty and self.product_id is not None:
            return self.product_id
        try:
            product = self.product()
        except ProductParseError as exc:
            if not quiet or self.attributes():
                self._show_error(str(exc))
            return None
        try:
            if self.product_id is None:
                self.product_id = self.context.library.add_product(product)
            else:
                self.context.library.update_product(self.product_id, product)
        except AdCopyError as exc:
            self._show_error(str(exc))
            return None
        self._dirty = False
        self._show_error(None)
        self.state_label.setText(self.tr("Saved"))
        self.context.products_changed.emit()
        self.saved.emit(self.product_id)
        return self.product_id

    def _show_error(self, text: str | None) -> None:
        self.error_label.setText(text or "")
        self.error_label.setVisible(bool(text))
