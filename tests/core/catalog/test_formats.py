"""Shopify, WooCommerce, generic CSV, XLSX and JSON lines: products, ids, source rows, problems."""

import json

import pytest

from adcopy_desktop.core.catalog import (
    CatalogError,
    ColumnMapping,
    detect_format,
    preview_catalog,
    propose_mapping,
    read_catalog,
    save_mapping,
    saved_mapping,
)
from adcopy_desktop.core.product import MAX_VALUE_CHARS
from tests.core.catalog.samples import (
    SHOPIFY_HEADER,
    WOO_HEADER,
    csv_text,
    shopify_row,
    shopify_rows,
    woo_row,
    write_csv,
)


def test_shopify_variant_rows_become_one_product_with_options_as_attributes(tmp_path):
    result = read_catalog(write_csv(tmp_path / "products_export.csv", SHOPIFY_HEADER, shopify_rows()))
    assert result.format == "shopify" and result.rows_read == 4 and result.problems == []
    shirt, hat = result.items
    assert shirt.external_id == "linen-shirt" and shirt.product.name == "亚麻衬衫"
    assert shirt.product.values("颜色") == ["白色", "蓝色"] and shirt.product.values("尺码") == ["M", "L"]
    assert shirt.product.values("Description") == ["透气 亚麻 面料\n宽松版型"]
    assert shirt.product.values("Vendor") == ["青山"] and shirt.product.values("Tags") == ["夏季, 男装"]
    assert shirt.source_record["header"] == SHOPIFY_HEADER
    assert [row[SHOPIFY_HEADER.index("Variant SKU")] for row in shirt.source_record["rows"]] == [
        "LS-W-M", "LS-W-L", "LS-B-M"]
    assert shirt.source_record["rows_at"] == [2, 3, 4]
    assert hat.product.name == "Wool beanie" and hat.product.values("Description") == ["Warm & soft"]
    assert "Title" in hat.product.keys() and hat.product.values("Title") == ["Wool beanie"]  # not "Default Title"


def test_shopify_rows_without_handle_are_skipped_with_row_and_column(tmp_path):
    rows = shopify_rows() + [shopify_row(title="Orphan", sku="X"), shopify_row(handle="no-title", sku="NT")]
    result = read_catalog(write_csv(tmp_path / "s.csv", SHOPIFY_HEADER, rows))
    assert [p.describe() for p in result.skipped] == ["row 6, column 1 (Handle): the Handle is empty; row skipped"]
    warning = next(p for p in result.warnings)
    assert warning.row == 7 and warning.column == 2 and "no row with a Title" in warning.message
    assert [i.external_id for i in result.items] == ["linen-shirt", "wool-hat", "no-title"]


def test_woocommerce_rows_and_variations(tmp_path):
    rows = [
        woo_row(id="11", type="variable", sku="TEE", name="纯棉T恤", short="<p>亲肤 纯棉</p>", description="夏季<br>百搭",
                categories="服装 > 上衣", a1n="颜色", a1v="白色, 黑色"),
        woo_row(id="12", type="variation", sku="TEE-R", name="纯棉T恤 - 红色", parent="id:11", a1n="颜色", a1v="红色"),
        woo_row(id="13", type="simple", sku="MUG", name="Ceramic mug", price="12", a1n="Capacity", a1v="350 ml"),
        woo_row(id="14", type="variation", name="ghost", parent="id:99"),
        woo_row(id="15", type="simple", sku="EMPTY", name=""),
    ]
    result = read_catalog(write_csv(tmp_path / "wc-product-export.csv", WOO_HEADER, rows))
    assert result.format == "woocommerce"
    tee, mug = result.items
    assert tee.external_id == "11" and tee.product.name == "纯棉T恤"
    assert tee.product.values("颜色") == ["白色", "黑色", "红色"]
    assert tee.product.values("Short description") == ["亲肤 纯棉"] and tee.product.values("Description") == ["夏季\n百搭"]
    assert len(tee.source_record["rows"]) == 2 and mug.product.values("Capacity") == ["350 ml"]
    assert sorted((p.row, p.column_name) for p in result.skipped) == [(5, "Parent"), (6, "Name")]


def test_format_detection_from_headers():
    assert detect_format(SHOPIFY_HEADER) == "shopify"
    assert detect_format(WOO_HEADER) == "woocommerce"
    assert detect_format(["商品名称", "颜色", "材质"]) == "csv"
    assert detect_format(["Handle"]) == "csv"


def test_generic_csv_mapping_is_proposed_saved_and_used(tmp_path):
    header = ["货号", "商品名称", "颜色", "材质", "商品描述"]
    path = write_csv(tmp_path / "items.csv", header, [["A1", "纯棉T恤", "白色", "纯棉", "<p>舒适</p>"],
                                                      ["A2", "真丝裙", "黑色", "真丝", ""]], "gbk")
    preview = preview_catalog(path)
    assert preview.format == "csv" and preview.encoding.encoding == "gb18030" and not preview.mapping_saved
    assert preview.mapping == ColumnMapping(name="商品名称", id="货号", description="商品描述", attributes=["颜色", "材质"])
    confirmed = ColumnMapping(name="商品名称", id="货号", attributes=["颜色"])
    save_mapping(header, confirmed)
    assert saved_mapping(list(reversed(header))) == confirmed  # same columns, another order
    again = preview_catalog(path)
    assert again.mapping_saved and again.mapping == confirmed
    result = read_catalog(path)
    assert [(i.external_id, i.product.name, i.product.attributes) for i in result.items] == [
        ("A1", "纯棉T恤", [("商品名称", "纯棉T恤"), ("颜色", "白色")]),
        ("A2", "真丝裙", [("商品名称", "真丝裙"), ("颜色", "黑色")]),
    ]


