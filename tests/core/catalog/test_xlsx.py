"""XLSX sheets are streamed by their real rows: a stale declared dimension loses no row, a huge one
(or one far cell) does not hang, and past the row/cell limit the import stops with a clear error."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from adcopy_desktop.core.catalog import CatalogError, ColumnMapping, preview_catalog, read_catalog
from adcopy_desktop.core.catalog import table as table_module
from tests.core.catalog.samples import SHOPIFY_HEADER, shopify_rows, with_dimension, with_sheet_xml, xlsx_bytes

MAPPING = ColumnMapping(name="name", id="sku", attributes=["color"])


def _rows(count: int) -> list[list[object]]:
    return [["sku", "name", "color"]] + [[f"S{i}", f"商品{i}", "白色" if i % 2 else "黑色"] for i in range(count)]


def _write(tmp_path, data: bytes, name: str = "items.xlsx"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_stale_small_dimension_loses_no_row(tmp_path):
    path = _write(tmp_path, with_dimension(xlsx_bytes(_rows(50)), "A1:B2"))  # declares 2 rows, 2 columns
    result = read_catalog(path, mapping=MAPPING)
    assert [item.external_id for item in result.items] == [f"S{i}" for i in range(50)]
    assert result.items[-1].product.values("color") == ["白色"]  # the third column, beyond the dimension
    assert result.rows_read == 50 and result.problems == []
    assert len(preview_catalog(path).rows) == 20


def test_a_huge_dimension_with_one_far_cell_reads_in_time_and_reports_the_cell(tmp_path):
    data = xlsx_bytes(_rows(5), cells={"XFD1048576": "far away"})  # openpyxl declares A1:XFD1048576
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        assert b'<dimension ref="A1:XFD1048576"' in book.read("xl/worksheets/sheet1.xml")
    path = _write(tmp_path, data)
    started = time.perf_counter()
    result = read_catalog(path, mapping=MAPPING)
    assert time.perf_counter() - started < 15
    assert [item.external_id for item in result.items] == [f"S{i}" for i in range(5)]
    (problem,) = result.problems  # the far cell is not read, and says so
    assert problem.row == 1_048_576 and problem.skipped and "past column 1,000" in problem.message


def test_a_huge_declared_dimension_alone_does_not_make_empty_rows(tmp_path):
    path = _write(tmp_path, with_dimension(xlsx_bytes(_rows(3)), "A1:XFD1048576"))
    started = time.perf_counter()
    result = read_catalog(path, mapping=MAPPING)
    assert time.perf_counter() - started < 5
    assert len(result.items) == 3 and result.rows_read == 3 and result.problems == []


def test_empty_rows_and_columns_between_values_keep_every_row_and_their_numbers(tmp_path):
    rows = _rows(3)
    rows.insert(2, [])
    rows.insert(2, [None, None, None])
    data = xlsx_bytes(rows, cells={"A200": "S-far", "B200": "远处的商品", "C200": "蓝色"})
    result = read_catalog(_write(tmp_path, data), mapping=MAPPING)
    assert [item.external_id for item in result.items] == ["S0", "S1", "S2", "S-far"]
    assert [item.source_record["rows_at"] for item in result.items] == [[2], [5], [6], [200]]


def test_a_row_wider_than_the_column_limit_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(table_module, "MAX_COLUMNS", 5)
    data = xlsx_bytes([["sku", "name", "color"], ["S1", "a", "white", None, None, None, None, "x"]])
    result = read_catalog(_write(tmp_path, data), mapping=MAPPING)
    assert len(result.items) == 1
    (note,) = result.problems
    assert note.row == 2 and not note.skipped and "only the first 5 columns" in note.message and "(8)" in note.message


def test_rows_beyond_the_limit_stop_the_import_with_the_limit_and_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(table_module, "MAX_XLSX_ROWS", 100)
    path = _write(tmp_path, with_dimension(xlsx_bytes(_rows(150)), "A1:C10"))
    with pytest.raises(CatalogError, match=r"more than 100 rows .*row 101 is past the limit.*Split the sheet") as error:
        read_catalog(path, mapping=MAPPING)
    assert "nothing was imported" in str(error.value)
    assert len(read_catalog(_write(tmp_path, xlsx_bytes(_rows(99)), "ok.xlsx"), mapping=MAPPING).items) == 99
    assert len(preview_catalog(path).rows) == 20  # a preview reads only its first rows


def test_cells_beyond_the_limit_stop_the_import(tmp_path, monkeypatch):
    monkeypatch.setattr(table_module, "MAX_XLSX_CELLS", 30)
    with pytest.raises(CatalogError, match="more than 30 cells with values"):
        read_catalog(_write(tmp_path, xlsx_bytes(_rows(20))), mapping=MAPPING)


def test_a_shopify_workbook_with_a_stale_dimension_keeps_every_variant_row(tmp_path):
    data = with_dimension(xlsx_bytes([SHOPIFY_HEADER, *shopify_rows()]), "A1:D2")
    result = read_catalog(_write(tmp_path, data))
    assert result.format == "shopify" and [item.external_id for item in result.items] == ["linen-shirt", "wool-hat"]
    assert [len(item.source_record["rows"]) for item in result.items] == [3, 1]


def test_a_row_past_the_last_row_a_workbook_can_have_is_reported_not_waited_for(tmp_path):
    far_row = b'<row r="1048999"><c r="A1048999" t="inlineStr"><is><t>beyond</t></is></c></row></sheetData>'
    data = with_sheet_xml(xlsx_bytes(_rows(2)), lambda xml: xml.replace(b"</sheetData>", far_row))
    started = time.perf_counter()
    result = read_catalog(_write(tmp_path, data), mapping=MAPPING)
    assert time.perf_counter() - started < 15
    assert len(result.items) == 2
    assert [p.row for p in result.problems] == [1_048_577] and "past row 1,048,576" in result.problems[0].message
