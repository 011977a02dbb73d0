"""Reading a catalog file: encoding, container (CSV text, XLSX, JSON lines), layout (Shopify,
WooCommerce, generic mapping), with a preview for the user to confirm before the real read."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adcopy_desktop.core.catalog.encoding import EncodingGuess, decode, detect_encoding, garbled, normalise_encoding
from adcopy_desktop.core.catalog.formats import (
    GENERIC,
    SHOPIFY,
    WOOCOMMERCE,
    ColumnMapping,
    _Builder,
    _without_surrogates,
    detect_format,
    mapped_products,
    propose_mapping,
    saved_mapping,
    shopify_products,
    woocommerce_products,
)
from adcopy_desktop.core.catalog.result import CatalogError, EncodingMismatch, ImportedProduct, ImportResult, RowProblem
from adcopy_desktop.core.catalog.table import Table, read_csv_table, read_xlsx_table
from adcopy_desktop.core.errors import Cancelled, ProductParseError
from adcopy_desktop.core.progress import CancelToken, ProgressCallback, ProgressEvent, ignore_progress

FORMATS = ("shopify", "woocommerce", "csv", "xlsx", "jsonl")
XLSX, JSONL = "xlsx", "jsonl"
XLSX_EXTENSIONS = (".xlsx", ".xlsm")
JSONL_EXTENSIONS = (".jsonl", ".ndjson")
MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024
ID_KEYS = ("id", "external_id", "sku", "handle")


@dataclass
class CatalogPreview:
    """What the import dialog and ``adcopy import`` show before importing."""

    path: Path
    container: str  # csv | xlsx | jsonl
    encoding: EncodingGuess | None  # None for XLSX
    format: str  # shopify | woocommerce | csv | jsonl
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    mapping: ColumnMapping | None = None  # for generic tables: saved, else proposed
    mapping_saved: bool = False
    encoding_problem: str | None = None  # the text looks garbled in this encoding: the import will refuse
    likely_encoding: str | None = None  # the codec that reads the file cleanly, when one does


def container_of(path: Path, fmt: str | None = None) -> str:
    suffix = Path(path).suffix.lower()
    if fmt == XLSX or (fmt in (None, SHOPIFY, WOOCOMMERCE) and suffix in XLSX_EXTENSIONS):
        return XLSX
    if fmt == JSONL or (fmt is None and suffix in JSONL_EXTENSIONS):
        return JSONL
    return "csv"


def _check_format(fmt: str | None) -> None:
    if fmt is not None and fmt not in FORMATS:
        raise CatalogError(f"Unknown catalog format '{fmt}'; use one of {', '.join(FORMATS)}.")


def _read_bytes(path: Path) -> bytes:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CatalogError(f"{path.name} is {size / 2**30:.1f} GiB; split it into files under 2 GiB.")
        return path.read_bytes()
    except IsADirectoryError:
        raise CatalogError(f"{path} is a folder; choose a catalog file.") from None
    except FileNotFoundError:
        raise CatalogError(f"{path} does not exist.") from None


def _text_of(path: Path, encoding: str | None, *, strict: bool = True) -> tuple[str, EncodingGuess, list[RowProblem]]:
    """The file's text and encoding; text that looks garbled in that encoding raises
    ``EncodingMismatch`` (with ``strict``) or, for a preview, comes back with a guess of
    confidence 0 whose reason says what is wrong and which encoding reads the file."""
    data = _read_bytes(path)
    if not data.strip(b"\x00 \t\r\n"):
        raise CatalogError(f"{Path(path).name} is empty: it has no header row and no products.")
    if encoding:
        try:
            codec = normalise_encoding(encoding)
        except LookupError as error:
            raise CatalogError(str(error)) from None
        guess = EncodingGuess(codec, 1.0, "chosen by the user")
    else:
        guess = detect_encoding(data)
    try:
        text, bad_lines = decode(data, guess.encoding)
    except LookupError as error:
        raise CatalogError(f"Unknown encoding '{guess.encoding}' ({error}).") from None
    wrong = garbled(data, text, guess.encoding, bad_lines)
    if wrong is not None:
        message = wrong.message(Path(path).name)
        likely = wrong.likely.encoding if wrong.likely is not None else None
        if strict:
            raise EncodingMismatch(message, likely)
        guess = _GarbledGuess(guess.encoding, 0.0, message, likely)
    problems = [RowProblem(line, None, f"bytes that are not {guess.label} were replaced by \ufffd; check the encoding",
                           skipped=False) for line in bad_lines[:100]]
    if len(bad_lines) > 100:
        problems.append(RowProblem(None, None, f"{len(bad_lines) - 100} more lines with undecodable bytes",
                                   skipped=False))
    text = text.lstrip("\ufeff")
    if not text.strip("\x00 \t\r\n"):
        raise CatalogError(f"{Path(path).name} holds no text (only a byte order mark or blanks).")
    return text, guess, problems


def preview_catalog(path: Path, *, fmt: str | None = None, encoding: str | None = None,
                    rows: int = 20) -> CatalogPreview:
    """The detected encoding and layout and the first ``rows`` rows, for the user to confirm."""
    _check_format(fmt)
    path = Path(path)
    container = container_of(path, fmt)
    if container == JSONL:
        text, guess, _ = _text_of(path, encoding, strict=False)
        lines = [line for line in text.splitlines() if line.strip()][:rows]
        preview = CatalogPreview(path, JSONL, guess, JSONL, ["line"], [[line[:500]] for line in lines])
        _note_encoding_problem(preview)
        return preview
    if container == XLSX:
        table = read_xlsx_table(path, max_rows=rows + 1)
        guess = None
    else:
        text, guess, _ = _text_of(path, encoding, strict=False)
        head = "\n".join(text.splitlines()[: rows * 4 + 1]) if len(text) > 2_000_000 else text
        table = read_csv_table(head)
    layout = fmt if fmt in (SHOPIFY, WOOCOMMERCE) else (GENERIC if fmt == "csv" else detect_format(table.header))
    preview = CatalogPreview(path, container, guess, layout, table.header,
                             [r.cells for r in table.records[:rows]])
    if layout == GENERIC:
        saved = saved_mapping(table.header)
        preview.mapping = saved or propose_mapping(table.header)
        preview.mapping_saved = saved is not None
    _note_encoding_problem(preview)
    return preview


@dataclass(frozen=True)
class _GarbledGuess(EncodingGuess):
    """A preview's encoding whose text looks garbled; ``reason`` says why and what to use."""

    likely: str | None = None


