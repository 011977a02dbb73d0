"""The import dialog on real files: detected encoding and format in a preview, changeable, the
column mapping of a generic table confirmed and saved, a background import with a summary."""

from PySide6.QtCore import Qt

from adcopy_desktop.core.catalog import saved_mapping
from tests.core.catalog.samples import SHOPIFY_HEADER, shopify_row, shopify_rows, write_csv
from tests.gui.conftest import wait_for_job


def _preview(qtbot, dialog):
    if dialog.preview_job is not None:
        wait_for_job(qtbot, dialog.preview_job)


def test_a_shopify_export_is_previewed_and_imported_with_a_summary(qtbot, open_window, tmp_path):
    window = open_window()
    rows = shopify_rows() + [shopify_row(title="orphan", sku="X")]
    path = write_csv(tmp_path / "products_export.csv", SHOPIFY_HEADER, rows, encoding="gbk")
    dialog = window.writer.catalog.open_import_dialog(path)
    _preview(qtbot, dialog)
    assert "shopify" in dialog.detected_label.text() and "GB18030 / GBK" in dialog.detected_label.text()
    assert dialog.preview_table.rowCount() == 5 and dialog.preview_table.item(0, 1).text() == "亚麻衬衫"
    assert dialog.preview_table.horizontalHeaderItem(0).text() == "Handle"
    assert not dialog.mapping_group.isVisible()

    dialog.encoding_box.setCurrentIndex(dialog.encoding_box.findData("big5"))  # the user tries another one
    _preview(qtbot, dialog)
    assert "Big5" in dialog.detected_label.text() and dialog.preview_table.item(0, 1).text() != "亚麻衬衫"
    dialog.encoding_box.setCurrentIndex(dialog.encoding_box.findData(None))
    _preview(qtbot, dialog)
    assert dialog.preview_table.item(0, 1).text() == "亚麻衬衫"

    job = dialog.start_import()
    wait_for_job(qtbot, job)
    assert job.outcome == "succeeded"
    assert dialog.status_label.text() == (
        "Imported 2 products (2 new, 0 updated, 0 unchanged) from 5 rows; 1 rows skipped.")
    assert dialog.problem_table.rowCount() == 1
    assert [dialog.problem_table.item(0, c).text() for c in range(2)] == ["6", "1 (Handle)"]
    assert len(window.writer.catalog.ids()) == 2
    assert window.context.library.product_by_external_id("shopify", "linen-shirt") is not None


def test_a_generic_table_needs_its_mapping_confirmed_and_it_is_remembered(qtbot, open_window, tmp_path):
    window = open_window()
    header = ["货号", "商品名称", "颜色", "备注"]
    path = write_csv(tmp_path / "items.csv", header, [["A1", "纯棉T恤", "白色", "内部"], ["A2", "真丝裙", "黑色", ""]])
    dialog = window.writer.catalog.open_import_dialog(path)
    _preview(qtbot, dialog)
    assert dialog.mapping_group.isVisibleTo(dialog) and "proposed" in dialog.mapping_group.title()
    assert dialog.name_box.currentData() == "商品名称" and dialog.id_box.currentData() == "货号"
    notes = dialog.attribute_list.findItems("备注", Qt.MatchFlag.MatchExactly)[0]
    assert notes.checkState() == Qt.CheckState.Checked
    notes.setCheckState(Qt.CheckState.Unchecked)  # internal notes are not product facts
    job = dialog.start_import()
    wait_for_job(qtbot, job)
    assert job.outcome == "succeeded" and "Imported 2 products" in dialog.status_label.text()
    stored = window.context.library.product_by_external_id("csv", "A1")
    assert stored.product.values("颜色") == ["白色"] and stored.product.values("备注") == []
    assert saved_mapping(header).attributes == ["颜色"]

    again = window.writer.catalog.open_import_dialog(path)
    _preview(qtbot, again)
    assert "saved" in again.mapping_group.title()
    assert [again.attribute_list.item(i).checkState() == Qt.CheckState.Checked
            for i in range(again.attribute_list.count())] == [False, False, True, False]


def test_a_file_that_cannot_be_read_shows_why(qtbot, open_window, tmp_path):
    window = open_window()
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\xef\xbb\xbf")
    dialog = window.writer.catalog.open_import_dialog(empty)
    _preview(qtbot, dialog)
    assert "empty" in dialog.detected_label.text() and not dialog.import_button.isEnabled()


def test_the_file_menu_opens_the_import_dialog(qtbot, open_window, monkeypatch):
    window = open_window()
    action = next(a for a in window.findChildren(type(window.new_action)) if a.text() == "Import products…")
    action.trigger()
    dialog = window.writer.catalog.import_dialog
    assert dialog.isVisible() and dialog.path is None and not dialog.import_button.isEnabled()
    dialog.close()
