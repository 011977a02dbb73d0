"""Shop export formats and the generic column mapping: rows in, products with source records out.

- Shopify product CSV: one row per variant; rows of one product share the Handle and only the
  first carries Title and Body (HTML). The rows become one product whose options (Option1 Name /
  Option1 Value ...) are attributes, one pair per distinct value.
- WooCommerce product CSV: one row per product; "variation" rows (Parent = id:123 or a SKU) add
  their attribute values to the parent product.
- Generic CSV/XLSX: a ``ColumnMapping`` (name, id, description and attribute columns), proposed
  from the header, confirmed by the user and saved per header set for the next import.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from adcopy_desktop.core.catalog.result import CatalogError, ImportedProduct, ImportResult, RowProblem
from adcopy_desktop.core.catalog.table import Record, Table
from adcopy_desktop.core.errors import Cancelled, ProductParseError
from adcopy_desktop.core.product import MAX_ATTRIBUTES, MAX_KEY_CHARS, MAX_VALUE_CHARS, NAME_KEYS, Product, _name_from
from adcopy_desktop.core.progress import CancelToken
from adcopy_desktop.paths import user_folders

SHOPIFY, WOOCOMMERCE, GENERIC = "shopify", "woocommerce", "csv"
MAPPINGS_FILE = "catalog_mappings.json"

SHOPIFY_REQUIRED = ("Handle", "Title")
SHOPIFY_MARKERS = ("Body (HTML)", "Option1 Name", "Option1 Value", "Variant SKU", "Variant Price", "Vendor")
WOO_REQUIRED = ("Name",)
WOO_MARKERS = ("Type", "SKU", "Short description", "Description", "Attribute 1 name", "Attribute 1 value(s)",
               "Regular price", "Parent")
SHOPIFY_FACTS = (("Title", "Title"), ("Vendor", "Vendor"), ("Product Category", "Product Category"),
                 ("Type", "Type"), ("Tags", "Tags"))
WOO_FACTS = (("Name", "Name"), ("Categories", "Categories"), ("Tags", "Tags"), ("Brands", "Brands"))

_TAG = re.compile(r"<[^>]*>")
_BLOCK_TAG = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6]|/tr)\b[^>]*>", re.I)
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")

ID_HINTS = ("id", "sku", "handle", "product id", "product_id", "编号", "货号", "商品编号", "商品id", "款号", "item id")
DESCRIPTION_HINTS = ("description", "desc", "body", "body (html)", "details", "描述", "详情", "商品描述", "介绍",
                     "说明", "商品详情")
NAME_HINTS = tuple(NAME_KEYS) + ("product", "商品", "product title", "item name", "名字")


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _without_surrogates(text: str) -> str:
    """Lone surrogates (from JSON escapes) cannot be stored as UTF-8."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def html_to_text(value: str) -> str:
    """Readable text of a product description written in HTML."""
    if "<" not in value and "&" not in value:
        return value.strip()
    text = _BLOCK_TAG.sub("\n", value)
    text = html.unescape(_TAG.sub(" ", text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def detect_format(header: Sequence[str]) -> str:
    """shopify, woocommerce or csv (generic) from a header row."""
    names = {h.strip().casefold() for h in header}
    if all(r.casefold() in names for r in SHOPIFY_REQUIRED) and any(m.casefold() in names for m in SHOPIFY_MARKERS):
        return SHOPIFY
    woo_hits = sum(1 for m in WOO_MARKERS if m.casefold() in names)
    if "name" in names and ("id" in names or "sku" in names) and woo_hits >= 2:
        return WOOCOMMERCE
    return GENERIC


class _Columns:
    """Case-insensitive header lookup; the first of duplicate names wins."""

    def __init__(self, header: Sequence[str]):
        self.header = list(header)
        self.index: dict[str, int] = {}
        for position, name in enumerate(header):
            self.index.setdefault(name.strip().casefold(), position)

    def find(self, name: str) -> int | None:
        return self.index.get(name.casefold())

    def require(self, names: Sequence[str], fmt: str, header_line: int) -> None:
        missing = [n for n in names if self.find(n) is None]
        if missing:
            raise CatalogError(
                f"Row {header_line} (the header) lacks the required column(s) {', '.join(missing)} of a {fmt} "
                f"export. Columns found: {', '.join(self.header[:30]) or 'none'}. Export the file again from "
                "the shop, or import it as generic CSV with a column mapping."
            )


def _cell(record: Record, index: int | None) -> str:
    if index is None or index >= len(record.cells):
        return ""
    return record.cells[index].strip()


@dataclass
class _Builder:
    """Collects a product's pairs, cutting what is too long and reporting it."""

    first_line: int
    header: list[str]
    problems: list[RowProblem]
    pairs: list[tuple[str, str]] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)

    def add(self, key: str, value: str, line: int, column: int | None) -> None:
        value = value.strip()
        key = key.strip()
        if not key or not value:
            return
        if len(key) > MAX_KEY_CHARS:
            key = key[:MAX_KEY_CHARS]
        if len(value) > MAX_VALUE_CHARS:
            self.problems.append(RowProblem(
                line, column, f"value of {len(value):,} characters cut to {MAX_VALUE_CHARS:,} for the product facts",
                skipped=False, column_name=self.header[column - 1] if column and column <= len(self.header) else None,
            ))
            value = value[:MAX_VALUE_CHARS].rstrip()
        if (key, value) not in self.seen:
            self.seen.add((key, value))
            self.pairs.append((key, value))

    def product(self, name: str | None, source_text: str = "") -> Product:
        """The product of the collected pairs, which ``add`` already trimmed and cut to the limits
        ``Product.from_attributes`` checks (so a long catalog does not pay for checking twice)."""
        pairs = self.pairs
        if not pairs:
            raise ProductParseError("The product has no attributes.")
        if len(pairs) > MAX_ATTRIBUTES:
            self.problems.append(RowProblem(self.first_line, None,
                                            f"{len(pairs)} facts; the first {MAX_ATTRIBUTES} are kept", skipped=False))
            pairs = pairs[:MAX_ATTRIBUTES]
        product = Product(attributes=list(pairs), name=_name_from(pairs), source_text=source_text)
        if name:
            product.name = name[:MAX_VALUE_CHARS]
        return product


def _record_json(header: list[str], records: list[Record]) -> dict[str, Any]:
    return {"header": list(header), "rows": [list(r.cells) for r in records], "rows_at": [r.line for r in records]}


def _check_width(record: Record, width: int, problems: list[RowProblem]) -> bool:
    """False (and a problem) for a row with more non-empty cells than the header has columns."""
    if len(record.cells) > width and any(c.strip() for c in record.cells[width:]):
        problems.append(RowProblem(
            record.line, width + 1,
            f"the row has {len(record.cells)} values but the header has {width} columns (a comma or quote "
            "out of place?); row skipped",
        ))
        return False
    return True


Progress = Callable[[int, int], None]  # (rows done, rows in all)


def _tick(done: int, total: int, progress: Progress | None, cancel: CancelToken | None) -> None:
    if done % 2000 == 0:
        if cancel is not None and cancel.cancelled:
            raise Cancelled("The import was stopped; nothing was added to the library.")
        if progress is not None:
            progress(done, total)


# -- Shopify ------------------------------------------------------------------------------------------


def shopify_products(table: Table, *, progress: Progress | None = None,
                     cancel: CancelToken | None = None) -> ImportResult:
    columns = _Columns(table.header)
    columns.require(("Handle",), "Shopify", table.header_line)
    problems = list(table.problems)
    width = len(table.header)
    handle_at = columns.find("Handle")
    groups: dict[str, list[Record]] = {}
    total = len(table.records)
    for done, record in enumerate(table.records, start=1):
        _tick(done, total, progress, cancel)
        if not _check_width(record, width, problems):
            continue
        handle = _cell(record, handle_at)
        if not handle:
            problems.append(RowProblem(record.line, (handle_at or 0) + 1, "the Handle is empty; row skipped",
                                       column_name="Handle"))
            continue
        groups.setdefault(handle, []).append(record)
    option_columns = []
    for number in (1, 2, 3):
        name_at, value_at = columns.find(f"Option{number} Name"), columns.find(f"Option{number} Value")
        if value_at is not None:
            option_columns.append((number, name_at, value_at))
    body_at = columns.find("Body (HTML)")
    fact_columns = [(label, columns.find(column)) for column, label in SHOPIFY_FACTS]
    seo = [(label, columns.find(column)) for column, label in (("SEO Title", "SEO Title"),
                                                               ("SEO Description", "SEO Description"))]
    items: list[ImportedProduct] = []
    title_at = columns.find("Title")
    status_at, published_at = columns.find("Status"), columns.find("Published")
    for handle, records in groups.items():
        first = next((r for r in records if _cell(r, title_at)), None)
        builder = _Builder(records[0].line, table.header, problems)
        if first is None:
            problems.append(RowProblem(records[0].line, (columns.find("Title") or 0) + 1,
                                       f"product '{handle}' has no row with a Title; its Handle is used as the name",
                                       skipped=False, column_name="Title"))
            first = records[0]
            builder.add("Title", handle.replace("-", " "), first.line, (handle_at or 0) + 1)
        for label, index in fact_columns:
            builder.add(label, _cell(first, index), first.line, None if index is None else index + 1)
        option_names: dict[int, str] = {}
        for number, name_at, _ in option_columns:
            option_names[number] = _cell(first, name_at) or f"Option{number}"
        for number, _, value_at in option_columns:
            for record in records:
                name, value = option_names[number], _cell(record, value_at)
                if name == "Title" and value == "Default Title":
                    continue  # Shopify's placeholder for a product without variants
                builder.add(name, value, record.line, value_at + 1)
        if body_at is not None:
            builder.add("Description", html_to_text(_cell(first, body_at)), first.line, body_at + 1)
        for label, index in seo:
            builder.add(label, _cell(first, index), first.line, None if index is None else index + 1)
        name = next((v for k, v in builder.pairs if k == "Title"), None)
        try:
            product = builder.product(name)
        except ProductParseError as error:
            for record in records:
                problems.append(RowProblem(record.line, None, f"product '{handle}': {error}; skipped"))
            continue
        status = shopify_status(_cell(first, status_at), _cell(first, published_at))
        items.append(ImportedProduct(product, handle, _record_json(table.header, records), status))
    return ImportResult(items=items, rows_read=total, problems=problems, format=SHOPIFY, header=table.header)


def shopify_status(status: str, published: str) -> str | None:
    """draft or archived (the Status column), unpublished (Published FALSE), else None (active).
    Only an explicit value counts: older exports have no Status and variant rows leave both blank."""
    status = status.strip().casefold()
    if status in ("draft", "archived"):
        return status
    if published.strip().casefold() in ("false", "no", "0"):
        return "unpublished"
    return None


# -- WooCommerce --------------------------------------------------------------------------------------


def _woo_attribute_columns(columns: _Columns) -> list[tuple[int, int]]:
    pairs = []
    for number in range(1, 51):
        name_at = columns.find(f"Attribute {number} name")
        value_at = columns.find(f"Attribute {number} value(s)")
        if name_at is None and value_at is None:
            if number > 3:
                break
            continue
        if name_at is not None and value_at is not None:
            pairs.append((name_at, value_at))
    return pairs


def woocommerce_products(table: Table, *, progress: Progress | None = None,
                         cancel: CancelToken | None = None) -> ImportResult:
    columns = _Columns(table.header)
    problems = list(table.problems)
    if columns.find("ID") is None and columns.find("SKU") is None:
        columns.require(("ID",), "WooCommerce", table.header_line)
    columns.require(WOO_REQUIRED, "WooCommerce", table.header_line)
    width = len(table.header)
    id_at, sku_at, name_at = columns.find("ID"), columns.find("SKU"), columns.find("Name")
    type_at, parent_at = columns.find("Type"), columns.find("Parent")
    short_at, long_at = columns.find("Short description"), columns.find("Description")
    attributes = _woo_attribute_columns(columns)
    facts = [(label, columns.find(column)) for column, label in WOO_FACTS]
    parents: dict[str, tuple[_Builder, list[Record], str]] = {}  # key -> (builder, records, external id)
    by_reference: dict[str, str] = {}  # "id:12" and SKU -> parent key
    variations: list[Record] = []
    total = len(table.records)
    for done, record in enumerate(table.records, start=1):
        _tick(done, total, progress, cancel)
        if not _check_width(record, width, problems):
            continue
        kind = _cell(record, type_at).casefold()
        if kind == "variation":
            variations.append(record)
            continue
        name = _cell(record, name_at)
        external = _cell(record, id_at) or _cell(record, sku_at)
        if not name:
            problems.append(RowProblem(record.line, (name_at or 0) + 1, "the Name is empty; row skipped",
                                       column_name="Name"))
            continue
        key = external or f"row-{record.line}"
        if key in parents:
            problems.append(RowProblem(record.line, (id_at if id_at is not None else sku_at or 0) + 1,
                                       f"a second product with the id '{key}'; row skipped"))
            continue
        builder = _Builder(record.line, table.header, problems)
        for label, index in facts:
            builder.add(label, _cell(record, index), record.line, None if index is None else index + 1)
        for attr_name_at, attr_value_at in attributes:
            attr_name = _cell(record, attr_name_at)
            for value in _cell(record, attr_value_at).split(","):
                builder.add(attr_name, value, record.line, attr_value_at + 1)
        for label, index in (("Short description", short_at), ("Description", long_at)):
            if index is not None:
                builder.add(label, html_to_text(_cell(record, index)), record.line, index + 1)
        parents[key] = (builder, [record], external)
        if _cell(record, id_at):
            by_reference[f"id:{_cell(record, id_at)}"] = key
        if _cell(record, sku_at):
            by_reference[_cell(record, sku_at)] = key
    for record in variations:
        reference = _cell(record, parent_at)
        key = by_reference.get(reference)
        if key is None:
            problems.append(RowProblem(record.line, (parent_at or 0) + 1,
                                       f"variation of an unknown parent '{reference}'; row skipped",
                                       column_name="Parent"))
            continue
        builder, records, _ = parents[key]
        records.append(record)
        for attr_name_at, attr_value_at in attributes:
            attr_name = _cell(record, attr_name_at)
            for value in _cell(record, attr_value_at).split(","):
                builder.add(attr_name, value, record.line, attr_value_at + 1)
    items = []
    for key, (builder, records, external) in parents.items():
        name = next((v for k, v in builder.pairs if k == "Name"), None)
        try:
            product = builder.product(name)
        except ProductParseError as error:
            problems.append(RowProblem(records[0].line, None, f"{error}; skipped"))
            continue
        items.append(ImportedProduct(product, external or None, _record_json(table.header, records)))
    return ImportResult(items=items, rows_read=total, problems=problems, format=WOOCOMMERCE, header=table.header)


# -- generic CSV with a column mapping ----------------------------------------------------------------


@dataclass
class ColumnMapping:
    """Which columns say what: each names a header; ``attributes`` keep their header as the key."""

    name: str | None = None
    id: str | None = None
    description: str | None = None
    attributes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "ColumnMapping":
        if not isinstance(data, dict):
            raise ValueError("a column mapping is an object")
        text = lambda v: v if isinstance(v, str) and v else None  # noqa: E731
        attributes = data.get("attributes") or []
        if not isinstance(attributes, list) or not all(isinstance(a, str) for a in attributes):
            raise ValueError("attributes must be a list of column names")
        return cls(text(data.get("name")), text(data.get("id")), text(data.get("description")), list(attributes))

    def columns(self) -> list[str]:
        return [c for c in (self.name, self.id, self.description, *self.attributes) if c]

    def check(self, header: Sequence[str], header_line: int = 1) -> None:
        known = {h.casefold() for h in header}
        missing = [c for c in self.columns() if c.casefold() not in known]
        if missing:
            raise CatalogError(
                f"The column mapping names {', '.join(repr(m) for m in missing)}, which row {header_line} (the "
                f"header) does not have. Columns: {', '.join(header[:30])}."
            )
        if not self.name and not self.attributes and not self.description:
            raise CatalogError("The column mapping uses no column: choose at least the name or one attribute column.")


def _matches(header: str, hints: Sequence[str]) -> bool:
    return header.strip().casefold() in {h.casefold() for h in hints}


def propose_mapping(header: Sequence[str]) -> ColumnMapping:
    """A first guess from header names; the user confirms or changes it."""
    used: set[int] = set()

    def pick(hints: Sequence[str]) -> str | None:
        for position, name in enumerate(header):
            if position not in used and name and _matches(name, hints):
                used.add(position)
                return name
        return None

    name = pick(NAME_HINTS)
    identifier = pick(ID_HINTS)
    description = pick(DESCRIPTION_HINTS)
    attributes = [h for i, h in enumerate(header) if i not in used and h]
    attributes = list(dict.fromkeys(attributes))
    return ColumnMapping(name, identifier, description, attributes)


def header_key(header: Sequence[str]) -> str:
    """Mappings are saved per set of column names (order and case ignored)."""
    names = sorted({h.strip().casefold() for h in header if h.strip()})
    return hashlib.sha256("\x1f".join(names).encode("utf-8")).hexdigest()[:32]


def _mappings_path() -> Path:
    return user_folders().config / MAPPINGS_FILE


def saved_mapping(header: Sequence[str]) -> ColumnMapping | None:
    try:
        data = json.loads(_mappings_path().read_text(encoding="utf-8"))
        entry = data.get(header_key(header)) if isinstance(data, dict) else None
        return ColumnMapping.from_dict(entry["mapping"]) if isinstance(entry, dict) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_mapping(header: Sequence[str], mapping: ColumnMapping) -> bool:
    """Remember ``mapping`` for files with this header; a header that looks garbled (undecodable
    bytes, mojibake of a wrong encoding) is not remembered, so the next import with the right
    encoding asks again. Returns whether it was saved."""
    from adcopy_desktop.core.catalog.encoding import header_looks_garbled
    from adcopy_desktop.core.model_store.manifest import write_json_atomically

    if header_looks_garbled(list(header)):
        return False
    path = _mappings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data[header_key(header)] = {"header": list(header), "mapping": mapping.to_dict()}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomically(path, data)
    return True


def mapped_products(table: Table, mapping: ColumnMapping, *, fmt: str = GENERIC, progress: Progress | None = None,
                    cancel: CancelToken | None = None) -> ImportResult:
    mapping.check(table.header, table.header_line)
    columns = _Columns(table.header)
    problems = list(table.problems)
    width = len(table.header)
    name_at = columns.find(mapping.name) if mapping.name else None
    id_at = columns.find(mapping.id) if mapping.id else None
    description_at = columns.find(mapping.description) if mapping.description else None
    attribute_at = [(columns.find(a), a) for a in mapping.attributes]
    seen: dict[str, int] = {}
    items: list[ImportedProduct] = []
    total = len(table.records)
    for done, record in enumerate(table.records, start=1):
        _tick(done, total, progress, cancel)
        if not _check_width(record, width, problems):
            continue
        builder = _Builder(record.line, table.header, problems)
        name = _cell(record, name_at)
        if name:
            builder.add(mapping.name or "name", name, record.line, (name_at or 0) + 1)
        for index, label in attribute_at:
            builder.add(label, _cell(record, index), record.line, None if index is None else index + 1)
        if description_at is not None:
            builder.add(mapping.description or "description", html_to_text(_cell(record, description_at)),
                        record.line, description_at + 1)
        if not builder.pairs:
            problems.append(RowProblem(record.line, None, "no value in any mapped column; row skipped"))
            continue
        external = _cell(record, id_at) or None
        if external is not None and external in seen:
            problems.append(RowProblem(record.line, (id_at or 0) + 1,
                                       f"the id '{external}' was already used in row {seen[external]}; row skipped",
                                       column_name=mapping.id))
            continue
        try:
            product = builder.product(name or None)
        except ProductParseError as error:
            problems.append(RowProblem(record.line, None, f"{error}; row skipped"))
            continue
        if external is not None:
            seen[external] = record.line
        items.append(ImportedProduct(product, external, _record_json(table.header, [record])))
    return ImportResult(items=items, rows_read=total, problems=problems, format=fmt, header=table.header)
