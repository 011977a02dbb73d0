"""Which accepted copy goes where: one rule for every export target.

For each product, the *newest* accepted candidate of each kind counts (newest generation first,
then the first candidate of that generation); the user's edit is what is exported.

======================  ===========================================================================
shop field              taken from
======================  ===========================================================================
title                   accepted ``title``, cut to ``TITLE_LIMIT`` (255) characters
SEO title               the same title cut to ``SEO_TITLE_LIMIT`` (70) at a word boundary (Latin
                        text) or a character (Chinese), never inside an emoji or accent and never
                        leaving a quote or bracket open
description (HTML)      accepted ``description`` as escaped ``<p>`` paragraphs (blank line = new
                        paragraph, line break = ``<br>``), then accepted ``selling_points`` as an
                        escaped ``<ul>`` list (one line, bullet marks removed, per point)
SEO description         accepted ``promo``, else ``slogan``, else the description's plain text,
                        whitespace collapsed, cut to ``SEO_DESCRIPTION_LIMIT`` (320)
======================  ===========================================================================

A field without accepted copy is left out, so the shop keeps what it has; a product with no field
is not exported. The SEO title (always) and an SEO description taken from the description are
*derived* (``ProductCopy.derived``): the Shopify CSV export keeps the merchant's own value there. Exports never create products: a product is addressed by its external id
(Shopify handle or product GID; WooCommerce product id or SKU), which import sets.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from adcopy_desktop.core.candidates import Candidate
from adcopy_desktop.core.errors import AdCopyError
from adcopy_desktop.core.library import Library, StoredCandidate, StoredProduct
from adcopy_desktop.core.prompts import parse_copy_kind

TITLE_LIMIT = 255
SEO_TITLE_LIMIT = 70
SEO_DESCRIPTION_LIMIT = 320
SHOP_FIELDS = ("title", "description_html", "seo_title", "seo_description")
_BULLET = re.compile(r"^\s*(?:[-*•·●▪◦–—]|\d+[.)、]|[（(]?\d+[)）])\s*")


class ExportFilterError(AdCopyError, ValueError):
    """A filter the user gave cannot be understood."""


@dataclass(frozen=True)
class ExportFilters:
    """Which accepted copy to export; empty fields mean "all"."""

    products: tuple[int, ...] = ()
    kinds: tuple[str, ...] = ()
    style: str | None = None
    since: float | None = None  # epoch seconds: generations created at or after
    language: str | None = None
    until: float | None = None  # epoch seconds: generations created before

    @classmethod
    def parse(cls, *, products: Iterable[int] = (), kinds: Iterable[str] = (), style: str | None = None,
              since: str | float | None = None, language: str | None = None) -> "ExportFilters":
        try:
            kind_values = tuple(parse_copy_kind(kind).value for kind in kinds)
        except ValueError as error:
            raise ExportFilterError(str(error)) from None
        return cls(tuple(int(p) for p in products), kind_values, style or None, parse_since(since),
                   (language or None))

    def to_dict(self) -> dict[str, Any]:
        return {"products": list(self.products), "kinds": list(self.kinds), "style": self.style,
                "since": self.since, "until": self.until, "language": self.language}


def parse_since(value: str | float | None) -> float | None:
    """``2026-05-01``, ``2026-05-01T12:00`` (local time) or epoch seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return _dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise ExportFilterError(f"--since {text!r} is not a date; give it like 2026-05-01 or 2026-05-01T14:30.") from None


@dataclass
class ExportedCandidate(Candidate):
    """An accepted candidate with the product it belongs to (what file exporters receive)."""

    candidate_id: int | None = None
    product_id: int | None = None
    product_name: str = ""
    external_id: str = ""


@dataclass
class ProductCopy:
    """One product's exported copy, mapped to shop fields by the rule above."""

    product_id: int
    name: str
    external_id: str | None
    source_format: str | None
    source_record: Any  # what the importer kept of the original rows (see shopify-csv), or None
    title: str | None = None
    description_html: str | None = None
    seo_title: str | None = None
    seo_description: str | None = None
    candidates: list[ExportedCandidate] = field(default_factory=list)
    # shop fields filled from copy of another kind (SEO title from the title, SEO description from
    # the description) rather than copy accepted for them: a file export keeps the merchant's own
    derived: set[str] = field(default_factory=set)

    def shop_fields(self) -> dict[str, str]:
        """The fields this product's export sets (those with accepted copy)."""
        return {name: getattr(self, name) for name in SHOP_FIELDS if getattr(self, name)}


def accepted_candidates(library: Library, filters: ExportFilters = ExportFilters()) -> list[ExportedCandidate]:
    """Accepted copy matching ``filters``, newest first, each with its product."""
    return [candidate for copy in product_copies(library, filters) for candidate in copy.candidates]


def product_copies(library: Library, filters: ExportFilters = ExportFilters()) -> list[ProductCopy]:
    """One ``ProductCopy`` per product that has accepted copy matching ``filters``."""
    rows = library.accepted_copy(style=filters.style, since=filters.since, until=filters.until)
    if filters.products:
        rows = [row for row in rows if row.product_id in filters.products]
    if filters.kinds:
        rows = [row for row in rows if row.kind in filters.kinds]
    if filters.language:
        rows = [row for row in rows if row.language == filters.language]
    by_product: dict[int, list[StoredCandidate]] = {}
    for row in rows:
        by_product.setdefault(row.product_id, []).append(row)
    copies = []
    for product_id, stored in by_product.items():
        try:
            product = library.get_product(product_id)
        except AdCopyError:
            continue  # deleted products are not exported
        copies.append(map_product(product, stored))
    return copies


