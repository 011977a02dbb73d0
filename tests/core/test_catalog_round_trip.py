"""Round trips that keep every row once: import a shop export, import it again, accept copy,
export a Shopify CSV, import that export: no product added or lost, no row lost, no fact changed
that the user did not accept or edit."""

from __future__ import annotations

import csv

import pytest

from adcopy_desktop.builtin.shopify_csv import ShopifyCsvError, build_rows, safe_cell
from adcopy_desktop.core.catalog import SHOPIFY, ColumnMapping, read_catalog
from adcopy_desktop.core.export import export_file
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.plugins import get_plugin_manager
from adcopy_desktop.core.product import Product
from adcopy_desktop.core.product_copy import product_copies
from tests.core.shops.helpers import accept

HEADER = ["Handle", "Title", "Body (HTML)", "Vendor", "Tags", "Published", "Option1 Name", "Option1 Value",
          "Variant SKU", "Variant Price", "Variant Inventory Qty", "SEO Title", "SEO Description", "Status"]
ROWS = [
    ["steel-kettle", "Old kettle", "<p>old</p>", "Acme", "-sale, =promo", "TRUE", "Color", "Silver", "K-1", "19.90",
     "-3", "Merchant SEO", "", "active"],
    ["steel-kettle", "", "", "", "", "", "", "Black", "K-2", "24.90", "7", "", "", ""],
    ["clay-pot", "紫砂壶", "<p>宜兴</p>", "青山", "茶具", "TRUE", "Title", "Default Title", "P-1", "99.00", "2", "",
     "Old SEO", "draft"],
    ["tea-cup", "Tea cup", "", "Acme", "@cups", "FALSE", "Size", "S", "C-1", "5.00", "+4", "", "", "active"],
    ["tea-cup", "", "", "", "", "", "", "L", "C-2", "6.00", "1", "", "", ""],
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
COPY_FACTS = {"Title", "Description", "SEO Title", "SEO Description"}


def _write(path, header, rows):
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows([header, *rows])
    return path


def _read_rows(path):
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream))


def _facts(library):
    return {p.external_id: (p.product.name, sorted(map(tuple, p.product.attributes)), p.shop_status)
            for p in library.list_products()}


def test_import_import_again_export_and_import_the_export_keeps_every_row_once(tmp_path):
    source = _write(tmp_path / "products_export.csv", HEADER, ROWS)
    plugins = get_plugin_manager()
    with Library(tmp_path / "lib.sqlite3") as library:
        first = library.import_products(read_catalog(source).items, source_format=SHOPIFY)
        assert (first.added, first.inactive) == (3, 2)  # the draft pot and the unpublished cup
        again = library.import_products(read_catalog(source).items, source_format=SHOPIFY)
        assert (again.added, again.updated, again.unchanged) == (0, 0, 3) and again.ids == first.ids
        kettle, pot, cup = (library.product_by_external_id(SHOPIFY, h) for h in ("steel-kettle", "clay-pot", "tea-cup"))
        long_title = 'Steel kettle "Boil Master" for loose-leaf tea, with a whistle and a ' + '"' + "long spout" + '"'
        accept(library, kettle.id, {"title": long_title, "description": "Boils fast.\n\nSecond paragraph"})
        accept(library, pot.id, {"title": "宜兴紫砂壶「经典」", "description": "手工制作，适合泡乌龙茶。"})
        accept(library, cup.id, {"promo": "=1+1 cups, now"})
        edited = [("Title", "Tea cup"), ("Vendor", "Acme Ceramics"), ("Size", "S"), ("Size", "L")]
        library.update_product(cup.id, Product(attributes=edited, name="Tea cup"))  # the user's own fact edit
        before = _facts(library)
        accepted_before = sorted((c.id, c.text) for c in library.accepted_copy())

        out = tmp_path / "shopify.csv"
        export_file(library, plugins, "shopify-csv", out)
        written = _read_rows(out)
        assert written[0] == HEADER and len(written) == 1 + len(ROWS)  # every row, once, in order
        cells = [cell for row in written for cell in row]
        assert [c for c in cells if c.startswith(FORMULA_STARTS) and safe_cell(c) != c] == []
        assert "'-sale, =promo" in cells and "'@cups" in cells and "-3" in cells and "+4" in cells
        by_sku = {row[HEADER.index("Variant SKU")]: dict(zip(HEADER, row)) for row in written[1:]}
        originals = {row[HEADER.index("Variant SKU")]: dict(zip(HEADER, row)) for row in ROWS}
        copy_columns = {"Title", "Body (HTML)", "SEO Title", "SEO Description"}
        for sku, row in by_sku.items():
            for column in HEADER:
                if column not in copy_columns:
                    assert row[column].removeprefix("'") == originals[sku][column], (sku, column)
        k1 = by_sku["K-1"]
        assert k1["SEO Title"] == "Merchant SEO"  # the merchant's own, not one made from the new title
        assert k1["Title"] == long_title and k1["Body (HTML)"] == "<p>Boils fast.</p>\n<p>Second paragraph</p>"
        assert k1["SEO Description"] == "Boils fast. Second paragraph"  # empty before: filled
        p1 = by_sku["P-1"]
        assert (p1["Title"], p1["SEO Title"], p1["SEO Description"]) == ("宜兴紫砂壶「经典」", "宜兴紫砂壶「经典」", "Old SEO")
        assert by_sku["C-1"]["SEO Description"] == "'=1+1 cups, now"

        reread = read_catalog(out)
        assert reread.problems == [] and [i.external_id for i in reread.items] == ["steel-kettle", "clay-pot",
                                                                                    "tea-cup"]
        third = library.import_products(reread.items, source_format=SHOPIFY)
        assert third.added == 0 and third.ids == first.ids and len(library.list_products()) == 3
        after = _facts(library)
        for handle, (name, facts, status) in after.items():
            old_name, old_facts, old_status = before[handle]
            assert status == old_status  # still a draft / unpublished
            changed = set(facts) ^ set(old_facts)
            assert {key for key, _ in changed} <= COPY_FACTS, (handle, changed)  # only what copy was accepted for
        assert after["tea-cup"][1] == sorted(edited + [("SEO Description", "=1+1 cups, now")])  # the edit is kept
        assert dict(after["steel-kettle"][1])["Title"] == long_title
        assert ("SEO Title", "Merchant SEO") in after["steel-kettle"][1]
        assert sorted((c.id, c.text) for c in library.accepted_copy()) == accepted_before  # no accepted copy lost

        export_file(library, plugins, "shopify-csv", tmp_path / "again.csv")
        assert _read_rows(tmp_path / "again.csv") == written  # a second round trip changes nothing


