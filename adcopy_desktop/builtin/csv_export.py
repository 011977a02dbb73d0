"""CSV export of candidates, safe to open in a spreadsheet.

Cells that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return,
or their full-width forms) get a leading apostrophe. The file is UTF-8 with a byte-order mark by
default, so Excel shows Chinese correctly; it is written to a temporary file and renamed into place.
"""

from __future__ import annotations

import csv
from pathlib import Path

from adcopy_desktop.core.files import replacing
from adcopy_desktop.core.plugins import Exporter, hookimpl

NAME = "csv"
# the last four are filled for copy exported from the library (ExportedCandidate), empty otherwise
COLUMNS = ("index", "kind", "language", "style", "text", "flags", "model", "finish_reason",
           "product_id", "product", "external_id", "candidate_id")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralize(value: object) -> str:
    """Text a spreadsheet shows as text, never evaluates."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def row_for(candidate) -> list[str]:
    flags = "; ".join(str(flag.get("message") or flag.get("rule", "")) for flag in candidate.flags)
    values = (candidate.index + 1, candidate.kind, candidate.language, candidate.style or "", candidate.text,
              flags, candidate.model, candidate.finish_reason, _or_empty(getattr(candidate, "product_id", None)),
              getattr(candidate, "product_name", ""), getattr(candidate, "external_id", ""),
              _or_empty(getattr(candidate, "candidate_id", None)))
    return [neutralize(value) for value in values]


def _or_empty(value: object) -> object:
    return "" if value is None else value


def write(candidates, path: Path, options) -> None:
    encoding = "utf-8-sig" if options.get("excel_bom", True) else "utf-8"
    with replacing(path) as temporary, temporary.open("w", encoding=encoding, newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        for candidate in candidates:
            writer.writerow(row_for(candidate))


@hookimpl
def register_exporters(register):
    register(Exporter(
        name=NAME,
        label="CSV (spreadsheet)",
        description="One row per candidate: kind, language, style, text, flags, model.",
        extension=".csv",
        write=write,
        settings_schema={
            "excel_bom": {"type": "boolean", "default": True,
                          "label": "Start with a UTF-8 byte-order mark (Excel then shows Chinese correctly)"},
        },
    ))
