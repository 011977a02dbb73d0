"""Shopify product CSV for re-import: the original rows with only the copy columns changed.

For a product imported from a Shopify CSV, every original row is written back as it was (one row
per variant or image, in the original column order); on the product's first row only ``Title``,
``Body (HTML)``, ``SEO Title`` and ``SEO Description`` change, and only those with accepted copy.
``Body (HTML)`` holds the escaped HTML paragraphs of the mapping rule (core/product_copy.py).
Products without an original Shopify record are written as a five-column file (Handle and the copy
columns: Shopify's import keeps the columns a file does not have) when none has a record; mixing
both in one file would blank other columns, so that is refused. UTF-8, no byte-order mark.
"""

from __future__ import annotations

import csv
from pathlib import Path

from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.files import replacing
from adcopy_desktop.core.plugins import Exporter, hookimpl

NAME = "shopify-csv"
COPY_COLUMNS = {"title": "Title", "description_html": "Body (HTML)", "seo_title": "SEO Title",
                "seo_description": "SEO Description"}
MINIMAL_HEADER = ["Handle", "Title", "Body (HTML)", "SEO Title", "SEO Description"]


class ShopifyCsvError(AdCopyError):
    """Products that cannot be written as a Shopify CSV."""


def _record(copy) -> dict | None:
    record = copy.source_record
    if copy.source_format != "shopify" or not isinstance(record, dict):
        return None
    if not isinstance(record.get("header"), list) or not isinstance(record.get("rows"), list) or not record["rows"]:
        return None
    return record


def _position(header: list[str], name: str) -> int | None:
    folded = name.casefold()
    for index, column in enumerate(header):
        if column.strip().casefold() == folded:
            return index
    return None


def build_rows(products) -> tuple[list[str], list[list[str]]]:
    """The file's header and rows (for tests and the writer)."""
    products = sorted(products, key=lambda copy: copy.product_id)  # the catalog's order, as imported
    with_record = [(copy, _record(copy)) for copy in products]
    missing = [copy for copy, record in with_record if record is None]
    if missing and len(missing) != len(with_record):
        names = ", ".join(f"#{c.product_id} {c.name}".strip() for c in missing[:5])
        raise ShopifyCsvError(
            f"{len(missing)} product(s) were not imported from a Shopify CSV ({names}); a mixed file would blank "
            "their other columns. Export them separately (--product) or import them from Shopify first.")
    if missing:
        no_handle = [c for c in missing if not c.external_id]
        if no_handle:
            raise ShopifyCsvError(
                f"Product #{no_handle[0].product_id} has no Shopify handle; import it from a Shopify CSV first.")
        rows = [[c.external_id] + [c.shop_fields().get(f, "") for f in COPY_COLUMNS] for c in missing]
        return list(MINIMAL_HEADER), rows
    header: list[str] = []
    for _, record in with_record:
        for column in record["header"]:
            if _position(header, str(column)) is None:
                header.append(str(column))
    for column in ("Handle", *COPY_COLUMNS.values()):
        if _position(header, column) is None:
            header.append(column)
    rows: list[list[str]] = []
    for copy, record in with_record:
        original = [str(column) for column in record["header"]]
        places = [_position(header, column) for column in original]
        fields = copy.shop_fields()
        for number, cells in enumerate(record["rows"]):
            row = [""] * len(header)
            for place, value in zip(places, cells):
                if place is not None:
                    row[place] = "" if value is None else str(value)
            if number == 0:
                handle_at = _position(header, "Handle")
                if not row[handle_at] and copy.external_id:
                    row[handle_at] = copy.external_id
                for field, column in COPY_COLUMNS.items():
                    if fields.get(field):
                        row[_position(header, column)] = fields[field]
            rows.append(row)
    return header, rows


def write(products, path: Path, options) -> None:
    header, rows = build_rows(products)
    with replacing(path) as temporary, temporary.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)


@hookimpl
def register_exporters(register):
    register(Exporter(
        name=NAME,
        label="Shopify product CSV (re-import)",
        description="The imported Shopify rows with Title, Body (HTML), SEO Title and SEO Description replaced.",
        extension=".csv",
        write=write,
        products=True,
    ))
