"""Rows out of CSV text and XLSX sheets, each with the row number a person sees in the file.

CSV reading survives what shop exports and hand-edited files contain: NUL characters, fields far
larger than the csv module's default limit, and a quote opened and never closed (which would
swallow the rest of the file into one field: such a record is reported and reading restarts on the
line after it starts).
"""

from __future__ import annotations

import csv
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from adcopy_desktop.core.catalog.result import CatalogError, RowProblem
from adcopy_desktop.core.errors import Cancelled
from adcopy_desktop.core.progress import CancelToken

MAX_FIELD_CHARS = 1_000_000  # one cell; longer ones are cut (and reported)
MAX_RECORD_LINES = 500  # a quoted record spanning more lines is taken for an unbalanced quote
CSV_FIELD_LIMIT = 256 * 1024 * 1024
MAX_COLUMNS = 1_000
PROGRESS_EVERY = 5_000
MAX_XLSX_ROWS = 1_000_000  # rows with values in one sheet, header included
MAX_XLSX_CELLS = 20_000_000  # cells with values in one sheet
EXCEL_LAST_ROW = 1_048_576

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
# an apostrophe that AdCopy's exports (and others) put before a cell a spreadsheet would run as a
# formula; it is not part of the value, so reading an exported file back gives the value again
_NEUTRALISED = tuple("'" + start for start in ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"))


def plain_cell(cell: str) -> str:
    """``cell`` without the apostrophe that neutralised a formula-like value ('=1+1 -> =1+1)."""
    return cell[1:] if cell.startswith(_NEUTRALISED) else cell


@dataclass
class Record:
    line: int  # 1-based row number of the record's first line
    cells: list[str]


@dataclass
class Table:
    header: list[str]
    header_line: int
    records: list[Record]
    problems: list[RowProblem] = field(default_factory=list)


RowCallback = Callable[[int], None]  # records read so far


def _split_lines(text: str) -> list[str]:
    lines = _LINE.findall(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _sniff_delimiter(lines: list[str]) -> str:
    sample = "".join(lines[:20])
    counts = {d: sample.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv_table(
    text: str,
    *,
    delimiter: str | None = None,
    on_rows: RowCallback | None = None,
    cancel: CancelToken | None = None,
) -> Table:
    """Header and records of CSV ``text``; blank lines are skipped; problems are collected."""
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    problems: list[RowProblem] = []
    if "\x00" in text:
        removed = text.count("\x00")
        text = text.replace("\x00", "")
        problems.append(RowProblem(None, None, f"{removed} NUL character(s) removed", skipped=False))
    lines = _split_lines(text)
    if not any(line.strip() for line in lines):
        raise CatalogError("The file is empty: it has no header row and no products.")
    delimiter = delimiter or _sniff_delimiter(lines)
    records: list[Record] = []
    start = 0
    while start < len(lines):
        restart = None
        line_iter = iter(lines[start:])
        reader = csv.reader(line_iter, delimiter=delimiter, strict=False)
        consumed_before = 0
        while True:
            if cancel is not None and cancel.cancelled:
                raise Cancelled("The import was stopped; nothing was added to the library.")
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as error:  # defensive: strict=False makes this rare
                line = start + consumed_before + 1
                problems.append(RowProblem(line, None, f"unreadable CSV ({error}); row skipped"))
                consumed_before = reader.line_num
                continue
            first_line = start + consumed_before + 1
            spanned = reader.line_num - consumed_before
            consumed_before = reader.line_num
            if not cells or not "".join(cells).strip():
                continue
            header_width = len(records[0].cells) if records else None
            runaway = spanned > 1 and (
                spanned > MAX_RECORD_LINES
                or any(len(c) > MAX_FIELD_CHARS for c in cells)
                or (header_width is not None and len(cells) < header_width)
                or _swallowed_rows(lines, first_line, spanned, header_width, delimiter)
            )
            if runaway:
                column = next((i + 1 for i, c in enumerate(cells) if "\n" in c or "\r" in c), None)
                problems.append(RowProblem(
                    first_line, column,
                    f"a quoted field is never closed (the record ran over {spanned} lines); row skipped, "
                    "reading goes on at the next line",
                ))
                restart = first_line  # 0-based index of the line after the record's first line
                break
            if len(cells) > MAX_COLUMNS:
                problems.append(RowProblem(first_line, MAX_COLUMNS + 1,
                                           f"{len(cells)} columns; at most {MAX_COLUMNS} are read", skipped=False))
                cells = cells[:MAX_COLUMNS]
            if max(map(len, cells)) > MAX_FIELD_CHARS:
                for index, cell in enumerate(cells):
                    if len(cell) > MAX_FIELD_CHARS:
                        problems.append(RowProblem(first_line, index + 1, f"a value of {len(cell):,} characters "
                                                   f"was cut to {MAX_FIELD_CHARS:,}", skipped=False))
                        cells[index] = cell[:MAX_FIELD_CHARS]
            if any(cell.startswith("'") for cell in cells):
                cells = [plain_cell(cell) for cell in cells]
            records.append(Record(first_line, cells))
            if on_rows is not None and len(records) % PROGRESS_EVERY == 0:
                on_rows(len(records))
        if restart is None:
            break
        start = restart
    if not records:
        raise CatalogError("The file has no rows that can be read as CSV.")
    header_record = records[0]
    header = [_clean_header(cell) for cell in header_record.cells]
    return Table(header, header_record.line, records[1:], problems)


def _swallowed_rows(lines: list[str], first_line: int, spanned: int, width: int | None, delimiter: str) -> bool:
    """A quoted field over several lines that never closes (it ran to the end of the file), or
    whose inner lines are whole rows by themselves: an unbalanced quote, not a multi-line value."""
    last = first_line - 1 + spanned - 1  # 0-based index of the record's last line
    if sum(line.count('"') for line in lines[first_line - 1:last + 1]) % 2:
        return True  # the last quote opened is never closed
    if width is None or width < 3:
        return False
    for line in lines[first_line:last]:
        cells = next(csv.reader([line], delimiter=delimiter, strict=False), [])
        if len(cells) == width and cells[0].strip() and '"' not in line:
            return True
    return False


def _clean_header(cell: str) -> str:
    return cell.lstrip("\ufeff").strip()


def read_xlsx_table(
    path: Path,
    *,
    sheet: str | None = None,
    on_rows: RowCallback | None = None,
    cancel: CancelToken | None = None,
    max_rows: int | None = None,
    row_limit: int | None = None,
    cell_limit: int | None = None,
) -> Table:
    """The first (or named) sheet of an XLSX workbook, streamed row by row (openpyxl's read-only
    mode). The sheet's declared dimension is ignored: a stale one (smaller than the data, as some
    programs write) would cut rows off silently, a huge one (A1:XFD1048576 for one far cell) would
    make millions of empty rows. Empty rows and trailing empty cells are skipped; values past
    column ``MAX_COLUMNS`` or row 1,048,576 are reported. More than ``row_limit`` rows or
    ``cell_limit`` cells with values (``MAX_XLSX_ROWS``, ``MAX_XLSX_CELLS``) raise ``CatalogError``
    saying the limit and what to do; ``max_rows`` stops early without one (for a preview)."""
    import openpyxl  # imported here: only XLSX imports need it
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import InvalidFileException

    name = Path(path).name
    row_limit = MAX_XLSX_ROWS if row_limit is None else row_limit
    cell_limit = MAX_XLSX_CELLS if cell_limit is None else cell_limit
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, EOFError,
            IndexError, AttributeError, SyntaxError) as error:
        raise CatalogError(
            f"{name} cannot be read as an XLSX workbook ({type(error).__name__}: {error}). "
            "Open it in a spreadsheet program and save it again as .xlsx, or export it as CSV."
        ) from None
    except Exception as error:  # a damaged workbook raises many kinds of parser errors
        raise CatalogError(
            f"{name} is a damaged XLSX workbook ({type(error).__name__}). "
            "Save it again as .xlsx or export it as CSV."
        ) from None
    try:
        if not workbook.sheetnames:
            raise CatalogError(f"{name} has no sheets.")
        worksheet = workbook[sheet] if sheet else workbook[workbook.sheetnames[0]]
        if not hasattr(worksheet, "iter_rows"):
            raise CatalogError(f"The first sheet of {name} is a chart, not a table; move the table to the first sheet.")
        if hasattr(worksheet, "reset_dimensions"):
            worksheet.reset_dimensions()  # read the rows that are there, not the ones the file declares
        records: list[Record] = []
        problems: list[RowProblem] = []
        cells_read = 0
        try:
            for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
                if cancel is not None and number % 256 == 0 and cancel.cancelled:
                    raise Cancelled("The import was stopped; nothing was added to the library.")
                if number > EXCEL_LAST_ROW:
                    problems.append(RowProblem(number, None, f"the sheet has cells past row {EXCEL_LAST_ROW:,}, the "
                                               "last row a workbook can have (a damaged file?); they are not read"))
                    break
                width = len(row)
                while width and (row[width - 1] is None or row[width - 1] == ""):
                    width -= 1  # trailing empty cells (from the end: a far cell costs one step)
                if not width:
                    continue
                full_width = width
                width = min(width, MAX_COLUMNS)
                cells = ["" if value is None else _cell_text(value) for value in row[:width]]
                while cells and cells[-1] == "":
                    cells.pop()
                if full_width > MAX_COLUMNS:
                    letter = get_column_letter(full_width) if full_width <= 18_278 else "?"
                    beyond = f"column {letter} ({full_width:,})"
                    problems.append(RowProblem(
                        number, MAX_COLUMNS + 1,
                        f"values up to {beyond}; only the first {MAX_COLUMNS:,} columns are read, the rest of this "
                        "row is left out" if cells else
                        f"the row's only values are past column {MAX_COLUMNS:,} (up to {beyond}); row skipped",
                        skipped=not cells))
                if not cells:
                    continue
                filled = sum(1 for cell in cells if cell)
                cells_read += filled
                if len(records) >= row_limit or cells_read > cell_limit:
                    what = f"{row_limit:,} rows" if len(records) >= row_limit else f"{cell_limit:,} cells with values"
                    raise CatalogError(
                        f"{name} has more than {what} in its first sheet (row {number:,} is past the limit), more "
                        f"than AdCopy reads from one workbook; nothing was imported. Split the sheet into smaller "
                        f"workbooks (at most {row_limit:,} rows and {cell_limit:,} filled cells each) and import them "
                        "one after another.")
                for index, cell in enumerate(cells):
                    if len(cell) > MAX_FIELD_CHARS:
                        problems.append(RowProblem(number, index + 1, "value cut to the length limit", skipped=False))
                        cells[index] = cell[:MAX_FIELD_CHARS]
                records.append(Record(number, cells))
                if on_rows is not None and len(records) % PROGRESS_EVERY == 0:
                    on_rows(len(records))
                if max_rows is not None and len(records) >= max_rows:
                    break
        except (Cancelled, CatalogError):
            raise
        except Exception as error:  # a damaged sheet: keep what was read, report where it broke
            problems.append(RowProblem(records[-1].line + 1 if records else 1, None,
                                       f"the sheet is damaged here ({type(error).__name__}); the rest is not read"))
    finally:
        workbook.close()
    if not records:
        raise CatalogError(f"{name} is empty: its first sheet has no rows.")
    header = [_clean_header(cell) for cell in records[0].cells]
    return Table(header, records[0].line, records[1:], problems)


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a SKU typed as a number: 1001, not 1001.0
    return plain_cell(str(value).strip())


def iter_cells(record: Record, width: int) -> Iterator[str]:
    cells = record.cells
    for index in range(width):
        yield cells[index] if index < len(cells) else ""
