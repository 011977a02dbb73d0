"""The product catalog: search, filter, add, duplicate, delete and import products."""

from __future__ import annotations

import copy
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from adcopy_desktop.core.library import StoredProduct
from adcopy_desktop.gui.context import AppContext
from adcopy_desktop.gui.labels import product_title

ALL, WITHOUT_ACCEPTED, WITH_ACCEPTED = "all", "without-accepted", "with-accepted"


class CatalogPanel(QWidget):
    product_selected = Signal(object)  # product id, or None for "nothing / new product"
    new_product_requested = Signal()

    def __init__(self, context: AppContext, parent=None):
        super().__init__(parent)
        self.context = context
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText(self.tr("Search products"))
        self.search_edit.setClearButtonEnabled(True)
        self.filter_box = QComboBox()
        self.filter_box.addItem(self.tr("All products"), ALL)
        self.filter_box.addItem(self.tr("Without accepted copy"), WITHOUT_ACCEPTED)
        self.filter_box.addItem(self.tr("With accepted copy"), WITH_ACCEPTED)
        self.list = QListWidget()
        self.list.setAlternatingRowColors(True)
        self.new_button = QPushButton(self.tr("New"))
        self.new_button.setToolTip(self.tr("Add a product (Ctrl+N)"))
        self.duplicate_button = QPushButton(self.tr("Duplicate"))
        self.delete_button = QPushButton(self.tr("Delete"))
        self.import_button = QPushButton(self.tr("Import…"))
        self.import_button.setToolTip(self.tr("Import products from a file (Ctrl+I)"))
        self.batch_button = QPushButton(self.tr("Bulk…"))
        self.batch_button.setToolTip(self.tr("Generate copy for the selected or all products"))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)

        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.filter_box)
        buttons = QHBoxLayout()
        for button in (self.new_button, self.duplicate_button, self.delete_button, self.import_button,
                       self.batch_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)
        self._search_timer.timeout.connect(self.refresh)
        self.search_edit.textChanged.connect(lambda: self._search_timer.start())
        self.filter_box.currentIndexChanged.connect(self.refresh)
        self.list.currentItemChanged.connect(self._current_changed)
        self.new_button.clicked.connect(self.new_product_requested)
        self.duplicate_button.clicked.connect(self.duplicate_selected)
        self.delete_button.clicked.connect(lambda: self.delete_selected(confirm=True))
        self.import_button.clicked.connect(self.choose_import_file)
        self.batch_button.clicked.connect(self.open_batch_dialog)
        context.products_changed.connect(self.refresh)
        context.candidates_changed.connect(self._refresh_if_filtered)
        self.refresh()

    # -- listing ---------------------------------------------------------------------------------

    def products(self) -> list[StoredProduct]:
        stored = self.context.library.list_products(self.search_edit.text().strip() or None)
        mode = self.filter_box.currentData()
        if mode in (WITH_ACCEPTED, WITHOUT_ACCEPTED):
            accepted = {c.product_id for c in self.context.library.accepted_copy()}
            keep = (lambda p: p.id in accepted) if mode == WITH_ACCEPTED else (lambda p: p.id not in accepted)
            stored = [p for p in stored if keep(p)]
        return stored

    def refresh(self) -> None:
        current = self.current_id()
        self.list.blockSignals(True)
        try:
            self.list.clear()
            for stored in self.products():
                item = QListWidgetItem(self._list_title(stored))
                item.setData(Qt.ItemDataRole.UserRole, stored.id)
                item.setToolTip(stored.product.to_attribute_string())
                if not stored.active:
                    self._mark_inactive(item)
                self.list.addItem(item)
            row = self._row_of(current)
            if row is not None:
                self.list.setCurrentRow(row)
        finally:
            self.list.blockSignals(False)
        self.duplicate_button.setEnabled(current is not None)
        self.delete_button.setEnabled(current is not None)

    def _list_title(self, stored: StoredProduct) -> str:
        """The product's title, and how its shop has it when that is not active."""
        name = product_title(stored.product)
        marked = {
            "draft": self.tr("{name} (draft)"),
            "archived": self.tr("{name} (archived)"),
            "unpublished": self.tr("{name} (unpublished)"),
        }.get(stored.shop_status)
        return marked.format(name=name) if marked else name

    def _mark_inactive(self, item: QListWidgetItem) -> None:
        """Greyed, like a disabled entry: bulk generation leaves these out unless asked."""
        item.setForeground(self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
        item.setToolTip(item.toolTip() + "\n" + self.tr(
            "A draft, archived or unpublished product in the shop: bulk generation leaves it out unless you "
            "include drafts."))

    def _refresh_if_filtered(self) -> None:
        if self.filter_box.currentData() != ALL:
            self.refresh()

    def _row_of(self, product_id: int | None) -> int | None:
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == product_id:
                return row
        return None

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def ids(self) -> list[int]:
        return [self.list.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.list.count())]

    def select(self, product_id: int | None, *, notify: bool = True) -> bool:
        """Select a product; when it is hidden by the search or filter, they are cleared first."""
        if product_id is None:
            self.list.blockSignals(not notify)
            self.list.setCurrentRow(-1)
            self.list.clearSelection()
            self.list.blockSignals(False)
            if notify:
                self.product_selected.emit(None)
            return True
        row = self._row_of(product_id)
        if row is None and (self.search_edit.text() or self.filter_box.currentIndex() != 0):
            self.search_edit.blockSignals(True)
            self.search_edit.clear()
            self.search_edit.blockSignals(False)
            self.filter_box.blockSignals(True)
            self.filter_box.setCurrentIndex(0)
            self.filter_box.blockSignals(False)
            self.refresh()
            row = self._row_of(product_id)
        if row is None:
            return False
        self.list.blockSignals(not notify)
        self.list.setCurrentRow(row)
        self.list.blockSignals(False)
        self._update_buttons()
        return True

    def step(self, delta: int) -> int | None:
        """Select the next (1) or previous (-1) product; wraps around. Returns the new id."""
        count = self.list.count()
        if not count:
            return None
        row = self.list.currentRow()
        row = (0 if delta > 0 else count - 1) if row < 0 else (row + delta) % count
        self.list.setCurrentRow(row)
        return self.current_id()

    def _current_changed(self, *args) -> None:
        self._update_buttons()
        self.product_selected.emit(self.current_id())

    def _update_buttons(self) -> None:
        has = self.current_id() is not None
        self.duplicate_button.setEnabled(has)
        self.delete_button.setEnabled(has)

    # -- changing --------------------------------------------------------------------------------

    def duplicate_selected(self) -> int | None:
        product_id = self.current_id()
        if product_id is None:
            return None
        product = copy.deepcopy(self.context.library.get_product(product_id).product)
        product.name = self.tr("{name} (copy)").format(name=product_title(product, limit=200))
        new_id = self.context.library.add_product(product)
        self.context.products_changed.emit()
        self.select(new_id)
        return new_id

    def delete_selected(self, confirm: bool = True) -> bool:
        product_id = self.current_id()
        if product_id is None:
            return False
        if confirm:
            title = self.list.currentItem().text()
            answer = QMessageBox.question(
                self, self.tr("Delete product"),
                self.tr("Delete “{name}”? Its generated copy stays in the library.").format(name=title),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        row = self.list.currentRow()
        self.context.library.delete_product(product_id)
        self.context.products_changed.emit()
        if self.list.count():
            self.list.setCurrentRow(min(row, self.list.count() - 1))
        else:
            self.product_selected.emit(None)
        return True

    # -- importing -------------------------------------------------------------------------------

    def selected_ids(self) -> list[int]:
        """The products selected in the list (several with Ctrl/Shift), in list order."""
        rows = sorted(index.row() for index in self.list.selectedIndexes())
        return [self.list.item(row).data(Qt.ItemDataRole.UserRole) for row in rows]

    def open_import_dialog(self, path: Path | None = None):
        """The import dialog: preview, encoding and format, column mapping, summary."""
        from adcopy_desktop.gui.import_dialog import ImportDialog

        dialog = ImportDialog(self.context, self, path=path)
        dialog.imported.connect(lambda ids: self.select(ids[0]) if ids else None)
        dialog.setModal(True)
        dialog.show()
        self.import_dialog = dialog
        return dialog

    def open_batch_dialog(self):
        from adcopy_desktop.gui.batch_dialog import BatchDialog

        dialog = BatchDialog(self.context, self.selected_ids(), self)
        dialog.show()
        self.batch_dialog = dialog
        return dialog

    def choose_import_file(self) -> None:
        if not self.context.plugins.importers():
            self.context.error(self.tr("No importer is active; see the Plugins tab."))
            return
        self.open_import_dialog()

    def import_file(self, path: Path):
        """Read products with the importer for the file type and add them, off the UI thread."""
        plugins, library = self.context.plugins, self.context.library

        def task(report, cancel):
            result = plugins.import_catalog(Path(path), progress=report, cancel=cancel)
            return library.import_products(result.items, source_format=result.format).ids

        def done(ids) -> None:
            self.context.products_changed.emit()
            self.context.notice(self.tr("Imported {count} products from {file}.").format(
                count=len(ids), file=Path(path).name))
            if ids:
                self.select(ids[0])

        return self.context.run(self.tr("Importing {file}").format(file=Path(path).name), task,
                                kind="import", on_success=done, owner=self)
