"""What a catalog read gives back: products with their source records, and every problem found."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.product import Product


class CatalogError(AdCopyError):
    """A catalog file that cannot be read at all (empty, no header, required columns missing,
    not a spreadsheet); problems with single rows are reported in ``ImportResult.problems``."""


class EncodingMismatch(CatalogError):
    """The text decodes as garbage in the encoding given or guessed; ``likely`` is the codec that
    reads the file cleanly (None when none does)."""

    def __init__(self, message: str, likely: str | None = None):
        super().__init__(message)
        self.likely = likely


@dataclass(frozen=True)
class RowProblem:
    """One problem in the file: ``row`` is the line (CSV, JSON lines) or sheet row (XLSX), 1-based,
    the header being row 1; ``column`` is 1-based; either is None when it does not apply.
    ``skipped`` says whether the row was left out (otherwise it was imported with a change, e.g. a
    value cut to the length limit)."""

    row: int | None
    column: int | None
    message: str
    skipped: bool = True
    column_name: str | None = None

    def where(self) -> str:
        parts = []
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column}" + (f" ({self.column_name})" if self.column_name else ""))
        return ", ".join(parts) or "file"

    def describe(self) -> str:
        return f"{self.where()}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "column_name": self.column_name,
                "message": self.message, "skipped": self.skipped}


@dataclass
class ImportedProduct:
    """A product with where it came from: the shop's id for it and the original rows, so an
    exporter can write the shop's own format back with untouched columns kept."""

    product: Product
    external_id: str | None = None
    source_record: dict[str, Any] | None = None  # {"header": [...], "rows": [[...]], "rows_at": [line, ...]}
    status: str | None = None  # draft | archived | unpublished in the shop (Shopify Status/Published); None: active


@dataclass
class ImportResult:
    items: list[ImportedProduct] = field(default_factory=list)
    rows_read: int = 0  # data rows (records) read, header excluded
    problems: list[RowProblem] = field(default_factory=list)
    encoding: str | None = None
    encoding_confidence: float | None = None
    format: str = ""  # shopify | woocommerce | csv | xlsx | jsonl | a plugin's importer name
    header: list[str] = field(default_factory=list)

    @property
    def products(self) -> list[Product]:
        return [item.product for item in self.items]

    @property
    def skipped(self) -> list[RowProblem]:
        return [p for p in self.problems if p.skipped]

    @property
    def warnings(self) -> list[RowProblem]:
        return [p for p in self.problems if not p.skipped]

    @property
    def inactive(self) -> list[ImportedProduct]:
        """Products the shop has as drafts, archived or unpublished: imported, and marked so."""
        return [item for item in self.items if item.status is not None]

    def summary(self) -> dict[str, Any]:
        skipped_rows = sorted({p.row for p in self.skipped if p.row is not None})
        return {
            "format": self.format, "encoding": self.encoding, "products": len(self.items),
            "rows": self.rows_read, "skipped_rows": len(skipped_rows),
            "inactive": {status: sum(1 for i in self.items if i.status == status)
                         for status in ("draft", "archived", "unpublished")
                         if any(i.status == status for i in self.items)},
            "problems": [p.to_dict() for p in self.problems],
        }
