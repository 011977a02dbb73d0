"""Shopify product CSV for re-import: the original rows with only the copy columns changed.

For a product imported from a Shopify CSV, every original row is written back as it was (one row
per variant or image, in the original column order); on the product's first row only ``Title``,
``Body (HTML)``, ``SEO Title`` and ``SEO Description`` change, and only those with accepted copy.
``Body (HTML)`` holds the escaped HTML paragraphs of the mapping rule (core/product_copy.py). The
SEO title (made from the accepted title) and an SEO description made from the description are
*derived*: the merchant's own SEO Title / SEO Description stays where the row has one.

Every cell a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
return, or their full-width forms) gets a leading apostrophe, as in the CSV and XLSX exports;
plain numbers (prices, quantities: ``-3``, ``+1.5``) are left as they are. Importing the file
again reads such cells without the apostrophe, so a round trip changes nothing.

A Shopify import creates a product for every Handle it does not know, so products without a real
handle are refused, never given an invented one: products imported from a plain table (generic
CSV/XLSX, JSON lines, WooCommerce) have a handle only when their table has a ``Handle`` column.
Products without an original Shopify record (made in the app with a handle, or from a table with a
Handle column) are written as a small file (Handle and the copy columns they all have: Shopify's
import keeps the columns a file does not have) when none has a record; mixing both in one file
would blank other columns, so that is refused. UTF-8, no byte-order mark.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from adcopy_desktop.builtin.csv_export import neutralize
from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.files import replacing
from adcopy_desktop.core.plugins import Exporter, hookimpl

NAME = "shopify-csv"
COPY_COLUMNS = {"title": "Title", "description_html": "Body (HTML)", "seo_title": "SEO Title",
                "seo_description": "SEO Description"}
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
NAMES_SHOWN = 5


class ShopifyCsvError(AdCopyError):
    """Products that cannot be written as a Shopify CSV."""


def safe_cell(value: object) -> str:
    """A cell no spreadsheet runs as a formula; plain numbers stay numbers."""
    text = "" if value is None else str(value)
    return text if _NUMBER.fullmatch(text) else neutralize(text)


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
        if str(column).strip().casefold() == folded:
            return index
    return None


def shopify_handle(copy) -> str | None:
    """The product's Shopify handle when it has a real one: its Shopify import's, the one typed in
    the app, or its table's Handle column (never a SKU or a WooCommerce id)."""
    if copy.source_format == "shopify":
        return copy.external_id or None
    if copy.source_format is None:  # made in the app: the external id is the handle the user gave
        return copy.external_id or None
    record = copy.source_record if isinstance(copy.source_record, dict) else {}
    rows = record.get("rows") or []
    first = rows[0] if rows and isinstance(rows[0], list) else []
    header = record.get("header") if isinstance(record.get("header"), list) else []
    at = _position([str(h) for h in header], "Handle")
    if at is not None and at < len(first) and str(first[at] or "").strip():
        return str(first[at]).strip()
    if copy.source_format == "jsonl" and first:
        try:
            data = json.loads(str(first[0]))
        except ValueError:
            data = None
        if isinstance(data, dict):
            value = next((v for k, v in data.items() if str(k).strip().casefold() == "handle"), None)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def _names(copies) -> str:
    names = ", ".join(f"#{c.product_id} {c.name}".strip() for c in copies[:NAMES_SHOWN])
    return names + (f" and {len(copies) - NAMES_SHOWN} more" if len(copies) > NAMES_SHOWN else "")


def build_rows(products) -> tuple[list[str], list[list[str]]]:
    """The file's header and rows (for tests and the writer)."""
    header, rows = _build_rows(products)
    return [safe_cell(c) for c in header], [[safe_cell(c) for c in row] for row in rows]


def _build_rows(products) -> tuple[list[str], list[list[str]]]:
    products = sorted(products, key=lambda copy: copy.product_id)  # the catalog's order, as imported
    with_record = [(copy, _record(copy)) for copy in products]
    missing = [copy for copy, record in with_record if record is None]
    no_handle = [copy for copy in missing if shopify_handle(copy) is None]
    if no_handle:
        formats = sorted({c.source_format or "the app" for c in no_handle})
        raise ShopifyCsvError(
            f"{len(no_handle)} product(s) have no Shopify handle: {_names(no_handle)}. They were imported from a "
            f"plain table ({', '.join(formats)}) without a Handle column, and a Shopify import would create new "
            "products for them instead of updating yours. Add a Handle column with each product's Shopify handle "
            "to the table (or import the shop's own product export) and import it again, then export again; "
            "or leave them out with --product.")
    if missing and len(missing) != len(with_record):
        raise ShopifyCsvError(
            f"{len(missing)} product(s) were not imported from a Shopify CSV ({_names(missing)}); a mixed file would "
            "blank their other columns. Export them separately (--product) or import them from Shopify first.")
    if missing:
        return _minimal_rows(missing)
    header: list[str] = []
    for _, record in with_record:
        for column in record["header"]:
            if _position(header, str(column)) is None:
                header.append(str(column))
    for column in ("Handle", *COPY_COLUMNS.values()):
        if _position(header, column) is None:
            header.append(column)
    rows: list[list[str]] = []
    handle_at = _position(header, "Handle")
    for copy, record in with_record:
        original = [str(column) for column in record["header"]]
        places = [_position(header, column) for column in original]
        fields = copy.shop_fields()
        derived = getattr(copy, "derived", set())
        for number, cells in enumerate(record["rows"]):
            row = [""] * len(header)
            for place, value in zip(places, cells):
                if place is not None:
                    row[place] = "" if value is None else str(value)
            if number == 0:
                if not row[handle_at] and copy.external_id:
                    row[handle_at] = copy.external_id
                for field, column in COPY_COLUMNS.items():
                    at = _position(header, column)
                    if not fields.get(field) or (field in derived and row[at].strip()):
                        continue  # no accepted copy, or the merchant's own SEO text over a derived one
                    row[at] = fields[field]
            rows.append(row)
    return header, rows


def _minimal_rows(copies) -> tuple[list[str], list[list[str]]]:
    """Handle and the copy columns for products without a Shopify record. A column is written only
    when every product has copy for it (a blank cell would blank the shop's value); derived SEO
    fields are left out, so the shop keeps the merchant's SEO title and description."""
    fields = [{f: v for f, v in c.shop_fields().items() if f not in getattr(c, "derived", set())} for c in copies]
    used = [f for f in COPY_COLUMNS if any(f in chosen for chosen in fields)]
    partial = [c for c, chosen in zip(copies, fields) if any(f not in chosen for f in used)]
    if partial:
        raise ShopifyCsvError(
            f"{len(partial)} product(s) lack copy for {', '.join(COPY_COLUMNS[f] for f in used)} that others in this "
            f"file have ({_names(partial)}); Shopify would blank those fields. Export them separately (--product) "
            "or choose the kinds with --kind.")
    header = ["Handle"] + [COPY_COLUMNS[f] for f in used]
    return header, [[shopify_handle(c)] + [chosen[f] for f in used] for c, chosen in zip(copies, fields)]


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
