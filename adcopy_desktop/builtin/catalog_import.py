"""Catalog importers: Shopify and WooCommerce product exports, generic CSV with a column mapping,
XLSX and JSON lines. Each returns an ``ImportResult`` (skipped rows with their reasons, the
encoding and layout found, each product's shop id and source rows); ``core/catalog`` does the work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from adcopy_desktop.core.catalog import read_catalog
from adcopy_desktop.core.plugins import ImportContext, Importer, hookimpl

ENCODING_SETTING = {
    "encoding": {"type": "string", "default": "", "label": "Encoding",
                 "description": "Text encoding (UTF-8, GBK, GB18030, Big5, UTF-16); empty: detect it."},
}


def _reader(fmt: str | None):
    def read(path: Path, options: Mapping[str, Any], context: ImportContext):
        layout = fmt
        if fmt == "csv" and options.get("layout") == "auto":
            layout = None  # let the header decide: Shopify, WooCommerce, or a generic mapping
        return read_catalog(Path(path), fmt=layout, encoding=options.get("encoding") or None,
                            mapping=context.mapping, progress=context.progress, cancel=context.cancel)

    return read


@hookimpl
def register_importers(register):
    register(Importer(
        name="csv", label="CSV (Shopify, WooCommerce or any columns)",
        description="Shopify and WooCommerce exports are recognised by their header; other CSV files are read "
                    "with a column mapping you confirm (saved for files with the same columns).",
        extensions=(".csv", ".tsv"), read=_reader("csv"), takes_context=True,
        settings_schema={**ENCODING_SETTING, "layout": {
            "type": "choice", "choices": ["auto", "generic"], "default": "auto", "label": "Layout",
            "description": "auto: recognise shop exports by their header; generic: always use a column mapping."}},
    ))
    register(Importer(
        name="shopify", label="Shopify product CSV",
        description="One row per variant; rows sharing a Handle become one product, options become attributes.",
        extensions=(".csv",), read=_reader("shopify"), takes_context=True, settings_schema=ENCODING_SETTING,
    ))
    register(Importer(
        name="woocommerce", label="WooCommerce product CSV",
        description="WooCommerce's product export; variations add their attribute values to their parent.",
        extensions=(".csv",), read=_reader("woocommerce"), takes_context=True, settings_schema=ENCODING_SETTING,
    ))
    register(Importer(
        name="xlsx", label="Excel workbook (XLSX)",
        description="The first sheet, with a header row: a Shopify/WooCommerce layout or a column mapping.",
        extensions=(".xlsx", ".xlsm"), read=_reader("xlsx"), takes_context=True,
    ))
    register(Importer(
        name="jsonl", label="JSON lines",
        description="One JSON object of product facts per line; an 'id', 'sku' or 'handle' key is the product's id.",
        extensions=(".jsonl", ".ndjson"), read=_reader("jsonl"), takes_context=True, settings_schema=ENCODING_SETTING,
    ))
