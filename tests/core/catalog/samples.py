"""Catalog files as shops write them, built in the tests (real header sets, Chinese text)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

SHOPIFY_HEADER = [
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
    "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value", "Option3 Name", "Option3 Value",
    "Variant SKU", "Variant Grams", "Variant Inventory Tracker", "Variant Inventory Qty", "Variant Inventory Policy",
    "Variant Fulfillment Service", "Variant Price", "Variant Compare At Price", "Variant Requires Shipping",
    "Variant Taxable", "Variant Barcode", "Image Src", "Image Position", "Image Alt Text", "Gift Card",
    "SEO Title", "SEO Description", "Variant Image", "Variant Weight Unit", "Variant Tax Code", "Cost per item",
    "Status",
]

WOO_HEADER = [
    "ID", "Type", "SKU", "Name", "Published", "Is featured?", "Visibility in catalog", "Short description",
    "Description", "Date sale price starts", "Date sale price ends", "Tax status", "Tax class", "In stock?", "Stock",
    "Backorders allowed?", "Sold individually?", "Weight (kg)", "Length (cm)", "Width (cm)", "Height (cm)",
    "Allow customer reviews?", "Purchase note", "Sale price", "Regular price", "Categories", "Tags",
    "Shipping class", "Images", "Parent", "Grouped products", "Upsells", "Cross-sells", "External URL",
    "Button text", "Position", "Attribute 1 name", "Attribute 1 value(s)", "Attribute 1 visible",
    "Attribute 1 global", "Attribute 2 name", "Attribute 2 value(s)", "Attribute 2 visible", "Attribute 2 global",
]


def shopify_row(**values: str) -> list[str]:
    names = {
        "handle": "Handle", "title": "Title", "body": "Body (HTML)", "vendor": "Vendor", "type": "Type",
        "tags": "Tags", "o1n": "Option1 Name", "o1v": "Option1 Value", "o2n": "Option2 Name", "o2v": "Option2 Value",
        "sku": "Variant SKU", "price": "Variant Price", "seo_title": "SEO Title", "status": "Status",
    }
    row = [""] * len(SHOPIFY_HEADER)
    for key, value in values.items():
        row[SHOPIFY_HEADER.index(names[key])] = value
    return row


def woo_row(**values: str) -> list[str]:
    names = {
        "id": "ID", "type": "Type", "sku": "SKU", "name": "Name", "short": "Short description",
        "description": "Description", "categories": "Categories", "parent": "Parent", "price": "Regular price",
        "a1n": "Attribute 1 name", "a1v": "Attribute 1 value(s)", "a2n": "Attribute 2 name",
        "a2v": "Attribute 2 value(s)",
    }
    row = [""] * len(WOO_HEADER)
    for key, value in values.items():
        row[WOO_HEADER.index(names[key])] = value
    return row


def shopify_rows() -> list[list[str]]:
    return [
        shopify_row(handle="linen-shirt", title="亚麻衬衫", body="<p>透气<b>亚麻</b>面料</p><ul><li>宽松版型</li></ul>",
                    vendor="青山", type="衬衫", tags="夏季, 男装", o1n="颜色", o1v="白色", o2n="尺码", o2v="M",
                    sku="LS-W-M", price="199.00", status="active"),
        shopify_row(handle="linen-shirt", o1v="白色", o2v="L", sku="LS-W-L", price="199.00"),
        shopify_row(handle="linen-shirt", o1v="蓝色", o2v="M", sku="LS-B-M", price="209.00"),
        shopify_row(handle="wool-hat", title="Wool beanie", body="Warm &amp; soft", vendor="Qingshan", type="Hat",
                    o1n="Title", o1v="Default Title", sku="WB-1", price="25.00", status="active"),
    ]


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    path.write_bytes(csv_text(header, rows).encode(encoding))
    return path


def xlsx_bytes(rows: list[list[object]], *, cells: dict[str, object] | None = None) -> bytes:
    """A workbook (built with openpyxl) whose first sheet holds ``rows`` and the single ``cells``
    (e.g. {"XFD1048576": "far"})."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for coordinate, value in (cells or {}).items():
        sheet[coordinate] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_sheet_xml(data: bytes, change) -> bytes:
    """The workbook ``data`` with its first sheet's XML passed through ``change`` (bytes -> bytes)."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = change(content)
            target.writestr(info.filename, content)
    return buffer.getvalue()


def with_dimension(data: bytes, ref: str) -> bytes:
    """The workbook with the sheet's declared dimension replaced (stale or huge, as some programs write)."""
    import re

    return with_sheet_xml(data, lambda xml: re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(),
                                                   xml, count=1))
