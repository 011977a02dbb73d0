"""XLSX export of candidates for people to read in a spreadsheet (openpyxl).

Same columns as the CSV export. Every cell is written as text (never a formula): values that a
spreadsheet would evaluate get the same leading apostrophe as in CSV, and characters XML cannot
hold are dropped. Written to a temporary file and renamed into place.
"""

from __future__ import annotations

from pathlib import Path

from adcopy_desktop.builtin.csv_export import COLUMNS, row_for
from adcopy_desktop.core.files import replacing
from adcopy_desktop.core.plugins import Exporter, hookimpl

NAME = "xlsx"


def _cell_text(value: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value)


def write(candidates, path: Path, options) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    sheet = book.active
    sheet.title = "Accepted copy"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for candidate in candidates:
        sheet.append([_cell_text(value) for value in row_for(candidate)])
        for cell in sheet[sheet.max_row]:
            cell.data_type = "s"  # text, even if a value looks like a formula or number
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    sheet.column_dimensions["E"].width = 60
    with replacing(path) as temporary:
        book.save(temporary)


@hookimpl
def register_exporters(register):
    register(Exporter(
        name=NAME,
        label="Excel workbook (XLSX)",
        description="One row per accepted candidate, every cell plain text (never a formula).",
        extension=".xlsx",
        write=write,
    ))