def test_products_from_a_plain_table_are_refused_not_given_invented_handles(tmp_path):
    table = _write(tmp_path / "items.csv", ["sku", "name", "color"], [["A1", "纯棉T恤", "白色"], ["A2", "真丝裙", "黑色"]])
    with Library(tmp_path / "lib.sqlite3") as library:
        ids = library.import_products(read_catalog(table, mapping=ColumnMapping(name="name", id="sku",
                                                                                attributes=["color"])).items,
                                      source_format="csv").ids
        for product_id in ids:
            accept(library, product_id, {"title": "新标题"})
        with pytest.raises(ShopifyCsvError) as refused:
            export_file(library, get_plugin_manager(), "shopify-csv", tmp_path / "out.csv")
        message = str(refused.value)
        assert "2 product(s) have no Shopify handle" in message and "纯棉T恤" in message and "真丝裙" in message
        assert "Add a Handle column" in message and not (tmp_path / "out.csv").exists()


def test_a_plain_table_with_a_handle_column_exports_by_that_handle(tmp_path):
    table = _write(tmp_path / "items.csv", ["sku", "Handle", "name"], [["A1", "cotton-tee", "T恤"]])
    with Library(tmp_path / "lib.sqlite3") as library:
        (product_id,) = library.import_products(
            read_catalog(table, mapping=ColumnMapping(name="name", id="sku")).items, source_format="csv").ids
        accept(library, product_id, {"title": "=纯棉T恤", "description": "柔软"})
        header, rows = build_rows(product_copies(library))
        assert header == ["Handle", "Title", "Body (HTML)"]  # the derived SEO fields are left to the shop
        assert rows == [["cotton-tee", "'=纯棉T恤", "<p>柔软</p>"]]  # the table's handle, not the SKU


def test_a_small_file_never_has_a_blank_cell_that_would_blank_the_shop(tmp_path):
    with Library(tmp_path / "lib.sqlite3") as library:
        both = library.add_product(Product(attributes=[("name", "a")], name="a"), external_id="a")
        title_only = library.add_product(Product(attributes=[("name", "b")], name="b"), external_id="b")
        accept(library, both, {"title": "A", "description": "text"})
        accept(library, title_only, {"title": "B"})
        with pytest.raises(ShopifyCsvError, match=r"lack copy for Title, Body \(HTML\).*#2 b"):
            build_rows(product_copies(library))


@pytest.mark.parametrize("value, safe", [
    ("=SUM(A1)", "'=SUM(A1)"), ("+1+1", "'+1+1"), ("-sale", "'-sale"), ("@x", "'@x"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("＝x", "'＝x"), ("-3", "-3"), ("+4", "+4"), ("-2.50", "-2.50"), ("1e5", "1e5"),
    ("+86 138 0000", "'+86 138 0000"), ("plain", "plain"), ("", ""),
])
def test_shopify_cells_are_neutralised_but_numbers_stay_numbers(value, safe):
    assert safe_cell(value) == safe
