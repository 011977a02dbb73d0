"""JSON export: one object per product with its mapped shop fields and accepted candidates."""

from __future__ import annotations

import json
from pathlib import Path

from adcopy_desktop.core.files import replacing
from adcopy_desktop.core.plugins import Exporter, hookimpl

NAME = "json"


def record(copy) -> dict:
    return {
        "product_id": copy.product_id,
        "name": copy.name,
        "external_id": copy.external_id,
        "fields": copy.shop_fields(),
        "candidates": [
            {"candidate_id": c.candidate_id, "kind": c.kind, "language": c.language, "style": c.style,
             "text": c.text, "model": c.model, "flags": c.flags}
            for c in copy.candidates
        ],
    }


def write(products, path: Path, options) -> None:
    data = {"format": "adcopy-export", "version": 1, "products": [record(copy) for copy in products]}
    with replacing(path) as temporary, temporary.open("w", encoding="utf-8") as stream:
        json.dump(data, stream, ensure_ascii=False, indent=1 if options.get("pretty", True) else None)
        stream.write("\n")


@hookimpl
def register_exporters(register):
    register(Exporter(
        name=NAME,
        label="JSON",
        description="One object per product: the shop fields (title, description HTML, SEO) and the accepted copy.",
        extension=".json",
        write=write,
        products=True,
        settings_schema={"pretty": {"type": "boolean", "default": True, "label": "Indent the file"}},
    ))