def map_product(product: StoredProduct, stored: Sequence[StoredCandidate]) -> ProductCopy:
    """Apply the mapping rule to one product's accepted candidates (newest first)."""
    newest: dict[str, StoredCandidate] = {}
    for row in stored:
        newest.setdefault(row.kind, row)
    copy = ProductCopy(
        product_id=product.id, name=product.product.name or "", external_id=product.external_id,
        source_format=getattr(product, "source_format", None), source_record=_source_record(product),
    )
    for row in stored:
        exported = row.to_candidate()
        copy.candidates.append(ExportedCandidate(
            **{name: getattr(exported, name) for name in Candidate.__dataclass_fields__},
            candidate_id=row.id, product_id=product.id, product_name=copy.name,
            external_id=product.external_id or "",
        ))
    title = _text(newest.get("title"))
    if title:
        copy.title = cut(title, TITLE_LIMIT)
        copy.seo_title = cut(title, SEO_TITLE_LIMIT)
        copy.derived.add("seo_title")
    description = _text(newest.get("description"))
    points = _text(newest.get("selling_points"))
    parts = []
    if description:
        parts.append(paragraphs_html(description))
    if points:
        parts.append(list_html(points))
    copy.description_html = "\n".join(parts) or None
    summary = _text(newest.get("promo")) or _text(newest.get("slogan"))
    if not summary and description:
        summary = description
        copy.derived.add("seo_description")
    if summary:
        copy.seo_description = cut(" ".join(summary.split()), SEO_DESCRIPTION_LIMIT)
    return copy


def _source_record(product: StoredProduct) -> Any:
    record = getattr(product, "source_record", None)
    if isinstance(record, str):
        try:
            return json.loads(record)
        except ValueError:
            return None
    return record


def _text(row: StoredCandidate | None) -> str:
    return row.text.strip() if row is not None else ""


def paragraphs_html(text: str) -> str:
    """Plain text as escaped HTML paragraphs: blank lines separate paragraphs, single breaks stay."""
    blocks = [block.strip() for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if block.strip()]
    return "\n".join("<p>" + "<br>".join(html.escape(line.strip()) for line in block.split("\n")) + "</p>"
                     for block in blocks)


def list_html(text: str) -> str:
    """Selling points (one per line, bullet marks optional) as an escaped HTML list."""
    points = [_BULLET.sub("", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    points = [point for point in points if point]
    return "<ul>" + "".join(f"<li>{html.escape(point)}</li>" for point in points) + "</ul>"


# quotes and brackets a cut must not leave open: opening -> closing; '"' opens and closes
_PAIRS = {"“": "”", "‘": "’", "「": "」", "『": "』", "《": "》", "〈": "〉", "【": "】", "（": "）", "(": ")", "[": "]",
          "«": "»", "‹": "›", '"': '"', "＂": "＂"}
_CLOSING = {close: open_ for open_, close in _PAIRS.items()}
_TRIM = " ,;:-–—，、；："


def _joins_previous(ch: str) -> bool:
    """A character that belongs to the one before it: a combining mark, a variation selector, a
    skin-tone modifier, a zero-width joiner, the second half of a surrogate pair."""
    code = ord(ch)
    return (unicodedata.combining(ch) != 0 or unicodedata.category(ch) in ("Mn", "Me")
            or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF or 0x1F3FB <= code <= 0x1F3FF
            or code == 0x200D or 0xDC00 <= code <= 0xDFFF)


def _whole_characters(text: str, end: int) -> int:
    """``end`` moved back so ``text[:end]`` ends with a whole character as people see it (no
    accent, emoji modifier or surrogate half cut off; a zero-width joiner is not left dangling)."""
    while end > 0 and end < len(text) and _joins_previous(text[end]):
        end -= 1
    while end > 0 and (text[end - 1] == "\u200d" or 0xD800 <= ord(text[end - 1]) <= 0xDBFF):
        end -= 1
    flags = 0
    while flags < end and 0x1F1E6 <= ord(text[end - 1 - flags]) <= 0x1F1FF:
        flags += 1
    return end - 1 if flags % 2 else end  # a flag is a pair of regional indicators


def _open_quote(text: str) -> tuple[int, str] | None:
    """Position and closing character of the last quote or bracket ``text`` leaves open."""
    stack: list[tuple[int, str]] = []
    for position, ch in enumerate(text):
        if stack and ch == stack[-1][1]:
            stack.pop()
        elif ch in _PAIRS:
            stack.append((position, _PAIRS[ch]))
        elif ch in _CLOSING and any(close == ch for _, close in stack):
            while stack and stack[-1][1] != ch:
                stack.pop()
            stack.pop()
    return stack[-1] if stack else None


def cut(text: str, limit: int) -> str:
    """``text`` shortened to ``limit`` characters: at a space when the cut falls inside a Latin
    word, never inside a character (accents, emoji, surrogate pairs), and never leaving a quote or
    bracket open (the cut goes back before it, or closes it when that would leave under half)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    end = _whole_characters(text, limit)
    head = text[:end]
    if end < len(text) and text[end].isascii() and text[end].isalnum() and head and head[-1].isascii() \
            and head[-1].isalnum():
        space = head.rfind(" ")
        if space > limit // 2:
            head = head[:space]
    head = head.rstrip(_TRIM)
    opened = _open_quote(head)
    if opened is not None:
        position, closing = opened
        if position > limit // 2:
            head = head[:position].rstrip(_TRIM)
        else:
            room = _whole_characters(head, min(len(head), limit - len(closing)))
            head = head[:room].rstrip(_TRIM) + closing
            if _open_quote(head) is not None:  # another one opened inside: drop from the first open one
                first = _open_quote(head[:position + 1])
                head = head[:first[0]].rstrip(_TRIM) if first else head
    return head
