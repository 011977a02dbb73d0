"""The product catalog and attribute editor: paste-in, rows, autosave, duplicate, delete, search,
filter and import."""

from PySide6.QtCore import Qt

from .conftest import add_product, generate, wait_for_job


def test_pasting_an_attribute_string_fills_the_rows(qtbot, open_window):
    window = open_window()
    window.new_product()
    editor = window.writer.editor
    editor.paste_edit.setPlainText("类型#上衣*材质#牛仔布*风格#简约*风格#休闲")
    qtbot.mouseClick(editor.apply_paste_button, Qt.MouseButton.LeftButton)
    assert editor.attributes() == [("类型", "上衣"), ("材质", "牛仔布"), ("风格", "简约"), ("风格", "休闲")]
    assert editor.paste_edit.toPlainText() == ""
    product_id = editor.save()
    stored = window.context.library.get_product(product_id).product
    assert stored.attributes == editor.attributes()
    assert stored.to_attribute_string() == "类型#上衣*材质#牛仔布*风格#简约*风格#休闲"


def test_rows_are_edited_in_place_and_saved_while_typing(qtbot, open_window):
    window = open_window()
    product_id = add_product(qtbot, window, "Type: vase\nColor: blue")
    editor = window.writer.editor
    row = editor.add_row()
    editor.table.item(row, 0).setText("Material")
    editor.table.item(row, 1).setText("porcelain")
    assert editor.dirty
    qtbot.waitUntil(lambda: not editor.dirty, timeout=5_000)  # autosave after a short pause
    stored = window.context.library.get_product(product_id).product
    assert stored.attributes[-1] == ("Material", "porcelain")
    editor.table.selectRow(0)
    editor.remove_selected_rows()
    editor.name_edit.setText("Blue vase")
    editor.name_edit.textEdited.emit("Blue vase")
    assert editor.save() == product_id
    stored = window.context.library.get_product(product_id).product
    assert stored.name == "Blue vase" and ("Type", "vase") not in stored.attributes
    assert window.writer.catalog.list.currentItem().text() == "Blue vase"


def test_an_incomplete_row_is_named_and_not_saved(qtbot, open_window):
    window = open_window()
    product_id = add_product(qtbot, window, "Type: vase")
    editor = window.writer.editor
    row = editor.add_row()
    editor.table.item(row, 0).setText("Color")
    assert editor.save() is None
    assert "Color" in editor.error_label.text() and "no value" in editor.error_label.text()
    assert window.context.library.get_product(product_id).product.attributes == [("Type", "vase")]


def test_duplicate_delete_search_and_filter(qtbot, open_window, monkeypatch):
    window = open_window()
    catalog = window.writer.catalog
    jacket = add_product(qtbot, window, "类型#上衣*材质#牛仔布")
    add_product(qtbot, window, "Type: teapot\nMaterial: clay")
    catalog.select(jacket)
    copy_id = catalog.duplicate_selected()
    assert catalog.current_id() == copy_id
    assert window.context.library.get_product(copy_id).product.attributes == [("类型", "上衣"), ("材质", "牛仔布")]
    assert "(copy)" in catalog.list.currentItem().text()

    catalog.search_edit.setText("牛仔")
    catalog.refresh()
    assert sorted(catalog.ids()) == sorted([jacket, copy_id])

    catalog.select(copy_id)
    monkeypatch.setattr("adcopy_desktop.gui.catalog.QMessageBox.question",
                        lambda *a: __import__("PySide6.QtWidgets").QtWidgets.QMessageBox.StandardButton.Yes)
    assert catalog.delete_selected(confirm=True)
    assert copy_id not in catalog.ids() and copy_id not in [p.id for p in window.context.library.list_products()]

    catalog.search_edit.setText("")
    catalog.refresh()
    catalog.select(jacket)
    generate(qtbot, window, n=1)
    window.writer.decide(window.writer.cards[0], "accepted")
    catalog.filter_box.setCurrentIndex(catalog.filter_box.findData("with-accepted"))
    assert catalog.ids() == [jacket]
    catalog.filter_box.setCurrentIndex(catalog.filter_box.findData("without-accepted"))
    assert jacket not in catalog.ids() and len(catalog.ids()) == 1