def _note_encoding_problem(preview: CatalogPreview) -> None:
    if isinstance(preview.encoding, _GarbledGuess):
        preview.encoding_problem = preview.encoding.reason
        preview.likely_encoding = preview.encoding.likely


def read_catalog(
    path: Path,
    *,
    fmt: str | None = None,
    encoding: str | None = None,
    mapping: ColumnMapping | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> ImportResult:
    """Every product in ``path``; rows that cannot be used are reported, never fatal. A file that
    cannot be read at all raises ``CatalogError``; ``cancel`` raises ``Cancelled``."""
    _check_format(fmt)
    path = Path(path)
    container = container_of(path, fmt)
    progress(ProgressEvent("read", f"Reading {path.name}", 0.0))

    def rows_read(count: int) -> None:
        progress(ProgressEvent("read", f"Read {count:,} rows", None))

    if container == JSONL:
        text, guess, problems = _text_of(path, encoding)
        result = _jsonl_products(text, problems, cancel)
        result.encoding, result.encoding_confidence = guess.encoding, guess.confidence
        progress(ProgressEvent("done", f"{len(result.items):,} products", 1.0))
        return result
    guess = None
    if container == XLSX:
        table = read_xlsx_table(path, on_rows=rows_read, cancel=cancel)
    else:
        text, guess, problems = _text_of(path, encoding)
        table = read_csv_table(text, on_rows=rows_read, cancel=cancel)
        table.problems[:0] = problems
    layout = fmt if fmt in (SHOPIFY, WOOCOMMERCE) else (GENERIC if fmt == "csv" else detect_format(table.header))

    def grouped(done: int, total: int) -> None:
        progress(ProgressEvent("group", f"Building products: {done:,} of {total:,} rows", done / max(total, 1)))

    if layout == SHOPIFY:
        result = shopify_products(table, progress=grouped, cancel=cancel)
    elif layout == WOOCOMMERCE:
        result = woocommerce_products(table, progress=grouped, cancel=cancel)
    else:
        chosen = mapping or saved_mapping(table.header) or propose_mapping(table.header)
        result = mapped_products(table, chosen, fmt=XLSX if container == XLSX else GENERIC,
                                 progress=grouped, cancel=cancel)
    if guess is not None:
        result.encoding, result.encoding_confidence = guess.encoding, guess.confidence
    progress(ProgressEvent("done", f"{len(result.items):,} products from {result.rows_read:,} rows", 1.0))
    return result


def _jsonl_products(text: str, problems: list[RowProblem], cancel: CancelToken | None) -> ImportResult:
    items: list[ImportedProduct] = []
    rows = 0
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        rows += 1
        if rows % 2000 == 0 and cancel is not None and cancel.cancelled:
            raise Cancelled("The import was stopped; nothing was added to the library.")
        try:
            data = json.loads(line, object_pairs_hook=list)
        except (ValueError, RecursionError) as error:
            column = getattr(error, "colno", None)
            message = getattr(error, "msg", None) or type(error).__name__
            problems.append(RowProblem(number, column, f"not valid JSON ({message}); row skipped"))
            continue
        if not isinstance(data, list) or (data and not all(isinstance(p, tuple) for p in data)):
            problems.append(RowProblem(number, 1, "not a JSON object of product facts; row skipped"))
            continue
        builder = _Builder(number, [], problems)
        external = None
        for key, value in data:
            if key.strip().casefold() in ID_KEYS and external is None and isinstance(value, (str, int)) \
                    and not isinstance(value, bool):
                external = str(value).strip() or None
                continue
            for item in value if isinstance(value, list) and not _is_pairs(value) else [value]:
                if isinstance(item, (list, tuple)):
                    problems.append(RowProblem(number, None, f"'{key[:40]}' holds a nested value; left out",
                                               skipped=False))
                    continue
                if item is None:
                    continue
                text_value = ("true" if item else "false") if isinstance(item, bool) else str(item)
                builder.add(_without_surrogates(key), _without_surrogates(text_value), number, None)
        if not builder.pairs:
            problems.append(RowProblem(number, None, "no product facts in this object; row skipped"))
            continue
        if external is not None and external in seen:
            problems.append(RowProblem(number, None, f"the id '{external}' was already used on row {seen[external]}; "
                                                     "row skipped"))
            continue
        try:
            product = builder.product(None, source_text=line if len(line) <= 100_000 else "")
        except ProductParseError as error:
            problems.append(RowProblem(number, None, f"{error}; row skipped"))
            continue
        if external is not None:
            seen[external] = number
        record: dict[str, Any] = {"header": [], "rows": [[line]], "rows_at": [number]}
        items.append(ImportedProduct(product, external, record))
    return ImportResult(items=items, rows_read=rows, problems=problems, format=JSONL)


def _is_pairs(value: list) -> bool:
    return bool(value) and all(isinstance(v, tuple) for v in value)