def test_a_mapping_naming_missing_columns_is_refused(tmp_path):
    path = write_csv(tmp_path / "x.csv", ["a", "b"], [["1", "2"]])
    with pytest.raises(CatalogError, match="'Colour'.*does not have"):
        read_catalog(path, mapping=ColumnMapping(name="a", attributes=["Colour"]))


def test_proposed_mapping_for_english_headers():
    mapping = propose_mapping(["SKU", "Product Name", "Colour", "Size", "Description"])
    assert (mapping.id, mapping.name, mapping.description, mapping.attributes) == (
        "SKU", "Product Name", "Description", ["Colour", "Size"])


def test_missing_required_columns_name_the_header_row(tmp_path):
    path = write_csv(tmp_path / "s.csv", ["Title", "Vendor"], [["x", "y"]])
    with pytest.raises(CatalogError, match=r"Row 1 \(the header\) lacks the required column\(s\) Handle"):
        read_catalog(path, fmt="shopify")


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\r\n  \n", b"\xff\xfe"])
def test_empty_files_are_reported(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(CatalogError, match="empty|no text"):
        read_catalog(path)


def test_malformed_rows_are_reported_and_good_rows_still_import(tmp_path):
    header = ["sku", "name", "color"]
    lines = [
        "sku,name,color",
        "1,Shirt,white",
        '2,"Broken quote,blue',
        "3,Hat,black",
        "4,Too,many,fields,here",
        "5,Scarf\x00,red",
        "6,Big," + "x" * (MAX_VALUE_CHARS + 10),
    ]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read_catalog(path, mapping=ColumnMapping(name="name", id="sku", attributes=["color"]))
    assert [i.external_id for i in result.items] == ["1", "3", "5", "6"]
    skipped = {p.row: p for p in result.skipped}
    assert set(skipped) == {3, 5}
    assert "never closed" in skipped[3].message and skipped[3].column == 2
    assert skipped[5].column == 4 and "header has 3 columns" in skipped[5].message
    assert any("NUL" in p.message for p in result.warnings)
    cut = next(p for p in result.warnings if p.row == 7)
    assert cut.column == 3 and cut.column_name == "color" and "cut" in cut.message
    assert len(result.items[-1].product.values("color")[0]) == MAX_VALUE_CHARS
    assert result.items[2].product.name == "Scarf"


def test_a_multiline_quoted_description_is_one_field(tmp_path):
    text = csv_text(SHOPIFY_HEADER, [shopify_row(handle="a", title="A", body="line one\nline two\nline three")])
    path = tmp_path / "s.csv"
    path.write_text(text, encoding="utf-8")
    result = read_catalog(path)
    assert result.problems == [] and result.items[0].product.values("Description") == ["line one\nline two\nline three"]


def test_xlsx_sheets_read_like_csv(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(SHOPIFY_HEADER)
    for row in shopify_rows():
        sheet.append(row)
    path = tmp_path / "catalog.xlsx"
    workbook.save(path)
    result = read_catalog(path)
    assert result.format == "shopify" and [i.external_id for i in result.items] == ["linen-shirt", "wool-hat"]
    generic = openpyxl.Workbook()
    generic.active.append(["SKU", "Name", "Weight"])
    generic.active.append([1001, "Kettle", 1.5])
    generic.save(tmp_path / "generic.xlsx")
    result = read_catalog(tmp_path / "generic.xlsx")
    assert result.format == "xlsx" and result.items[0].external_id == "1001"
    assert result.items[0].product.values("Weight") == ["1.5"]


def test_a_damaged_xlsx_is_a_catalog_error(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CatalogError, match="XLSX"):
        read_catalog(path)


def test_json_lines_with_bad_lines(tmp_path):
    lines = [
        json.dumps({"id": "p1", "title": "Linen shirt", "颜色": ["白色", "蓝色"]}, ensure_ascii=False),
        "{not json",
        "[1, 2]",
        json.dumps({"sku": "p2", "name": "Mug", "size": {"nested": 1}}),
        json.dumps({"id": "p1", "title": "duplicate"}),
        "",
    ]
    path = tmp_path / "products.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    result = read_catalog(path)
    assert result.format == "jsonl" and result.rows_read == 5
    assert [(i.external_id, i.product.name) for i in result.items] == [("p1", "Linen shirt"), ("p2", "Mug")]
    assert result.items[0].product.values("颜色") == ["白色", "蓝色"]
    assert sorted(p.row for p in result.skipped) == [2, 3, 5]
    assert next(p for p in result.skipped if p.row == 2).column == 2


def test_cancel_stops_a_read(tmp_path):
    from adcopy_desktop.core.errors import Cancelled
    from adcopy_desktop.core.progress import CancelToken

    rows = [shopify_row(handle=f"p{i}", title=f"P {i}", sku=str(i)) for i in range(6000)]
    path = write_csv(tmp_path / "big.csv", SHOPIFY_HEADER, rows)
    token = CancelToken()
    events = []

    def progress(event):
        events.append(event)
        if event.stage == "read" and event.fraction is None:
            token.cancel()

    with pytest.raises(Cancelled):
        read_catalog(path, progress=progress, cancel=token)
    assert events and events[0].stage == "read"