def test_import_products_from_a_text_file(qtbot, open_window, tmp_path):
    window = open_window()
    source = tmp_path / "products.txt"
    source.write_text("类型#上衣*颜色#白色\n类型#裙*颜色#红色\n\nType: mug\nColor: green\n", encoding="utf-8")
    job = window.writer.catalog.import_file(source)
    wait_for_job(qtbot, job)
    assert job.outcome == "succeeded" and len(job.result) == 3
    assert len(window.writer.catalog.ids()) == 3
    assert "Imported 3 products" in window.message_bar.text
    assert window.writer.editor.attributes() == [("类型", "上衣"), ("颜色", "白色")]


def test_a_bad_import_names_the_file_and_line(qtbot, open_window, tmp_path):
    window = open_window()
    source = tmp_path / "bad.txt"
    source.write_text("Type: mug\n\n类型#上衣*颜色\n", encoding="utf-8")
    job = window.writer.catalog.import_file(source)
    wait_for_job(qtbot, job)
    assert job.outcome == "failed"
    assert window.message_bar.text.startswith("Importing bad.txt failed") and "line 3" in window.message_bar.text
    assert window.writer.catalog.ids() == []


def test_next_and_previous_product_wrap_around(qtbot, open_window):
    window = open_window()
    ids = [add_product(qtbot, window, f"Type: item {n}") for n in range(3)]
    catalog = window.writer.catalog
    order = catalog.ids()
    assert sorted(order) == sorted(ids)
    catalog.select(order[-1])
    window.writer.next_product(1)
    assert catalog.current_id() == order[0]
    window.writer.next_product(-1)
    assert catalog.current_id() == order[-1]
    assert window.writer.editor.product_id == order[-1]


def test_shop_drafts_are_marked_and_greyed_in_the_list(qtbot, open_window, tmp_path):
    from PySide6.QtGui import QPalette

    from adcopy_desktop.core.catalog import read_catalog
    from adcopy_desktop.gui.i18n import CHINESE, install_interface_language
    from tests.core.catalog.samples import SHOPIFY_HEADER, shopify_row, write_csv

    rows = [shopify_row(handle="linen-shirt", title="Linen shirt", sku="1", status="active"),
            shopify_row(handle="wool-hat", title="Wool hat", sku="2", status="draft"),
            shopify_row(handle="old-mug", title="Old mug", sku="3", status="archived")]
    hidden = shopify_row(handle="hidden-vase", title="Hidden vase", sku="4", status="active")
    hidden[SHOPIFY_HEADER.index("Published")] = "FALSE"
    rows.append(hidden)
    window = open_window()
    result = read_catalog(write_csv(tmp_path / "shop.csv", SHOPIFY_HEADER, rows))
    window.context.library.import_products(result.items, source_format="shopify")
    window.context.products_changed.emit()
    catalog = window.writer.catalog
    items = [catalog.list.item(row) for row in range(catalog.list.count())]
    by_text = {item.text(): item for item in items}
    assert set(by_text) == {"Linen shirt", "Wool hat (draft)", "Old mug (archived)", "Hidden vase (unpublished)"}
    greyed = catalog.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
    assert by_text["Wool hat (draft)"].foreground().color() == greyed
    assert "bulk generation leaves it out" in by_text["Old mug (archived)"].toolTip()
    assert by_text["Linen shirt"].foreground().color() != greyed  # active: as every other product
    assert "bulk generation" not in by_text["Linen shirt"].toolTip()

    install_interface_language(CHINESE)
    catalog.refresh()
    texts = {catalog.list.item(row).text() for row in range(catalog.list.count())}
    assert {"Wool hat（草稿）", "Old mug（已归档）", "Hidden vase（未发布）", "Linen shirt"} == texts
